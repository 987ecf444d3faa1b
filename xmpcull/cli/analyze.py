"""``xmpcull analyze`` and ``xmpcull show``: fill the cache, look at one image."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import click

from xmpcull.analyse.pipeline import AnalysisResult, analyse_roots
from xmpcull.cli.common import (
    analysis_options,
    cluster_option,
    conclude,
    emit_json,
    finish,
    make_progress,
    output_options,
    resolve_cache,
    roots_argument,
)
from xmpcull.cluster import ClusterSettings
from xmpcull.config import load_config
from xmpcull.errors import XmpcullError
from xmpcull.models import ImageRecord
from xmpcull.sidecar import read_sidecar


def run_analysis(
    roots: tuple[Path, ...],
    jobs: int | None,
    cache_path: Path | None,
    no_cache: bool,
    as_json: bool,
    quiet: bool,
    cluster: ClusterSettings | None = None,
) -> AnalysisResult:
    """The analysis step every command starts with."""
    return analyse_roots(
        roots,
        jobs=jobs,
        cache_path=resolve_cache(cache_path, no_cache),
        progress=make_progress(as_json, quiet),
        cluster=cluster,
    )


def analysis_summary(result: AnalysisResult) -> dict[str, Any]:
    return {
        "roots": [str(r) for r in result.roots],
        "images": len(result.records),
        "analysed": len(result.ok_records),
        "by_format": result.counts_by_format(),
        "cache_hits": result.cache_hits,
        "skipped_links": result.skipped_links,
        "seconds": round(result.elapsed, 3),
        "errors": [f.to_dict() for f in result.failures],
    }


@click.command()
@roots_argument
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Your TOML config (only [cluster] matters here).")
@analysis_options
@cluster_option
@output_options
def analyze(
    roots: tuple[Path, ...],
    config_path: Path | None,
    jobs: int | None,
    cache_path: Path | None,
    no_cache: bool,
    cluster: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Scan and analyse ROOTS, fill the cache and print a summary."""
    settings = load_config(config_path, {"cluster.address": cluster}).cluster
    result = run_analysis(roots, jobs, cache_path, no_cache, as_json, quiet, settings)
    summary = analysis_summary(result)
    formats = ", ".join(f"{n} {fmt}" for fmt, n in summary["by_format"].items()) or "none"
    line = (
        f"{summary['images']} images ({formats}); {summary['analysed']} analysed, "
        f"{len(result.failures)} failed, {summary['cache_hits']} from cache, in {summary['seconds']:.2f} s"
    )
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
@analysis_options
@output_options
def show(file: Path, jobs: int | None, cache_path: Path | None, no_cache: bool, as_json: bool, quiet: bool) -> None:
    """Everything known about one image: metadata, features and xmpcull's sidecar fields."""
    file = Path(os.path.abspath(file))
    result = run_analysis((file,), 1, cache_path, no_cache, True, True)
    info = record_as_dict(result.records[0]) if result.records else {"path": str(file), "error": "not an image type xmpcull handles"}
    companions = result.records[0].file.companions if result.records else ()
    info["sidecar"] = sidecar_info(file, companions)
    if as_json:
        emit_json(info)
    else:
        _print_tree(info)
    finish(result.failures)


def sidecar_info(file: Path, companions: tuple[Path, ...] = ()) -> dict[str, Any] | None:
    """What the image's sidecar (or embedded XMP) says, our fields included; None when there is none."""
    try:
        state = read_sidecar(file, companions)
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
