"""How sharp one face is: Laplacian variance of the detector's face box at a fixed size (pure).

The region is the detector's own box (brows to chin), not the larger head box
the crop search keeps whole: a head box holds hair, background and a neighbour's
face, so a sharp wall behind a soft face, or a blurred face beside a sharp one,
would leak into the value. Every face is area-resized to FACE_NORMAL_SIDE first,
so faces of any size compare; 64 px keeps the faces whose eyes are judged
(>= 40 px at the analysis size) close to their own pixels instead of inventing
detail by enlarging them.
"""

from __future__ import annotations

import cv2
import numpy as np

FACE_NORMAL_SIDE = 64  # face crops are resized to this long side before measuring
FACE_MIN_SIDE = 24  # smaller faces carry too few pixels to judge focus


def box_edges(box: object) -> tuple[int, int, int, int]:
    """A box as integer (x0, y0, x1, y1): an ``xmpcull.crop.geometry.Box`` or a 4-sequence."""
    if hasattr(box, "x0"):
        return int(box.x0), int(box.y0), int(box.x1), int(box.y1)  # type: ignore[attr-defined]
    x0, y0, x1, y1 = box  # type: ignore[misc]
    return int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1))


def face_variance(grey: np.ndarray, box: object) -> float | None:
    """Laplacian variance of one face box in a 2-D uint8 image; None when smaller than FACE_MIN_SIDE."""
    h, w = grey.shape[:2]
    x0, y0, x1, y1 = box_edges(box)
    x0, x1 = max(0, min(x0, w)), max(0, min(x1, w))
    y0, y1 = max(0, min(y0, h)), max(0, min(y1, h))
    crop = grey[y0:y1, x0:x1]
    if min(crop.shape[:2], default=0) < FACE_MIN_SIDE:
        return None
    scale = FACE_NORMAL_SIDE / max(crop.shape[:2])
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    # Area averaging when shrinking (no aliasing that would fake detail), linear when growing.
    resized = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return float(cv2.Laplacian(resized, cv2.CV_64F).var())
