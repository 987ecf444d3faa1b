"""The stages of a run, wired together: analyse -> duplicates -> bursts -> crops -> quality -> decide -> sidecars -> report.

Each stage lives in its own package and is tested there; writing the sidecars
and the report are ``sidecars.py`` and ``report.py`` beside this file.

RAW+JPEG pairs are one shot: the RAW leads, and the pair shares one sidecar
(see xmpcull/sidecar/README.md), so one update is written per shot.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from xmpcull.analyse.pipeline import analyse_roots
from xmpcull.config import Config
from xmpcull.crop.stage import CropOutcome, ProposeWhileDecoded, canonical_aspects, propose_for_records
from xmpcull.decide.person import honour_review
from xmpcull.decide.policy import DecisionInputs, decide
from xmpcull.decide.quality import QualityScores, score_quality
from xmpcull.errors import FileFailure, XmpcullError
from xmpcull.fsutil import remove_stale_temps
from xmpcull.group.bursts import Burst, cluster_bursts, shots_from_records, without_copies
from xmpcull.group.dupes import DupeResult, find_duplicates
from xmpcull.group.generations import generation_fields, link_generations
from xmpcull.group.outside import bursts_seen, outside_context, seen_groups
from xmpcull.group.pixels import PixelSource
from xmpcull.group.semantic import DEFAULT_MIN_COSINE, semantic_candidates
from xmpcull.models import ImageRecord
from xmpcull.progress import NullProgress, Progress
from xmpcull.run.report import write_reports
from xmpcull.run.result import ImageOutcome, ReportNotWritten, RunOptions, RunResult
from xmpcull.run.sections import burst_fields_by_path, dupe_fields_by_path, similar_fields_by_path
from xmpcull.run.sidecars import memo_for, previous_decision, settle_crop, write_sidecars
from xmpcull.sidecar.memo import WriteMemo

CROPS_APPLY_OFF = "applying crops is off ([crops] apply = false)"


class _StageClock:
    """Seconds spent in each named stage, for the summary (where does a slow run spend its time?)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.monotonic() - started


def run_pipeline(roots: Sequence[Path], options: RunOptions, progress: Progress | None = None) -> RunResult:
    started = time.monotonic()
    started_ns = time.time_ns()  # a temp file older than this was left by an earlier, interrupted writer
    progress = progress or NullProgress()
    config = options.config
    clock = _StageClock()
    # With a cache, the crop search runs on the picture analysis decodes (one decode per
    # image); the crop stage then reads its proposals from the cache.
    also = (
        ProposeWhileDecoded(canonical_aspects(config.crops.aspects), config.faces)
        if config.crops.aspects and options.cache_path is not None
        else None
    )
    with clock.stage("analyse"):
        analysis = analyse_roots(
            roots, jobs=options.jobs, cache_path=options.cache_path, progress=progress, also=also, cluster=config.cluster,
            only=config.scan, follow_links=options.follow_links, faces=config.faces,
        )
        records = analysis.ok_records
        # Members of known groups, similar sets and bursts outside the roots take part as context (group/outside.py).
        context = outside_context(records, analysis.roots, jobs=options.jobs, cache_path=options.cache_path,
                                  faces=config.faces)
    crop_search = config.dupes.crop_search_for(len(records))
    with clock.stage("semantic"):
        semantic = semantic_candidates(
            [*records, *context], config.semantic.model if config.semantic else None,
            config.semantic.min_cosine if config.semantic else DEFAULT_MIN_COSINE, options.cache_path,
        )
    with clock.stage("dupes"):
        generations = link_generations(records)
        dupes = find_duplicates(
            [*records, *context],
            threshold=config.dupes.threshold,
            similar_threshold=config.dupes.similar_threshold,
            rotation_invariant=config.dupes.rotation_invariant,
            dhash_threshold=config.dupes.dhash_threshold,
            keeper_chain=config.dupes.keeper_chain,
            crop_tolerant=crop_search,
            verify_scenes=config.dupes.verify_scenes,
            pixels=PixelSource(cache_path=options.cache_path) if crop_search or config.dupes.verify_scenes else None,
            linked=generations.same_generation,
            semantic=semantic.pairs,
            jobs=options.jobs,
        )
        if context:
            dupes = seen_groups(dupes, {r.file.path for r in records})
        dupes = honour_review(dupes, options.write_options.naming)  # a keeper chosen by hand stays the keeper
    with clock.stage("bursts"):
        # Frames outside the roots that a burst member names take part too (group/outside.py).
        bursts = cluster_bursts(
            shots_from_records(_distinct_frames([*records, *context], dupes)),
            gap_seconds=config.bursts.gap_seconds,
            scene_split_threshold=config.bursts.scene_threshold if config.bursts.split_on_scene_change else None,
        )
        if context:
            bursts = bursts_seen(bursts, {r.file.path for r in records})
    analysed_raws = {r.file.path for r in records if r.file.is_raw}
    leaders = [r for r in records if not follows_a_raw(r, analysed_raws)]
    with clock.stage("crops"):
        crops = {o.path: o for o in _propose_crops(leaders, config, options, progress)}
    with clock.stage("quality"):
        faces = {path: c.face_sharpness for path, c in crops.items() if c.ok and c.face_sharpness is not None}
        quality = score_quality(records, bursts, faces, config.quality)

    result = RunResult(
        analysis=analysis, dupes=dupes, bursts=bursts, generations=generations, timings=clock.timings,
        crop_search=crop_search, semantic=semantic,
    )
    result.failures.extend(analysis.failures)
    with clock.stage("decide"):
        memo = memo_for(options, leaders)
        result.outcomes = _decide_all(leaders, dupes, bursts, crops, quality, memo, options, result.failures)
        if not config.crops.apply:
            floor = config.policy.review_crop_confidence
            result.weak_crops_not_applied = sum(1 for c in crops.values() if c.ok and c.confidence < floor)
        batch_of = generations.batch_of()
        for outcome in result.outcomes:
            outcome.generation = generation_fields(outcome.record, generations, batch_of)
    with clock.stage("sidecars"):
        if options.write_sidecars:
            if not options.write_options.dry_run:
                result.temps_removed, result.swaps_kept = remove_stale_temps(analysis.leftover_temps, started_ns)
            write_sidecars(result, options, memo)
        else:
            for outcome in result.outcomes:
                settle_crop(outcome, None, written=False)
    result.elapsed = time.monotonic() - started  # before the report, whose summary records it
    with clock.stage("report"):
        try:
            write_reports(result, roots, options)
        except XmpcullError as exc:  # disk full, say: the caller still learns what was and was not written
            result.report_json = result.report_csv = None
            raise ReportNotWritten(exc, result) from exc
    return result


def _decide_all(
    leaders: Sequence[ImageRecord],
    dupes: DupeResult,
    bursts: Sequence[Burst],
    crops: dict[Path, CropOutcome],
    quality: dict[Path, QualityScores],
    memo: WriteMemo | None,
    options: RunOptions,
    failures: list[FileFailure],
) -> list[ImageOutcome]:
    config = options.config
    dupe_fields = dupe_fields_by_path(dupes)
    similar_fields = similar_fields_by_path(dupes)
    burst_fields = burst_fields_by_path(bursts)
    outcomes = []
    for record in leaders:
        path = record.file.path
        crop, dupe, burst = crops.get(path), dupe_fields.get(path), burst_fields.get(path)
        inputs = DecisionInputs(
            dupe_role=dupe.role if dupe else None,
            dupe_distance=dupe.distance if dupe else None,
            dupe_kind=dupe.kind if dupe else None,
            dupe_group=dupe.group if dupe else None,
            burst_id=burst.burst_id if burst else None,
            best_frame=bool(burst and burst.best),
            quality=quality.get(path),
            # A weak crop proposal only needs a look when crops are being applied.
            crop_confidence=crop.confidence if config.crops.apply and crop is not None and crop.ok else None,
            current_rating=record.metadata.rating,
            current_label=record.metadata.label,
            previous=previous_decision(record, memo, options.write_options, failures),
        )
        outcomes.append(
            ImageOutcome(record, decide(inputs, config.policy), quality.get(path), dupe, burst, crop, similar_fields.get(path))
        )
    return outcomes


def _propose_crops(
    leaders: Sequence[ImageRecord], config: Config, options: RunOptions, progress: Progress
) -> list[CropOutcome]:
    if not config.crops.aspects:
        return []
    outcomes = propose_for_records(
        leaders,
        config.crops.aspects,
        apply_threshold=config.crops.apply_min_confidence,
        jobs=options.jobs,
        progress=progress,
        cache_path=options.cache_path,
        faces=config.faces,
    )
    if config.crops.apply:
        return outcomes
    # Proposals are still recorded; only writing them as the Camera Raw crop is off.
    return [o.with_applied_withdrawn(CROPS_APPLY_OFF) for o in outcomes]


def _distinct_frames(records: Sequence[ImageRecord], dupes: DupeResult) -> list[ImageRecord]:
    """Records that are frames of their own: copies of a frame (exact, or a duplicate with the
    keeper's very capture time, e.g. an exported JPEG) are not burst frames."""
    copies: set[Path] = set()
    for group in dupes.groups:
        keeper_time = _timestamp(group.keeper)
        for member in group.members[1:]:
            if keeper_time is not None and _timestamp(member.record) == keeper_time:
                copies.add(member.record.file.path)
    return without_copies([r for r in records if r.file.path not in copies])


def _timestamp(record: ImageRecord) -> float | None:
    capture = record.metadata.capture_time
    return capture.timestamp() if capture else None


def follows_a_raw(record: ImageRecord, analysed_raws: set[Path]) -> bool:
    """A rendered file whose RAW companion leads the shot (and owns the shared sidecar).

    When the RAW could not be analysed (no usable preview), the JPEG leads instead,
    so the shot still gets its decisions.
    """
    return not record.file.is_raw and any(c in analysed_raws for c in record.file.companions)

