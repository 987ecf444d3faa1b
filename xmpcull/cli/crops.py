"""``xmpcull crops``: propose crops per aspect, write them into sidecars, report every proposal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from xmpcull.cli.analyze import run_analysis
from xmpcull.cli.common import (
    SettingsRequest,
    analysis_options,
    emit_json,
    faces_option,
    finish,
    make_progress,
    no_images_line,
    output_options,
    print_failures,
    resolve_cache,
    roots_argument,
    settings_options,
)
from xmpcull.crop.geometry import parse_aspect
from xmpcull.crop.stage import USER_CROP_KEPT, CropOutcome, crop_fields, propose_for_records, settle
from xmpcull.errors import ConfigError, FileFailure
from xmpcull.models import ImageRecord
from xmpcull.report.writers import write_json
from xmpcull.run import follows_a_raw
from xmpcull.sidecar import SidecarItem, SidecarUpdate, WriteOptions, WriteResult, write_each
from xmpcull.sidecar.fields import round_real

REPORT_VERSION = 1


def _aspects(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return tuple(dict.fromkeys(str(parse_aspect(v)) for v in value))
    except ConfigError as exc:
        raise click.BadParameter(exc.reason) from exc


def _apply_aspect(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(parse_aspect(value))
    except ConfigError as exc:
        raise click.BadParameter(exc.reason) from exc


def writers(records: Sequence[ImageRecord], outcomes: Sequence[CropOutcome]) -> list[int]:
    """Indices of the outcomes that write a sidecar: one per RAW+JPEG pair (the RAW's when it worked)."""
    ok_raws = {r.file.path for r, o in zip(records, outcomes) if o.ok and r.file.is_raw}
    chosen = []
    for i, (record, outcome) in enumerate(zip(records, outcomes)):
        if crop_fields(outcome) is None:
            continue
        if follows_a_raw(record, ok_raws):
            continue  # the pair's sidecar is the RAW's; the RAW's own proposals go there
        chosen.append(i)
    return chosen


def write_crop_sidecars(
    records: Sequence[ImageRecord], outcomes: Sequence[CropOutcome], options: WriteOptions
) -> tuple[dict[int, WriteResult], list[FileFailure]]:
    """Write the crop section for every successful outcome; results by outcome index."""
    chosen = writers(records, outcomes)
    items = [
        SidecarItem(records[i].file.path, SidecarUpdate(crop=crop_fields(outcomes[i])), records[i].file.companions)
        for i in chosen
    ]
    by_index: dict[int, WriteResult] = {}
    failures: list[FileFailure] = []
    for i, outcome in zip(chosen, write_each(items, options)):
        if isinstance(outcome, WriteResult):
            by_index[i] = outcome
        else:
            failures.append(outcome)
    return by_index, failures


def file_entry(outcome: CropOutcome, result: WriteResult | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": str(outcome.path)}
    if not outcome.ok:
        entry["error"] = outcome.error
        return entry
    proposals = []
    for p in outcome.proposals:
        item = p.to_dict()
        item["crs"] = {k: round_real(v) for k, v in item["crs"].items()}  # type: ignore[union-attr]
        proposals.append(item)
    entry.update(
        {
            "orientation": outcome.orientation,
            "display_size": list(outcome.display_size or ()),
            "faces": [f.to_list() for f in outcome.faces],
            "proposals": proposals,
            "applied": outcome.applied.aspect if outcome.applied else None,
            "sidecar": result.path if result else None,
            "sidecar_changed": result.changed if result else False,
            "kept_user_values": list(result.kept_user_values) if result else [],
            "preview": str(outcome.preview) if outcome.preview else None,
        }
    )
    if result and result.changes:
        entry["changes"] = list(result.changes)
    return entry


@click.command()
@roots_argument
@click.option("--aspect", "aspects", multiple=True, default=("4:5",), show_default=True, callback=_aspects,
              help="Aspect ratio to propose, width:height (repeatable: --aspect 4:5 --aspect 16:9).")
@click.option("--apply-aspect", callback=_apply_aspect, default=None,
              help="The aspect whose proposal may become the applied crs crop (default: the first --aspect).")
@click.option("--apply-threshold", type=click.FloatRange(0.0, 1.0), default=0.8, show_default=True,
              help="Apply a proposal only at or above this confidence.")
@click.option("--overwrite-crops", is_flag=True, help="Replace a crop the user already has.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the JSON report (every proposal of every file) here.")
@click.option("--preview", "preview_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write one small JPEG per image with the proposals drawn on it into this folder.")
@click.option("--no-write", is_flag=True, help="Touch no sidecar; only the report and previews.")
@click.option("--dry-run", is_flag=True, help="Compute the sidecar changes and report them, write nothing.")
@settings_options
@analysis_options
@faces_option
@output_options
def crops(
    roots: tuple[Path, ...],
    aspects: tuple[str, ...],
    apply_aspect: str | None,
    apply_threshold: float,
    overwrite_crops: bool,
    report_path: Path | None,
    preview_dir: Path | None,
    no_write: bool,
    dry_run: bool,
    settings: SettingsRequest,
    jobs: int | None,
    cache_path: Path | None,
    no_cache: bool,
    faces: bool | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Propose a crop per --aspect for every image under ROOTS and write them into the sidecars.

    Every proposal goes into the sidecar's xmpcull crop section; the proposal for
    --apply-aspect also becomes the Camera Raw crop (crs:Crop*) when its confidence
    reaches --apply-threshold, unless the image already has the user's own crop.
    """
    apply = apply_aspect or aspects[0]
    if apply not in aspects:
        raise click.BadParameter(f"{apply} is not one of the --aspect values ({', '.join(aspects)})", param_hint="--apply-aspect")
    config = settings.load(roots, {"sidecar.overwrite_crops": overwrite_crops or None, "analysis.faces": faces})
    analysis = run_analysis(roots, jobs, cache_path, no_cache, as_json, quiet, only=config.scan, faces=config.faces)
    records = analysis.records
    outcomes = propose_for_records(
        records, aspects, apply_aspect=apply, apply_threshold=apply_threshold, jobs=jobs,
        progress=make_progress(as_json, quiet), preview_dir=preview_dir,
        cache_path=resolve_cache(cache_path, no_cache),
        faces=config.faces,
    )
    failures = list(analysis.failures)
    analysed = {f.path for f in failures}
    failures += [FileFailure(str(o.path), "crop", o.error or "") for o in outcomes if not o.ok and str(o.path) not in analysed]
    results: dict[int, WriteResult] = {}
    if not no_write:
        results, write_failures = write_crop_sidecars(records, outcomes, replace(config.write_options, dry_run=dry_run))
        failures += write_failures
    settled = [settle(o, results.get(i), not no_write) for i, o in enumerate(outcomes)]
    report = {
        "version": REPORT_VERSION,
        "command": "crops",
        "roots": [str(r) for r in analysis.roots],
        "aspects": list(aspects),
        "apply_aspect": apply,
        "apply_threshold": apply_threshold,
        "overwrite_crops": config.write_options.overwrite_crops,
        "write": not no_write,
        "dry_run": dry_run,
        "files": [file_entry(o, results.get(i)) for i, o in enumerate(settled)],
        "summary": summary(settled, results),
        "errors": [f.to_dict() for f in failures],
    }
    if report_path is not None:
        write_json(report_path, report)
    if as_json:
        emit_json(report)
    else:
        s = report["summary"]
        if not records:
            click.echo(no_images_line(roots, settings))
        verb = "would change" if dry_run else "changed"
        click.echo(
            f"{s['images']} images, {s['proposed']} with proposals, {s['applied']} crops applied, "
            f"{s['user_crops_kept']} user crops kept; sidecars {verb}: {s['sidecars_changed']}"
            + (" (no sidecars written)" if no_write else "")
        )
        print_failures(failures)
    finish(failures)


def summary(outcomes: Sequence[CropOutcome], results: dict[int, WriteResult]) -> dict[str, int]:
    return {
        "images": len(outcomes),
        "proposed": sum(1 for o in outcomes if o.ok),
        "applied": sum(1 for o in outcomes if o.applied is not None),
        "user_crops_kept": sum(
            1 for o in outcomes if any(p.not_applied_reason == USER_CROP_KEPT for p in o.proposals)
        ),
        "sidecars_changed": sum(1 for r in results.values() if r.changed),
        "failed": sum(1 for o in outcomes if not o.ok),
    }
