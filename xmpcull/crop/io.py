"""Decode an image the way the crop search wants it: displayed orientation, small, RGB.

The analysis stage of the pipeline has its own decoder; this one exists so the
crop tools (bench, previews, tests) can work on a single file without a cache.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from xmpcull.errors import DecodeError

ANALYSIS_LONG_SIDE = 512


def load_analysis_rgb(path: Path, long_side: int = ANALYSIS_LONG_SIDE) -> tuple[np.ndarray, tuple[int, int]]:
    """(RGB array in displayed orientation, long side at most `long_side`; full displayed (w, h))."""
    try:
        with Image.open(path) as img:
            stored_w, stored_h = img.size  # before draft() shrinks it
            orientation = img.getexif().get(0x0112, 1)
            img.draft("RGB", (long_side, long_side))  # JPEG: decode at a reduced scale, much faster
            shown = ImageOps.exif_transpose(img).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DecodeError(f"cannot decode image ({exc})", [path]) from exc
    shown.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    full = (stored_h, stored_w) if orientation in (5, 6, 7, 8) else (stored_w, stored_h)
    return np.asarray(shown), full
