"""Crop benchmark: does the proposed crop keep the subject? xmpcull vs smartcrop.py vs a centre crop.

Labelled set: subject boxes on real fixture photos (bench/crop_labels.json) plus
synthetic placements (subject patches pasted at seeded random positions onto real
backgrounds). Everything runs at analysis resolution (long side 512).

    /work/venv/bin/python bench/crop_bench.py [--aspect 4:5 --aspect 16:9] [--markdown]

smartcrop.py (PyPI `smartcrop`) is a bench-only dependency.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from xmpcull.crop.cues import compute_cues
from xmpcull.crop.geometry import Box, parse_aspect, window_for_scale
from xmpcull.crop.io import load_analysis_rgb
from xmpcull.crop.proposer import propose_crops

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "bench" / "crop_labels.json"


@dataclass
class Case:
    name: str
    rgb: np.ndarray
    subject: Box  # in rgb pixels
    synthetic: bool


def _frac_box(frac: list[float], w: int, h: int) -> Box:
    return Box(round(frac[0] * w), round(frac[1] * h), round(frac[2] * w), round(frac[3] * h))


def load_cases(labels: dict) -> list[Case]:
    cases = []
    for item in labels["images"]:
        rgb, _ = load_analysis_rgb(ROOT / item["path"])
        cases.append(Case(Path(item["path"]).name, rgb, _frac_box(item["box"], rgb.shape[1], rgb.shape[0]), False))
    syn = labels["synthetic"]
    rng = np.random.default_rng(syn["seed"])
    patches = []
    for p in syn["patches"]:
        rgb, _ = load_analysis_rgb(ROOT / p["path"])
        b = _frac_box(p["box"], rgb.shape[1], rgb.shape[0])
        patches.append((p["subject"], rgb[b.y0 : b.y1, b.x0 : b.x1]))
    backgrounds = [load_analysis_rgb(ROOT / b)[0] for b in syn["backgrounds"]]
    lo, hi = syn["patch_share"]
    for i in range(syn["count"]):
        bg = backgrounds[i % len(backgrounds)].copy()
        name, patch = patches[int(rng.integers(len(patches)))]
        bh, bw = bg.shape[:2]
        # Patch size: a share of the background's short side, keeping the patch's own shape.
        side = rng.uniform(lo, hi) * min(bh, bw)
        scale = side / max(patch.shape[:2])
        pw, ph = max(8, round(patch.shape[1] * scale)), max(8, round(patch.shape[0] * scale))
        small = np.asarray(Image.fromarray(patch).resize((pw, ph), Image.Resampling.LANCZOS))
        x, y = int(rng.integers(0, bw - pw + 1)), int(rng.integers(0, bh - ph + 1))
        bg[y : y + ph, x : x + pw] = small
        cases.append(Case(f"syn{i:02d}-{name}", bg, Box(x, y, x + pw, y + ph), True))
    return cases


def containment(subject: Box, crop: Box) -> float:
    return subject.intersection(crop) / subject.area if subject.area else 0.0


def fits(subject: Box, aspect: str, w: int, h: int) -> bool:
    cw, ch = window_for_scale(parse_aspect(aspect), w, h)
    return subject.width <= cw and subject.height <= ch


def center_crop(rgb: np.ndarray, aspect: str) -> Box:
    h, w = rgb.shape[:2]
    cw, ch = window_for_scale(parse_aspect(aspect), w, h)
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    return Box(x0, y0, x0 + cw, y0 + ch)


def smartcrop_crop(sc: object, rgb: np.ndarray, aspect: str) -> Box:
    h, w = rgb.shape[:2]
    cw, ch = window_for_scale(parse_aspect(aspect), w, h)
    r = sc.crop(Image.fromarray(rgb), cw, ch)["top_crop"]  # type: ignore[attr-defined]
    x0, y0 = int(r["x"]), int(r["y"])
    return Box(x0, y0, min(w, x0 + int(r["width"])), min(h, y0 + int(r["height"])))


def run(aspects: list[str]) -> dict:
    import smartcrop  # bench-only dependency

    labels = json.loads(LABELS.read_text())
    cases = load_cases(labels)
    sc = smartcrop.SmartCrop()
    rows: list[dict] = []
    cue_ms: list[float] = []
    search_ms: list[float] = []
    smart_ms: list[float] = []
    for case in cases:
        h, w = case.rgb.shape[:2]
        # CPU time, not wall time: the bench machine is shared, and wall time there
        # mostly measures other people's jobs.
        t0 = time.process_time()
        cues = compute_cues(case.rgb)
        t1 = time.process_time()
        props = propose_crops(case.rgb, aspects, cues=cues)
        t2 = time.process_time()
        cue_ms.append((t1 - t0) * 1e3)
        search_ms.append((t2 - t1) * 1e3 / len(aspects))
        for p in props:
            t3 = time.process_time()
            sbox = smartcrop_crop(sc, case.rgb, p.aspect)
            smart_ms.append((time.process_time() - t3) * 1e3)
            rows.append(
                {
                    "case": case.name,
                    "synthetic": case.synthetic,
                    "aspect": p.aspect,
                    "fits": fits(case.subject, p.aspect, w, h),
                    "confidence": p.confidence,
                    "xmpcull": containment(case.subject, p.box),
                    "smartcrop": containment(case.subject, sbox),
                    "center": containment(case.subject, center_crop(case.rgb, p.aspect)),
                }
            )
    return {"rows": rows, "cue_ms": cue_ms, "search_ms": search_ms, "smart_ms": smart_ms, "n_cases": len(cases)}


FULL = 0.995  # "whole": within rounding of complete containment


def summarise(result: dict, aspects: list[str]) -> list[str]:
    rows = result["rows"]
    lines = [
        "| set | aspect | n | subject fits | xmpcull mean / whole | smartcrop.py mean / whole | centre mean / whole |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, pick in (("real", lambda r: not r["synthetic"]), ("synthetic", lambda r: r["synthetic"]), ("all", lambda r: True)):
        for aspect in [*aspects, "all"]:
            sel = [r for r in rows if pick(r) and (aspect == "all" or r["aspect"] == aspect)]
            if not sel:
                continue
            cells = []
            for method in ("xmpcull", "smartcrop", "center"):
                vals = [r[method] for r in sel]
                cells.append(f"{statistics.mean(vals):.3f} / {sum(v >= FULL for v in vals) / len(vals):.0%}")
            n_fit = sum(r["fits"] for r in sel)
            lines.append(f"| {label} | {aspect} | {len(sel)} | {n_fit} | " + " | ".join(cells) + " |")
    lines += ["", "Confidence vs outcome (xmpcull, all cases where the subject fits the window):", ""]
    lines += ["| confidence | n | mean containment | whole |", "|---|---|---|---|"]
    fit_rows = [r for r in rows if r["fits"]]
    for label, pick in (("≥ 0.8", lambda c: c >= 0.8), ("0.5–0.8", lambda c: 0.5 <= c < 0.8), ("< 0.5", lambda c: c < 0.5), ("< 0.8", lambda c: c < 0.8)):
        sel = [r["xmpcull"] for r in fit_rows if pick(r["confidence"])]
        if sel:
            lines.append(f"| {label} | {len(sel)} | {statistics.mean(sel):.3f} | {sum(v >= FULL for v in sel) / len(sel):.0%} |")
    med = statistics.median
    lines += [
        "",
        (f"CPU time (process_time, all threads) at analysis resolution (long side 512), median per image: cues (saliency, colour, edges, skin, "
        f"Haar faces) {med(result['cue_ms']):.1f} ms once per image; window search {med(result['search_ms']):.1f} ms "
        f"per aspect; so {med(result['cue_ms']) / len(aspects) + med(result['search_ms']):.1f} ms per image per aspect "
        f"with {len(aspects)} aspects. smartcrop.py: {med(result['smart_ms']):.1f} ms per image per aspect."),
    ]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--aspect", action="append", dest="aspects")
    ap.add_argument("--json", type=Path, help="also write every row to this file")
    args = ap.parse_args()
    aspects = args.aspects or ["4:5", "16:9"]
    result = run(aspects)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    header = [
        (f"Date {dt.date.today().isoformat()}, machine: {os.cpu_count()} CPUs (nproc), "
        f"{result['n_cases']} images ({len(result['rows'])} image×aspect cases)."),
        f"Command: `/work/venv/bin/python bench/crop_bench.py {' '.join('--aspect ' + a for a in aspects)}`",
        "",
        ("Containment = share of the labelled subject box inside the crop; whole = subject completely inside. "
        "'subject fits' counts cases where the largest window of the aspect can hold the subject at all."),
        "",
    ]
    print("\n".join(header + summarise(result, aspects)))


if __name__ == "__main__":
    main()
