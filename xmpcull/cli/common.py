"""What every command shares: root arguments, common options, progress, output, exit codes."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from xmpcull.analyse.cache import default_cache_path
from xmpcull.config import Config, load_config
from xmpcull.errors import (
    READ_ONLY_HINT,
    READ_ONLY_STAGE,
    ExitCode,
    FileFailure,
    XmpcullError,
    read_only_line,
    split_read_only,
)
from xmpcull.progress import NullProgress, Progress

log = logging.getLogger("xmpcull")


def roots_argument(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.argument(
        "roots", nargs=-1, required=True, type=click.Path(exists=True, file_okay=True, path_type=Path)
    )(func)


@dataclass(frozen=True)
class SettingsRequest:
    """What the user asked for on the command line about settings: --config and the scan filters."""

    config_path: Path | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()

    def load(self, roots: Sequence[Path], overrides: Mapping[str, Any] | None = None) -> Config:
        """Defaults, the user's and the root's config files, --config, then these flags and ``overrides``."""
        flags: dict[str, Any] = {
            "scan.include": list(self.include) or None,
            "scan.exclude": list(self.exclude) or None,
            "scan.extensions": [e for item in self.extensions for e in item.split(",") if e.strip()] or None,
        }
        return load_config(self.config_path, {**flags, **(overrides or {})}, roots=roots, lookup=True)


def config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="Your TOML file, merged over ~/.config/xmpcull/config.toml and ROOT/.xmpcull/config.toml.",
    )(func)


def settings_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--config, --include, --exclude, --ext, handed to the command as one ``settings: SettingsRequest``.

    Every command that reads settings or scans folders takes these (docs/cli.md, Common options).
    """

    @functools.wraps(func)
    def command(
        *args: Any, config_path: Path | None, include: tuple[str, ...], exclude: tuple[str, ...],
        extensions: tuple[str, ...], **kwargs: Any,
    ) -> Any:
        return func(*args, settings=SettingsRequest(config_path, include, exclude, extensions), **kwargs)

    decorators = [
        config_option,
        click.option("--include", multiple=True, metavar="GLOB",
                     help="Only files matching (repeatable): 'IMG_*', '2024-*/raw/*' [config: scan.include]."),
        click.option("--exclude", multiple=True, metavar="GLOB",
                     help="Leave out files matching (repeatable): '*-Edit.*', 'exports/*' [config: scan.exclude]."),
        click.option("--ext", "extensions", multiple=True, metavar="EXT",
                     help="Only these extensions (repeatable or comma-separated): --ext cr2,jpg [config: scan.extensions]."),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def no_images_line(roots: Sequence[Path], settings: SettingsRequest | None = None) -> str:
    """What to say when a scan found nothing (an empty folder, or filters that left nothing)."""
    where = ", ".join(str(r) for r in roots)
    filtered = settings is not None and bool(settings.include or settings.exclude or settings.extensions)
    return f"no images found under {where}" + (" (after --include/--exclude/--ext)" if filtered else "")


def analysis_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--jobs, --cache, --no-cache: how analysis runs."""
    decorators = [
        click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes (default: all cores)."),
        click.option(
            "--cache",
            "cache_path",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help=f"SQLite cache file (default: {default_cache_path()}).",
        ),
        click.option("--no-cache", is_flag=True, help="Analyse everything again and keep nothing."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def faces_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--faces/--no-faces: look for faces and eyes ([analysis] faces in the config)."""
    return click.option(
        "--faces/--no-faces",
        "faces",
        default=None,
        help="Look for faces and eyes, or not (a library without people) [config: analysis.faces].",
    )(func)


def keep_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--keep PRESET: which copy of a duplicate group to keep, by a named keeper chain."""
    return click.option(
        "--keep",
        "keep",
        metavar="PRESET",
        default=None,
        help="Which copy to keep: original (default: camera original or an edit of equal quality), "
        "largest, newest, edited; chains in [dupes.keeper_presets].",
    )(func)


def cluster_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--cluster ADDRESS: analyse on a Dask cluster ([cluster] address in the config)."""
    return click.option(
        "--cluster",
        "cluster",
        metavar="ADDRESS",
        default=None,
        help="Analyse on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786); needs xmpcull[cluster].",
    )(func)


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--json and --quiet: how results are shown."""
    func = click.option("--quiet", "-q", is_flag=True, help="No progress bar, only the summary.")(func)
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout, nothing else.")(func)


def resolve_cache(cache_path: Path | None, no_cache: bool) -> Path | None:
    if no_cache:
        return None
    return cache_path or default_cache_path()


class RichProgress:
    """A progress bar with ETA on stderr (only used on a terminal)."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
        from rich.progress import Progress as _Bar

        self._bar = _Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            transient=True,
        )
        self._task: Any = None

    def start(self, total: int, description: str) -> None:
        if self._task is None:
            self._bar.start()
        else:
            self._bar.remove_task(self._task)
        self._task = self._bar.add_task(description, total=total)

    def advance(self, count: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, count)

    def finish(self) -> None:
        if self._task is not None:
            self._bar.remove_task(self._task)
            self._task = None
        self._bar.stop()


def make_progress(as_json: bool, quiet: bool) -> Progress:
    if as_json or quiet or not sys.stderr.isatty():
        return NullProgress()
    return RichProgress()


def emit_json(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, indent=2, sort_keys=False, default=str))


def print_failures(failures: list[FileFailure], limit: int = 20) -> None:
    failures, read_only = split_read_only(failures)
    for folder, images in list(read_only.items())[:limit]:
        click.echo(read_only_line(folder, images), err=True)
    if len(read_only) > limit:
        click.echo(f"  ... and {len(read_only) - limit} more read-only folders (use --json for all)", err=True)
    if not failures:
        return
    click.echo(f"{len(failures)} file(s) reported and skipped:", err=True)
    for failure in failures[:limit]:
        click.echo(f"  [{failure.stage}] {failure.path!r}: {failure.reason}", err=True)
    if len(failures) > limit:
        click.echo(f"  ... and {len(failures) - limit} more (use --json for all)", err=True)


def exit_code_for(failures: list[FileFailure]) -> int:
    failed_files, _ = split_read_only(failures)  # a read-only folder is said, not failed
    return int(ExitCode.SOME_FILES_FAILED if failed_files else ExitCode.OK)


def conclude(payload: dict[str, Any], lines: str | list[str], failures: list[FileFailure], as_json: bool,
             fatal: XmpcullError | None = None) -> None:
    """End a command: the JSON payload, or the summary lines and the failures; then the exit code.

    ``fatal``: what kept the command from finishing its work (its report unwritten): the
    failures then go to stderr in --json mode too, since no report holds them, and the
    error ends the command (exit 3).
    """
    _, read_only = split_read_only(failures)
    if isinstance(payload.get("errors"), list):
        payload["errors"] = [e for e in payload["errors"] if not (isinstance(e, dict) and e.get("stage") == READ_ONLY_STAGE)]
    if read_only:
        payload["read_only"] = [{"folder": f, "images": n, "hint": READ_ONLY_HINT} for f, n in read_only.items()]
    if as_json:
        emit_json(payload)
        if fatal is not None:
            print_failures(failures)
    else:
        for line in [lines] if isinstance(lines, str) else lines:
            click.echo(line)
        print_failures(failures)
    if fatal is not None:
        raise fatal
    finish(failures)


def finish(failures: list[FileFailure]) -> None:
    """End a command with the exit code its per-file failures call for."""
    code = exit_code_for(failures)
    if code:
        sys.exit(code)
