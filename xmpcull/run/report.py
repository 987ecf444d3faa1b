"""The run's report: report.json (the duplicate report's shape plus every image) and report.csv."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import platformdirs

from xmpcull import __version__
from xmpcull.analyse.faces.summary import FaceSummary
from xmpcull.errors import XmpcullError
from xmpcull.group.bursts import burst_report
from xmpcull.group.generations import GenerationLinks
from xmpcull.report.dupes import dupe_report
from xmpcull.report.writers import CsvWriter, write_json
from xmpcull.run.result import ImageOutcome, RunOptions, RunResult
from xmpcull.sidecar import GenerationFields

REPORT_VERSION = 1
REPORT_DIR_NAME = ".xmpcull"
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


def write_reports(result: RunResult, roots: Sequence[Path], options: RunOptions) -> None:
    report_dir = report_dir_for(roots, options.report_dir)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise XmpcullError(f"cannot create the report folder ({exc.strerror}); use --report-dir", [report_dir]) from exc
    result.report_json = report_dir / "report.json"
    result.report_csv = report_dir / "report.csv"
    write_json(result.report_json, _report(result, roots, options.config.bursts.gap_seconds))
    CsvWriter(IMAGE_CSV_COLUMNS).write(result.report_csv, [image_row(o) for o in result.outcomes])
