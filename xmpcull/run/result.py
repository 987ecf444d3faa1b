"""What a run is given and what it gives back: its options, each shot's outcome, the result and its summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xmpcull.analyse.pipeline import AnalysisResult
from xmpcull.config import Config
from xmpcull.crop.stage import CropOutcome
from xmpcull.decide.policy import Decision, flagged_counts, hand_touch_share
from xmpcull.decide.quality import QualityScores
from xmpcull.errors import FileFailure, ReportError, XmpcullError, split_read_only
from xmpcull.group.bursts import Burst
from xmpcull.group.dupes import DupeResult
from xmpcull.group.generations import GenerationLinks
from xmpcull.group.semantic import SemanticResult
from xmpcull.models import ImageRecord
from xmpcull.sidecar import BurstFields, DupeFields, GenerationFields, SimilarFields, WriteOptions, WriteResult


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
            "faces": self.analysis.faces,  # False: faces and eyes not looked for ([analysis] faces = false)
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


class ReportNotWritten(ReportError):
    """The run went through, but its report could not be written; ``result`` says what the run did."""

    def __init__(self, cause: XmpcullError, result: RunResult) -> None:
        super().__init__(cause.reason, cause.paths)
        self.result = result

