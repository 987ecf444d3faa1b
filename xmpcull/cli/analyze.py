"""``xmpcull analyze`` and ``xmpcull show``: fill the cache, look at one image."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from xmpcull.analyse.pipeline import AnalysisResult, analyse_roots
from xmpcull.cli.common import (
    SettingsRequest,
    analysis_options,
    cluster_option,
    conclude,
    config_option,
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
from xmpcull.cluster import ClusterSettings
from xmpcull.errors import FileFailure, XmpcullError
from xmpcull.models import ImageRecord
from xmpcull.report.reading import decision_from_report, find_run_report
from xmpcull.scan.filter import ScanFilter

if TYPE_CHECKING:
    from xmpcull.sidecar.fields import Naming


def run_analysis(
    roots: tuple[Path, ...],
    jobs: int | None,
    cache_path: Path | None,
    no_cache: bool,
    as_json: bool,
    quiet: bool,
    cluster: ClusterSettings | None = None,
    only: ScanFilter = ScanFilter(),
    summary_only: bool = False,
    faces: bool = True,
) -> AnalysisResult:
    """The analysis step every command starts with."""
    return analyse_roots(
        roots,
        jobs=jobs,
        cache_path=resolve_cache(cache_path, no_cache),
        progress=make_progress(as_json, quiet),
        cluster=cluster,
        only=only,
        summary_only=summary_only,
        faces=faces,
    )


FACES_OFF = "faces not looked for ([analysis] faces = false)"


def analysis_summary(result: AnalysisResult) -> dict[str, Any]:
    return {
        "roots": [str(r) for r in result.roots],
        "images": len(result.records),
        "analysed": result.analysed,
        "by_format": result.counts_by_format(),
        "cache_hits": result.cache_hits,
        "faces": result.faces,
        "skipped_links": result.skipped_links,
        "seconds": round(result.elapsed, 3),
        "errors": [f.to_dict() for f in result.failures],
    }


@click.command()
@roots_argument
@settings_options
@analysis_options
@faces_option
@cluster_option
@output_options
def analyze(
    roots: tuple[Path, ...],
    settings: SettingsRequest,
    jobs: int | None,
    cache_path: Path | None,
    no_cache: bool,
    faces: bool | None,
    cluster: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Scan and analyse ROOTS, fill the cache and print a summary."""
    config = settings.load(roots, {"cluster.address": cluster, "analysis.faces": faces})
    result = run_analysis(roots, jobs, cache_path, no_cache, as_json, quiet, config.cluster, only=config.scan,
                          summary_only=True, faces=config.faces)
    summary = analysis_summary(result)
    formats = ", ".join(f"{n} {fmt}" for fmt, n in summary["by_format"].items()) or "none"
    line = (
        f"{summary['images']} images ({formats}); {summary['analysed']} analysed, "
        f"{len(result.failures)} failed, {summary['cache_hits']} from cache, in {summary['seconds']:.2f} s"
    )
    if not result.faces:
        line += f"; {FACES_OFF}"
    if not result.records:
        line = no_images_line(roots, settings)
    conclude(summary, line, result.failures, as_json)


def record_as_dict(record: ImageRecord) -> dict[str, Any]:
    meta = dataclasses.asdict(record.metadata)
    if record.metadata.capture_time is not None:
        meta["capture_time"] = {
            "iso": record.metadata.capture_time.isoformat(),
            "source": record.metadata.capture_time.source,
        }
    meta["camera_body"] = record.metadata.camera_body
    features: dict[str, Any] | None = None
    if record.features is not None:
        features = dataclasses.asdict(record.features)
        features["phash"] = f"{record.features.phash:016x}"
        features["dhash"] = f"{record.features.dhash:016x}"
        for name in ("phash_variants", "window_phashes"):
            # 64-bit hashes as hex: JSON readers lose precision above 2**53.
            features[name] = [f"{v:016x}" for v in getattr(record.features, name)]
    return {
        "path": str(record.file.path),
        "format": record.file.format,
        "bytes": record.file.size,
        "companions": [str(c) for c in record.file.companions],
        "metadata": meta,
        "features": features,
        "error": record.error,
    }


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
@analysis_options
@faces_option
@output_options
def show(
    file: Path, config_path: Path | None, jobs: int | None, cache_path: Path | None, no_cache: bool,
    faces: bool | None, as_json: bool, quiet: bool,
) -> None:
    """Everything known about one image: its decision, metadata, features and sidecar fields.

    The decision, its reason and the group's keeper come from the sidecar and the
    nearest run report (.xmpcull/report.json in the image's folder or a parent).
    Exit code 0 when the image was analysed, 1 when it is not an image xmpcull
    handles or could not be read (the reason is printed), 2 for a missing FILE.
    """
    file = Path(os.path.abspath(file))
    config = SettingsRequest(config_path).load((file,), {"analysis.faces": faces})
    result = run_analysis((file,), 1, cache_path, no_cache, True, True, faces=config.faces)
    failures = list(result.failures)
    if result.records:
        info = record_as_dict(result.records[0])
        companions = result.records[0].file.companions
    else:
        reason = "not an image type xmpcull handles"
        info = {"path": str(file), "error": reason}
        companions = ()
        failures.append(FileFailure(str(file), "scan", reason))
    sidecar = sidecar_info(file, companions, config.write_options.naming)
    info = {"path": info["path"], "decision": decision_info(file, sidecar), **info, "sidecar": sidecar}
    if as_json:
        emit_json(info)
    else:
        _print_tree(info)
        print_failures(failures)  # on stderr, like every command: the reason and the exit code 1 agree
    finish(failures)


def decision_info(file: Path, sidecar: dict[str, Any] | None) -> dict[str, Any] | None:
    """The decision about ``file``: from the run report that covered it, else from its sidecar."""
    report = find_run_report(file)
    found = decision_from_report(report, file) if report is not None else None
    if found is not None:
        return found
    if not sidecar or "error" in sidecar:
        return None
    decision, dupes = sidecar.get("decision") or {}, sidecar.get("dupes") or {}
    if not decision and not dupes:
        return None
    return {
        "report": None,
        "decision": decision.get("decision"),
        "reason": dupes.get("keeper_reason"),
        "review_reasons": list(decision.get("review_reasons", [])),
        "dupe_group": dupes.get("group"),
        "keeper": None,  # the sidecar names the group, not its keeper: run `xmpcull run` for a report
        "keeper_reason": dupes.get("keeper_reason"),
    }


def sidecar_info(file: Path, companions: tuple[Path, ...] = (), naming: Naming = "adobe") -> dict[str, Any] | None:
    """What the image's sidecar (or embedded XMP) says, our fields included; None when there is none."""
    from xmpcull.sidecar import read_sidecar  # the XMP toolkit: only `show` needs it here

    try:
        state = read_sidecar(file, companions, naming)
    except XmpcullError as exc:
        return {"error": str(exc)}
    if state.source == "none":
        return None
    return dataclasses.asdict(state)


def _print_tree(value: Any, indent: int = 0) -> None:
    pad = "  " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list, tuple)) and item:
                click.echo(f"{pad}{key}:")
                _print_tree(item, indent + 1)
            else:
                click.echo(f"{pad}{key}: {item if item not in (None, [], {}, ()) else '-'}")
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, (dict, list, tuple)):
                _print_tree(item, indent + 1)
            else:
                click.echo(f"{pad}- {item}")
    else:
        click.echo(f"{pad}{value}")
