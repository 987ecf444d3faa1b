"""Carry out a move plan or finish an interrupted one, always through the journal.

The per-file state machine and crash recovery live in ``runner``; undo in ``undo``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from xmpcull.errors import MoveError
from xmpcull.move.journal import Journal, check_journal, read_journal
from xmpcull.move.outcome import MoveOutcome, MoveRunResult
from xmpcull.move.planner import DEFAULT_DESTINATION, Plan, PlannedMove, plan_moves
from xmpcull.move.runner import CrashHook, Runner, settle, suffix_number
from xmpcull.move.selection import Expectation, check_report_roots, load_move_selection

# ---------------------------------------------------------------- plan (de)serialisation

def _planned_to_record(move: PlannedMove) -> dict[str, Any]:
    expect = None if move.expect is None else {"size": move.expect.size, "mtime": move.expect.mtime,
                                                "digest": move.expect.digest}
    return {"op": move.op_id, "src": str(move.source), "root": str(move.root), "kind": move.kind,
            "group": move.group_id, "dest_folder": str(move.dest_folder), "family": move.family,
            "rest": move.rest, "expect": expect}


def _planned_from_record(record: dict[str, Any]) -> PlannedMove:
    expect = record.get("expect")
    return PlannedMove(
        op_id=record["op"], source=Path(record["src"]), root=Path(record["root"]),
        dest_folder=Path(record["dest_folder"]), family=record["family"], rest=record["rest"],
        kind=record["kind"], group_id=record.get("group"),
        expect=None if expect is None else Expectation(int(expect["size"]), float(expect["mtime"]), expect["digest"]),
    )


def _families(moves: Iterable[PlannedMove]) -> list[list[PlannedMove]]:
    """Moves sharing a folder and stem; they move together under one destination suffix."""
    grouped: dict[tuple[Path, str], list[PlannedMove]] = {}
    for move in moves:
        grouped.setdefault((move.source.parent, move.family), []).append(move)
    return list(grouped.values())


# ---------------------------------------------------------------- public entry points

def move_planned(plan: Plan, *, dry_run: bool = False, crash_hook: CrashHook | None = None) -> MoveRunResult:
    """Move every planned file (one journal per root); per-file problems are outcomes, not exceptions."""
    result = MoveRunResult(refused=list(plan.failures), kept=list(plan.kept))
    runs: list[tuple[Journal | None, list[PlannedMove]]] = []
    try:
        # Every root's plan is on disk before the first file moves, so a crash in one
        # root still lets `--resume` finish the others.
        for root, moves in plan.by_root().items():
            journal = None if dry_run else Journal.create(root / plan.review)
            if journal is not None:
                journal.append("run", version=1, run=journal.path.stem, root=str(root), dest=str(root / plan.review))
                journal.append("plan", ops=[_planned_to_record(m) for m in moves])
                result.journals.append(journal.path)
            runs.append((journal, moves))
        for journal, moves in runs:
            runner = Runner(journal, crash_hook, moves[0].root / plan.review)
            for family in _families(moves):
                result.outcomes.extend(runner.move_family(family, None, dry_run))
    finally:
        for journal, _ in runs:
            if journal is not None:
                journal.close()
    return result


def resume_moves(journal_path: Path, *, to: str = DEFAULT_DESTINATION,
                 crash_hook: CrashHook | None = None) -> MoveRunResult:
    """Finish an interrupted run: settle the half-done file, then move what was never started or failed.

    ``to``: the review folder the run used, relative to its root (where the journal must lie).
    """
    state = read_journal(journal_path)
    check_journal(state, to)
    if state.undo_started:
        raise MoveError("this run was undone; run a new move instead of resuming it", [journal_path])
    result = MoveRunResult(journals=[state.path])
    with Journal(state.path) as journal:
        runner = Runner(journal, crash_hook, Path(state.run["dest"]))
        pending: list[PlannedMove] = []
        preferred: dict[tuple[Path, str], int | None] = {}
        for op_id in state.plan_order:
            op = state.ops[op_id]
            move = _planned_from_record(op.planned or {})
            if op.status != "done" and op.intent is not None:
                settled = settle(op, prefer_applied=True)
                if settled == "applied":
                    journal.append("done", op=op_id)
                    op.status = "done"
                elif settled == "missing":
                    journal.append("failed", op=op_id, reason="found neither at the source nor the destination")
                    result.outcomes.append(MoveOutcome(op_id, str(move.source), None, move.kind, "failed",
                                                       "found neither at the source nor the destination"))
                    continue
            if op.status == "done":
                assert op.intent is not None
                key = (move.source.parent, move.family)
                preferred[key] = suffix_number(move, Path(op.intent["dst"]))
                result.outcomes.append(MoveOutcome(op_id, str(move.source), op.intent["dst"], move.kind, "moved"))
            else:
                pending.append(move)
        for family in _families(pending):
            key = (family[0].source.parent, family[0].family)
            result.outcomes.extend(runner.move_family(family, preferred.get(key), dry_run=False))
    return result


def move_from_report(report_path: Path, csv_path: Path | None = None, to: str = DEFAULT_DESTINATION, *,
                     roots: Iterable[Path] = (), burst_reports: Iterable[Path] = (), dry_run: bool = False,
                     crash_hook: CrashHook | None = None) -> MoveRunResult:
    """Read the duplicate report (and the user's CSV), plan, and move: what ``xmpcull move`` does.

    ``roots``: roots the user vouches for; the report's other roots must be folders it lies in.
    """
    selection = load_move_selection(Path(report_path), None if csv_path is None else Path(csv_path), burst_reports)
    check_report_roots(Path(report_path), selection.roots, roots)
    return move_planned(plan_moves(selection, to), dry_run=dry_run, crash_hook=crash_hook)
