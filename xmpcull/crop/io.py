"""Decode one file the way the crop search wants it, for the crop tools (bench, previews, tests).

It is the analysis decoder (``xmpcull.analyse.decode``), so a single file without a
cache is seen exactly as a run sees it: displayed orientation, long side 512, RGB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from xmpcull.analyse.decode import ANALYSIS_SIZE, decode_rendered


def load_analysis_rgb(path: Path, long_side: int = ANALYSIS_SIZE) -> tuple[np.ndarray, tuple[int, int]]:
    """(RGB array in displayed orientation, long side at most `long_side`; full displayed (w, h))."""
    decoded = decode_rendered(Path(path), long_side)
    return np.asarray(decoded.image), (decoded.full_width, decoded.full_height)
