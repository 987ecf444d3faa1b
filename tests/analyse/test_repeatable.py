"""The same picture gives the same numbers in any process.

A local pool and a Dask worker (or yesterday's run and today's) differ in where
their arrays land in memory. Vector code whose rounding depends on alignment
(cv2.magnitude's vector loop and scalar tail did) then writes a crop confidence
one digit apart and rewrites a sidecar that nothing changed. Here each photo is
analysed several times with its pixels at other byte offsets and the heap laid
out differently; every float must come out bit for bit the same.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from xmpcull.analyse.decode import decode_rendered
from xmpcull.analyse.features import compute_features
from xmpcull.crop.proposer import propose_crops

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PHOTOS = sorted((FIXTURES / "photos").glob("*.jpg")) + sorted((FIXTURES / "orientation").glob("Landscape_*.jpg"))
TRIALS = 6


def _at_offset(a: np.ndarray, offset: int) -> np.ndarray:
    """A copy of ``a`` starting ``offset`` bytes past a 64-byte boundary."""
    buf = np.empty(a.nbytes + 128, np.uint8)
    start = (-buf.ctypes.data) % 64 + offset
    view = buf[start : start + a.nbytes].view(a.dtype).reshape(a.shape)
    view[...] = a
    return view


@pytest.mark.parametrize("path", PHOTOS, ids=lambda p: p.name)
def test_features_and_crops_do_not_depend_on_memory_layout(path: Path) -> None:
    decoded = decode_rendered(path, mode="RGB")
    rgb = np.asarray(decoded.image.convert("RGB"))
    shuffle = random.Random(path.name)
    outcomes = set()
    for trial in range(TRIALS):
        # Live blocks of odd sizes move where the next arrays are allocated.
        ballast = [np.empty(shuffle.randint(1, 70_000), np.uint8) for _ in range(shuffle.randint(0, 30))]
        features = compute_features(decoded, "digest")
        proposals = propose_crops(_at_offset(rgb, 4 * trial), ["3:2", "1:1", "4:5"])
        outcomes.add(repr(features) + repr([(p.confidence, p.score, p.box, p.details) for p in proposals]))
        del ballast
    assert len(outcomes) == 1
