"""Faces A/B: the face figures of bench/faces_bench.py (recall, false faces, eyes, the painted
lenses) and the detector's work (passes, closer looks, tiles, CPU) with the ``xmpcull`` of now
and of an anchor revision, in one run, each in a process of its own, in turn (A B A B).

    .venv/bin/python bench/faces_ab.py --anchor REV [--rounds 2]

The anchor is unpacked with ``git archive`` (as bench/decisions_bench.py does) and imported
instead of the working tree's package; nothing else differs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure_here() -> dict:
    """The figures with whichever ``xmpcull`` is imported (the caller put it first on sys.path)."""
    import cv2
    import numpy as np

    import xmpcull
    from xmpcull.analyse.decode import decode_rendered
    from xmpcull.analyse.faces import detect as detect_module
    from xmpcull.analyse.faces.detect import find_faces

    sys.path.insert(1, str(ROOT))
    from bench.faces_bench import LABELS, SPLITS, Measured, detection_stats, eye_stats, painted_lenses
    from bench.faces_passes import _count_calls
    from bench.faces_photos import fetch
    from xmpcull.analyse.faces import eyes

    cv2.setNumThreads(1)
    labels = json.loads(LABELS.read_text())
    paths = fetch(labels)
    runs, work = [], []
    for item in labels["images"]:
        grey = np.asarray(decode_rendered(paths[item["file"]], mode="L").image)
        find_faces(grey)  # warm: models loaded once per process
        counts = _count_calls(detect_module, find_faces, grey)
        t = time.thread_time()
        faces = find_faces(grey)
        cpu = (time.thread_time() - t) * 1000
        runs.append(Measured(item["file"], item.get("split", "dev"), item["faces"], [tuple(b) for b in item.get("ignore", [])],
                             grey.shape, faces, {}, [], {}, 0.0, {}, 0.0, counts["passes"]))
        work.append({"file": item["file"], "split": item.get("split", "dev"), "with faces": bool(item["faces"]),
                     "cpu ms": cpu, **{k: counts[k] for k in ("passes", "closer looks", "tiled")},
                     "faces": [[round(v, 4) for v in f.box] for f in faces], "eyes": [f.eyes for f in faces]})
    out = {"code": str(Path(xmpcull.__file__).parent), "work": work, "lenses": painted_lenses(labels, paths)}
    for split in SPLITS:
        group = [m for m in runs if m.split == split]
        ev = eye_stats(group, eyes.CLOSED_BELOW, eyes.OPEN_ABOVE)
        out[split] = {"detection": detection_stats(group, "blazeface"), "eyes": {k: v for k, v in ev.items()}}
    return out


def child(code: Path | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code) if code else ""}
    proc = subprocess.run([sys.executable, __file__, "--child", str(code or "")], capture_output=True, text=True,
                          env=env, check=True, cwd=code or ROOT)
    return json.loads(proc.stdout)


def anchor_code(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "xmpcull"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _mean(rows: list[dict], key: str) -> float:
    return statistics.mean(r[key] for r in rows) if rows else 0.0


def report(rev: str, results: dict[str, list[dict]]) -> str:
    now, anchor = results["now"][0], results["anchor"][0]
    lines = [f"| figure | set | now | anchor ({rev}) |", "|---|---|---|---|"]
    for split in ("dev", "held-out"):
        for key in ("recall >= 40 px", "recall < 40 px", "false faces"):
            a, b = now[split]["detection"][key], anchor[split]["detection"][key]
            lines.append(f"| {key} | {split} | {_fmt(a)} | {_fmt(b)} |")
        for key in ("judged", "closed precision", "closed recall (judged)", "cant-tell share (judged)", "open faces flagged closed"):
            lines.append(f"| eyes: {key} | {split} | {_fmt(now[split]['eyes'][key])} | {_fmt(anchor[split]['eyes'][key])} |")
        lines.append(f"| eye table | {split} | {_table(now[split]['eyes']['table'])} | {_table(anchor[split]['eyes']['table'])} |")
    lines.append(f"| painted lenses | both | {_table(now['lenses'])} | {_table(anchor['lenses'])} |")
    for split in ("dev", "held-out"):
        for has in (True, False):
            def rows(r: dict, split: str = split, has: bool = has) -> list[dict]:
                return [w for w in r["work"] if w["split"] == split and w["with faces"] == has]
            label = f"{split}, {'with' if has else 'without'} faces ({len(rows(now))})"
            lines.append(f"| detector passes (mean) | {label} | {_mean(rows(now), 'passes'):.2f} | {_mean(rows(anchor), 'passes'):.2f} |")
            lines.append(f"| closer looks (mean) | {label} | {_mean(rows(now), 'closer looks'):.2f} | {_mean(rows(anchor), 'closer looks'):.2f} |")
            cpu_now = [f"{_mean(rows(r), 'cpu ms'):.1f}" for r in results["now"]]
            cpu_anchor = [f"{_mean(rows(r), 'cpu ms'):.1f}" for r in results["anchor"]]
            lines.append(f"| faces and eyes, CPU ms (per round) | {label} | {' / '.join(cpu_now)} | {' / '.join(cpu_anchor)} |")
    changed = [(a["file"], len(a["faces"]), len(b["faces"]), a["eyes"], b["eyes"]) for a, b in zip(now["work"], anchor["work"])
               if a["faces"] != b["faces"] or a["eyes"] != b["eyes"]]
    lines += ["", f"Images whose faces or eye states differ from the anchor's: {len(changed)}"
              + "".join(f"; `{f}` {n} faces {e} (anchor {m} faces {ea})" for f, n, m, e, ea in changed) + "."]
    return "\n".join(lines)


def _fmt(v: object) -> str:
    return "—" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)


def _table(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anchor", required=False, default="main", metavar="REV")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        sys.path.insert(0, args.child or str(ROOT))
        print(json.dumps(measure_here()))
        return
    results: dict[str, list[dict]] = {"now": [], "anchor": []}
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        code = anchor_code(args.anchor, Path(tmp))
        for _ in range(args.rounds):
            results["anchor"].append(child(code))
            results["now"].append(child(None))
    load.append(os.getloadavg()[0])
    assert results["anchor"][0]["code"].startswith(tmp), results["anchor"][0]["code"]
    print(f"load average {load[0]:.1f} -> {load[1]:.1f}; now = {results['now'][0]['code']}, anchor = {args.anchor}")
    print(report(args.anchor, results))


if __name__ == "__main__":
    main()
