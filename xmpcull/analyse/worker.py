"""The per-file analysis job that runs in worker processes.

Each worker keeps its own exiftool process (started on first RAW file) for
preview extraction; results travel back as plain ``Features`` or an error string.
"""

from __future__ import annotations

import atexit
import json
from dataclasses import dataclass
from pathlib import Path

from xmpcull.analyse.decode import (
    RAW_PREVIEW_TAGS,
    Decoded,
    decode_raw_preview,
    decode_rendered,
    largest_preview_tag,
)
from xmpcull.analyse.cache import AnalysisCache
from xmpcull.analyse.features import compute_features, file_digest
from xmpcull.errors import DecodeError, XmpcullError
from xmpcull.models import Features
from xmpcull.scan.exiftool import ExifTool

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


def _exiftool() -> ExifTool:
    global _worker_exiftool
    if _worker_exiftool is None:
        _worker_exiftool = ExifTool()
        _worker_exiftool.start()
        atexit.register(_worker_exiftool.close)
    return _worker_exiftool


def decode(job: Job) -> Decoded:
    if job.format != "raw":
        return decode_rendered(job.path)
    et = _exiftool()
    listing = json.loads(et.execute("-j", "-a", "-G", *[f"-{t}" for t in RAW_PREVIEW_TAGS], str(job.path)) or "[]")
    tag = largest_preview_tag(listing[0]) if listing else None
    if tag is None:
        raise DecodeError("RAW file has no embedded preview", [job.path])
    data = et.execute_bytes("-b", "-a", f"-{tag}", str(job.path))
    return decode_raw_preview(job.path, data, job.orientation, job.full_size)


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


def analyse_chunk(jobs: list[Job]) -> list[Features | str]:
    return [analyse_file(job) for job in jobs]
