"""Crop bench, faces by BlazeFace (now) vs the Haar cascade (before), in the same run.

The crop benchmark's labelled cases (bench/crop_labels.json, bench/crop_bench.py) are
cropped twice: once with the faces the crop search finds now, once with the Haar
cascade's faces handed to the same search (``compute_cues(known_faces=...)``); all else
is the same code. Containment = share of the labelled subject box inside the crop.

    .venv/bin/python bench/crop_faces_ab.py [--write-results]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.crop_bench import FULL, LABELS, SETS, containment, load_cases
from bench.faces_bench import haar_faces
from bench.results import replace_section
from xmpcull.crop.cues import compute_cues
from xmpcull.crop.geometry import Box
from xmpcull.crop.proposer import propose_crops

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADING = "Crops: faces by BlazeFace vs Haar"
ASPECTS = ["4:5", "16:9"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    cases = load_cases(json.loads(LABELS.read_text()))
    rows = []
    ms: dict[str, list[float]] = {"blazeface": [], "haar": []}
    with_faces = {"blazeface": 0, "haar": 0}
    for case in cases:
        h, w = case.rgb.shape[:2]
        for arm in ("blazeface", "haar"):
            t = time.process_time()
            if arm == "haar":
                grey = cv2.cvtColor(case.rgb, cv2.COLOR_RGB2GRAY)
                boxes = [Box(round(x0 * w), round(y0 * h), round(x1 * w), round(y1 * h)) for x0, y0, x1, y1 in haar_faces(grey)]
                cues = compute_cues(case.rgb, known_faces=boxes)
            else:
                cues = compute_cues(case.rgb)
            ms[arm].append((time.process_time() - t) * 1e3)
            with_faces[arm] += bool(cues.faces)
            for p in propose_crops(case.rgb, ASPECTS, cues=cues):
                rows.append({"arm": arm, "kind": case.kind, "synthetic": case.synthetic, "aspect": p.aspect,
                             "case": case.name, "score": containment(case.subject, p.box)})
    lines = [
        f"`bench/crop_faces_ab.py` ({dt.date.today().isoformat()}, {os.cpu_count()} cores shared, load average "
        f"{os.getloadavg()[0]:.0f}): the crop benchmark's {len(cases)} labelled cases (bench/crop_labels.json), aspects "
        f"{' and '.join(ASPECTS)}, cropped with the faces found now and with the Haar cascade's faces (the detector "
        "until 2026-12: frontal, 256 px equalised grey, 1.15 / 4, from 20 px) handed to the same search.",
        "",
        "| set | n | BlazeFace mean / whole | Haar mean / whole |",
        "|---|---|---|---|",
    ]
    for name, test in SETS.items():
        picked = {arm: [r["score"] for r in rows if r["arm"] == arm and test(r)] for arm in ms}
        if not picked["blazeface"]:
            continue
        cells = [f"{statistics.mean(v):.3f} / {sum(s >= FULL for s in v) / len(v):.0%}" for v in picked.values()]
        lines.append(f"| {name} | {len(picked['blazeface'])} | {cells[0]} | {cells[1]} |")
    by_key = {(r["arm"], r["case"], r["aspect"]): r["score"] for r in rows}
    changed = [k for k in by_key if k[0] == "blazeface" and abs(by_key[k] - by_key.get(("haar", *k[1:]), -1)) > 1e-6]
    lines += [
        "",
        f"Cases with a face: {with_faces['blazeface']} with BlazeFace, {with_faces['haar']} with Haar. Crops that differ "
        f"between the two: {len(changed)} of {len(rows) // 2}. Cue time per case (CPU, includes the face detector): "
        f"BlazeFace {statistics.mean(ms['blazeface']):.0f} ms, Haar {statistics.mean(ms['haar']):.0f} ms.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write_results:
        replace_section(RESULTS, HEADING, text)


if __name__ == "__main__":
    main()
