"""The analysis job that runs in worker processes: metadata, then pixels.

Each worker keeps its own exiftool process, so reading metadata (a few ms per
file in Perl) runs on every core instead of being one serial bottleneck; the
same process extracts RAW previews. Results travel back as plain records or
error strings.
"""

from __future__ import annotations

import atexit
import json
from dataclasses import dataclass
from pathlib import Path

from xmpcull.analyse.cache import AnalysisCache
from xmpcull.analyse.decode import (
    RAW_PREVIEW_TAGS,
    Decoded,
    decode_raw_preview,
    decode_rendered,
    largest_preview_tag,
)
from xmpcull.analyse.features import compute_features, file_digest
from xmpcull.errors import DecodeError, XmpcullError
from xmpcull.models import Features, ImageFile, Metadata
from xmpcull.scan.exiftool import ExifTool
from xmpcull.scan.metadata import read_metadata

_worker_exiftool: ExifTool | None = None
_worker_caches: dict[Path, AnalysisCache] = {}


@dataclass(frozen=True)
class Job:
    path: Path
    format: str
    orientation: int
    full_size: tuple[int, int] | None  # displayed size from metadata (RAW: the sensor image)
    size: int = 0  # bytes; with the digest, finds a renamed file's features in the cache
    cache_path: Path | None = None


def init_worker() -> None:
    """Pool initializer: a forked worker must not share its parent's exiftool pipes or caches."""
    global _worker_exiftool
    _worker_exiftool = None
    _worker_caches.clear()


def _exiftool() -> ExifTool:
    global _worker_exiftool
    if _worker_exiftool is None:
        _worker_exiftool = ExifTool()
        _worker_exiftool.start()
        atexit.register(_worker_exiftool.close)
    return _worker_exiftool


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
    cache = _worker_caches.get(job.cache_path)
    if cache is None:
        try:
            cache = _worker_caches[job.cache_path] = AnalysisCache(job.cache_path, readonly=True)
        except XmpcullError:
            return None
    return cache.features_by_digest(digest, job.size)


def analyse_file(job: Job) -> Features | str:
    """Features of one file, or the reason it could not be analysed (never raises)."""
    try:
        digest = file_digest(job.path)
        cached = _cached_by_content(job, digest)
        if cached is not None:
            return cached
        return compute_features(decode(job), digest)
    except XmpcullError as exc:
        return exc.reason
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}"
    except Exception as exc:  # a decoder bug on one file must not end the run
        return f"unexpected {type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class FileTask:
    """One file to analyse; ``known_features`` when only its metadata is stale (a sidecar changed)."""

    image: ImageFile
    known_features: Features | None = None
    cache_path: Path | None = None


@dataclass(frozen=True)
class FileResult:
    metadata: Metadata | None  # None when exiftool could not read the file
    features: Features | None
    error: str | None


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
        if task.known_features is not None:
            results.append(FileResult(meta, task.known_features, None))
            continue
        outcome = analyse_file(
            Job(
                path=task.image.path,
                format=task.image.format,
                orientation=meta.orientation,
                full_size=meta.display_size,
                size=task.image.size,
                cache_path=task.cache_path,
            )
        )
        if isinstance(outcome, str):
            results.append(FileResult(meta, None, outcome))
        else:
            results.append(FileResult(meta, outcome, None))
    return results
