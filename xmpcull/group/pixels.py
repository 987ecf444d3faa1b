"""Pixels of candidate pictures, decoded only when a check asks for them.

Why a module of its own: the crop check and the scene check need pixels, but
analysis keeps only hashes. Decoding every picture again would double the cost of a run, so the
group stage decodes a picture the first time one of its candidate pairs is
checked (through the analysis decoder: JPEG draft mode, RAW previews, HEIC)
and keeps its small grey copy and keypoints for the next pair. A picture that cannot be decoded
any more (moved, truncated) simply confirms nothing.

Verdicts ("is one a crop of the other?", "same scene, same moment?") are small and depend only on the two
pictures' bytes, so with a cache they are kept by content digest: a re-run of
an unchanged library decodes nothing (without it, every re-run of 2,369
unseen sample images spent 23 s re-checking the same pairs).
"""

from __future__ import annotations

import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xmpcull.analyse.cache import AnalysisCache
from xmpcull.analyse.worker import Job, decode
from xmpcull.errors import XmpcullError
from xmpcull.group.geometry import CropFit, Keypoints, fit_crop, keypoints_of
from xmpcull.group.identity import identity_digest
from xmpcull.group.scene import SceneFeatures, SceneMatch, match_scene, scene_features
from xmpcull.group.scene import thumbnail as scene_thumbnail
from xmpcull.models import ImageRecord

MAX_KEPT = 2048  # pictures held in memory (~110 kB grey each, plus their keypoints)
VERDICT_KIND = "crop-verdict-1"  # bump when geometry.py's acceptance rules change
SCENE_KIND = "scene-verdict-2"  # bump when scene.py's thresholds change


def grey_of(record: ImageRecord) -> np.ndarray:
    """The displayed picture of ``record`` as grey uint8 (long side <= the analysis size)."""
    meta = record.metadata
    job = Job(path=record.file.path, format=record.file.format, orientation=meta.orientation, full_size=meta.display_size)
    return np.asarray(decode(job).image)  # decode() is grey unless asked for colour


@dataclass
class _Picture:
    """One decode, and what each check derived from it so far."""

    grey: np.ndarray  # long side scene.SIDE
    orb: Keypoints | None = None
    sift: SceneFeatures | None = None
    sift_mirrored: SceneFeatures | None = None


class _Verdicts:
    """Verdicts of one kind by pair key, looked up in the cache once per key and saved at the end."""

    def __init__(self, kind: str, cache_path: Path | None) -> None:
        self.kind = kind
        self.cache_path = cache_path
        self.known: dict[str, Any] = {}
        self.new: dict[str, Any] = {}
        self.looked_up: set[str] = set()

    def get(self, key: str) -> Any | None:
        if key not in self.looked_up:
            self.prefetch([key])
        return self.known.get(key)

    def put(self, key: str, value: Any) -> None:
        self.known[key] = self.new[key] = value

    def prefetch(self, keys: list[str]) -> None:
        keys = [k for k in keys if k not in self.looked_up]
        self.looked_up.update(keys)
        if not keys or self.cache_path is None or not self.cache_path.exists():
            return
        try:
            with AnalysisCache(self.cache_path, readonly=True) as cache:
                self.known.update(cache.get_derived(self.kind, keys))
        except (XmpcullError, sqlite3.Error, OSError):
            return  # no verdicts to reuse: check the pairs again

    def save(self) -> None:
        if self.cache_path is None or not self.new:
            return
        try:
            with AnalysisCache(self.cache_path) as cache:
                cache.put_derived(self.kind, sorted(self.new.items()))
        except (XmpcullError, sqlite3.Error, OSError):
            return  # a speed-up only: the next run checks these pairs again
        self.new.clear()


class PixelSource:
    """Decodes on first use and remembers the last ``max_kept`` pictures (by content digest).

    One decode serves every pixel check of a picture: the crop check (ORB) and the
    scene check (SIFT, also of the mirrored picture) derive their keypoints from it.
    """

    def __init__(
        self,
        loader: Callable[[ImageRecord], np.ndarray] = grey_of,
        max_kept: int = MAX_KEPT,
        cache_path: Path | None = None,
    ) -> None:
        self._loader = loader
        self._max_kept = max_kept
        self._kept: OrderedDict[str, _Picture | None] = OrderedDict()
        self._crops = _Verdicts(VERDICT_KIND, cache_path)
        self._scenes = _Verdicts(SCENE_KIND, cache_path)
        self.decoded = 0  # pictures decoded so far (a re-decode after eviction counts again)
        self.scene_checks = 0  # scene comparisons computed (not found in the cache)
        self.scene_seconds = 0.0  # time spent computing them, decodes included

    def is_crop(self, a: ImageRecord, b: ImageRecord) -> bool:
        """Whether one picture is a small crop of the other, from the cache when known."""
        key = _pair_key(a, b)
        if key is not None:
            known = self._crops.get(key)
            if known is not None:
                return bool(known)
        ka, kb = self.keypoints(a), self.keypoints(b)
        if ka is None or kb is None:
            return False  # not decodable now: no verdict to keep
        fit = fit_crop(ka, kb)
        verdict = fit is not None and fit.is_crop
        if key is not None:
            self._crops.put(key, verdict)
        return verdict

    def scene(self, a: ImageRecord, b: ImageRecord, mirrored: bool = False) -> SceneMatch:
        """``match_scene`` of the two pictures (``mirrored``: of ``a`` flipped left-right), cached by content."""
        key = _scene_key(a, b, mirrored)
        if key is not None:
            known = self._scenes.get(key)
            if known is not None:
                return SceneMatch(**known)
        started = time.perf_counter()
        # One order whatever the caller's (the comparison is not symmetric), by pixels: metadata
        # written into a file (--embed) must not turn a pair around and change its verdict.
        first, second = sorted((a, b), key=_picture_or_path)
        fa, fb = self._sift(first, mirrored), self._sift(second, False)
        if fa is None or fb is None:
            return SceneMatch("unknown")  # not decodable now: no verdict to keep
        match = match_scene(fa, fb)
        self.scene_checks += 1
        self.scene_seconds += time.perf_counter() - started
        if key is not None:
            self._scenes.put(key, asdict(match))
        return match

    def prefetch(self, pairs: list[tuple[ImageRecord, ImageRecord]]) -> None:
        """Load the cached crop verdicts of ``pairs`` in one go (one cache connection, not one per pair)."""
        self._crops.prefetch([k for k in (_pair_key(a, b) for a, b in pairs) if k is not None])

    def prefetch_scenes(self, pairs: list[tuple[ImageRecord, ImageRecord]], mirrored: bool = False) -> None:
        self._scenes.prefetch([k for k in (_scene_key(a, b, mirrored) for a, b in pairs) if k is not None])

    def save(self) -> None:
        """Store the verdicts found in this run (nothing without a cache path)."""
        self._crops.save()
        self._scenes.save()

    def _picture(self, record: ImageRecord) -> _Picture | None:
        key = _digest_or_path(record)
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        try:
            found: _Picture | None = _Picture(scene_thumbnail(np.ascontiguousarray(self._loader(record), dtype=np.uint8)))
        except (XmpcullError, OSError):
            found = None
        self.decoded += 1
        self._kept[key] = found
        if len(self._kept) > self._max_kept:
            self._kept.popitem(last=False)
        return found

    def keypoints(self, record: ImageRecord) -> Keypoints | None:
        picture = self._picture(record)
        if picture is None:
            return None
        if picture.orb is None:
            picture.orb = keypoints_of(picture.grey)
        return picture.orb

    def _sift(self, record: ImageRecord, mirrored: bool) -> SceneFeatures | None:
        picture = self._picture(record)
        if picture is None:
            return None
        if mirrored:
            if picture.sift_mirrored is None:
                picture.sift_mirrored = scene_features(np.ascontiguousarray(picture.grey[:, ::-1]))
            return picture.sift_mirrored
        if picture.sift is None:
            picture.sift = scene_features(picture.grey)
        return picture.sift

    def fit(self, a: ImageRecord, b: ImageRecord) -> CropFit | None:
        """The full fit (never cached), for tests and benches that look inside it."""
        ka, kb = self.keypoints(a), self.keypoints(b)
        return fit_crop(ka, kb) if ka is not None and kb is not None else None


def _digest_or_path(record: ImageRecord) -> str:
    return record.features.digest if record.features is not None else str(record.file.path)


def _picture_or_path(record: ImageRecord) -> str:
    return identity_digest(record) if record.features is not None else str(record.file.path)


def _scene_key(a: ImageRecord, b: ImageRecord, mirrored: bool) -> str | None:
    """Scene verdicts depend on the pixels only: keyed by the pictures' identity, not their bytes."""
    if a.features is None or b.features is None:
        return None
    first, second = sorted((a, b), key=_picture_or_path)
    # Mirrored: the first picture (in this order) is the one flipped.
    return ("m:" if mirrored else "") + identity_digest(first) + ":" + identity_digest(second)


def _pair_key(a: ImageRecord, b: ImageRecord) -> str | None:
    if a.features is None or b.features is None:
        return None
    return ":".join(sorted((a.features.digest, b.features.digest)))
