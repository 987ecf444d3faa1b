"""Similar sets and scene verification on a labelled dev set from installable packages.

The dev set is built from Debian's ``opencv-doc`` package (``apt-get download opencv-doc``;
its ``examples/data``): frames of ``vtest.avi`` (static camera, people walking) and
``tree.avi`` (a hand comes in), the chessboard calibration series (one camera, the board
moved), stereo and viewpoint pairs (aloe, graffiti, aero, Suzanne), an illumination pair
(Leuven), optical-flow frame pairs (basketball, rubber whale), an edited-region pair (ELA),
plus the repo's Canon exposure pair. Every other image of ``examples/data`` is a hard
negative. Duplicate families (resized, recompressed, brightened, PNG copies) and mirrored
copies are made from ten sources. Labels are by construction (which scene or source a file
comes from), set before any run.

Figures: duplicate precision/recall and moments merged as duplicates, other-moment recall
into similar sets and pairs across scenes, mirrored recall, ms per verified pair, share of
pairs verified; "today" is the same run with ``verify_scenes`` off, measured in the same run.
Then the whole duplicate stage on the 2,369 images of the full package (cached analysis),
with and without verification.

    .venv/bin/python bench/similar_bench.py [--out bench/out/similar] [--write-results]
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
from PIL import Image, ImageEnhance, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import replace_section  # noqa: E402
from xmpcull.analyse.pipeline import analyse_roots  # noqa: E402
from xmpcull.group.dupes import find_duplicates  # noqa: E402
from xmpcull.group.pixels import PixelSource  # noqa: E402

HEADING = "Similar sets (scene verification)"
DATA = "usr/share/doc/opencv-doc/examples/data"
VIDEO_FRAMES = {"vtest.avi": range(0, 320, 40), "tree.avi": (0, 60)}
SCENES = {
    "chessboard": [f"left{n:02d}.jpg" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14)],
    "aloe": ["aloeL.jpg", "aloeR.jpg"],
    "graffiti": ["graf1.png", "graf3.png"],
    "aero": ["aero1.jpg", "aero3.jpg"],
    "suzanne": ["Blender_Suzanne1.jpg", "Blender_Suzanne2.jpg"],
    "leuven": ["leuvenA.jpg", "leuvenB.jpg"],
    "basketball": ["basketball1.png", "basketball2.png"],
    "rubberwhale": ["rubberwhale1.png", "rubberwhale2.png"],
    "ela": ["ela_original.jpg", "ela_modified.jpg"],
}
COPY_SOURCES = ["apple.jpg", "baboon.jpg", "building.jpg", "butterfly.jpg", "fruits.jpg", "home.jpg",
                "messi5.jpg", "orange.jpg", "starry_night.jpg", "stuff.jpg"]


def package(into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    found = sorted(into.glob("opencv-doc_*.deb"))
    if not found:
        subprocess.run(["apt-get", "download", "opencv-doc"], cwd=into, check=True, capture_output=True)
        found = sorted(into.glob("opencv-doc_*.deb"))
    tree = into / "x"
    if not (tree / DATA).is_dir():
        subprocess.run(["dpkg-deb", "-x", str(found[-1]), str(tree)], check=True)
    return tree


def build(tree: Path, out: Path) -> dict[str, str]:
    """Write the dev set into ``out``; file name -> label (scene or source)."""
    data = tree / DATA
    out.mkdir(parents=True, exist_ok=True)
    labels: dict[str, str] = {}
    for video, frames in VIDEO_FRAMES.items():
        capture, index = cv2.VideoCapture(str(data / video)), 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index in frames:
                name = f"{video[:-4]}_{index:04d}.jpg"
                cv2.imwrite(str(out / name), frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
                labels[name] = "video:" + video
            index += 1
    for scene, names in SCENES.items():
        for name in names:
            (out / name).write_bytes((data / name).read_bytes())
            labels[name] = "scene:" + scene
    for name in ("canon_hdr_NO.jpg", "canon_hdr_YES.jpg"):
        (out / name).write_bytes((ROOT / "fixtures/camera" / name).read_bytes())
        labels[name] = "scene:canon-exposure"
    for source in COPY_SOURCES:
        stem = Path(source).stem
        with Image.open(data / source) as im:
            rgb = im.convert("RGB")
        rgb.save(out / f"{stem}__original.jpg", quality=95)
        rgb.resize((rgb.width // 2, rgb.height // 2), Image.Resampling.LANCZOS).save(out / f"{stem}__small.jpg", quality=70)
        ImageEnhance.Brightness(rgb).enhance(1.2).save(out / f"{stem}__bright.jpg", quality=85)
        rgb.save(out / f"{stem}__copy.png")
        ImageOps.mirror(rgb).save(out / f"{stem}__mirrored.jpg", quality=85)
        for kind in ("original", "small", "bright", "copy", "mirrored"):
            labels[f"{stem}__{kind}.{'png' if kind == 'copy' else 'jpg'}"] = "copy:" + stem
    taken = {n for names in SCENES.values() for n in names} | set(COPY_SOURCES)
    for path in sorted(data.iterdir()):
        if path.suffix.lower() in (".jpg", ".png") and path.name not in taken and not path.name.startswith(("left", "right")):
            (out / f"neg__{path.name}").write_bytes(path.read_bytes())
            labels[f"neg__{path.name}"] = "negative:" + path.name
    return labels


def pairs_of(members: list[list[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for names in members for p in itertools.combinations(sorted(names), 2)}


def evaluate(records, labels: dict[str, str], verify: bool, cache: Path | None) -> dict:
    pixels = PixelSource(cache_path=cache)
    started = time.perf_counter()
    result = find_duplicates(records, crop_tolerant=True, verify_scenes=verify, pixels=pixels)
    seconds = time.perf_counter() - started
    name = {r.file.path: r.file.path.name for r in records}
    dup_pairs = pairs_of([[name[m.record.file.path] for m in g.members] for g in result.groups])
    similar_pairs = pairs_of([[name[m.record.file.path] for m in s.members] for s in result.similar_sets])
    # A duplicate group's member stands with its keeper in a similar set: count it there too.
    keeper_of = {name[m.record.file.path]: name[g.keeper.file.path] for g in result.groups for m in g.members}
    together = set(similar_pairs)
    for s in result.similar_sets:
        keepers = [name[m.record.file.path] for m in s.members]
        expanded = [n for n, k in keeper_of.items() if k in keepers] + keepers
        together |= pairs_of([sorted(set(expanded))])
    together |= dup_pairs

    def label(n: str) -> str:
        return labels.get(n, "?")

    copies = {p for p in pairs_of([[n for n in labels if labels[n] == lab] for lab in set(labels.values()) if lab.startswith("copy:")])}
    plain_copies = {p for p in copies if not any(n.endswith("__mirrored.jpg") for n in p)}
    mirrored = {p for p in copies if any(n.endswith("__mirrored.jpg") for n in p) and any(n.endswith("__original.jpg") for n in p)}
    scene_pairs = pairs_of([[n for n in labels if labels[n] == lab] for lab in set(labels.values())
                            if lab.startswith(("scene:", "video:"))])
    tp = len(dup_pairs & copies)
    return {
        "seconds": seconds,
        "dup_precision": tp / len(dup_pairs) if dup_pairs else 1.0,
        "dup_recall_plain": len(dup_pairs & plain_copies) / len(plain_copies),
        "dup_false": sorted(tuple(sorted(p)) for p in dup_pairs - copies),
        "moments_merged": len(dup_pairs & scene_pairs),
        "scene_recall": len(together & scene_pairs) / len(scene_pairs),
        "scene_recall_by": {lab: (len(together & s), len(s)) for lab in sorted({label(n) for p in scene_pairs for n in p})
                            for s in [{p for p in scene_pairs if label(next(iter(p))) == lab}]},
        "cross_scene": sorted(tuple(sorted(p)) for p in similar_pairs if len({label(n) for n in p}) > 1),
        "mirrored_recall": len(dup_pairs & mirrored) / len(mirrored),
        "scene_checks": result.scene_checks,
        "scene_seconds": result.scene_seconds,
        "collisions": result.collisions,
        "moments": result.moments,
        "images": len(records),
        "similar_sets": len(result.similar_sets),
    }


def whole_stage(tree: Path, cache: Path) -> dict:
    """find_duplicates over the whole package (2,369 images), cached analysis, verification off and on."""
    records = [r for r in analyse_roots([tree / "usr/share/doc/opencv-doc"], jobs=os.cpu_count(), cache_path=cache).records if r.ok]
    out = {"images": len(records)}
    for verify in (False, True):
        pixels = PixelSource()  # no verdict cache: the cost of a first run
        started = time.perf_counter()
        result = find_duplicates(records, crop_tolerant=True, verify_scenes=verify, pixels=pixels)
        out[verify] = {"seconds": time.perf_counter() - started, "checks": result.scene_checks,
                       "check_seconds": result.scene_seconds, "groups": len(result.groups),
                       "similar_sets": len(result.similar_sets), "collisions": result.collisions, "moments": result.moments}
    return out


def render(today: dict, verified: dict, whole: dict) -> str:
    n = verified["images"]
    per_pair = verified["scene_seconds"] / max(1, verified["scene_checks"]) * 1000
    rows = [
        ("duplicate precision (pairs)", today["dup_precision"], verified["dup_precision"], ">= 0.99"),
        ("duplicate recall (resized, recompressed, brightened, PNG copies)", today["dup_recall_plain"], verified["dup_recall_plain"], ""),
        ("other-moment/view pairs merged as duplicates", today["moments_merged"], verified["moments_merged"], "0"),
        ("same-scene pairs recalled (similar set or group)", today["scene_recall"], verified["scene_recall"], ">= 0.85"),
        ("similar-set pairs across unrelated scenes", len(today["cross_scene"]), len(verified["cross_scene"]), "0"),
        ("mirrored copies recalled as duplicates", today["mirrored_recall"], verified["mirrored_recall"], ">= 0.9"),
    ]

    def fmt(v) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = [
        f"`bench/similar_bench.py` ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, OpenCV {cv2.__version__}). "
        f"Dev set: {n} images from Debian's `opencv-doc` 4.6.0 (`examples/data`) and the repo's Canon pair "
        "(see the module docstring for the scenes and how the labels were set). \"Today\" = the same run "
        "with `verify_scenes` off, in the same process.",
        "",
        "| measure | today (hashes) | verified on pixels | target |",
        "|---|---|---|---|",
        *[f"| {name} | {fmt(a)} | {fmt(b)} | {t} |" for name, a, b, t in rows],
        "",
        "Same-scene recall per scene (pairs found / labelled), verified: "
        + ", ".join(f"{lab.split(':', 1)[1]} {a}/{b}" for lab, (a, b) in verified["scene_recall_by"].items()) + ".",
        f"Duplicate pairs that are not copies, verified: {verified['dup_false'] or 'none'}; "
        f"cross-scene similar pairs, verified: {verified['cross_scene'] or 'none'}.",
        "",
        f"Cost: {verified['scene_checks']} pairs checked on pixels of {n * (n - 1) // 2:,} possible "
        f"({verified['scene_checks'] / (n * (n - 1) / 2) * 100:.2f} %), {per_pair:.0f} ms per pair (decodes included); "
        f"duplicate stage {today['seconds']:.1f} s today, {verified['seconds']:.1f} s verified. "
        f"{verified['moments']} hash matches demoted to similar, {verified['collisions']} collisions rejected.",
    ]
    if whole:
        off, on = whole[False], whole[True]
        lines += [
            "",
            f"Whole duplicate stage on all {whole['images']:,} analysable images of the package (analysis cached, no verdict "
            f"cache): {off['seconds']:.1f} s without verification (today), {on['seconds']:.1f} s with it "
            f"({on['checks']:,} pairs checked, {on['check_seconds'] / max(1, on['checks']) * 1000:.0f} ms per pair; "
            f"{on['moments']} demoted, {on['collisions']} collisions rejected; similar sets {off['similar_sets']} -> {on['similar_sets']}). "
            "A re-run finds every verdict in the cache.",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "similar")
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--no-whole", action="store_true", help="skip the 2,369-image stage timing")
    args = parser.parse_args()
    tree = package(args.out / "package")
    devset = args.out / "devset"
    labels = build(tree, devset)
    records = [r for r in analyse_roots([devset], jobs=os.cpu_count(), cache_path=args.out / "analysis.sqlite").records if r.ok]
    labels = {n: lab for n, lab in labels.items() if any(r.file.path.name == n for r in records)}
    today = evaluate(records, labels, False, None)
    verified = evaluate(records, labels, True, None)
    whole = {} if args.no_whole else whole_stage(tree, args.out / "package.sqlite")
    text = render(today, verified, whole)
    print(text)
    by = defaultdict(list)
    for n, lab in labels.items():
        by[lab].append(n)
    if args.write_results:
        replace_section(ROOT / "bench" / "RESULTS.md", HEADING, text)


if __name__ == "__main__":
    main()
