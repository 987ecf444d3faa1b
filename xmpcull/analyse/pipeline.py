"""Analyse roots: scan, read metadata, compute features in parallel, use the cache.

Metadata for batch k+1 is read (one exiftool process, main process) while the
worker pool decodes batch k, so the two slow parts overlap.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from xmpcull.analyse.cache import AnalysisCache, CachedEntry
from xmpcull.analyse.worker import Job, analyse_chunk
from xmpcull.errors import FileFailure
from xmpcull.models import Features, ImageFile, ImageRecord, Metadata
from xmpcull.progress import NullProgress, Progress
from xmpcull.scan import scan_roots
from xmpcull.scan.exiftool import BATCH_SIZE, ExifTool
from xmpcull.scan.metadata import existing_sidecar, read_metadata

CHUNK = 8  # files per worker task: amortises inter-process overhead, keeps the bar moving


@dataclass
class AnalysisResult:
    roots: list[Path]
    records: list[ImageRecord] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)
    elapsed: float = 0.0
    cache_hits: int = 0
    skipped_links: int = 0

    @property
    def ok_records(self) -> list[ImageRecord]:
        return [r for r in self.records if r.ok]

    def counts_by_format(self) -> dict[str, int]:
        return dict(sorted(Counter(r.file.format for r in self.records).items()))


def sidecar_signature(image: ImageFile) -> str | None:
    sidecar = existing_sidecar(image)
    if sidecar is None:
        return None
    try:
        st = sidecar.stat()
    except OSError:
        return None
    return f"{sidecar.name}:{st.st_size}:{st.st_mtime_ns}"


def _job_for(image: ImageFile, meta: Metadata, cache_path: Path | None) -> Job:
    return Job(
        path=image.path,
        format=image.format,
        orientation=meta.orientation,
        full_size=meta.display_size,
        size=image.size,
        cache_path=cache_path,
    )


def analyse_roots(
    roots: Sequence[Path | str],
    *,
    jobs: int | None = None,
    cache_path: Path | None = None,
    progress: Progress | None = None,
) -> AnalysisResult:
    """Everything known about every image under ``roots``.

    ``cache_path=None`` keeps the cache in memory (nothing persists).
    """
    started = time.monotonic()
    progress = progress or NullProgress()
    scan = scan_roots(roots)
    result = AnalysisResult(roots=[Path(os.path.abspath(r)) for r in roots], skipped_links=scan.skipped_links)
    result.failures.extend(scan.failures)
    files = scan.files
    sigs = [sidecar_signature(f) for f in files]
    records: list[ImageRecord | None] = [None] * len(files)
    progress.start(len(files), "Analysing")
    with AnalysisCache(cache_path) as cache:
        todo: list[int] = []  # indices that need metadata (and maybe features)
        known_features: dict[int, CachedEntry] = {}
        for i, image in enumerate(files):
            entry = cache.lookup(image.path, image.size, image.mtime_ns)
            if entry is None:
                todo.append(i)
            elif entry.sidecar_sig == sigs[i] and (entry.metadata is not None or entry.error):
                records[i] = _record(image, entry.metadata, entry.features, entry.error)
                result.cache_hits += 1
            else:
                todo.append(i)
                if entry.features is not None:
                    known_features[i] = entry
        progress.advance(len(files) - len(todo))
        if todo:
            _analyse_missing(files, sigs, todo, known_features, records, cache, jobs, progress)
    progress.finish()
    result.records = [r for r in records if r is not None]
    result.failures.extend(
        FileFailure(str(r.file.path), _stage_of(r.error), r.error) for r in result.records if r.error
    )
    result.elapsed = time.monotonic() - started
    return result


def _stage_of(error: str | None) -> str:
    return "metadata" if error and error.startswith("exiftool") else "decode"


def _record(image: ImageFile, meta: Metadata | None, features: Features | None, error: str | None) -> ImageRecord:
    return ImageRecord(file=image, metadata=meta or Metadata(), features=features, error=error)


def _analyse_missing(
    files: list[ImageFile],
    sigs: list[str | None],
    todo: list[int],
    known_features: dict[int, CachedEntry],
    records: list[ImageRecord | None],
    cache: AnalysisCache,
    jobs: int | None,
    progress: Progress,
) -> None:
    workers = max(1, jobs or os.cpu_count() or 1)
    pending: list[tuple[list[int], Future[list[Features | str]] | list[Features | str]]] = []
    metas: dict[int, Metadata] = {}

    # The pool is created before exiftool starts so forked workers do not inherit its pipes.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) if workers > 1 else None
    try:
        with ExifTool() as exiftool:
            for start in range(0, len(todo), BATCH_SIZE):
                batch = todo[start : start + BATCH_SIZE]
                decode_now: list[int] = []
                for i, meta in zip(batch, read_metadata([files[i] for i in batch], exiftool)):
                    if isinstance(meta, str):
                        records[i] = _record(files[i], None, None, meta)
                        continue
                    metas[i] = meta
                    if i in known_features:
                        records[i] = _record(files[i], meta, known_features[i].features, None)
                    else:
                        decode_now.append(i)
                done_now = [i for i in batch if records[i] is not None]
                _store(cache, files, sigs, records, done_now)
                progress.advance(len(done_now))
                for c in range(0, len(decode_now), CHUNK):
                    chunk = decode_now[c : c + CHUNK]
                    job_list = [_job_for(files[i], metas[i], cache.path) for i in chunk]
                    pending.append((chunk, pool.submit(analyse_chunk, job_list) if pool else analyse_chunk(job_list)))
                pending = _collect(pending, files, metas, records, cache, sigs, progress, block=False)
        _collect(pending, files, metas, records, cache, sigs, progress, block=True)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _collect(
    pending: list[tuple[list[int], Future[list[Features | str]] | list[Features | str]]],
    files: list[ImageFile],
    metas: dict[int, Metadata],
    records: list[ImageRecord | None],
    cache: AnalysisCache,
    sigs: list[str | None],
    progress: Progress,
    *,
    block: bool,
) -> list[tuple[list[int], Future[list[Features | str]] | list[Features | str]]]:
    still: list[tuple[list[int], Future[list[Features | str]] | list[Features | str]]] = []
    for chunk, outcome in pending:
        if isinstance(outcome, Future):
            if not block and not outcome.done():
                still.append((chunk, outcome))
                continue
            outcome = outcome.result()
        for i, value in zip(chunk, outcome):
            if isinstance(value, str):
                records[i] = _record(files[i], metas[i], None, value)
            else:
                records[i] = _record(files[i], metas[i], value, None)
        _store(cache, files, sigs, records, chunk)
        progress.advance(len(chunk))
    return still


def _store(
    cache: AnalysisCache, files: list[ImageFile], sigs: list[str | None], records: list[ImageRecord | None], indices: Iterable[int]
) -> None:
    rows = []
    for i in indices:
        record = records[i]
        assert record is not None
        meta = record.metadata if not (record.error and record.error.startswith("exiftool")) else None
        rows.append(
            (files[i].path, files[i].size, files[i].mtime_ns, sigs[i], meta, record.features, record.error, _stage_of(record.error) if record.error else None)
        )
    cache.store(rows)
