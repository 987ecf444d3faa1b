"""Holdout benchmark, part 1: the seeded, labelled corpus built from scikit-image's sample photos."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "bench" / "holdout_labels.json"
RESULTS = ROOT / "bench" / "RESULTS.md"
HEADING = "Holdout (unseen photos)"
SEED = 20261126
FULL = 0.995  # "whole": the subject inside the crop within rounding
PHASH_BITS, DHASH_BITS = 10, 12  # the shipped [dupes] threshold and dhash_threshold (config_default.toml)

# scikit-image 0.26.0 wheel, skimage/data/. Its README.txt only says the folder holds "a small
# subset" of the sample data; the wheel's LICENSE.txt gives the *code* BSD-3-Clause and says
# nothing about the images. Each image's own terms are in the docstring of its loader in
# skimage/data/_fetchers.py, quoted here. Not used: astronaut.png and hubble_deep_field.jpg
# (in our fixtures already), and the non-photographs (chessboards, color, logo, horse clip
# art, phantom, cell phase image, lfw_subset 25 px faces, microaneurysms 102 px crop,
# no_time_for_that_tiny.gif, multipage tifs). Fetched by pooch, absent here: eagle, brain,
# cells3d, kidney, lily, skin and the test arrays.
SOURCES: dict[str, str] = {
    "chelsea.png": "cat Chelsea; 'No copyright restrictions. CC0 by the photographer (Stefan van der Walt).'",
    "coffee.png": "espresso cup, courtesy Pikolo Espresso Bar; 'No copyright restrictions. CC0 by the photographer (Rachel Michetti).'",
    "rocket.jpg": "DSCOVR on Falcon 9, SpaceX; 'released in the public domain' by SpaceX",
    "motorcycle_left.png": "Middlebury 2014 stereo benchmark (Scharstein et al.), left view, down-sampled x4; no licence line in the docstring",
    "motorcycle_right.png": "Middlebury 2014 stereo benchmark, right view of the same scene; no licence line in the docstring",
    "camera.png": "cameraman (replacement photo); 'No copyright restrictions. CC0 by the photographer (Lav Varshney).'",
    "coins.png": "Greek coins, Brooklyn Museum open collection; 'No known copyright restrictions.'",
    "moon.png": "surface of the moon; no licence line in the docstring",
    "retina.jpg": "fundus photograph, Wikimedia Commons; 'Creative Commons CC0 1.0 Universal Public Domain Dedication'",
    "text.png": "text on a surface, Wikipedia File:Corner.png; 'No known copyright restrictions, released into the public domain.'",
    "page.png": "scanned page of printed text; no licence line in the docstring",
    "clock_motion.png": "wall clock shot while moving the camera; 'Released into the public domain by the photographer (Stefan van der Walt).'",
    "brick.png": "brick wall texture, CC0Textures Bricks25; 'licensed under the Creative Commons CC0 License'",
    "grass.png": "grass texture, DeviantArt linolafett; 'licensed under the Creative Commons CC0 License'",
    "gravel.png": "gravel texture, CC0Textures Gravel04; 'licensed under the Creative Commons CC0 License'",
    "ihc.png": "immunohistochemistry micrograph (skimage.data.immunohistochemistry); 'No known copyright restrictions.'",
}
# Hard negatives: two crops of one photo whose windows start 42 % of the width apart.
PART_SOURCES = ("camera.png", "coins.png", "moon.png", "retina.jpg", "gravel.png")
STEREO = ("motorcycle_left", "motorcycle_right")  # same scene, another viewpoint: different pictures

# Transforms whose pixel geometry is the original's once displayed (subject boxes carry over).
SAME_GEOMETRY = (
    "original",
    "resize_50",
    "resize_70",
    "jpeg_q40",
    "jpeg_q65",
    "jpeg_q90",
    "png",
    "webp",
    "exif_strip",
    "grayscale",
    "bright_+20",
    "bright_-20",
    "contrast_+20",
    "contrast_-20",
    "watermark",
    "rot90_tagged",
    "rot180_tagged",
)
UNTAGGED = "rot90_untagged"  # only expected with --rotation-invariant

# Two bodies shooting at once, interleaved in time; each burst is followed 10 s later by another.
CAMERAS = {
    "A": {"Make": "Canon", "Model": "Canon EOS R6", "SerialNumber": "032021001234", "prefix": "IMG_"},
    "B": {"Make": "NIKON CORPORATION", "Model": "NIKON Z 6_2", "SerialNumber": "6012345", "prefix": "DSC_"},
}
# (burst name, camera, source, frames, fps, start in seconds after T0)
BURSTS = (
    ("A1", "A", "chelsea.png", 6, 12, 0.0),
    ("B1", "B", "coffee.png", 7, 15, 0.04),
    ("A2", "A", "chelsea.png", 5, 10, 10.0 + 5 / 12),  # 10 s after A1's last frame: a new burst
    ("B2", "B", "coffee.png", 8, 20, 10.0 + 0.04 + 6 / 15),
    ("A3", "A", "rocket.jpg", 6, 15, 20.0 + 5 / 12 + 4 / 10),
)
T0 = dt.datetime(2024, 6, 12, 14, 35, 1)


@dataclass
class Corpus:
    root: Path
    dupes: dict[str, tuple[str, str]] = field(default_factory=dict)  # relpath -> (family, transform)
    bursts: dict[str, tuple[str, bool]] = field(default_factory=dict)  # relpath -> (burst, blurred)
    subjects: dict[str, tuple[str, list[float]]] = field(default_factory=dict)  # relpath -> (source, box px)


# ---------------------------------------------------------------- corpus


def skimage_data() -> Path:
    try:
        import skimage.data  # bench-only dependency
    except ImportError:
        raise SystemExit("bench/holdout.py needs scikit-image: pip install scikit-image") from None
    return Path(skimage.data.__file__).parent


def load_photo(path: Path) -> Image.Image:
    with Image.open(path) as im:
        im.load()
        return ImageOps.exif_transpose(im).convert("L" if im.mode in ("L", "I;16") else "RGB")


def _scale(image: Image.Image, factor: float) -> Image.Image:
    return image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS)


def _tone(image: Image.Image, gain: float, contrast: float) -> Image.Image:
    """Brightness as a gain, contrast around the image's mean; clipped like an editor would."""
    a = np.asarray(image, dtype=np.float32)
    a = (a - a.mean()) * contrast + a.mean()
    return Image.fromarray(np.clip(a * gain, 0, 255).astype(np.uint8), image.mode)


def _cut(
    image: Image.Image, left: float = 0, top: float = 0, right: float = 0, bottom: float = 0
) -> Image.Image:
    w, h = image.size
    return image.crop((round(w * left), round(h * top), round(w * (1 - right)), round(h * (1 - bottom))))


def _stamp(image: Image.Image) -> Image.Image:
    out = image.convert("RGB")
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=max(11, out.width // 22))
    draw.text((out.width * 0.05, out.height * 0.86), "© holdout studio", fill=(255, 255, 255), font=font)
    return out


def _edits(shown: Image.Image) -> dict[str, tuple[Image.Image, str, dict[str, Any]]]:
    """Transform name -> (pixels, file suffix, save options)."""
    jpg = ".jpg"
    return {
        "resize_50": (_scale(shown, 0.5), jpg, {"quality": 90}),
        "resize_70": (_scale(shown, 0.7), jpg, {"quality": 85}),
        "jpeg_q40": (shown, jpg, {"quality": 40}),
        "jpeg_q65": (shown, jpg, {"quality": 65}),
        "jpeg_q90": (shown, jpg, {"quality": 90}),
        "png": (shown, ".png", {}),
        "webp": (shown, ".webp", {"quality": 75}),
        "grayscale": (shown.convert("L"), jpg, {"quality": 90}),
        "bright_+20": (_tone(shown, 1.2, 1.0), jpg, {"quality": 90}),
        "bright_-20": (_tone(shown, 0.8, 1.0), jpg, {"quality": 90}),
        "contrast_+20": (_tone(shown, 1.0, 1.2), jpg, {"quality": 90}),
        "contrast_-20": (_tone(shown, 1.0, 0.8), jpg, {"quality": 90}),
        "watermark": (_stamp(shown), jpg, {"quality": 90}),
        "crop_3": (_cut(shown, left=0.03), jpg, {"quality": 90}),
        "crop_6": (_cut(shown, top=0.06), jpg, {"quality": 90}),
        "crop_10": (_cut(shown, right=0.10), jpg, {"quality": 90}),
        # Pixels turned 90° clockwise / 180°; the Orientation tag written below turns them back.
        "rot90_tagged": (shown.transpose(Image.Transpose.ROTATE_270), jpg, {"quality": 90}),
        "rot180_tagged": (shown.transpose(Image.Transpose.ROTATE_180), jpg, {"quality": 90}),
        UNTAGGED: (shown.transpose(Image.Transpose.ROTATE_270), jpg, {"quality": 90}),
    }


ORIENTATION_TAG = {"rot90_tagged": "8", "rot180_tagged": "3"}


def _exiftool_batch(blocks: list[list[str]], scratch: Path, in_place: bool = True) -> None:
    """One exiftool process for many files (an argfile with -execute between them)."""
    if not blocks:
        return
    argfile = scratch / "exiftool.args"
    lines: list[str] = []
    for block in blocks:
        lines += [*(["-overwrite_original"] if in_place else []), "-q", "-q", "-n", *block, "-execute"]
    argfile.write_text("\n".join(lines) + "\n")
    subprocess.run(["exiftool", "-@", str(argfile)], check=True)
    argfile.unlink()


def _camera_tags(camera: dict[str, str], when: dt.datetime) -> list[str]:
    return [
        f"-Make={camera['Make']}",
        f"-Model={camera['Model']}",
        f"-SerialNumber={camera['SerialNumber']}",
        f"-DateTimeOriginal={when:%Y:%m:%d %H:%M:%S}",
        f"-SubSecTimeOriginal={when.microsecond // 1000:03d}",
    ]


def build_dupes(corpus: Corpus, data: Path, scratch: Path) -> None:
    folder = corpus.root / "dupes"
    folder.mkdir(parents=True)
    tag_originals: list[list[str]] = []
    later: list[list[str]] = []
    strip: list[list[str]] = []
    for k, name in enumerate(SOURCES):
        stem = Path(name).stem
        shown = load_photo(data / name)
        original = folder / f"{stem}__original.jpg"
        shown.save(original, quality=95)
        corpus.dupes[f"dupes/{original.name}"] = (stem, "original")
        # A camera original: its own capture time, an hour apart from the next photo's.
        tag_originals.append([*_camera_tags(CAMERAS["A"], T0 - dt.timedelta(hours=k + 1)), str(original)])
        for transform, (pixels, suffix, options) in _edits(shown).items():
            path = folder / f"{stem}__{transform}{suffix}"
            pixels.save(path, **options)
            corpus.dupes[f"dupes/{path.name}"] = (stem, transform)
            if transform in ORIENTATION_TAG:
                later.append([f"-Orientation={ORIENTATION_TAG[transform]}", str(path)])
        stripped = folder / f"{stem}__exif_strip.jpg"
        strip.append(["-all=", "-o", str(stripped), str(original)])
        corpus.dupes[f"dupes/{stripped.name}"] = (stem, "exif_strip")
        if name in PART_SOURCES:
            for side, part in (("partL", _cut(shown, right=0.42)), ("partR", _cut(shown, left=0.42))):
                path = folder / f"{stem}_{side}__original.jpg"
                part.save(path, quality=92)
                corpus.dupes[f"dupes/{path.name}"] = (f"{stem}_{side}", "original")
    _exiftool_batch(tag_originals, scratch)
    _exiftool_batch(later, scratch)
    _exiftool_batch(strip, scratch, in_place=False)  # -o writes a new file: the tagged original stays


def _frame(source: Image.Image, rng: np.random.Generator) -> Image.Image:
    """One tripod frame: a 96 % window shifted by up to 1.5 % of the side, sensor noise."""
    w, h = source.size
    cw, ch = round(w * 0.96), round(h * 0.96)
    x = min(max(0, (w - cw) // 2 + int(rng.integers(-round(w * 0.015), round(w * 0.015) + 1))), w - cw)
    y = min(max(0, (h - ch) // 2 + int(rng.integers(-round(h * 0.015), round(h * 0.015) + 1))), h - ch)
    a = np.asarray(
        source.crop((x, y, x + cw, y + ch)).resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32
    )
    a = a + rng.normal(0, 2.0, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), source.mode)


def build_bursts(corpus: Corpus, data: Path, scratch: Path, rng: np.random.Generator) -> None:
    folder = corpus.root / "bursts"
    folder.mkdir(parents=True)
    counters = {c: 100 * (i + 1) for i, c in enumerate(CAMERAS)}
    blocks: list[list[str]] = []
    for burst, camera, name, frames, fps, start in BURSTS:
        source = load_photo(data / name)
        blurred = int(rng.integers(1, frames))  # never the first frame
        sigma = float(rng.uniform(2.0, 3.0))
        for i in range(frames):
            image = _frame(source, rng)
            if i == blurred:
                image = Image.fromarray(cv2.GaussianBlur(np.asarray(image), (0, 0), sigma), image.mode)
            counters[camera] += 1
            path = folder / f"{CAMERAS[camera]['prefix']}{counters[camera]:04d}.JPG"
            image.save(path, quality=92)
            when = T0 + dt.timedelta(seconds=start + i / fps)
            blocks.append([*_camera_tags(CAMERAS[camera], when), str(path)])
            corpus.bursts[f"bursts/{path.name}"] = (burst, i == blurred)
    _exiftool_batch(blocks, scratch)


def attach_subjects(corpus: Corpus, labels: dict[str, Any]) -> None:
    """Subject boxes in displayed pixels of every file whose geometry is the original's."""
    for name, item in labels["subjects"].items():
        stem = Path(name).stem
        for rel, (family, transform) in corpus.dupes.items():
            if family != stem or transform not in SAME_GEOMETRY:
                continue
            w, h = load_photo(corpus.root / rel).size
            x0, y0, x1, y1 = item["box"]
            corpus.subjects[rel] = (name, [x0 * w, y0 * h, x1 * w, y1 * h])


def build_corpus(root: Path) -> Corpus:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    corpus = Corpus(root)
    data = skimage_data()
    with tempfile.TemporaryDirectory() as scratch:
        build_dupes(corpus, data, Path(scratch))
        build_bursts(corpus, data, Path(scratch), np.random.default_rng(SEED))
    attach_subjects(corpus, json.loads(LABELS.read_text()))
    return corpus
