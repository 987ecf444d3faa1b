"""Features computed once per image from its small decoded copy and its bytes.

- ``digest``: the file's content key (``fsutil.content_key``): blake2b-128 of its
  bytes, or of its size, mtime and ends when no other file has its size.
- hashes: see ``hashes.py``.
- ``sharpness``: variance of the Laplacian of the grey image at the analysis size
  (long side 512 px). Comparable between images only at the same size, which is
  why every image is measured at that size.
- ``faces``: faces and eye states (``xmpcull.analyse.faces``), on the same grey pixels.
- exposure: mean luminance and the share of clipped pixels (>= 250 or <= 5 of 255).
- ``pixel_digest``: blake2b-128 of those grey pixels (and their size): which picture
  this is, unchanged by metadata written into the file, so group IDs survive
  ``--embed`` (the content digest does not).
- JPEG quality and chroma subsampling, from the header (``encoding.py``).
- ``texture``: local-binary-pattern shares (``texture.py``), which propose
  similar-set pairs the hashes cannot (another viewpoint, other light).
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

from xmpcull.analyse.decode import Decoded
from xmpcull.analyse.faces import find_faces_if_available
from xmpcull.analyse.hashes import compute_hashes
from xmpcull.analyse.texture import texture_histogram
from xmpcull.fsutil import file_digest  # noqa: F401 - re-exported for the benches
from xmpcull.models import Features

CLIP_HIGH = 250
CLIP_LOW = 5


def sharpness_of(grey: np.ndarray) -> float:
    _, std = cv2.meanStdDev(cv2.Laplacian(grey, cv2.CV_32F))
    return float(std[0, 0]) ** 2


def compute_features(decoded: Decoded, digest: str, *, faces: bool = True) -> Features:
    """Every feature of one decoded image; ``faces=False`` skips the face models (a benchmark's anchor)."""
    # The decoder's own grey (the same for a grey and a colour decode); a hand-made Decoded is converted.
    grey_image = decoded.grey if decoded.grey is not None else decoded.image.convert("L")
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
        pixel_digest=pixel_digest(grey),
        jpeg_quality=decoded.jpeg_quality,
        chroma_subsampling=decoded.chroma_subsampling,
        jpeg_metadata_bytes=decoded.metadata_bytes,
        faces=find_faces_if_available(grey) if faces else None,
        texture=texture_histogram(grey),
    )


def pixel_digest(grey: np.ndarray) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{grey.shape[1]}x{grey.shape[0]}:".encode())
    digest.update(np.ascontiguousarray(grey).tobytes())
    return digest.hexdigest()
