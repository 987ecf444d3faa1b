"""``xmpcull bursts``: cluster shots into bursts, write the report and the burst section of each sidecar."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from xmpcull.cli.analyze import run_analysis
from xmpcull.cli.common import (
    SettingsRequest,
    analysis_options,
    conclude,
    faces_option,
    no_images_line,
    output_options,
    resolve_cache,
    roots_argument,
    settings_options,
)
from xmpcull.errors import ConfigError, FileFailure
from xmpcull.group.bursts import (
    CSV_COLUMNS,
    DEFAULT_SCENE_SPLIT_THRESHOLD,
    NO_TIME_REASON,
    Burst,
    burst_report,
    cluster_bursts,
    csv_rows,
    offset_key_for,
    parse_clock_offsets,
    parse_duration,
    shots_from_records,
    without_copies,
)
from xmpcull.group.outside import bursts_seen, outside_context
from xmpcull.report.writers import CsvWriter, write_json
from xmpcull.run import burst_fields_by_path
from xmpcull.sidecar import CLEAR, SidecarItem, SidecarUpdate, write_sidecars


def sidecar_items(bursts: Sequence[Burst], inside: set[Path] | None = None) -> list[SidecarItem]:
    """The burst section for every file (of ``inside``, when given: frames outside the roots are
    context only): members get their fields, everything else has stale ones cleared."""
    fields = burst_fields_by_path(bursts)
    items = []
    for burst in bursts:
        for shot in burst.shots:
            files = (shot.path, *shot.companions)
            for path in files:
                if inside is not None and Path(path) not in inside:
                    continue
                companions = tuple(Path(p) for p in files if p != path)
                items.append(SidecarItem(Path(path), SidecarUpdate(burst=fields.get(Path(path), CLEAR)), companions))
    return items


def write_report(path: Path, report: dict[str, Any]) -> None:
    write_json(path, report)


def write_csv(path: Path, report: dict[str, Any]) -> None:
    CsvWriter(CSV_COLUMNS).write(path, csv_rows(report))


def _seconds(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ConfigError as exc:
        raise click.BadParameter(exc.reason) from exc


def _offsets(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> dict[str, float]:
    try:
        return parse_clock_offsets(value)
    except ConfigError as exc:
        raise click.BadParameter(exc.reason) from exc


@click.command()
@roots_argument
@click.option("--gap", default=None, callback=_seconds, help="Largest pause inside a burst: 2s, 500ms, 1.5 [config: bursts.gap_seconds, 2s].")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=Path("bursts.json"), show_default=True, help="JSON report to write.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write a CSV, one row per burst member.")
@click.option("--no-write", is_flag=True, help="Write the reports only; leave sidecars alone.")
@click.option("--time-fallback", type=click.Choice(["mtime"]), default=None, help="Use the file time for files with no capture time.")
@click.option(
    "--clock-offset",
    "clock_offsets",
    multiple=True,
    callback=_offsets,
    metavar="MODEL[#SERIAL]=+HH:MM:SS",
    help="Add this to one camera's times (repeatable), e.g. 'NIKON Z 9=-00:00:07.5'.",
)
@click.option("--split-on-scene-change", is_flag=True, default=None, help="Also split a burst where the picture changes completely [config: bursts.split_on_scene_change].")
@click.option(
    "--scene-threshold",
    type=click.IntRange(0, 64),
    default=None,
    help=f"pHash bits (of 64) that count as a scene change [config: bursts.scene_threshold, {DEFAULT_SCENE_SPLIT_THRESHOLD}].",
)
@settings_options
@analysis_options
@faces_option
@output_options
def bursts(
    roots: tuple[Path, ...],
    gap: float | None,
    report_path: Path,
    csv_path: Path | None,
    no_write: bool,
    time_fallback: str | None,
    clock_offsets: dict[str, float],
    split_on_scene_change: bool | None,
    scene_threshold: int | None,
    settings: SettingsRequest,
    jobs: int | None,
    cache_path: Path | None,
    no_cache: bool,
    faces: bool | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Group frames shot in quick succession by one camera into bursts and pick the best frame of each.

    A new burst starts when the pause since the same camera's previous frame is
    longer than --gap. Sidecars get BurstID, BurstIndex, BurstSize, BurstBest and
    the keyword xmpcull|burst|<id>; nothing is moved.
    """
    config = settings.load(
        roots,
        {
            "bursts.gap_seconds": gap,
            "bursts.split_on_scene_change": split_on_scene_change,
            "bursts.scene_threshold": scene_threshold,
            "analysis.faces": faces,
        },
    )
    gap = config.bursts.gap_seconds
    scene_threshold = config.bursts.scene_threshold
    result = run_analysis(roots, jobs, cache_path, no_cache, as_json, quiet, only=config.scan, faces=config.faces)
    # Frames outside the roots that a burst member names take part as context (group/outside.py).
    context = outside_context(result.ok_records, result.roots, jobs=jobs, cache_path=resolve_cache(cache_path, no_cache),
                              faces=config.faces)
    shots = shots_from_records(without_copies([*result.records, *context]), time_fallback)
    unmatched = [key for key in clock_offsets if not any(offset_key_for(s, {key: 0.0}) for s in shots)]
    if unmatched:
        raise ConfigError("--clock-offset matches no camera: " + ", ".join(repr(k) for k in unmatched))
    found = cluster_bursts(
        shots, gap, clock_offsets, scene_split_threshold=scene_threshold if config.bursts.split_on_scene_change else None
    )
    inside = {r.file.path for r in result.records}
    if context:
        found = bursts_seen(found, inside)
    report = burst_report(found, [str(r) for r in roots], gap)
    report["failures"] = [f.to_dict() for f in result.failures]
    write_report(report_path, report)
    if csv_path is not None:
        write_csv(csv_path, report)
    failures: list[FileFailure] = list(result.failures)
    written = 0
    if not no_write:
        results, sidecar_failures = write_sidecars(sidecar_items(found, inside), config.write_options)
        written = sum(1 for r in results if r.changed)
        failures += sidecar_failures
    summary = {
        "report": str(report_path),
        "csv": str(csv_path) if csv_path else None,
        "bursts": sum(1 for b in found if b.is_burst),
        "frames_in_bursts": sum(b.size for b in found if b.is_burst),
        "single_frames": sum(1 for b in found if not b.is_burst and b.reason != NO_TIME_REASON),
        "no_time": len(report["no_time"]),  # type: ignore[arg-type]
        "sidecars_changed": written,
        "errors": [f.to_dict() for f in failures],
    }
    line = (
        f"{summary['bursts']} bursts ({summary['frames_in_bursts']} frames), {summary['single_frames']} single frames, "
        f"{summary['no_time']} without capture time; report {report_path}"
        + ("" if no_write else f"; {written} sidecars changed")
    )
    if not result.records:
        line = no_images_line(roots, settings)
    conclude(summary, line, failures, as_json)
