"""Analyse roots: scan, read metadata, compute features in parallel, use the cache.

Work is cut into chunks of files; each worker process reads a chunk's metadata
through its own exiftool process (one call per chunk) and then decodes the
files, so both slow parts use every core. Only the cache lives in the main
process, which stores each chunk's results as they arrive.

The workers are this machine's processes, or with ``cluster`` a Dask cluster's
(xmpcull/cluster): the same chunks, the same results, another ``TaskRunner``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from xmpcull.analyse.cache import AnalysisCache, CachedEntry, storable_text
from xmpcull.cluster import ClusterSettings, open_runner
from xmpcull.errors import FileFailure
from xmpcull.models import Features, ImageFile, ImageRecord, Metadata
from xmpcull.parallel import LocalRunner, TaskRunner
from xmpcull.progress import NullProgress, Progress
from xmpcull.scan import scan_roots
from xmpcull.scan.exiftool import exiftool_executable
from xmpcull.scan.filter import ScanFilter
from xmpcull.scan.metadata import existing_sidecar

if TYPE_CHECKING:  # the worker (OpenCV, numpy, the models) is imported only when a file needs analysing
    from xmpcull.analyse.worker import FileResult, FileTask, WhileDecoded

CHUNK = 16  # files per worker task: one exiftool call each; small enough to keep the bar moving
LOST = "cluster: "  # starts the error of a file the cluster could not analyse (not cached: the next run tries again)


@dataclass
class AnalysisResult:
    roots: list[Path]
    records: list[ImageRecord] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)
    elapsed: float = 0.0
    cache_hits: int = 0
    skipped_links: int = 0
    outside_links: list[Path] = field(default_factory=list)  # symlinks leading outside the roots, not followed
    leftover_temps: list[Path] = field(default_factory=list)  # our temp sidecar files the scan saw
    analysed: int = 0  # files with features and no error (cache hits of a summary-only run included)
    faces: bool = True  # faces were looked for ([analysis] faces)

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
    return f"{storable_text(sidecar.name)}:{st.st_size}:{st.st_mtime_ns}"


def analyse_roots(
    roots: Sequence[Path | str],
    *,
    jobs: int | None = None,
    cache_path: Path | None = None,
    progress: Progress | None = None,
    also: WhileDecoded | None = None,
    cluster: ClusterSettings | None = None,
    only: ScanFilter = ScanFilter(),
    follow_links: bool = False,
    summary_only: bool = False,
    faces: bool = True,
) -> AnalysisResult:
    """Everything known about every image under ``roots``.

    ``cache_path=None`` keeps the cache in memory (nothing persists). ``also`` runs on
    each picture decoded (see ``WhileDecoded``); its rows go to the cache. ``cluster``
    sends the files' analysis to a Dask cluster instead of this machine's cores.
    ``summary_only``: the caller reads only counts and failures (``xmpcull analyze``),
    so cached files are not read back: their records carry no metadata or features.
    ``faces=False`` ([analysis] faces): no face models run and the records carry no faces
    (``Features.faces`` None, also where the cache has them, so the outcome does not depend
    on what ran before); cached faces are kept. With faces on, a cached file analysed
    without them has its faces looked for (only the face models run again).
    """
    started = time.monotonic()
    progress = progress or NullProgress()
    with _Collector() as collector:
        exiftool_executable()  # a missing exiftool stops the run here, not as one error per file
        with collector.paused():
            scan = scan_roots(roots, only=only, follow_links=follow_links)
        result = AnalysisResult(roots=[Path(os.path.abspath(r)) for r in roots], skipped_links=scan.skipped_links,
                                outside_links=scan.outside_links, leftover_temps=scan.leftover_temps, faces=faces)
        result.failures.extend(scan.failures)
        files = scan.files
        sigs = [sidecar_signature(f) for f in files]
        records: list[ImageRecord | None] = [None] * len(files)
        progress.start(len(files), "Analysing")
        with AnalysisCache(cache_path) as cache:
            todo: list[int] = []  # indices that need metadata (and maybe features)
            known_features: dict[int, CachedEntry] = {}
            with collector.paused():
                entries = cache.lookup_many([(f.path, f.size, f.mtime_ns) for f in files], decode=not summary_only)
                for i, (image, entry) in enumerate(zip(files, entries)):
                    if entry is None:
                        todo.append(i)
                    elif (
                        entry.sidecar_sig == sigs[i] and (entry.has_metadata or entry.error)
                        and not (faces and entry.faces_missing and _face_models())
                    ):
                        records[i] = _record(image, entry.metadata, entry.features, entry.error)
                        result.cache_hits += 1
                        result.analysed += int(summary_only and entry.has_features and not entry.error)
                    else:
                        if summary_only:  # the stale part is read again; its features are wanted after all
                            entry = cache.lookup(image.path, image.size, image.mtime_ns) or entry
                        todo.append(i)
                        if entry.features is not None:
                            known_features[i] = entry
            progress.advance(len(files) - len(todo))
            if todo:
                _analyse_missing(files, sigs, todo, known_features, records, cache, jobs, progress, also, cluster,
                                 faces)
        progress.finish()
        result.records = [r if faces else without_faces(r) for r in records if r is not None]
        result.analysed += sum(1 for r in result.records if r.ok)
        result.failures.extend(
            FileFailure(str(r.file.path), _stage_of(r.error), r.error) for r in result.records if r.error
        )
        result.elapsed = time.monotonic() - started
        return result


class _Collector:
    """Python's cycle collector, paused while the scan and the cache lookups make a few objects
    per file (none in a cycle), and told to skip those (``gc.freeze``) until the call returns:
    as they piled up, it went over all of them again and again (about 2 s of CPU on a re-run
    of 100,000 files). It runs as usual during the analysis itself. A process that froze
    objects of its own keeps them frozen: then nothing is frozen or thawed here."""

    def __init__(self) -> None:
        self.was_enabled = gc.isenabled()
        self.may_freeze = gc.get_freeze_count() == 0
        self.frozen = False

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        gc.disable()
        try:
            yield
        finally:
            if self.may_freeze:
                gc.freeze()
                self.frozen = True
            if self.was_enabled:
                gc.enable()

    def __enter__(self) -> _Collector:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.frozen:
            gc.unfreeze()


def _face_models() -> bool:
    from xmpcull.analyse.faces import available  # numpy and the model files: only when a row lacks faces

    return available()


def without_faces(record: ImageRecord) -> ImageRecord:
    """``record`` as a run with faces off sees it: faces not looked for."""
    if record.features is None or record.features.faces is None:
        return record
    return replace(record, features=replace(record.features, faces=None))


def _stage_of(error: str | None) -> str:
    if error and error.startswith(LOST):
        return "cluster"
    return "metadata" if error and error.startswith("exiftool") else "decode"


_NO_METADATA = Metadata()  # frozen: one shared instance, not 100,000 empty ones on a counting re-run


def _record(image: ImageFile, meta: Metadata | None, features: Features | None, error: str | None) -> ImageRecord:
    return ImageRecord(file=image, metadata=meta or _NO_METADATA, features=features, error=error)


def _analyse_missing(
    files: list[ImageFile],
    sigs: list[str | None],
    todo: list[int],
    known_features: dict[int, CachedEntry],
    records: list[ImageRecord | None],
    cache: AnalysisCache,
    jobs: int | None,
    progress: Progress,
    also: WhileDecoded | None = None,
    cluster: ClusterSettings | None = None,
    faces: bool = True,
) -> None:
    from xmpcull.analyse.worker import FileResult, FileTask, init_worker

    chunks = [todo[c : c + CHUNK] for c in range(0, len(todo), CHUNK)]
    # Sizes over the whole scan, cached files included: a new file's twin may be one of them.
    sizes = Counter(f.size for f in files)
    # Cluster workers cannot open this machine's cache (renamed files are analysed again
    # there) and may see the files under other paths.
    content_cache = cache.path if cluster is None else None
    to_worker = cluster.path_map.image_to_worker if cluster is not None else None

    def tasks_for(chunk: list[int]) -> list[FileTask]:
        return [
            FileTask(
                to_worker(files[i]) if to_worker else files[i],
                known_features[i].features if i in known_features else None,
                content_cache,
                also,
                size_shared=sizes[files[i].size] > 1,
                faces=faces,
            )
            for i in chunk
        ]

    def lost(item: tuple[list[int], list[FileTask]], reason: str) -> list[FileResult]:
        return [FileResult(None, None, LOST + reason) for _ in item[0]]

    runner: TaskRunner
    if cluster is not None:
        runner = open_runner(cluster)
    else:
        runner = LocalRunner(max(1, min(jobs or os.cpu_count() or 1, len(chunks))), init_worker)
    try:
        indexed = ((chunk, tasks_for(chunk)) for chunk in chunks)
        for (chunk, _), results in runner.map_unordered(_analyse_indexed, indexed, lost):
            _place(chunk, results, files, sigs, records, cache, progress)
    finally:
        runner.close()


def _analyse_indexed(item: tuple[list[int], list[FileTask]]) -> list[FileResult]:
    # One OpenCV thread, as in the local pool (parallel.fork_pool): its threaded reductions
    # round differently with another thread count, and a Dask worker starts with one per
    # core (3 of the 2,369 OpenCV sample images got a crop confidence 1e-6 apart).
    import cv2

    from xmpcull.analyse.worker import analyse_tasks

    cv2.setNumThreads(1)
    return analyse_tasks(item[1])


def _place(
    chunk: list[int],
    results: list[FileResult],
    files: list[ImageFile],
    sigs: list[str | None],
    records: list[ImageRecord | None],
    cache: AnalysisCache,
    progress: Progress,
) -> None:
    for i, outcome in zip(chunk, results):
        records[i] = _record(files[i], outcome.metadata, outcome.features, outcome.error)
    cache.store(
        (files[i].path, files[i].size, files[i].mtime_ns, sigs[i], r.metadata, r.features, r.error, _stage_of(r.error) if r.error else None)
        for i, r in zip(chunk, results)
        if not (r.error and r.error.startswith(LOST))
    )
    derived: dict[str, list[tuple[str, object]]] = {}
    for r in results:
        for kind, key, value in r.derived:
            derived.setdefault(kind, []).append((key, value))
    for kind, rows in derived.items():
        cache.put_derived(kind, rows)
    progress.advance(len(chunk))
