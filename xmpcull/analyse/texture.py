"""A texture signature per picture: what the similar-set search proposes besides hashes.

Why: a pHash compares the layout of light and dark, so the same wall seen from
another angle, or the same room in other light, is as far from its twin as an
unrelated photo (28-32 of 64 bits on the similar-set dev set) and never reaches
the pixel check. The histogram of local binary patterns (each pixel against its
8 neighbours: brighter or not) barely moves under a viewpoint change (it has no
layout) and not at all under a monotone tone change (brightness, contrast,
gamma: the order of two pixels is kept). It is a weak signature on its own, many
unrelated pictures share a texture, so it only proposes pairs; the pixel check
(``group.scene``) decides.

The uniform patterns (at most two 0/1 transitions around the circle: edges,
corners, flat spots; 58 of the 256) get a bin each, every other pattern one bin
together. Computed on the analysis grey shrunk to long side ``SIDE``; stored as
shares in 1/``SCALE`` (integers: the cache is JSON). Pure: numpy in, tuple out.
"""

from __future__ import annotations

import cv2
import numpy as np

SIDE = 256  # long side the patterns are counted at (the analysis grey is 512)
SCALE = 100_000  # shares stored as integers in 1/SCALE
NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))  # around the circle


def _uniform_bins() -> np.ndarray:
    """Pattern (0..255) -> bin: one per uniform pattern in pattern order, the last for the rest."""
    bins = np.empty(256, np.intp)
    uniform = 0
    for code in range(256):
        bits = [(code >> k) & 1 for k in range(8)]
        if sum(bits[k] != bits[(k + 1) % 8] for k in range(8)) <= 2:
            bins[code] = uniform
            uniform += 1
        else:
            bins[code] = -1
    bins[bins < 0] = uniform
    return bins


BIN_OF = _uniform_bins()
BINS = int(BIN_OF.max()) + 1  # 59


def texture_histogram(grey: np.ndarray) -> tuple[int, ...]:
    """Shares (in 1/SCALE) of each local-binary-pattern bin in ``grey`` (uint8); () when too small."""
    h, w = grey.shape[:2]
    if min(h, w) < 3:
        return ()
    scale = min(1.0, SIDE / max(h, w))
    size = (max(3, round(w * scale)), max(3, round(h * scale)))
    small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA) if scale < 1 else grey
    rows, cols = small.shape
    centre = small[1:-1, 1:-1]
    code = np.zeros(centre.shape, np.uint8)
    for bit, (dy, dx) in enumerate(NEIGHBOURS):
        code |= (small[1 + dy : rows - 1 + dy, 1 + dx : cols - 1 + dx] >= centre).view(np.uint8) << np.uint8(bit)
    # Counted per pattern (256), then per bin: cheaper than looking up every pixel's bin.
    counts = np.bincount(BIN_OF, weights=np.bincount(code.ravel(), minlength=256), minlength=BINS)
    shares = np.rint(counts * (SCALE / counts.sum())).astype(np.int64)
    return tuple(int(v) for v in shares)


def texture_vectors(histograms: list[tuple[int, ...]]) -> np.ndarray:
    """Unit rows (square roots of the shares) whose inner product is the Bhattacharyya coefficient."""
    shares = np.asarray(histograms, np.float32).reshape(len(histograms), BINS) / SCALE
    roots = np.sqrt(shares)
    return roots / np.maximum(np.linalg.norm(roots, axis=1, keepdims=True), 1e-12)
