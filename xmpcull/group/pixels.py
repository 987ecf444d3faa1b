"""Keypoints of pictures that are crop candidates, decoded only when asked for.

Why a module of its own: the crop check needs pixels, but analysis keeps only
hashes. Decoding every picture again would double the cost of a run, so the
group stage decodes a picture the first time one of its candidate pairs is
checked (through the analysis decoder: JPEG draft mode, RAW previews, HEIC)
and keeps its keypoints for the next pair. A picture that cannot be decoded
any more (moved, truncated) simply confirms nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from xmpcull.analyse.worker import Job, decode
from xmpcull.errors import XmpcullError
from xmpcull.group.geometry import CropFit, Keypoints, fit_crop, keypoints_of
from xmpcull.models import ImageRecord

MAX_KEPT = 2048  # keypoints held in memory (~130 kB each with the grey copy)


def grey_of(record: ImageRecord) -> np.ndarray:
    """The displayed picture of ``record`` as grey uint8 (long side <= the analysis size)."""
    meta = record.metadata
    job = Job(path=record.file.path, format=record.file.format, orientation=meta.orientation, full_size=meta.display_size)
    return np.asarray(decode(job).image.convert("L"))


class PixelSource:
    """Decodes on first use and remembers the keypoints of the last ``max_kept`` pictures (by content digest)."""

    def __init__(self, loader: Callable[[ImageRecord], np.ndarray] = grey_of, max_kept: int = MAX_KEPT) -> None:
        self._loader = loader
        self._max_kept = max_kept
        self._kept: OrderedDict[str, Keypoints | None] = OrderedDict()
        self.decoded = 0  # pictures decoded so far (a re-decode after eviction counts again)

    def keypoints(self, record: ImageRecord) -> Keypoints | None:
        key = record.features.digest if record.features is not None else str(record.file.path)
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        try:
            found: Keypoints | None = keypoints_of(self._loader(record))
        except (XmpcullError, OSError):
            found = None
        self.decoded += 1
        self._kept[key] = found
        if len(self._kept) > self._max_kept:
            self._kept.popitem(last=False)
        return found

    def fit(self, a: ImageRecord, b: ImageRecord) -> CropFit | None:
        ka, kb = self.keypoints(a), self.keypoints(b)
        return fit_crop(ka, kb) if ka is not None and kb is not None else None
