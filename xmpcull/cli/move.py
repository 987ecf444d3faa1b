"""``xmpcull move`` and ``xmpcull undo``: the reversible move of duplicates into a review folder."""

from __future__ import annotations

from pathlib import Path

import click

from xmpcull.cli.common import emit_json, finish, output_options, print_failures
from xmpcull.errors import ConfigError, MoveError
from xmpcull.move import (
    DEFAULT_DESTINATION,
    MoveRunResult,
    journals_newest_first,
    latest_journal,
    move_from_report,
    resume_moves,
    undo_moves,
)
from xmpcull.move.selection import check_report_roots, report_roots

existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)


def _shown(path: str | None) -> str:
    """A path on one line: names with a newline or other control characters are quoted."""
    if path is None:
        return "-"
    return repr(path) if any(ord(ch) < 32 for ch in path) else path


def _latest_journals(roots: list[Path], to: str) -> list[Path]:
    journals = [j for j in (latest_journal(root, to) for root in roots) if j is not None]
    if not journals:
        where = ", ".join(str(root / to) for root in roots)
        raise MoveError(f"no move journal found under {where}")
    return journals


def _summary(result: MoveRunResult, verb: str, statuses: tuple[str, ...], as_json: bool, quiet: bool) -> None:
    if as_json:
        emit_json(result.to_dict())
    else:
        if not quiet:
            for outcome in result.outcomes:
                if outcome.status in statuses:
                    click.echo(f"{outcome.status}: {_shown(outcome.source)} -> {_shown(outcome.destination)}")
        counts = ", ".join(f"{result.count(s)} {s}" for s in statuses)
        click.echo(f"{verb}: {counts}, {len(result.failures)} problem(s)")
        if result.kept:
            click.echo(f"{len(result.kept)} duplicate(s) kept in place: also a burst frame, similar-set member or keeper")
        for journal in result.journals:
            click.echo(f"journal: {journal}")
        print_failures(result.failures)
    finish(result.failures)


@click.command("move")
@click.option("--report", "report_path", type=existing_file,
              help="The report of `xmpcull run` (ROOT/.xmpcull/report.json) or of `xmpcull dupes --report`.")
@click.option("--csv", "csv_path", type=existing_file,
              help="That report's CSV (run's ROOT/.xmpcull/report.csv, or dupes --csv), possibly edited: "
                   "deleted rows and rows set to keeper stay in place.")
@click.option("--bursts", "burst_reports", type=existing_file, multiple=True,
              help="Burst report JSON (`xmpcull bursts`): its frames never move. Repeatable.")
@click.option("--to", default=DEFAULT_DESTINATION, show_default=True,
              help="Review folder, relative to each root.")
@click.option("--root", "roots", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A root of the report that the report does not lie in; its files may move. Repeatable.")
@click.option("--dry-run", is_flag=True, help="Show what would move; touch nothing.")
@click.option("--resume", is_flag=True,
              help="Finish the interrupted run recorded in the latest journal of each root of the report.")
@click.option("--journal", "journal_path", type=existing_file, help="With --resume: this journal instead of the latest.")
@output_options
def move(report_path: Path | None, csv_path: Path | None, burst_reports: tuple[Path, ...], to: str,
         roots: tuple[Path, ...], dry_run: bool, resume: bool, journal_path: Path | None, as_json: bool, quiet: bool) -> None:
    """Move the non-keepers of every duplicate group into <root>/_review_dupes/<original path>.

    Typical: `xmpcull run ROOT`, then `xmpcull move --report ROOT/.xmpcull/report.json`
    (add `--csv ROOT/.xmpcull/report.csv` after editing it in a spreadsheet).

    Sidecars (X.EXT.xmp, and X.xmp when nothing else named X stays) and RAW+JPEG
    companions go along. Files that changed since the report are skipped. Every
    step is journaled: `xmpcull undo` puts everything back, `--resume` finishes a
    run that was interrupted. Nothing is ever deleted. Files move only inside the
    roots the report lies in (a run's report: FIRST_ROOT/.xmpcull/report.json) or
    that --root names.
    """
    if resume:
        if dry_run:
            raise ConfigError("--resume and --dry-run cannot be combined")
        if journal_path is not None:
            journals = [journal_path]
        elif report_path is not None:
            check_report_roots(report_path, report_roots(report_path), roots)
            journals = _latest_journals(report_roots(report_path), to)
        else:
            journals = _latest_journals([Path.cwd()], to)
        result = MoveRunResult()
        for journal in journals:
            part = resume_moves(journal, to=to)
            result.outcomes += part.outcomes
            result.journals += part.journals
        _summary(result, "resumed", ("moved",), as_json, quiet)
        return
    if report_path is None:
        raise ConfigError("--report is required (or --resume)")
    result = move_from_report(report_path, csv_path, to, roots=roots, burst_reports=burst_reports, dry_run=dry_run)
    _summary(result, "dry run" if dry_run else "moved", ("planned",) if dry_run else ("moved", "skipped", "failed"),
             as_json, quiet)


def _all_journals(roots: list[Path], to: str) -> list[Path]:
    journals = [j for root in roots for j in journals_newest_first(root, to)]
    if not journals:
        where = ", ".join(str(root / to) for root in roots)
        raise MoveError(f"no move journal found under {where}")
    return journals


@click.command("undo")
@click.argument("journal", required=False, type=existing_file)
@click.option("--root", "roots", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Undo every move run under this root, newest first (default: the current folder). Repeatable.")
@click.option("--to", default=DEFAULT_DESTINATION, show_default=True, help="Review folder the runs used.")
@output_options
def undo(journal: Path | None, roots: tuple[Path, ...], to: str, as_json: bool, quiet: bool) -> None:
    """Put back every file `move` moved, at its original path and mtime.

    Without JOURNAL: every journal in <root>/_review_dupes/.xmpcull-journal/, newest
    first, so everything still in the review folder goes back; files an earlier
    undo restored are not counted again. With JOURNAL: only that run.
    A file that now exists at an original path is never overwritten: the moved
    file stays in the review folder and is reported as a conflict.
    """
    journals = [journal] if journal is not None else _all_journals(list(roots) or [Path.cwd()], to)
    result = MoveRunResult()
    for path in journals:
        part = undo_moves(path, to=to)
        result.outcomes += part.outcomes
        result.journals += part.journals
    _summary(result, "undone", ("restored", "conflict", "failed"), as_json, quiet)
