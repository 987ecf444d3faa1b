"""The whole pipeline in one call: analyse -> duplicates -> bursts -> crops -> quality -> decide -> sidecars -> report.

This module only wires the stages together; each stage lives in its own
package and is tested there. Nothing is moved here: moving is the separate,
explicit ``xmpcull move`` step, which accepts this run's report.

RAW+JPEG pairs are one shot: the RAW leads, and the pair shares one sidecar
(see xmpcull/sidecar/README.md), so one update is written per shot.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from xmpcull import __version__
from xmpcull.analyse.decode import decoder_orientation
from xmpcull.analyse.faces.regions import face_regions
from xmpcull.analyse.faces.summary import FaceSummary
from xmpcull.analyse.pipeline import AnalysisResult, analyse_roots
from xmpcull.config import Config
from xmpcull.crop.stage import (
    CropOutcome,
    ProposeWhileDecoded,
    canonical_aspects,
    crop_fields,
    propose_for_records,
    settle,
)
from xmpcull.decide.person import honour_review
from xmpcull.decide.policy import Decision, DecisionInputs, decide, flagged_counts, hand_touch_share
from xmpcull.decide.quality import QualityScores, score_quality
from xmpcull.errors import FileFailure, ReportError, XmpcullError, split_read_only
from xmpcull.fsutil import remove_stale_temps
from xmpcull.group.bursts import Burst, burst_report, cluster_bursts, shots_from_records, without_copies
from xmpcull.group.dupes import DupeResult, find_duplicates
from xmpcull.group.generations import GenerationLinks, generation_fields, link_generations
from xmpcull.group.outside import members_outside, seen_groups
from xmpcull.group.pixels import PixelSource
from xmpcull.group.semantic import DEFAULT_MIN_COSINE, SemanticResult, semantic_candidates
from xmpcull.models import ImageRecord
from xmpcull.parallel import bounded_map, fork_pool
from xmpcull.progress import NullProgress, Progress
from xmpcull.report.dupes import dupe_report
from xmpcull.report.writers import CsvWriter, write_json
from xmpcull.sidecar import (
    CLEAR,
    BurstFields,
    DecisionFields,
    DupeFields,
    FaceRegionFields,
    GenerationFields,
    SidecarItem,
    SidecarState,
    SidecarUpdate,
    SimilarFields,
    WriteOptions,
    WriteResult,
    read_sidecar,
    write_each,
)
from xmpcull.sidecar.memo import WriteMemo

REPORT_VERSION = 1
REPORT_DIR_NAME = ".xmpcull"
CROPS_APPLY_OFF = "applying crops is off ([crops] apply = false)"
IMAGE_CSV_COLUMNS = (
    "path",
    "relpath",
    "root",
    "decision",
    "review_reasons",
    "rating",
    "label",
    "reason",
    "dupe_group",
    "dupe_role",
    "dupe_distance",
    "similar_set",
    "similar_role",
    "similar_reason",
    "burst_id",
    "burst_index",
    "burst_best",
    "quality",
    "sharpness",
    "exposure",
    "face_sharpness",
    "face_count",
    "eyes",
    "eyes_closed_faces",
    "crop_aspect",
    "crop_confidence",
    "crop_applied",
    "generator",
    "prompt",
    "negative_prompt",
    "model",
    "model_hash",
    "seed",
    "steps",
    "sampler",
    "cfg",
    "gen_width",
    "gen_height",
    "derivation",
    "denoise",
    "gen_parent",
    "gen_batch",
    "gen_batch_index",
    "digital_source_type",
    "c2pa",
)


@dataclass(frozen=True)
class RunOptions:
    config: Config
    write_options: WriteOptions
    write_sidecars: bool = True
    report_dir: Path | None = None  # default: <first root>/.xmpcull
    jobs: int | None = None
    cache_path: Path | None = None
    follow_links: bool = False  # analyse (and write sidecars beside) what links outside the roots point to


@dataclass
class ImageOutcome:
    """Everything the run decided about one shot (its leading file)."""

    record: ImageRecord
    decision: Decision
    quality: QualityScores | None = None
    dupe: DupeFields | None = None
    burst: BurstFields | None = None
    crop: CropOutcome | None = None
    similar: SimilarFields | None = None
    generation: GenerationFields | None = None


@dataclass
class RunResult:
    analysis: AnalysisResult
    dupes: DupeResult
    bursts: list[Burst]
    generations: GenerationLinks = field(default_factory=GenerationLinks)
    outcomes: list[ImageOutcome] = field(default_factory=list)
    sidecar_results: list[WriteResult] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)
    temps_removed: list[Path] = field(default_factory=list)  # stale temp files of an interrupted write
    swaps_kept: list[Path] = field(default_factory=list)  # stale swap files: may hold another program's save
    report_json: Path | None = None
    report_csv: Path | None = None
    elapsed: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    crop_search: bool = False  # whether duplicates were also sought among small crops (size-gated)
    semantic: SemanticResult | None = None
    # Crop proposals below [policy] review_crop_confidence that were not flagged, because
    # crops are only proposed (not written as the Camera Raw crop): nothing to check.
    weak_crops_not_applied: int = 0

    def summary(self) -> dict[str, Any]:
        decisions = [o.decision for o in self.outcomes]
        counts: dict[str, int] = {}
        for d in decisions:
            counts[d.decision] = counts.get(d.decision, 0) + 1
        crops = [o.crop for o in self.outcomes if o.crop is not None and o.crop.ok]
        return {
            "roots": [str(r) for r in self.analysis.roots],
            "images": len(self.analysis.records),
            "analysed": len(self.analysis.ok_records),
            "shots": len(self.outcomes),
            "outside_links": [str(p) for p in self.analysis.outside_links],
            "temp_files_removed": len(self.temps_removed),
            "swap_files_kept": [str(p) for p in self.swaps_kept],
            "errors": len(split_read_only(self.failures)[0]),  # failed files, not images of a read-only folder
            "duplicate_groups": len(self.dupes.groups),
            "duplicates": sum(len(g.members) - 1 for g in self.dupes.groups),
            "similar_sets": len(self.dupes.similar_sets),
            "generated_images": sum(1 for o in self.outcomes if o.generation is not None and o.generation.generator),
            "generation_batches": len(self.generations.batches),
            "crop_search": self.crop_search,
            "semantic": self._semantic_summary(),
            "scene_checks": self.dupes.scene_checks,
            "bursts": sum(1 for b in self.bursts if b.is_burst),
            "frames_in_bursts": sum(b.size for b in self.bursts if b.is_burst),
            "crops_proposed": sum(len(c.proposals) for c in crops),
            "crops_applied": sum(1 for c in crops if c.applied is not None),
            "decisions": dict(sorted(counts.items())),
            "hand_touch_share": round(hand_touch_share(decisions), 4),
            "flagged": flagged_counts(decisions),  # review reason code -> images (docs/config.md)
            "weak_crops_not_applied": self.weak_crops_not_applied,
            "sidecars_changed": sum(1 for r in self.sidecar_results if r.changed),
            "sidecar_warnings": [f"{r.path}: {w}" for r in self.sidecar_results for w in r.warnings],
            "sidecars_not_written": [{"image": f.path, "reason": f.reason} for f in self.failures
                                     if f.stage == "sidecar"],
            "report": str(self.report_json) if self.report_json else None,
            "report_csv": str(self.report_csv) if self.report_csv else None,
            "seconds": round(self.elapsed, 3),
            "seconds_by_stage": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def _semantic_summary(self) -> dict[str, Any] | str | None:
        """The semantic tier: the one-line reason it is off, or what it did."""
        if self.semantic is None:
            return None
        if self.semantic.note:
            return self.semantic.note
        return {"model": self.semantic.model, "encoded": self.semantic.encoded, "pairs": len(self.semantic.pairs)}


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
        ProposeWhileDecoded(canonical_aspects(config.crops.aspects))
        if config.crops.aspects and options.cache_path is not None
        else None
    )
    with clock.stage("analyse"):
        analysis = analyse_roots(
            roots, jobs=options.jobs, cache_path=options.cache_path, progress=progress, also=also, cluster=config.cluster,
            only=config.scan, follow_links=options.follow_links
        )
    records = analysis.ok_records
    crop_search = config.dupes.crop_search_for(len(records))
    with clock.stage("semantic"):
        semantic = semantic_candidates(
            records, config.semantic.model if config.semantic else None,
            config.semantic.min_cosine if config.semantic else DEFAULT_MIN_COSINE, options.cache_path,
        )
    with clock.stage("dupes"):
        generations = link_generations(records)
        # Members of known groups outside the roots take part as context (group/outside.py).
        outside = members_outside(records, analysis.roots)
        context = analyse_roots(outside, jobs=options.jobs, cache_path=options.cache_path).ok_records if outside else []
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
        bursts = cluster_bursts(
            shots_from_records(_distinct_frames(records, dupes)),
            gap_seconds=config.bursts.gap_seconds,
            scene_split_threshold=config.bursts.scene_threshold if config.bursts.split_on_scene_change else None,
        )
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
        memo = _memo_for(options, leaders)
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
            _write_sidecars(result, options, memo)
        else:
            for outcome in result.outcomes:
                _settle_crop(outcome, None, written=False)
    result.elapsed = time.monotonic() - started  # before the report, whose summary records it
    with clock.stage("report"):
        try:
            _write_reports(result, roots, options)
        except XmpcullError as exc:  # disk full, say: the caller still learns what was and was not written
            result.report_json = result.report_csv = None
            raise ReportNotWritten(exc, result) from exc
    return result


class ReportNotWritten(ReportError):
    """The run went through, but its report could not be written; ``result`` says what the run did."""

    def __init__(self, cause: XmpcullError, result: RunResult) -> None:
        super().__init__(cause.reason, cause.paths)
        self.result = result


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
            previous=_previous_decision(record, memo, options.write_options, failures),
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


def _previous_decision(
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


def dupe_fields_by_path(dupes: DupeResult) -> dict[Path, DupeFields]:
    """The sidecar's dupes section for every member of a duplicate group (`run` and `dupes` share it)."""
    fields: dict[Path, DupeFields] = {}
    for group in dupes.groups:
        paths = [m.record.file.path for m in group.members]
        for member in group.members:
            path = member.record.file.path
            fields[path] = DupeFields(
                group=group.id,
                kind=group.kind,
                role=member.role,
                distance=member.distance,
                keeper_reason=group.keeper_reason,
                members=_relative_members(path, paths),
            )
    return fields


def _relative_members(path: Path, paths: Sequence[Path]) -> tuple[str, ...]:
    """The other members as '/'-separated paths relative to ``path``'s folder (DupMembers).

    A name that is not UTF-8 cannot be written into XMP text; it is left out (a
    subfolder run then cannot find that member, as before DupMembers existed).
    """
    members = []
    for other in paths:
        if other == path:
            continue
        relative = os.path.relpath(other, path.parent).replace(os.sep, "/")
        try:
            relative.encode("utf-8")
        except UnicodeEncodeError:
            continue
        members.append(relative)
    return tuple(sorted(members))


def similar_fields_by_path(dupes: DupeResult) -> dict[Path, SimilarFields]:
    """The sidecar's similar section for every member of a similar set, companions included (`run` and `dupes`)."""
    fields: dict[Path, SimilarFields] = {}
    for similar in dupes.similar_sets:
        for member in similar.members:
            reason = f"best of the set: {similar.best_reason}" if member.role == "best" else member.why
            value = SimilarFields(similar.id, member.role, len(similar.members), reason)
            for path in (member.record.file.path, *member.record.file.companions):
                fields.setdefault(path, value)
    return fields


def burst_fields_by_path(bursts: Sequence[Burst]) -> dict[Path, BurstFields]:
    """The sidecar's burst section for every file of a real burst, companions included (`run` and `bursts`)."""
    fields: dict[Path, BurstFields] = {}
    for burst in bursts:
        if burst.burst_id is None:
            continue
        for index, shot in enumerate(burst.shots, start=1):
            best = index - 1 == burst.best
            value = BurstFields(burst.burst_id, index, burst.size, best, burst.best_reason if best else None)
            for path in (shot.path, *shot.companions):
                fields[Path(path)] = value
    return fields


def _memo_for(options: RunOptions, leaders: Sequence[ImageRecord]) -> WriteMemo | None:
    write_options = options.write_options
    if options.cache_path is None or write_options.dry_run or write_options.embed or not options.write_sidecars:
        return None
    memo = WriteMemo(options.cache_path)
    memo.load(r.file.path for r in leaders)
    return memo


def _write_sidecars(result: RunResult, options: RunOptions, memo: WriteMemo | None) -> None:
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
            _settle_crop(outcome, None, written=True)
            continue
        assert write is not None
        result.sidecar_results.append(write)
        _settle_crop(outcome, write, written=not write_options.dry_run)
        if memo is not None and i in writes:
            memo.record(items[i].image, write, items[i].update, write_options, after)
    if memo is not None:
        memo.save()


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


def _settle_crop(outcome: ImageOutcome, write: WriteResult | None, written: bool) -> None:
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


def _face_columns(faces: FaceSummary | None) -> dict[str, object]:
    """Face count, eyes summary and closed-eyed faces; all None when no face was found."""
    return {
        "face_count": faces.count if faces else None,
        "eyes": faces.eyes if faces else None,
        "eyes_closed_faces": faces.closed if faces else None,
    }


def image_row(outcome: ImageOutcome) -> dict[str, Any]:
    record, decision = outcome.record, outcome.decision
    crop = outcome.crop if outcome.crop is not None and outcome.crop.ok else None
    chosen = None
    if crop is not None and crop.proposals:
        chosen = crop.applied or crop.proposals[0]
    return {
        "path": str(record.file.path),
        "relpath": record.file.relpath,
        "root": str(record.file.root),
        "decision": decision.decision,
        "review_reasons": ";".join(decision.review_reasons),
        "rating": decision.rating,
        "label": decision.label,
        "reason": decision.reason,
        "dupe_group": outcome.dupe.group if outcome.dupe else None,
        "dupe_role": outcome.dupe.role if outcome.dupe else None,
        "dupe_distance": outcome.dupe.distance if outcome.dupe else None,
        "similar_set": outcome.similar.set_id if outcome.similar else None,
        "similar_role": outcome.similar.role if outcome.similar else None,
        "similar_reason": outcome.similar.reason if outcome.similar else None,
        "burst_id": outcome.burst.burst_id if outcome.burst else None,
        "burst_index": outcome.burst.index if outcome.burst else None,
        "burst_best": outcome.burst.best if outcome.burst else None,
        "quality": round(outcome.quality.quality, 4) if outcome.quality else None,
        "sharpness": round(outcome.quality.sharpness, 4) if outcome.quality else None,
        "exposure": round(outcome.quality.exposure, 4) if outcome.quality else None,
        "face_sharpness": round(outcome.quality.face_sharpness, 4)
        if outcome.quality and outcome.quality.face_sharpness is not None
        else None,
        **_face_columns(outcome.quality.faces if outcome.quality else None),
        "crop_aspect": chosen.aspect if chosen else None,
        "crop_confidence": round(chosen.confidence, 4) if chosen else None,
        "crop_applied": bool(crop and crop.applied is not None),
        **_generation_columns(outcome.generation),
    }


def _generation_columns(gen: GenerationFields | None) -> dict[str, Any]:
    return {
        "generator": gen.generator if gen else None,
        "prompt": gen.prompt if gen else None,
        "negative_prompt": gen.negative_prompt if gen else None,
        "model": gen.model if gen else None,
        "model_hash": gen.model_hash if gen else None,
        "seed": gen.seed if gen else None,
        "steps": gen.steps if gen else None,
        "sampler": gen.sampler if gen else None,
        "cfg": gen.cfg if gen else None,
        "gen_width": gen.width if gen else None,  # the size the generator declared, not the pixels
        "gen_height": gen.height if gen else None,
        "derivation": gen.derivation if gen else None,
        "denoise": gen.denoise if gen else None,
        "gen_parent": gen.parent if gen else None,
        "gen_batch": gen.batch if gen else None,
        "gen_batch_index": gen.batch_index if gen else None,
        "digital_source_type": gen.source_type if gen else None,
        "c2pa": gen.c2pa if gen else None,
    }


def _report(result: RunResult, roots: Sequence[Path], gap_seconds: float) -> dict[str, Any]:
    # The duplicate part has exactly the shape of `xmpcull dupes --report`, so
    # `xmpcull move --report .xmpcull/report.json` works on a run's report too.
    report = dupe_report(result.dupes, [Path(os.path.abspath(r)) for r in roots])
    report["version"] = REPORT_VERSION
    report["engine_version"] = __version__
    report["summary"] = result.summary()
    report["images"] = [
        {
            **image_row(o),
            "review_reasons": list(o.decision.review_reasons),
            "kept_user_values": list(o.decision.kept_user_values),
            "quality_detail": o.quality.to_dict() if o.quality else None,
            "crop_proposals": [p.to_dict() for p in o.crop.proposals] if o.crop is not None and o.crop.ok else [],
        }
        for o in result.outcomes
    ]
    report["bursts"] = burst_report(result.bursts, report["roots"], gap_seconds)["bursts"]
    report["generation_batches"] = generation_batch_report(result.generations)
    report["errors"] = [f.to_dict() for f in result.failures]
    return report


def generation_batch_report(links: GenerationLinks) -> list[dict[str, Any]]:
    """Batches of AI variations, in the shape of a similar set (kind "batch")."""
    return [
        {
            "id": batch.id,
            "kind": batch.kind,
            "reason": batch.reason,
            "generations": batch.generations,
            "consecutive_seeds": batch.consecutive_seeds,
            "members": [
                {"path": str(m.record.file.path), "index": m.index, "seed": m.seed,
                 "parent": str(links.parents[m.record.file.path]) if m.record.file.path in links.parents else None}
                for m in batch.members
            ],
        }
        for batch in links.batches
    ]


def report_dir_for(roots: Sequence[Path], explicit: Path | None) -> Path:
    """FIRST_ROOT/.xmpcull, or --report-dir; a read-only photo folder sends it to the user's data folder.

    Read-only goes by the mode bits, as for sidecars (xmpcull/sidecar/atomic.py): even
    root, who could write there, leaves a folder the user locked alone.
    """
    if explicit is not None:
        return explicit
    first = Path(os.path.abspath(roots[0]))
    base = first if first.is_dir() else first.parent
    if (base / REPORT_DIR_NAME).is_dir() or _writable(base):
        return base / REPORT_DIR_NAME
    tag = hashlib.blake2b(os.fsencode(base), digest_size=4).hexdigest()
    return Path(platformdirs.user_data_dir("xmpcull")) / "reports" / f"{base.name or 'root'}-{tag}"


def _writable(folder: Path) -> bool:
    try:
        return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & 0o222)
    except OSError:
        return False


def _write_reports(result: RunResult, roots: Sequence[Path], options: RunOptions) -> None:
    report_dir = report_dir_for(roots, options.report_dir)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise XmpcullError(f"cannot create the report folder ({exc.strerror}); use --report-dir", [report_dir]) from exc
    result.report_json = report_dir / "report.json"
    result.report_csv = report_dir / "report.csv"
    write_json(result.report_json, _report(result, roots, options.config.bursts.gap_seconds))
    CsvWriter(IMAGE_CSV_COLUMNS).write(result.report_csv, [image_row(o) for o in result.outcomes])
