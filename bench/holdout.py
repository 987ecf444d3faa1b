"""Holdout benchmark: the whole tool, run as a new user runs it, on real photos nobody tuned on.

The other benches (dupes_accuracy, crop_bench, bursts_bench, analyse_bench) use the
project's own fixture photos, the ones the thresholds were looked at with. This one
builds a seeded, labelled corpus from scikit-image's bundled sample photographs
(never seen while tuning), runs the real command line once —

    python -m xmpcull.cli.main run CORPUS --aspect 4:5 --aspect 16:9 --apply-crops --json --cache TMP
    python -m xmpcull.cli.main dupes CORPUS/dupes --rotation-invariant --no-write --json --cache TMP

— and scores what lands in ``CORPUS/.xmpcull/report.json``: duplicate pairs (overall and
per transform, against imagededup PHash at its default threshold 10), burst frame pairs
and best frames, crop containment of hand-labelled subjects (bench/holdout_labels.json),
decisions, hand-touch share and speed.

    /work/venv/bin/python bench/holdout.py [--out bench/out/holdout] [--json FILE] [--write-results]

scikit-image is a bench-only dependency (``pip install scikit-image``); only files inside
its wheel are used (the rest of its data is fetched from the internet by pooch and is
not available here).

The corpus is built in holdout_corpus.py, scored in holdout_score.py and written up in holdout_report.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.holdout_corpus import HEADING, RESULTS, ROOT, STEREO, UNTAGGED, Corpus, build_corpus, skimage_data  # noqa: E402
from bench.holdout_report import markdown  # noqa: E402
from bench.holdout_score import (  # noqa: E402
    centre_containment,
    group_pairs,
    hard_negatives,
    hash_distances,
    keeper_kinds,
    rel_path,
    score_bursts,
    score_crops,
    score_dupes,
    similar_pairs,
)
from bench.results import replace_section  # noqa: E402

# ---------------------------------------------------------------- running the tool


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_cli(*args: str) -> tuple[dict[str, Any], float, float]:
    """The command's --json output, its wall time and its CPU time (all its processes)."""
    cpu0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "xmpcull.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if proc.returncode not in (0, 1):  # 1 = finished with some failed files (they are scored too)
        raise SystemExit(f"xmpcull {args[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout), wall, cpu


def run_imagededup(corpus: Corpus, rels: list[str]) -> tuple[set[frozenset[str]], float]:
    from imagededup.methods import PHash  # bench-only dependency

    t0 = time.perf_counter()
    hasher = PHash(verbose=False)
    codes = {rel: hasher.encode_image(image_file=str(corpus.root / rel)) for rel in rels}
    codes = {rel: c for rel, c in codes.items() if c is not None}
    mapping = hasher.find_duplicates(encoding_map=codes, max_distance_threshold=10)
    return {frozenset((a, b)) for a, found in mapping.items() for b in found}, time.perf_counter() - t0


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "holdout")
    ap.add_argument("--json", type=Path, help="also write every score to this file")
    ap.add_argument(
        "--write-results", action="store_true", help=f"replace the '{HEADING}' section of bench/RESULTS.md"
    )
    args = ap.parse_args()
    skimage_data()  # fail early, with the install hint

    t0 = time.perf_counter()
    corpus = build_corpus(args.out.resolve())
    build_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as cache_dir:
        cache = str(Path(cache_dir) / "cache.sqlite")
        summary, run_wall, run_cpu = run_cli(
            "run",
            str(corpus.root),
            "--aspect",
            "4:5",
            "--aspect",
            "16:9",
            "--apply-crops",
            "--json",
            "--cache",
            cache,
        )
        # The same duplicate search on dupes/ alone (no burst frames beside the families), then rotation-invariant.
        reports = {}
        dupes_walls: dict[str, float] = {}
        for key, extra in (("plain", ()), ("rotinv", ("--rotation-invariant",)), ("hashonly", ("--no-crop-tolerant",))):
            path = Path(cache_dir) / f"dupes-{key}.json"
            _, dupes_walls[key], _ = run_cli(
                "dupes",
                str(corpus.root / "dupes"),
                *extra,
                "--no-write",
                "--json",
                "--report",
                str(path),
                "--cache",
                cache,
            )
            reports[key] = json.loads(path.read_text())
    report = json.loads((corpus.root / ".xmpcull" / "report.json").read_text())
    images = {rel_path(corpus, row["path"]): row for row in report["images"]}

    run_pairs = group_pairs(corpus, report["groups"])
    plain_pairs = group_pairs(corpus, reports["plain"]["groups"])
    rot_pairs = group_pairs(corpus, reports["rotinv"]["groups"])
    hash_pairs = group_pairs(corpus, reports["hashonly"]["groups"])
    similar = similar_pairs(corpus, report["similar_sets"])
    idd_pairs, idd_wall = run_imagededup(corpus, sorted(corpus.dupes))
    dupes: dict[str, Any] = {}
    for key, pairs, excluded in (
        ("run", run_pairs, {UNTAGGED}),
        ("plain", plain_pairs, {UNTAGGED}),
        ("rotinv", rot_pairs, set()),
        ("hashonly", hash_pairs, {UNTAGGED}),
        ("idd", idd_pairs, {UNTAGGED}),
        ("idd_all", idd_pairs, set()),
    ):
        dupes[key] = score_dupes(corpus.dupes, pairs, excluded)
        dupes[key]["files"] = sum(1 for _, t in corpus.dupes.values() if t not in excluded)
    missed = hash_distances(
        corpus, dupes["plain"]["missed"] + [tuple(f"dupes/{s}__original.jpg" for s in STEREO)]
    )
    dupes["plain_labels"] = {rel: t for rel, (_, t) in corpus.dupes.items()}
    crops = score_crops(corpus, images)
    by_folder: dict[str, Counter[str]] = defaultdict(Counter)
    for rel, row in images.items():
        by_folder[rel.split("/")[0]][row["decision"]] += 1
    result: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "skimage": importlib.metadata.version("scikit-image"),
        "corpus": {
            "files": len(corpus.dupes) + len(corpus.bursts),
            "dupes": len(corpus.dupes),
            "bursts": len(corpus.bursts),
            "families": len({f for f, _ in corpus.dupes.values()}),
            "subject_files": len(corpus.subjects),
        },
        "timing": {
            "build": build_s,
            "run_wall": run_wall,
            "run_cpu": run_cpu,
            "run_own": summary["seconds"],
            "dupes_wall": dupes_walls,
            "idd_wall": idd_wall,
        },
        "keepers": keeper_kinds(corpus, report["groups"]),
        "distances": {"missed": missed[:-1], "stereo": missed[-1]},
        "summary": report["summary"],
        "errors": report["errors"],
        "dupes": dupes,
        "hard_negatives": {
            "run": hard_negatives(corpus.dupes, run_pairs, similar),
            "hashonly": hard_negatives(corpus.dupes, hash_pairs, set()),
            "idd": hard_negatives(corpus.dupes, idd_pairs, set()),
        },
        "bursts": score_bursts(corpus, images),
        "crops": crops,
        "centre": centre_containment(corpus, crops),
        "decisions_by_folder": {k: dict(v) for k, v in by_folder.items()},
        "review_reasons": Counter(
            reason.split(" ")[0] for row in images.values() for reason in row["review_reasons"]
        ),
    }
    text = markdown(result)
    print(text)
    print(
        f"\n(corpus built in {build_s:.1f} s at {corpus.root}; cli summary errors: {summary.get('errors')})",
        file=sys.stderr,
    )
    if args.json:
        result["centre"] = {f"{k[0]} {k[1]}": v for k, v in result["centre"].items()}
        args.json.write_text(json.dumps(result, indent=1, default=str))
    if args.write_results:
        replace_section(RESULTS, HEADING, text)


if __name__ == "__main__":
    main()
