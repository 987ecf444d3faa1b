"""Face-detection cost counted, not timed: detector passes, closer looks, tile searches and
iris-model calls per image, on the labelled face sets and on photo sets the detector was
never tuned on, split by images with and without faces.

Corpora (each read as analysis reads it: the grey decode at the analysis size):
- ``dev`` / ``held-out``: bench/faces_labels.json (with / without = labelled faces);
- ``small``: 640x480 JPEGs and ``png``: 1024x1024 PNGs, made from the fixtures as
  bench/analyse_bench.py makes its corpora (with / without = faces found);
- ``opencv-doc``: the JPEG and PNG files of Debian's opencv-doc (bench/cluster_bench.py's
  unseen set), every ``--stride``-th by path;
- ``skimage``: the photos of scikit-image's wheel that bench/holdout_corpus.py builds on.

    .venv/bin/python bench/faces_passes.py [--code DIR] [--json OUT] [--stride 3]

``--code DIR``: import the ``xmpcull`` package from DIR instead (an anchor unpacked by
bench/faces_ab.py), so the same counts can be taken on the code of another commit.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _count_calls(detect_module, find_faces, grey) -> dict[str, object]:
    """One find_faces on ``grey`` with its work counted, by wrapping the detector module's model
    call (a batch of n images counts n passes), its closer look and its tiling."""
    counts = {"passes": 0, "iris batches": 0, "closer looks": 0, "tiled": 0}
    wrapped = {}

    def wrap(attr, key, weight=lambda *a: 1):
        real = getattr(detect_module, attr)
        wrapped[attr] = real

        def counting(*args, **kwargs):
            counts[key] += weight(*args)
            return real(*args, **kwargs)

        setattr(detect_module, attr, counting)

    real_run = detect_module.run

    def run(name, nhwc, *args, **kwargs):
        if name == detect_module.DETECTOR:
            counts["passes"] += len(nhwc)
        elif name == "iris_landmark":
            counts["iris batches"] += 1
        return real_run(name, nhwc, *args, **kwargs)

    detect_module.run = run
    wrap("_closer_look", "closer looks")
    wrap("_tiles", "tiled")
    try:
        t = time.thread_time()
        faces = find_faces(grey)
        counts["cpu ms"] = (time.thread_time() - t) * 1000
    finally:
        detect_module.run = real_run
        for attr, real in wrapped.items():
            setattr(detect_module, attr, real)
    counts["faces"] = len(faces)
    counts["boxes"] = [[round(v, 4) for v in f.box] for f in faces]
    counts["eyes"] = [f.eyes for f in faces]
    return counts


def _skimage_photos(into: Path) -> list[Path]:
    from bench.holdout_corpus import SOURCES
    from bench.packages import package_file

    wheel = package_file({"via": "wheel", "package": "scikit-image==0.26.0"}, into / "packages")
    out = into / "skimage"
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        for name in SOURCES:
            dest = out / name
            if not dest.exists():
                dest.write_bytes(z.read(f"skimage/data/{name}"))
    return sorted(out.iterdir())


def corpora(stride: int, small: int, png: int) -> Iterator[tuple[str, Path, bool | None]]:
    """(corpus, path, has labelled faces or None when unlabelled)."""
    from bench.analyse_bench import make_corpus
    from bench.faces_photos import fetch

    labels = json.loads((ROOT / "bench" / "faces_labels.json").read_text())
    paths = fetch(labels)
    for item in labels["images"]:
        yield item.get("split", "dev"), paths[item["file"]], bool(item["faces"])
    out = ROOT / "bench" / "out"
    # The corpora of the analyse bench's round-3 runs (--small 800, --png 150: its seed is the count).
    for p in make_corpus(out / "analyse" / "small", 800, (640, 480), seed=800)[:small]:
        yield "small", p, None
    for p in make_corpus(out / "analyse" / "png", 150, (1024, 1024), seed=150, suffix=".png")[:png]:
        yield "png", p, None
    unseen = out / "unseen"
    if unseen.exists():
        files = sorted(p for p in unseen.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
        for p in files[::stride]:
            yield "opencv-doc", p, None
    for p in _skimage_photos(out / "faces-passes"):
        yield "skimage", p, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, help="a folder holding the xmpcull package to count instead")
    parser.add_argument("--json", type=Path, help="write every image's counts here")
    parser.add_argument("--stride", type=int, default=3, help="every n-th opencv-doc image")
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--png", type=int, default=40)
    args = parser.parse_args()
    if args.code:
        sys.path.insert(0, str(args.code.resolve()))
    import cv2
    import numpy as np

    import xmpcull
    from xmpcull.analyse.decode import decode_rendered
    from xmpcull.analyse.faces import detect as detect_module
    from xmpcull.analyse.faces.detect import find_faces

    sys.path.insert(1, str(ROOT))
    cv2.setNumThreads(1)
    print(f"xmpcull from {Path(xmpcull.__file__).parent}", file=sys.stderr)
    rows = []
    for corpus, path, labelled in corpora(args.stride, args.small, args.png):
        try:
            decoded = decode_rendered(path, mode="L")
        except Exception as exc:  # an odd file of the unseen set: not the subject here
            print(f"skip {path}: {exc}", file=sys.stderr)
            continue
        grey = np.asarray(decoded.grey if decoded.grey is not None else decoded.image.convert("L"), dtype=np.uint8)
        counts = _count_calls(detect_module, find_faces, grey)
        has = labelled if labelled is not None else bool(counts["faces"])
        rows.append({"corpus": corpus, "file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
                     "with faces": has, **counts})
    if args.json:
        args.json.write_text(json.dumps(rows, indent=0))
    print(table(rows))


def table(rows: list[dict]) -> str:
    lines = ["| corpus | images | n | passes (mean) | more than one pass | tiles searched | closer looks (mean) | "
             "iris batches (mean) | faces found | face CPU ms (mean) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for corpus in dict.fromkeys(r["corpus"] for r in rows):
        for has in (True, False):
            group = [r for r in rows if r["corpus"] == corpus and r["with faces"] == has]
            if not group:
                continue
            n = len(group)
            lines.append(
                f"| {corpus} | {'with' if has else 'without'} faces | {n} | {sum(r['passes'] for r in group) / n:.2f} | "
                f"{sum(r['passes'] > 1 for r in group)} | {sum(r['tiled'] > 0 for r in group)} | "
                f"{sum(r['closer looks'] for r in group) / n:.2f} | {sum(r['iris batches'] for r in group) / n:.2f} | "
                f"{sum(r['faces'] for r in group)} | {sum(r['cpu ms'] for r in group) / n:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
