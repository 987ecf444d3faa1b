"""Features computed once per image from its small decoded copy and its bytes.

- ``digest``: blake2b-128 of the file bytes, for exact duplicates.
- hashes: see ``hashes.py``.
- ``sharpness``: variance of the Laplacian of the grey image at the analysis size
  (long side 512 px). Comparable between images only at the same size, which is
  why every image is measured at that size.
- exposure: mean luminance and the share of clipped pixels (>= 250 or <= 5 of 255).
"""

from __future__ import annotations

import cv2
import numpy as np

from xmpcull.analyse.decode import Decoded
from xmpcull.analyse.hashes import compute_hashes
from xmpcull.fsutil import file_digest  # noqa: F401 - re-exported for the worker
from xmpcull.models import Features

CLIP_HIGH = 250
CLIP_LOW = 5


def sharpness_of(grey: np.ndarray) -> float:
    _, std = cv2.meanStdDev(cv2.Laplacian(grey, cv2.CV_32F))
    return float(std[0, 0]) ** 2


def compute_features(decoded: Decoded, digest: str) -> Features:
    # The worker decodes grey already; an RGB copy (tests, benches) is converted once here.
    grey_image = decoded.image if decoded.image.mode == "L" else decoded.image.convert("L")
    grey = np.asarray(grey_image, dtype=np.uint8)
    hashes = compute_hashes(grey_image)
    total = grey.size or 1
    return Features(
        digest=digest,
        phash=hashes.phash,
        dhash=hashes.dhash,
        phash_variants=hashes.phash_variants,
        width=decoded.full_width,
        height=decoded.full_height,
        sharpness=sharpness_of(grey),
        mean_luma=float(grey.mean() / 255.0),
        clip_high=float(np.count_nonzero(grey >= CLIP_HIGH) / total),
        clip_low=float(np.count_nonzero(grey <= CLIP_LOW) / total),
        decoded_from=decoded.decoded_from,
        window_phashes=hashes.window_phashes,
    )
