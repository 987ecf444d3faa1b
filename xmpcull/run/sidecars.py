"""The sidecar pass of a run: each shot's update, written in parallel, skipped when nothing changed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from xmpcull.analyse.cache import AnalysisCache
from xmpcull.analyse.decode import decoder_orientation
from xmpcull.analyse.faces.regions import face_regions
from xmpcull.crop.stage import crop_fields, settle
from xmpcull.errors import FileFailure, XmpcullError
from xmpcull.models import ImageRecord
from xmpcull.parallel import bounded_map, fork_pool
from xmpcull.run.result import ImageOutcome, RunOptions, RunResult
from xmpcull.sidecar import (
    CLEAR,
    DecisionFields,
    FaceRegionFields,
    SidecarItem,
    SidecarState,
    SidecarUpdate,
    WriteOptions,
    WriteResult,
    read_sidecar,
    write_each,
)
from xmpcull.sidecar.memo import WriteMemo


def previous_decision(
    record: ImageRecord, memo: WriteMemo | None, options: WriteOptions, failures: list[FileFailure]
) -> DecisionFields | None:
    """Our last decision as the sidecar holds it, to tell our rating/label from the user's."""
    if memo is not None:
        known = memo.previous_decision(record.file.path, record.file.companions, options.naming)
        if known is not False:
            return known  # type: ignore[return-value]
    try:
        # With --embed our last decision lives in the file's own XMP: read it there, or
        # every second run would take our own label for the user's.
        state = read_sidecar(record.file.path, record.file.companions, options.naming, include_embedded=options.embed)
    except XmpcullError as exc:
        failures.append(FileFailure(str(record.file.path), "sidecar", exc.reason))
        return None
    return state.decision


def _read_state(image: Path, companions: tuple[Path, ...], naming: str) -> SidecarState | None:
    try:
        return read_sidecar(image, companions, naming, include_embedded=False)  # type: ignore[arg-type]
    except XmpcullError:
        return None


def memo_for(options: RunOptions, leaders: Sequence[ImageRecord]) -> WriteMemo | None:
    write_options = options.write_options
    if options.cache_path is None or write_options.dry_run or write_options.embed or not options.write_sidecars:
        return None
    memo = WriteMemo(options.cache_path)
    memo.load(r.file.path for r in leaders)
    return memo


def write_sidecars(result: RunResult, options: RunOptions, memo: WriteMemo | None) -> None:
    """Write every shot's sidecar; skip those whose file and update are exactly as we left them."""
    write_options = options.write_options
    items = [_sidecar_item(o, write_options.face_regions) for o in result.outcomes]
    remembered = {
        i: memo.unchanged(item.image, item.companions, item.update, write_options) if memo else None
        for i, item in enumerate(items)
    }
    pending = [i for i in range(len(items)) if remembered[i] is None]
    written = _write_in_parallel([items[i] for i in pending], write_options, options.jobs, read_back=memo is not None)
    writes = dict(zip(pending, written))
    for i, outcome in enumerate(result.outcomes):
        write, after = writes.get(i, (remembered[i], None))
        if isinstance(write, FileFailure):
            result.failures.append(write)
            settle_crop(outcome, None, written=True)
            continue
        assert write is not None
        result.sidecar_results.append(write)
        settle_crop(outcome, write, written=not write_options.dry_run)
        if memo is not None and i in writes:
            memo.record(items[i].image, write, items[i].update, write_options, after)
    if memo is not None:
        memo.save()
    if options.cache_path is not None:
        follow_embedded_writes(options.cache_path, result.outcomes, result.sidecar_results)


def follow_embedded_writes(cache_path: Path, outcomes: Sequence[ImageOutcome], results: Sequence[WriteResult]) -> None:
    """Tell the cache which bytes ``--embed`` wrote itself, so the next run reads the XMP again but
    neither decodes the picture nor recomputes its features, crops and faces from it (a second
    ``--embed`` run must find what the first one wrote, not numbers computed anew).

    Only a file still as the scan saw it right before our write counts: one another program
    changed in between is analysed again like any edited file.
    """
    scanned = {o.record.file.path: (o.record.file.size, o.record.file.mtime_ns) for o in outcomes}
    rows = [
        (Path(r.path), r.embedded_over[0], r.embedded_over[1])
        for r in results
        if r.embedded_over is not None and scanned.get(Path(r.path)) == r.embedded_over[0]
    ]
    if not rows:
        return
    try:
        with AnalysisCache(cache_path) as cache:
            cache.follow_own_writes(rows)
    except XmpcullError:
        pass  # a cache problem costs time on the next run, never results


WriteOutcome = tuple[WriteResult | FileFailure, DecisionFields | None]
PARALLEL_WRITES_FROM = 64  # below this a process pool costs more than it saves


def _write_in_parallel(
    items: list[SidecarItem], options: WriteOptions, jobs: int | None, *, read_back: bool
) -> list[WriteOutcome]:
    """Merging XMP is CPU work in Exempi and Python: spread it over the cores, keep the order."""
    workers = max(1, jobs or os.cpu_count() or 1)
    if workers == 1 or len(items) < PARALLEL_WRITES_FROM:
        return _write_chunk(items, options, read_back)
    size = max(16, len(items) // (workers * 4))
    chunks = [items[c : c + size] for c in range(0, len(items), size)]
    results: dict[int, list[WriteOutcome]] = {}
    with fork_pool(workers) as pool:
        tasks = ((n, chunk, options, read_back) for n, chunk in enumerate(chunks))
        for (n, *_), outcomes in bounded_map(pool, _write_numbered_chunk, tasks, workers):
            results[n] = outcomes
    return [outcome for n in range(len(chunks)) for outcome in results[n]]


def _write_numbered_chunk(task: tuple[int, list[SidecarItem], WriteOptions, bool]) -> list[WriteOutcome]:
    _, items, options, read_back = task
    return _write_chunk(items, options, read_back)


def _write_chunk(items: list[SidecarItem], options: WriteOptions, read_back: bool) -> list[WriteOutcome]:
    out: list[WriteOutcome] = []
    for item, write in zip(items, write_each(items, options)):
        after = None
        if read_back and isinstance(write, WriteResult):
            state = _read_state(item.image, item.companions, options.naming)
            after = state.decision if state else None
        out.append((write, after))
    return out


def settle_crop(outcome: ImageOutcome, write: WriteResult | None, written: bool) -> None:
    """Report the crop as it ended up in the sidecar (the user's own crop may have been kept)."""
    if outcome.crop is not None and outcome.crop.ok:
        outcome.crop = settle(outcome.crop, write, written)


def _sidecar_item(outcome: ImageOutcome, with_regions: bool) -> SidecarItem:
    crop = outcome.crop
    crop_section = crop_fields(crop) if crop is not None and crop.ok and crop.proposals else CLEAR
    update = SidecarUpdate(
        dupes=outcome.dupe or CLEAR,
        similar=outcome.similar or CLEAR,
        burst=outcome.burst or CLEAR,
        quality=outcome.quality.to_fields() if outcome.quality else CLEAR,
        crop=crop_section,
        decision=outcome.decision.to_fields(),
        generation=outcome.generation or CLEAR,
        regions=(_face_regions(outcome.record) if with_regions else None) or CLEAR,
    )
    return SidecarItem(outcome.record.file.path, update, outcome.record.file.companions)


def _face_regions(record: ImageRecord) -> FaceRegionFields | None:
    """The record's faces as MWG regions of its stored frame (reads the image header for its orientation)."""
    features, meta = record.features, record.metadata
    if features is None or not features.faces:
        return None
    try:
        orientation = decoder_orientation(record.file.path, record.file.format, meta.orientation)
    except OSError:
        return None  # the file went away: its sidecar write reports that
    if meta.stored_width and meta.stored_height:
        stored = (meta.stored_width, meta.stored_height)
    else:  # the decoder's full size, turned back to the stored frame
        stored = (features.height, features.width) if orientation >= 5 else (features.width, features.height)
    return face_regions(features.faces, orientation, stored)

