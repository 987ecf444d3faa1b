"""How a file was encoded: the JPEG quality it was saved at, and its chroma subsampling.

Why: two copies of one picture with the same pixel count are told apart by how
much the encoder threw away. A JPEG's quantisation tables say it directly: the
encoder divides each DCT coefficient by its table entry, so larger entries mean
coarser coefficients. Nearly every encoder (libjpeg and everything built on it:
Pillow, GIMP, darktable, ImageMagick, most cameras' firmware close enough) scales
the IJG example table of the JPEG standard (Annex K) by the quality setting, so
the quality is the IJG setting whose scaled table is nearest to the file's
luminance table. For an IJG encoder that is the exact setting; for others
(Photoshop, some cameras) it is the IJG quality of equal coarseness, which is
what a comparison needs.

Pure functions over the tables Pillow reads from the header (no pixel decode).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# Annex K, table K.1 (luminance), in natural order; sums are order-free, and the
# distance below compares sorted-by-position arrays of the same order as Pillow's.
IJG_LUMINANCE = np.array(
    [
        16, 11, 10, 16, 24, 40, 51, 61,
        12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56,
        14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77,
        24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101,
        72, 92, 95, 98, 112, 100, 103, 99,
    ],
    dtype=np.int64,
)
# Pillow >= 8.3 gives tables in natural order; the zig-zag order of older versions
# is handled by comparing both and taking the nearer.
_ZIGZAG = np.array(
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ]
)


def ijg_table(quality: int, base: np.ndarray = IJG_LUMINANCE) -> np.ndarray:
    """libjpeg's jpeg_quality_scaling + jpeg_add_quant_table (baseline: entries 1..255)."""
    quality = min(100, max(1, quality))
    scale = 5000 // quality if quality < 50 else 200 - quality * 2
    return np.clip((base * scale + 50) // 100, 1, 255)


_TABLES = np.stack([ijg_table(q) for q in range(1, 101)])  # row q-1: the table of quality q


def estimate_jpeg_quality(luminance: Sequence[int]) -> int | None:
    """The IJG quality (1..100) whose luminance table is nearest to ``luminance``; None if not 64 entries.

    Ties go to the higher quality (q98..100 share many entries of 1 and 2).
    """
    table = np.asarray(list(luminance), dtype=np.int64)
    if table.shape != (64,):
        return None
    natural = np.abs(_TABLES - table).sum(axis=1)
    zigzag = np.abs(_TABLES[:, _ZIGZAG] - table).sum(axis=1)
    distance = np.minimum(natural, zigzag)
    best = np.flatnonzero(distance == distance.min())
    return int(best.max()) + 1


SUBSAMPLING_NAMES = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}


def subsampling_name(layers: Sequence[tuple[int, int, int, int]] | None) -> str | None:
    """Chroma subsampling from Pillow's JPEG ``layer`` list [(id, h, v, table), ...]; None for grey or odd files."""
    if not layers or len(layers) != 3:
        return None
    h, v = layers[0][1], layers[0][2]
    if any(layer[1:3] != (1, 1) for layer in layers[1:]):
        return None  # chroma sampled above 1: unusual, not ranked
    return {(1, 1): "4:4:4", (2, 1): "4:2:2", (1, 2): "4:4:0", (2, 2): "4:2:0"}.get((h, v))


def jpeg_metadata_bytes(applist: Sequence[tuple[str, bytes]] | None) -> int:
    """Bytes of a JPEG's metadata segments (APP0..APP15 and COM, markers and lengths included).

    From Pillow's ``applist`` (each such segment's payload, COM included). The
    file size less these is the image data: what bits per pixel should count, since
    EXIF, XMP (xmpcull's own ``--embed`` included) and ICC profiles say nothing
    about how much of the picture was kept.
    """
    return sum(4 + len(payload) for _, payload in applist or ())


def jpeg_encoding(quantization: Mapping[int, Sequence[int]] | None, layers: object = None) -> tuple[int | None, str | None]:
    """(estimated quality, subsampling) of an open Pillow JPEG's ``quantization`` and ``layer``."""
    if not quantization or 0 not in quantization:
        return None, None
    return estimate_jpeg_quality(quantization[0]), subsampling_name(layers)  # type: ignore[arg-type]
