"""Decode an image once, small, in displayed orientation.

Decoding dominates the run time, so we never decode more pixels than analysis
needs: JPEGs use libjpeg's DCT scaling (Pillow ``draft``: 1/2, 1/4, 1/8),
RAW files use their embedded JPEG preview (extracted by exiftool, which finds
previews LibRaw misses, e.g. CR3's PRVW box), HEIC goes through pillow-heif.
The result has its long side at most ``ANALYSIS_SIZE`` and EXIF orientation
applied, so every feature describes the picture as a person sees it. Analysis
asks for grey ("L"): every feature it computes is grey, and libjpeg then skips
chroma upsampling and colour conversion, which halves the decode time of small
JPEGs. The crop search asks for RGB (it needs colour for skin).
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from xmpcull.errors import DecodeError

ANALYSIS_SIZE = 512  # long side in pixels: enough for hashes, sharpness and crop search
MAX_PIXELS = 200_000_000  # larger images are refused as possible decompression bombs
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

try:  # pillow-heif is a declared dependency, but a broken install must not stop JPEG work
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - exercised only on broken installs
    pillow_heif = None

# Orientation -> the transposition that turns stored pixels into displayed pixels.
ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
RAW_PREVIEW_TAGS = ("JpgFromRaw", "PreviewImage", "OtherImage", "ThumbnailImage")


@dataclass
class Decoded:
    image: Image.Image  # the mode asked for ("RGB" or "L"), displayed orientation, long side <= the size asked for
    full_width: int  # displayed size of the full-resolution image
    full_height: int
    decoded_from: str  # "draft", "full", "raw-preview"


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    transpose = ORIENTATION_TRANSPOSE.get(orientation)
    return image.transpose(transpose) if transpose is not None else image


def _shrink(image: Image.Image, size: int, mode: str) -> Image.Image:
    if image.mode not in ("RGB", "L"):
        # Flatten alpha onto white so transparent PNGs hash like their visible picture.
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, rgba)
        image = image.convert("RGB")
    if image.mode != mode:
        image = image.convert(mode)
    image.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return image


def decode_rendered(path: Path, size: int = ANALYSIS_SIZE, mode: str = "RGB") -> Decoded:
    """JPEG, PNG, TIFF, WebP, HEIC, as ``mode`` ("RGB" or "L")."""
    if path.stat().st_size == 0:
        raise DecodeError("file is empty", [path])
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as im:
                full_w, full_h = im.size
                decoded_from = "full"
                if im.format == "JPEG":
                    im.draft(mode, (size, size))
                    decoded_from = "draft" if im.size != (full_w, full_h) else "full"
                im.load()
                # Like ImageOps.exif_transpose, without its copy of the whole image when
                # nothing needs turning (most files): that copy cost as much as hashing.
                orientation = im.getexif().get(0x0112, 1)
                oriented = apply_orientation(im, orientation) if orientation in ORIENTATION_TRANSPOSE else im
                transposed = oriented.size != im.size
                small = _shrink(oriented, size, mode)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DecodeError(f"refused: larger than {MAX_PIXELS // 1_000_000} MP, possible decompression bomb", [path]) from exc
        except Image.UnidentifiedImageError as exc:
            raise DecodeError("not an image Pillow can read", [path]) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise DecodeError(f"cannot decode: {exc}", [path]) from exc
    if transposed:
        full_w, full_h = full_h, full_w
    return Decoded(small, full_w, full_h, decoded_from)


def decode_raw_preview(
    path: Path, preview: bytes, orientation: int, full_size: tuple[int, int] | None, mode: str = "RGB"
) -> Decoded:
    """Decode a RAW file's embedded JPEG preview and orient it like the RAW."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(preview)) as im:
                im.draft(mode, (ANALYSIS_SIZE, ANALYSIS_SIZE))
                im.load()
                # Previews normally carry no orientation of their own: the RAW's applies.
                small = _shrink(apply_orientation(im, orientation), ANALYSIS_SIZE, mode)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DecodeError("refused: embedded preview is a possible decompression bomb", [path]) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise DecodeError(f"embedded preview cannot be decoded: {exc}", [path]) from exc
    if full_size:
        width, height = full_size
    else:
        width, height = small.size
    return Decoded(small, width, height, "raw-preview")


_BINARY_SIZE = re.compile(r"Binary data (\d+) bytes")


def largest_preview_tag(tags: dict[str, object]) -> str | None:
    """From exiftool ``-j -a -G`` output, the group:tag of the largest embedded preview."""
    best: tuple[int, str] | None = None
    for key, value in tags.items():
        name = key.split(":")[-1]
        if name not in RAW_PREVIEW_TAGS:
            continue
        match = _BINARY_SIZE.search(str(value))
        if match and (best is None or int(match.group(1)) > best[0]):
            best = (int(match.group(1)), key)
    return best[1] if best else None
