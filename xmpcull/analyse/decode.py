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

from xmpcull.analyse.encoding import jpeg_encoding, jpeg_metadata_bytes
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
    jpeg_quality: int | None = None  # of the file itself (analyse.encoding); not of a RAW's preview
    chroma_subsampling: str | None = None
    grey: Image.Image | None = None  # the grey every feature is computed from (== image when image is grey)
    metadata_bytes: int | None = None  # JPEG: bytes of its APPn/COM segments (analyse.encoding)


def decoder_orientation(path: Path, fmt: str, orientation: int) -> int:
    """The orientation the decoder applied: a RAW's preview is turned by ``orientation`` (the
    metadata's), a rendered file by its own EXIF tag, as ``ImageOps.exif_transpose`` does."""
    if fmt == "raw":
        return orientation
    with Image.open(path) as img:
        value = img.getexif().get(0x0112, 1)
    return value if value in ORIENTATION_TRANSPOSE else 1


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    transpose = ORIENTATION_TRANSPOSE.get(orientation)
    return image.transpose(transpose) if transpose is not None else image


def _flatten(image: Image.Image) -> Image.Image:
    """RGB or L; alpha flattened onto white so transparent PNGs hash like their visible picture."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def _thumbnail(image: Image.Image, size: int) -> Image.Image:
    image.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return image


def _small(image: Image.Image, size: int, mode: str, orientation: int) -> tuple[Image.Image, Image.Image]:
    """(the picture in ``mode``, its grey) small and oriented; the grey is the same whatever ``mode`` is.

    One grey for every caller, so features (and the pixel digest) never depend on
    whether a colour copy was wanted too: a JPEG's grey is its Y channel (what
    libjpeg's grey decode gives), anything else is converted to L before shrinking.
    """
    if image.mode == "YCbCr":  # a JPEG drafted for colour: Y is exactly the grey decode
        grey_source = image.getchannel(0)
        colour_source = image.convert("RGB") if mode == "RGB" else None
    else:
        flat = _flatten(image)
        grey_source = flat if flat.mode == "L" else flat.convert("L")
        colour_source = (flat if flat.mode == "RGB" else flat.convert("RGB")) if mode == "RGB" else None
    grey = _thumbnail(apply_orientation(grey_source, orientation), size)
    if colour_source is None:
        return grey, grey
    return _thumbnail(apply_orientation(colour_source, orientation), size), grey


def _draft_mode(mode: str) -> str:
    # Colour is asked of libjpeg as YCbCr (Pillow converts to RGB), so the Y channel
    # comes out exactly as in a grey decode.
    return "YCbCr" if mode == "RGB" else mode


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
                quality, subsampling, metadata_bytes = None, None, None
                if im.format == "JPEG":
                    quality, subsampling = jpeg_encoding(getattr(im, "quantization", None), getattr(im, "layer", None))
                    metadata_bytes = jpeg_metadata_bytes(getattr(im, "applist", None))
                    im.draft(_draft_mode(mode), (size, size))
                    decoded_from = "draft" if im.size != (full_w, full_h) else "full"
                im.load()
                # Like ImageOps.exif_transpose, without its copy of the whole image when
                # nothing needs turning (most files): that copy cost as much as hashing.
                orientation = im.getexif().get(0x0112, 1)
                transposed = orientation in (5, 6, 7, 8)
                small, grey = _small(im, size, mode, orientation)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DecodeError(f"refused: larger than {MAX_PIXELS // 1_000_000} MP, possible decompression bomb", [path]) from exc
        except Image.UnidentifiedImageError as exc:
            raise DecodeError("not an image Pillow can read", [path]) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise DecodeError(f"cannot decode: {exc}", [path]) from exc
    if transposed:
        full_w, full_h = full_h, full_w
    return Decoded(small, full_w, full_h, decoded_from, quality, subsampling, grey, metadata_bytes)


def decode_raw_preview(
    path: Path, preview: bytes, orientation: int, full_size: tuple[int, int] | None, mode: str = "RGB"
) -> Decoded:
    """Decode a RAW file's embedded JPEG preview and orient it like the RAW."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(preview)) as im:
                im.draft(_draft_mode(mode), (ANALYSIS_SIZE, ANALYSIS_SIZE))
                im.load()
                # Previews normally carry no orientation of their own: the RAW's applies.
                small, grey = _small(im, ANALYSIS_SIZE, mode, orientation)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DecodeError("refused: embedded preview is a possible decompression bomb", [path]) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise DecodeError(f"embedded preview cannot be decoded: {exc}", [path]) from exc
    if full_size:
        width, height = full_size
    else:
        width, height = small.size
    return Decoded(small, width, height, "raw-preview", grey=grey)


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
