"""``xmpcull dupes``: exact and near-duplicate groups, reports, and the dupes section of each sidecar."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from xmpcull.cli.analyze import run_analysis
from xmpcull.cli.common import (
    SettingsRequest,
    analysis_options,
    conclude,
    faces_option,
    keep_option,
    no_images_line,
    output_options,
    resolve_cache,
    roots_argument,
    settings_options,
)
from xmpcull.decide.person import honour_review
from xmpcull.group.dupes import DupeResult, find_duplicates
from xmpcull.group.outside import outside_context, seen_groups
from xmpcull.group.pixels import PixelSource
from xmpcull.models import ImageRecord
from xmpcull.report.dupes import write_dupe_report
from xmpcull.run import dupe_fields_by_path, similar_fields_by_path
from xmpcull.sidecar import CLEAR, SidecarItem, SidecarUpdate, write_sidecars
from xmpcull.sidecar.fields import DecisionFields

_file = click.Path(dir_okay=False, path_type=Path)


def sidecar_items(result: DupeResult, records: Sequence[ImageRecord], label: str | None) -> list[SidecarItem]:
    """Group members get the dupes section (and non-keepers the label), similar-set members the similar
    section; everyone else has stale values cleared."""
    fields_of = dupe_fields_by_path(result)
    similar_of = similar_fields_by_path(result)
    items: dict[Path, SidecarItem] = {}
    inside = {r.file.path for r in records}  # members outside the roots are context only
    for group in result.groups:
        for member in group.members:
            path = member.record.file.path
            if path not in inside:
                continue
            fields = fields_of[path]
            decision = None
            if member.role == "duplicate" and label:
                # The engine never writes a label over one the user set (only over its own LabelSet).
                decision = DecisionFields("duplicate", label=label)
            update = SidecarUpdate(dupes=fields, decision=decision, similar=similar_of.get(path, CLEAR))
            items[path] = SidecarItem(path, update, member.record.file.companions)
    for record in records:
        path = record.file.path
        if path not in items and record.ok:
            # Not in a group (any more): clear old dupes values.
            update = SidecarUpdate(dupes=CLEAR, similar=similar_of.get(path, CLEAR))
            items[path] = SidecarItem(path, update, record.file.companions)
    return list(items.values())


@click.command()
@roots_argument
@click.option("--report", "report_path", type=_file, default=Path("groups.json"), show_default=True, help="JSON report to write.")
@click.option("--csv", "csv_path", type=_file, default=None, help="Also write a CSV, one row per group member (edit it to keep files out of a move).")
@click.option("--threshold", type=click.IntRange(0, 16), default=None, help="pHash bits (of 64) for a near duplicate [config: 10].")
@click.option("--similar-threshold", type=click.IntRange(0, 24), default=None, help="pHash bits for a similar set [config: 18].")
@click.option("--rotation-invariant", is_flag=True, default=None, help="Also match copies turned 90/180 degrees or mirrored in their pixels.")
@click.option(
    "--crop-tolerant/--no-crop-tolerant",
    default=None,
    help="Match copies cropped a little (checked on pixels), whatever the number of images; or never [config: on up to 1,000,000 images].",
)
@click.option("--format", "extra_format", type=click.Choice(["imagededup"]), default=None, help="Also write imagededup's {file: [duplicates]} mapping beside the report.")
@click.option("--label", default=None, help="Colour label for non-keepers (default: the config's duplicate outcome, Red); '' for none.")
@click.option("--no-write", is_flag=True, help="Write the reports only; leave sidecars alone.")
@keep_option
@settings_options
@analysis_options
@faces_option
@output_options
def dupes(
    roots: tuple[Path, ...],
    report_path: Path,
    csv_path: Path | None,
    threshold: int | None,
    similar_threshold: int | None,
    rotation_invariant: bool | None,
    crop_tolerant: bool | None,
    extra_format: str | None,
    label: str | None,
    no_write: bool,
    keep: str | None,
    settings: SettingsRequest,
    jobs: int | None,
    cache_path: Path | None,
    no_cache: bool,
    faces: bool | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Find exact and near-duplicate pictures under ROOTS and pick a keeper in each group.

    Near duplicates survive resizing, recompression, format changes, EXIF
    stripping, small crops and light edits. Nothing is moved: see `xmpcull move`.
    Sidecars get DupGroup, DupRole, DupDistance, KeeperReason, the keyword
    xmpcull|dupes|<id> and, on non-keepers, a colour label (never over yours).
    """
    config = settings.load(
        roots,
        {
            "dupes.threshold": threshold,
            "dupes.similar_threshold": similar_threshold,
            "dupes.rotation_invariant": rotation_invariant,
            "dupes.crop_tolerant": crop_tolerant,
            # Asked for by name: no size limit for this run.
            "dupes.crop_search_max_images": 0 if crop_tolerant else None,
            "analysis.faces": faces,
        },
    )
    chosen = config.dupes.with_keep(keep)  # an unknown preset stops before any work
    analysis = run_analysis(roots, jobs, cache_path, no_cache, as_json, quiet, only=config.scan, faces=config.faces)
    crop_search = chosen.crop_search_for(len(analysis.records))
    # Members of known groups and similar sets outside the roots take part as context (group/outside.py).
    context = outside_context(analysis.ok_records, analysis.roots, jobs=jobs, cache_path=resolve_cache(cache_path, no_cache),
                              faces=config.faces)
    result = find_duplicates(
        [*analysis.records, *context], chosen.threshold, chosen.similar_threshold, chosen.rotation_invariant,
        dhash_threshold=chosen.dhash_threshold, keeper_chain=chosen.keeper_chain,
        crop_tolerant=crop_search, verify_scenes=chosen.verify_scenes,
        pixels=PixelSource(cache_path=resolve_cache(cache_path, no_cache)) if crop_search or chosen.verify_scenes else None,
        jobs=jobs,
    )
    if context:
        result = seen_groups(result, {r.file.path for r in analysis.records})
    result = honour_review(result, config.write_options.naming)
    idd_path = report_path.with_name(report_path.stem + ".imagededup.json") if extra_format == "imagededup" else None
    write_dupe_report(result, analysis.roots, report_path, csv_path, idd_path, analysis.records)
    failures = list(analysis.failures)
    written = 0
    warnings: list[str] = []
    if not no_write:
        wanted = config.policy.label_for("duplicate") if label is None else (label.strip() or None)
        results, sidecar_failures = write_sidecars(sidecar_items(result, analysis.records, wanted), config.write_options)
        failures += sidecar_failures
        written = sum(1 for r in results if r.changed)
        warnings = [f"{r.path}: {w}" for r in results for w in r.warnings]
    summary = {
        "roots": [str(r) for r in analysis.roots],
        "images": len(analysis.records),
        "groups": len(result.groups),
        "exact_groups": sum(1 for g in result.groups if g.kind == "exact"),
        "duplicates": sum(len(g.members) - 1 for g in result.groups),
        "similar_sets": len(result.similar_sets),
        "crop_search": crop_search,
        "report": str(report_path),
        "csv": str(csv_path) if csv_path else None,
        "imagededup": str(idd_path) if idd_path else None,
        "sidecars_written": written,
        "sidecar_warnings": warnings,
        "errors": [f.to_dict() for f in failures],
    }
    lines = [
        f"{summary['images']} images: {summary['groups']} duplicate groups ({summary['exact_groups']} exact), "
        f"{summary['duplicates']} non-keepers, {summary['similar_sets']} similar sets; report {report_path}"
    ]
    if not analysis.records:
        lines = [no_images_line(roots, settings)]
    lines.extend(f"note: {w}" for w in warnings[:20])
    if chosen.crop_tolerant and not summary["crop_search"]:
        lines.append(
            f"crop search skipped: more than {chosen.crop_search_max_images:,} images "
            "(dupes.crop_search_max_images); --crop-tolerant runs it anyway"
        )
    conclude(summary, lines, failures, as_json)
