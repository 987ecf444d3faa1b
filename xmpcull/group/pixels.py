"""Keypoints of pictures that are crop candidates, decoded only when asked for.

Why a module of its own: the crop check needs pixels, but analysis keeps only
hashes. Decoding every picture again would double the cost of a run, so the
group stage decodes a picture the first time one of its candidate pairs is
checked (through the analysis decoder: JPEG draft mode, RAW previews, HEIC)
and keeps its keypoints for the next pair. A picture that cannot be decoded
any more (moved, truncated) simply confirms nothing.

Verdicts ("is one a crop of the other?") are small and depend only on the two
pictures' bytes, so with a cache they are kept by content digest: a re-run of
an unchanged library decodes nothing (without it, every re-run of 2,369
unseen sample images spent 23 s re-checking the same pairs).
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from xmpcull.analyse.cache import AnalysisCache
from xmpcull.analyse.worker import Job, decode
from xmpcull.errors import XmpcullError
from xmpcull.group.geometry import CropFit, Keypoints, fit_crop, keypoints_of
from xmpcull.models import ImageRecord

MAX_KEPT = 2048  # keypoints held in memory (~130 kB each with the grey copy)
VERDICT_KIND = "crop-verdict-1"  # bump when geometry.py's acceptance rules change


def grey_of(record: ImageRecord) -> np.ndarray:
    """The displayed picture of ``record`` as grey uint8 (long side <= the analysis size)."""
    meta = record.metadata
    job = Job(path=record.file.path, format=record.file.format, orientation=meta.orientation, full_size=meta.display_size)
    return np.asarray(decode(job).image)  # decode() is grey unless asked for colour


class PixelSource:
    """Decodes on first use and remembers the keypoints of the last ``max_kept`` pictures (by content digest)."""

    def __init__(
        self,
        loader: Callable[[ImageRecord], np.ndarray] = grey_of,
        max_kept: int = MAX_KEPT,
        cache_path: Path | None = None,
    ) -> None:
        self._loader = loader
        self._max_kept = max_kept
        self._kept: OrderedDict[str, Keypoints | None] = OrderedDict()
        self._cache_path = cache_path
        self._verdicts: dict[str, bool] = {}
        self._new_verdicts: dict[str, bool] = {}
        self._looked_up: set[str] = set()  # pairs asked of the cache already (found or not)
        self.decoded = 0  # pictures decoded so far (a re-decode after eviction counts again)

    def is_crop(self, a: ImageRecord, b: ImageRecord) -> bool:
        """Whether one picture is a small crop of the other, from the cache when known."""
        key = _pair_key(a, b)
        if key is not None and key not in self._looked_up:
            self._verdicts.update(self._cached([key]))
        if key is not None and key in self._verdicts:
            return self._verdicts[key]
        ka, kb = self.keypoints(a), self.keypoints(b)
        if ka is None or kb is None:
            return False  # not decodable now: no verdict to keep
        fit = fit_crop(ka, kb)
        verdict = fit is not None and fit.is_crop
        if key is not None:
            self._verdicts[key] = self._new_verdicts[key] = verdict
        return verdict

    def prefetch(self, pairs: list[tuple[ImageRecord, ImageRecord]]) -> None:
        """Load the cached verdicts of ``pairs`` in one go (one cache connection, not one per pair)."""
        keys = [k for k in (_pair_key(a, b) for a, b in pairs) if k is not None and k not in self._looked_up]
        self._verdicts.update(self._cached(keys))

    def save(self) -> None:
        """Store the verdicts found in this run (nothing without a cache path)."""
        if self._cache_path is None or not self._new_verdicts:
            return
        try:
            with AnalysisCache(self._cache_path) as cache:
                cache.put_derived(VERDICT_KIND, sorted(self._new_verdicts.items()))
        except (XmpcullError, sqlite3.Error, OSError):
            return  # a speed-up only: the next run checks these pairs again
        self._new_verdicts.clear()

    def _cached(self, keys: list[str]) -> dict[str, bool]:
        self._looked_up.update(keys)
        if self._cache_path is None or not self._cache_path.exists():
            return {}
        try:
            with AnalysisCache(self._cache_path, readonly=True) as cache:
                return {k: bool(v) for k, v in cache.get_derived(VERDICT_KIND, keys).items()}
        except (XmpcullError, sqlite3.Error, OSError):
            return {}  # no verdicts to reuse: check the pairs again

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
        """The full fit (never cached), for tests and benches that look inside it."""
        ka, kb = self.keypoints(a), self.keypoints(b)
        return fit_crop(ka, kb) if ka is not None and kb is not None else None


def _pair_key(a: ImageRecord, b: ImageRecord) -> str | None:
    if a.features is None or b.features is None:
        return None
    return ":".join(sorted((a.features.digest, b.features.digest)))
