"""Crop bench with and without the person mask, in the same run.

The crop benchmark's labelled cases (bench/crop_labels.json, bench/crop_bench.py) are
cropped twice by the same search: with the person mask (MediaPipe selfie
segmentation, asked for only where faces were found) and without it (faces alone).
Reported: containment of the labelled subject box (as crop_bench.py), and on the
cases with a face, how much of the people the crop keeps (share of the mask's body
pixels inside the crop; whole = the crop cuts no body where the largest window of the
aspect could hold them all). The cost is the CPU time of the cues per case, each arm
timed in the same run, split by whether a face was found.

    .venv/bin/python bench/crop_person_ab.py [--write-results]
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
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.crop_bench import FULL, LABELS, SETS, containment, fits, load_cases
from bench.results import publish
from xmpcull.analyse.faces.models import RUNTIMES, default_runtime, installed
from xmpcull.analyse.faces.person import person_mask
from xmpcull.crop.cues import PERSON_LEVEL, compute_cues
from xmpcull.crop.proposer import propose_crops

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADING = "Crops: person mask"
ASPECTS = ["4:5", "16:9"]
ARMS = ("person mask", "faces only")


def _kept(mask: np.ndarray, box: object) -> float:
    """Share of the body pixels (mask >= PERSON_LEVEL) inside the crop box."""
    body = mask >= PERSON_LEVEL
    total = int(body.sum())
    inside = int(body[box.y0 : box.y1, box.x0 : box.x1].sum())  # type: ignore[attr-defined]
    return inside / total if total else 1.0


def _cell(values: list[float]) -> str:
    return f"{statistics.mean(values):.3f} / {sum(v >= FULL for v in values) / len(values):.0%}" if values else "—"


def measure() -> str:
    """Both arms on every labelled case; the section's text."""
    cases = load_cases(json.loads(LABELS.read_text()))
    rows: list[dict] = []
    cost: dict[tuple[str, bool], list[float]] = {(a, f): [] for a in ARMS for f in (True, False)}
    mask_ms: dict[str, list[float]] = {r: [] for r in RUNTIMES if installed(r)}
    for case in cases:
        h, w = case.rgb.shape[:2]
        cues_of = {}
        for arm in ARMS:
            t = time.process_time()
            cues_of[arm] = compute_cues(case.rgb, people=arm == "person mask")
            cost[(arm, bool(cues_of[arm].faces))].append((time.process_time() - t) * 1e3)
        # The people, where faces were found: the reference for both arms.
        mask = person_mask(case.rgb) if cues_of["person mask"].people is not None else None
        if mask is not None:  # the mask alone, on the cue-size picture the crop search gives it, per runtime
            people = cues_of["person mask"].people
            small = cv2.resize(case.rgb, (people.shape[1], people.shape[0]), interpolation=cv2.INTER_AREA)
            for runtime in mask_ms:
                person_mask(small, runtime)  # loaded once per process, not timed
                t = time.process_time()
                person_mask(small, runtime)
                mask_ms[runtime].append((time.process_time() - t) * 1e3)
        bodies = cues_of["person mask"].bodies
        for arm, cues in cues_of.items():
            for p in propose_crops(case.rgb, ASPECTS, cues=cues):
                body_fits = bool(bodies) and all(fits(b, p.aspect, w, h) for b in bodies)
                rows.append({
                    "arm": arm, "kind": case.kind, "synthetic": case.synthetic, "aspect": p.aspect, "case": case.name,
                    "score": containment(case.subject, p.box), "confidence": p.confidence,
                    "body": None if mask is None else _kept(mask, p.box), "body_fits": body_fits,
                })
    lines = [
        f"`bench/crop_person_ab.py` ({dt.date.today().isoformat()}, {os.cpu_count()} cores shared, load average "
        f"{os.getloadavg()[0]:.0f}, runtime {default_runtime()}): the crop benchmark's {len(cases)} labelled cases "
        f"(bench/crop_labels.json), aspects {' and '.join(ASPECTS)}, cropped by the same search with the person mask "
        "(MediaPipe selfie segmentation, only where a face was found) and without it (faces only).",
        "",
        "Containment of the labelled subject (mean / whole):",
        "",
        "| set | n | person mask | faces only |",
        "|---|---|---|---|",
    ]
    for name, test in {**SETS, "cases with a face": lambda r: r["body"] is not None}.items():
        picked = {arm: [r["score"] for r in rows if r["arm"] == arm and test(r)] for arm in ARMS}
        if picked[ARMS[0]]:
            lines.append(f"| {name} | {len(picked[ARMS[0]])} | {_cell(picked[ARMS[0]])} | {_cell(picked[ARMS[1]])} |")
    lines += [
        "",
        "People kept, on the cases with a face (share of the mask's body pixels inside the crop, mean / whole):",
        "",
        "| crops | n | person mask | faces only |",
        "|---|---|---|---|",
    ]
    for label, test in (("all", lambda r: True), ("where the largest window can hold every body", lambda r: r["body_fits"])):
        picked = {arm: [r["body"] for r in rows if r["arm"] == arm and r["body"] is not None and test(r)] for arm in ARMS}
        lines.append(f"| {label} | {len(picked[ARMS[0]])} | {_cell(picked[ARMS[0]])} | {_cell(picked[ARMS[1]])} |")
    confidence = {arm: [r["confidence"] for r in rows if r["arm"] == arm and r["body"] is not None] for arm in ARMS}
    lines += [
        "",
        f"Mean crop confidence on the cases with a face: {statistics.mean(confidence[ARMS[0]]):.3f} with the mask, "
        f"{statistics.mean(confidence[ARMS[1]]):.3f} without.",
    ]
    by_key = {(r["arm"], r["case"], r["aspect"]): r["score"] for r in rows}
    changed = sum(1 for k, v in by_key.items() if k[0] == ARMS[0] and abs(v - by_key[(ARMS[1], *k[1:])]) > 1e-9)
    median = {k: statistics.median(v) if v else float("nan") for k, v in cost.items()}
    lines += [
        "",
        f"Crops whose containment differs between the arms: {changed} of {len(rows) // 2}. Cue CPU time per case "
        f"(median, the face detector included): with a face {median[(ARMS[0], True)]:.1f} ms with the mask vs "
        f"{median[(ARMS[1], True)]:.1f} ms without ({len(cost[(ARMS[0], True)])} cases); without a face "
        f"{median[(ARMS[0], False)]:.1f} ms vs {median[(ARMS[1], False)]:.1f} ms ({len(cost[(ARMS[0], False)])} cases: "
        "the mask is not run there). The mask alone (CPU, median): "
        + ", ".join(f"{r} {statistics.median(v):.1f} ms" for r, v in mask_ms.items() if v) + ".",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-results", action="store_true")
    publish(RESULTS, HEADING, measure(), parser.parse_args().write_results)
