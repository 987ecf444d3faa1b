"""The analysis job that runs in worker processes: metadata, then pixels.

Each worker keeps its own exiftool process, so reading metadata (a few ms per
file in Perl) runs on every core instead of being one serial bottleneck; the
same process extracts RAW previews. Results travel back as plain records or
error strings.
"""

from __future__ import annotations

import atexit
import json
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from xmpcull.analyse.cache import AnalysisCache
from xmpcull.analyse.decode import (
    RAW_PREVIEW_TAGS,
    Decoded,
    decode_raw_preview,
    decode_rendered,
    largest_preview_tag,
)
from xmpcull.analyse.features import compute_features
from xmpcull.errors import DecodeError, XmpcullError
from xmpcull.fsutil import content_key
from xmpcull.models import Features, ImageFile, ImageRecord, Metadata
from xmpcull.scan.exiftool import ExifTool
from xmpcull.scan.metadata import read_metadata

# Per thread: a Dask worker runs several tasks at once in threads, and one exiftool
# pipe (or SQLite connection) must not be shared between them.
_local = threading.local()


@dataclass(frozen=True)
class Job:
    path: Path
    format: str
    orientation: int
    full_size: tuple[int, int] | None  # displayed size from metadata (RAW: the sensor image)
    size: int = 0  # bytes; with the digest, finds a renamed file's features in the cache
    cache_path: Path | None = None
    mtime_ns: int = 0
    size_shared: bool = True  # another file of the scan has this size: hash every byte (fsutil.content_key)
    faces: bool = True  # look for faces ([analysis] faces)


def init_worker() -> None:
    """Pool initializer: a forked worker must not share its parent's exiftool pipes or caches."""
    global _local
    _local = threading.local()


def _exiftool() -> ExifTool:
    exiftool: ExifTool | None = getattr(_local, "exiftool", None)
    if exiftool is None:
        # Started on its first call: a worker given only plain PNGs never needs Perl.
        exiftool = _local.exiftool = ExifTool()
        atexit.register(exiftool.close)
    return exiftool


def _caches() -> dict[Path, AnalysisCache]:
    caches: dict[Path, AnalysisCache] | None = getattr(_local, "caches", None)
    if caches is None:
        caches = _local.caches = {}
    return caches


def decode(job: Job, mode: str = "L") -> Decoded:
    """The job's file decoded small in displayed orientation: grey for analysis (every
    feature is grey), ``mode="RGB"`` for the crop search (colour and skin cues)."""
    if job.format != "raw":
        return decode_rendered(job.path, mode=mode)
    et = _exiftool()
    listing = json.loads(et.execute("-j", "-a", "-G", *[f"-{t}" for t in RAW_PREVIEW_TAGS], str(job.path)) or "[]")
    tag = largest_preview_tag(listing[0]) if listing else None
    if tag is None:
        raise DecodeError("RAW file has no embedded preview", [job.path])
    data = et.execute_bytes("-b", "-a", f"-{tag}", str(job.path))
    return decode_raw_preview(job.path, data, job.orientation, job.full_size, mode=mode)


def _cached_by_content(job: Job, digest: str) -> Features | None:
    """Features of a file with the same bytes seen before (renamed or moved), if any."""
    if job.cache_path is None or not job.cache_path.exists():
        return None
    caches = _caches()
    cache = caches.get(job.cache_path)
    if cache is None:
        try:
            cache = caches[job.cache_path] = AnalysisCache(job.cache_path, readonly=True)
        except XmpcullError:
            return None
    return cache.features_by_digest(digest, job.size)


DerivedRow = tuple[str, str, Any]  # (kind, key, JSON value) for the cache's derived table


class WhileDecoded(Protocol):
    """Work a later stage wants done on the decoded picture while it is in memory.

    A run would otherwise decode every image twice (grey here, colour for the crop
    search): on camera files that second decode costs as much as the analysis. The
    results go to the cache's derived table, where the later stage finds them.
    Must pickle (it travels to the worker processes).
    """

    mode: str  # the decode it needs ("RGB"); analysis features are taken from it too

    def wants(self, image: ImageFile) -> bool:
        """Whether it has work for this file (if not, analysis keeps its own, cheaper decode)."""
        ...

    def __call__(self, record: ImageRecord, decoded: Decoded) -> list[DerivedRow]: ...


def analyse_file(job: Job) -> Features | str:
    """Features of one file, or the reason it could not be analysed (never raises)."""
    return _analyse(job)[0]


def _analyse(
    job: Job, also: WhileDecoded | None = None, image: ImageFile | None = None, meta: Metadata | None = None
) -> tuple[Features | str, list[DerivedRow]]:
    """Features (or the failure), and ``also``'s rows for the picture of ``image`` described by ``meta``."""
    try:
        digest = content_key(job.path, job.size, job.mtime_ns, size_shared=job.size_shared)
        cached = _cached_by_content(job, digest)
        if cached is not None:
            return with_faces(job, cached), []  # not decoded (unless for faces): the later stage decodes for itself
        if also is not None and (image is None or not also.wants(image)):
            also = None
        decoded = decode(job, mode=also.mode if also is not None else "L")
        features = compute_features(decoded, digest, faces=job.faces)
    except Exception as exc:  # noqa: BLE001 - a decoder bug on one file must not end the run
        return _failure(exc), []
    if also is None or image is None or meta is None:
        return features, []
    try:
        return features, also(ImageRecord(file=image, metadata=meta, features=features), decoded)
    except Exception:  # noqa: BLE001 - an extra never costs the analysis; the later stage retries
        return features, []


def lacks_faces(features: Features, wanted: bool) -> bool:
    """Whether faces are wanted and could be found but ``features`` were computed without them."""
    if not wanted or features.faces is not None:
        return False
    from xmpcull.analyse.faces import available

    return available()


def with_faces(job: Job, features: Features) -> Features:
    """``features`` with faces looked for when they lack them (analysed with faces off): only the
    face models run again, on the same grey decode, so every other feature stays as it was."""
    if not lacks_faces(features, job.faces):
        return features
    from xmpcull.analyse.faces import find_faces_if_available

    decoded = decode(job)
    grey = decoded.grey if decoded.grey is not None else decoded.image.convert("L")
    return replace(features, faces=find_faces_if_available(np.asarray(grey, dtype=np.uint8)))


@dataclass(frozen=True)
class FileTask:
    """One file to analyse; ``known_features`` when only its metadata is stale (a sidecar changed)."""

    image: ImageFile
    known_features: Features | None = None
    cache_path: Path | None = None
    also: WhileDecoded | None = None
    size_shared: bool = True  # see Job.size_shared
    faces: bool = True  # see Job.faces


@dataclass(frozen=True)
class FileResult:
    metadata: Metadata | None  # None when exiftool could not read the file
    features: Features | None
    error: str | None
    derived: tuple[DerivedRow, ...] = ()


def analyse_tasks(tasks: list[FileTask]) -> list[FileResult]:
    """Metadata for the chunk in one exiftool call, then features file by file (never raises)."""
    try:
        metas = read_metadata([t.image for t in tasks], _exiftool())
    except XmpcullError as exc:
        return [FileResult(None, None, f"exiftool: {exc.reason}") for _ in tasks]
    results = []
    for task, meta in zip(tasks, metas):
        if isinstance(meta, str):
            results.append(FileResult(None, None, meta))
            continue
        job = Job(
            path=task.image.path,
            format=task.image.format,
            orientation=meta.orientation,
            full_size=meta.display_size,
            size=task.image.size,
            cache_path=task.cache_path,
            mtime_ns=task.image.mtime_ns,
            size_shared=task.size_shared,
            faces=task.faces,
        )
        if task.known_features is not None:
            results.append(_known(job, meta, task.known_features))
            continue
        outcome, derived = _analyse(job, task.also, task.image, meta)
        if isinstance(outcome, str):
            results.append(FileResult(meta, None, outcome))
        else:
            results.append(FileResult(meta, outcome, None, tuple(derived)))
    return results


def _known(job: Job, meta: Metadata, features: Features) -> FileResult:
    """The result of a file whose features are cached (its metadata was stale), faces added if missing."""
    try:
        return FileResult(meta, with_faces(job, features), None)
    except Exception as exc:  # noqa: BLE001 - as in _analyse: one file must not end the run
        return FileResult(meta, None, _failure(exc))


def _failure(exc: Exception) -> str:
    """Why a file could not be analysed, as its error says."""
    if isinstance(exc, XmpcullError):
        return exc.reason
    if isinstance(exc, OSError):
        return f"cannot read file: {exc.strerror or exc}"
    return f"unexpected {type(exc).__name__}: {exc}"
