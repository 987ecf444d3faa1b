"""``xmpcull run``: the whole pipeline in one command (nothing is moved)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from xmpcull.cli.analyze import FACES_OFF
from xmpcull.cli.common import (
    SettingsRequest,
    analysis_options,
    cluster_option,
    conclude,
    faces_option,
    keep_option,
    make_progress,
    no_images_line,
    output_options,
    resolve_cache,
    roots_argument,
    settings_options,
)
from xmpcull.decide.policy import REVIEW_WHY
from xmpcull.run import ReportNotWritten, RunOptions, run_pipeline


@click.command("run")
@roots_argument
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), help="Where report.json/report.csv go (default: FIRST_ROOT/.xmpcull).")
@click.option("--no-write", is_flag=True, help="Write no sidecars (reports only).")
@click.option("--dry-run", is_flag=True, help="Show what would change in the sidecars, write none (reports are written).")
@click.option("--overwrite-ratings", is_flag=True, default=None, help="Replace ratings the user set.")
@click.option("--overwrite-labels", is_flag=True, default=None, help="Replace colour labels the user set.")
@click.option("--overwrite-crops", is_flag=True, default=None, help="Replace crops the user set.")
@click.option("--naming", type=click.Choice(["adobe", "darktable"]), default=None, help="Sidecar names: IMG.xmp (adobe) or IMG.CR2.xmp (darktable).")
@click.option("--embed", is_flag=True, help="Write into JPEG/TIFF/DNG files themselves through exiftool (a backup is kept).")
@click.option("--embed-over-c2pa", is_flag=True, help="With --embed, embed also into files with a C2PA manifest (this breaks its signature).")
@click.option("--caption-from-prompt", is_flag=True, help="Fill an empty caption (dc:description) of AI images with their prompt.")
@click.option("--face-regions/--no-face-regions", default=None,
              help="Write the faces found as MWG face regions where a file has none of its own ([sidecar] face_regions).")
@click.option("--aspect", "aspects", multiple=True, help="Crop aspect to propose (repeatable), e.g. 4:5; replaces [crops] aspects.")
@click.option("--apply-crops/--no-apply-crops", default=None, help="Write confident proposals of the first aspect as the Camera Raw crop.")
@keep_option
@settings_options
@click.option("--follow-links", is_flag=True,
              help="Also analyse what symbolic links leading outside the roots point to, and write sidecars there.")
@analysis_options
@faces_option
@cluster_option
@output_options
def run(
    roots: tuple[Path, ...],
    report_dir: Path | None,
    no_write: bool,
    dry_run: bool,
    overwrite_ratings: bool | None,
    overwrite_labels: bool | None,
    overwrite_crops: bool | None,
    naming: str | None,
    embed: bool,
    embed_over_c2pa: bool,
    caption_from_prompt: bool,
    face_regions: bool | None,
    aspects: tuple[str, ...],
    apply_crops: bool | None,
    keep: str | None,
    settings: SettingsRequest,
    follow_links: bool,
    jobs: int | None,
    cache_path: Path | None,
    no_cache: bool,
    faces: bool | None,
    cluster: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Analyse ROOTS, find duplicates and bursts, propose crops, score quality,
    decide ratings and labels, write sidecars and a report. Nothing is moved.

    The report goes to FIRST_ROOT/.xmpcull/report.json and report.csv; it can be
    handed to `xmpcull move --report` later.
    """
    config = settings.load(
        roots,
        {
            "sidecar.overwrite_ratings": overwrite_ratings,
            "sidecar.overwrite_labels": overwrite_labels,
            "sidecar.overwrite_crops": overwrite_crops,
            "sidecar.naming": naming,
            "sidecar.face_regions": face_regions,
            "crops.aspects": list(aspects) if aspects else None,
            "crops.apply": apply_crops,
            "cluster.address": cluster,
            "analysis.faces": faces,
        },
    )
    config = replace(config, dupes=config.dupes.with_keep(keep))
    write_options = replace(
        config.write_options,
        dry_run=dry_run,
        embed=embed,
        embed_over_c2pa=embed_over_c2pa,
        caption_from_prompt=caption_from_prompt or config.write_options.caption_from_prompt,
    )
    options = RunOptions(
        config=config,
        write_options=write_options,
        write_sidecars=not no_write,
        report_dir=report_dir,
        jobs=jobs,
        cache_path=resolve_cache(cache_path, no_cache),
        follow_links=follow_links,
    )
    fatal: ReportNotWritten | None = None
    try:
        result = run_pipeline(roots, options, make_progress(as_json, quiet))
    except ReportNotWritten as exc:  # still say what was written and what was not
        result, fatal = exc.result, exc
    summary = result.summary()
    if fatal is not None:
        summary["report_error"] = str(fatal)
    if dry_run:
        summary["would_change"] = [
            {"path": r.path, "changes": list(r.changes)} for r in result.sidecar_results if r.changes
        ]
    lines = [] if as_json else _summary_lines(summary, dry_run)
    if not result.analysis.records:
        lines.insert(0, no_images_line(roots, settings))
    summary["errors"] = [f.to_dict() for f in result.failures]
    conclude(summary, lines, result.failures, as_json, fatal)


def _flagged_lines(summary: dict[str, Any]) -> list[str]:
    """The hand-touch share, what was flagged and why, and what was deliberately not."""
    review = summary["decisions"].get("needs-review", 0)
    lines = [f"needs a person's look: {summary['hand_touch_share']:.1%} of shots ({review})"]
    for code, count in summary["flagged"].items():
        lines.append(f"  {count} {code}: {REVIEW_WHY.get(code, code)}")
    weak = summary["weak_crops_not_applied"]
    if weak:
        lines.append(f"  not flagged: {weak} low-confidence crop proposals (crops are only proposed: [crops] apply is off)")
    return lines


def _semantic_line(semantic: dict[str, Any] | str | None) -> str:
    if isinstance(semantic, dict):
        return (f"semantic tier: {semantic['model']}, {semantic['pairs']} candidate pairs "
                f"({semantic['encoded']} pictures encoded, the rest from the cache)")
    return semantic or "semantic tier off"


def _summary_lines(summary: dict[str, Any], dry_run: bool) -> list[str]:
    decisions = ", ".join(f"{n} {d}" for d, n in summary["decisions"].items()) or "none"
    lines = [
        f"{summary['images']} images, {summary['analysed']} analysed, {summary['errors']} errors, in {summary['seconds']:.1f} s"
        + " (" + ", ".join(f"{k} {v:.1f}" for k, v in summary["seconds_by_stage"].items()) + ")",
        f"duplicates: {summary['duplicate_groups']} groups ({summary['duplicates']} non-keepers); similar sets: {summary['similar_sets']}"
        + ("" if summary["crop_search"] else " (small crops not sought: see [dupes] crop_tolerant, crop_search_max_images)"),
        _semantic_line(summary.get("semantic")),
        f"bursts: {summary['bursts']} ({summary['frames_in_bursts']} frames)",
        f"AI images: {summary['generated_images']} with a generator record; batches: {summary['generation_batches']}",
        f"crops: {summary['crops_proposed']} proposed, {summary['crops_applied']} applied",
        *([] if summary["faces"] else [FACES_OFF]),
        f"decisions: {decisions}",
        *_flagged_lines(summary),
    ]
    if dry_run:
        lines.append(f"dry run: {len(summary.get('would_change', []))} sidecars would change")
        for item in summary.get("would_change", [])[:20]:
            lines.append(f"  {item['path']}")
            lines.extend(f"    {c}" for c in item["changes"][:12])
    else:
        lines.append(f"sidecars changed: {summary['sidecars_changed']}")
    if summary["outside_links"]:
        lines.append(f"{len(summary['outside_links'])} symbolic link(s) lead outside the roots, not followed"
                     " (--follow-links analyses them): " + ", ".join(summary["outside_links"][:3])
                     + (" ..." if len(summary["outside_links"]) > 3 else ""))
    if summary["temp_files_removed"]:
        lines.append(f"{summary['temp_files_removed']} temporary file(s) an interrupted run left were removed")
    if summary["swap_files_kept"]:
        lines.append(f"{len(summary['swap_files_kept'])} file(s) an interrupted sidecar swap left were kept (they may"
                     " hold another program's save; compare with the sidecar beside them, then delete):")
        lines.extend(f"  {p}" for p in summary["swap_files_kept"][:20])
    warnings = summary["sidecar_warnings"]
    if warnings:
        lines.append(f"{len(warnings)} sidecar(s) written with something left out:")
        lines.extend(f"  {w}" for w in warnings[:20])
    lines.append(f"report: {summary['report'] or 'NOT written (' + summary.get('report_error', '') + ')'}")
    return lines
