"""Stress: other applications save sidecars while `xmpcull run` rewrites them (issue #15, item 1).

N writer processes each own a share of the sidecars and keep adding a keyword
to one after another with real exiftool (``-overwrite_original``: temp file,
then rename, as Lightroom, darktable and digiKam save), while M real
``xmpcull run`` processes run one after another over the same tree. Runs
alternate their crop aspect, so every run rewrites every sidecar. An edit
counts as *made* when exiftool reported "1 image files updated"; it is *kept*
when its keyword is in the sidecar at the end. Nothing but a lost update can
remove a keyword: the writers never share a file and xmpcull never removes a
keyword it did not write.

    python bench/concurrency_bench.py [--images 80] [--writers 4] [--runs 6] [--xmpcull-src DIR]

``--xmpcull-src`` runs another checkout (e.g. the code before the fix) for a
before/after figure. Writes "## Faults: concurrent sidecar edits" in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.results import replace_section  # noqa: E402

HEADING = "Faults: concurrent sidecar edits"
ASPECTS = ("4:5", "16:9")


@dataclass
class StressResult:
    images: int
    writers: int
    runs: int
    edits_made: int = 0
    edits_kept: int = 0
    lost: list[str] = field(default_factory=list)
    kept_aside: int = 0  # edits found only in a conflict copy xmpcull kept beside the sidecar
    run_exit_codes: list[int] = field(default_factory=list)
    skipped_writes: int = 0  # sidecars a run left alone because they kept changing
    sidecars_written: int = 0  # by the runs while the writers ran
    sidecars_with_our_fields: int = 0
    seconds: float = 0.0


def make_tree(root: Path, count: int, seed: int = 15) -> list[Path]:
    """``count`` distinct small JPEGs (smooth random fields, so no two are duplicates)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    images = []
    for n in range(count):
        coarse = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
        picture = Image.fromarray(coarse).resize((320, 240), Image.BICUBIC)
        path = root / f"IMG_{n:04d}.jpg"
        picture.save(path, quality=90)
        images.append(path)
    return images


def xmpcull_command(source: Path | None) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    return [sys.executable, "-c", "from xmpcull.cli.main import main; main()"], env


def run_xmpcull(root: Path, cache: Path, aspect: str, source: Path | None) -> tuple[int, dict]:
    command, env = xmpcull_command(source)
    completed = subprocess.run(
        [*command, "run", str(root), "--json", "--cache", str(cache), "--aspect", aspect, "--jobs", "1"],
        capture_output=True, text=True, env=env, cwd=root.parent,  # not this checkout's folder on sys.path
    )
    try:
        summary = json.loads(completed.stdout)
    except json.JSONDecodeError:
        summary = {"errors": [], "stderr": completed.stderr[-2000:]}
    return completed.returncode, summary


def _writer(number: int, sidecars: list[Path], stop: Path, log: Path) -> None:
    """Add keyword w<number>-<n> to one owned sidecar after another until ``stop`` exists."""
    tool = subprocess.Popen(
        ["exiftool", "-stay_open", "True", "-@", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    )
    assert tool.stdin is not None and tool.stdout is not None
    made = []
    n = 0
    while not stop.exists():
        sidecar = sidecars[n % len(sidecars)]
        keyword = f"w{number}-{n}"
        tool.stdin.write(f"-overwrite_original\n-XMP-dc:Subject+={keyword}\n{sidecar}\n-execute\n")
        tool.stdin.flush()
        answer = []
        while (line := tool.stdout.readline()) and not line.startswith("{ready"):
            answer.append(line)
        if any("1 image files updated" in line for line in answer):
            made.append([str(sidecar), keyword])
        n += 1
    tool.stdin.write("-stay_open\nFalse\n")
    tool.stdin.flush()
    tool.wait()
    log.write_text(json.dumps(made))


def keywords_of(sidecars: list[Path]) -> dict[str, set[str]]:
    completed = subprocess.run(
        ["exiftool", "-j", "-XMP-dc:Subject", "-XMP-xmpcull:all", *map(str, sidecars)],
        capture_output=True, text=True,
    )
    found = {}
    for entry in json.loads(completed.stdout or "[]"):
        subjects = entry.get("Subject", [])
        found[entry["SourceFile"]] = set(subjects if isinstance(subjects, list) else [subjects])
    return found


def stress(work: Path, *, images: int, writers: int, runs: int, source: Path | None = None) -> StressResult:
    """The whole experiment in ``work`` (a fresh folder); see the module docstring."""
    root, cache = work / "shoot", work / "cache.sqlite"
    pictures = make_tree(root, images)
    result = StressResult(images, writers, runs)
    code, _ = run_xmpcull(root, cache, ASPECTS[-1], source)  # the sidecars exist before the writers start
    sidecars = sorted(root.glob("*.xmp"))
    if code != 0 or len(sidecars) != len(pictures):
        raise SystemExit(f"the first run did not write {len(pictures)} sidecars (exit {code})")
    stop = work / "stop"
    context = multiprocessing.get_context("spawn")
    logs = [work / f"writer-{w}.json" for w in range(writers)]
    procs = [
        context.Process(target=_writer, args=(w, sidecars[w::writers], stop, logs[w])) for w in range(writers)
    ]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    time.sleep(0.5)  # writers under way
    for n in range(runs):
        code, summary = run_xmpcull(root, cache, ASPECTS[n % len(ASPECTS)], source)
        result.run_exit_codes.append(code)
        result.sidecars_written += int(summary.get("sidecars_changed", 0))
        result.skipped_writes += sum(
            1 for e in summary.get("errors", []) if "another application saved it" in e.get("reason", "")
        )
    stop.touch()
    for proc in procs:
        proc.join()
    result.seconds = time.monotonic() - started
    made = [tuple(edit) for log in logs for edit in json.loads(log.read_text())]
    now = keywords_of(sidecars)
    result.edits_made = len(made)
    copies = sorted(root.glob("*.xmpcull-conflict-*"))
    aside = {k for keywords in keywords_of(copies).values() for k in keywords} if copies else set()
    missing = [(s, k) for s, k in made if k not in now.get(s, set())]
    result.kept_aside = sum(1 for _, k in missing if k in aside)
    result.lost = [f"{Path(s).name}: {k}" for s, k in missing if k not in aside]
    result.edits_kept = result.edits_made - len(missing)
    run_xmpcull(root, cache, ASPECTS[runs % len(ASPECTS)], source)  # a quiet run: every sidecar gets our fields
    final = subprocess.run(
        ["exiftool", "-j", "-XMP-xmpcull:Decision", *map(str, sidecars)], capture_output=True, text=True
    )
    result.sidecars_with_our_fields = sum(
        1 for e in json.loads(final.stdout or "[]") if "Decision" in e
    )
    return result


def table(rows: list[tuple[str, StressResult]]) -> str:
    lines = [
        "| code | images | writers | runs | sidecars written by the runs | edits made | edits kept | kept aside | lost "
        "| writes skipped (kept changing) | run exit codes | sidecars with xmpcull's fields after a quiet run "
        "| seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r in rows:
        lines.append(
            f"| {label} | {r.images} | {r.writers} | {r.runs} | {r.sidecars_written} | {r.edits_made} | {r.edits_kept} | {r.kept_aside} | {len(r.lost)} "
            f"| {r.skipped_writes} | {' '.join(map(str, r.run_exit_codes))} | {r.sidecars_with_our_fields}/{r.images} "
            f"| {r.seconds:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=80)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--work", type=Path, default=Path("/tmp/xmpcull-concurrency"))
    parser.add_argument("--xmpcull-src", type=Path, action="append", default=[],
                        help="another checkout to measure too (e.g. before the fix); repeatable")
    parser.add_argument("--write", action="store_true", help="write the table into bench/RESULTS.md")
    args = parser.parse_args()
    rows = []
    for label, source in [*((str(s), s) for s in args.xmpcull_src), ("this checkout", None)]:
        work = args.work / (source.name if source else "current")
        subprocess.run(["rm", "-rf", str(work)], check=True)
        work.mkdir(parents=True)
        result = stress(work, images=args.images, writers=args.writers, runs=args.runs, source=source)
        rows.append((label, result))
        print(label, result.edits_kept, "/", result.edits_made, "kept; lost:", result.lost[:10], flush=True)
    text = table(rows)
    print(text)
    if args.write:
        replace_section(HERE / "RESULTS.md", HEADING, text)


if __name__ == "__main__":
    main()
