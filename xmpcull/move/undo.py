"""Undo a run: put every moved file back at its original path and time, never overwriting."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from xmpcull.fsutil import is_inside, real_paths
from xmpcull.move import fsops
from xmpcull.move.journal import Journal, JournalState, check_journal, read_journal
from xmpcull.move.outcome import MoveOutcome, MoveRunResult
from xmpcull.move.planner import DEFAULT_DESTINATION, JOURNAL_FOLDER
from xmpcull.move.runner import CrashHook, Runner, SourceChanged, os_reason, settle


def undo_moves(journal_path: Path, *, to: str = DEFAULT_DESTINATION,
               crash_hook: CrashHook | None = None) -> MoveRunResult:
    """Put every moved file back at its original path and mtime; never overwrite what is there now.

    Only files inside the review folder whose bytes are still those the journal
    recorded go back, and only to their place inside the root (``check_journal``).
    """
    state = read_journal(journal_path)
    check_journal(state, to)
    real_root, real_review = real_paths([state.run["root"]]), real_paths([state.run["dest"]])
    result = MoveRunResult(journals=[state.path])
    with Journal(state.path) as journal:
        if not state.undo_started:
            journal.append("undo")
        runner = Runner(journal, crash_hook)
        moved_ops = sorted((op for op in state.ops.values() if not op.op_id.startswith("u:") and op.intent),
                           key=lambda op: op.order, reverse=True)
        restored: list[dict[str, Any]] = []
        for op in moved_ops:
            outcome = _undo_one(runner, state, op.op_id, real_root, real_review)
            result.outcomes.append(outcome)
            if outcome.status == "restored":
                restored.append(op.intent or {})
        for intent in restored:  # reverse run order: the oldest (pre-move) folder time is set last
            if intent.get("src_dir_mtime_ns"):
                _set_mtime(Path(intent["src"]).parent, int(intent["src_dir_mtime_ns"]))
        _remove_empty_folders(Path(state.run["dest"]))
    return result


def _undo_one(runner: Runner, state: JournalState, op_id: str, real_root: tuple[Path, ...],
              real_review: tuple[Path, ...]) -> MoveOutcome:
    op = state.ops[op_id]
    intent = op.intent or {}
    kind = (op.planned or {}).get("kind", "file")
    src, dst = Path(intent["src"]), Path(intent["dst"])
    undo_id = f"u:{op_id}"
    undo = state.ops.get(undo_id)
    if undo is not None and undo.status == "done":
        # Put back by an earlier undo: not counted again, so a second undo says 0.
        return MoveOutcome(op_id, str(dst), str(src), kind, "already-restored")
    if (
        undo is not None
        and undo.intent is not None
        and undo.status != "done"
        and settle(undo, prefer_applied=True) == "applied"
    ):
        runner.record("done", op=undo_id)
        _restore_mtime(src, intent)
        return MoveOutcome(op_id, str(dst), str(src), kind, "restored")
    if op.status == "done":
        applied = "applied" if os.path.lexists(dst) else ("not-applied" if os.path.lexists(src) else "missing")
    else:
        applied = settle(op, prefer_applied=False)
    if applied == "not-applied":
        return MoveOutcome(op_id, str(src), None, kind, "not-moved", "was not moved")
    if applied == "missing":
        return MoveOutcome(op_id, str(dst), str(src), kind, "failed", "found neither in the review folder nor in place")
    if os.path.lexists(src):
        reason = "a file now exists at the original path; left in the review folder"
        runner.record("conflict", op=undo_id, reason=reason)
        return MoveOutcome(op_id, str(dst), str(src), kind, "conflict", reason)
    refusal = _unsafe_to_restore(dst, src, real_root, real_review)
    if refusal:
        runner.record("skipped", op=undo_id, reason=refusal)
        return MoveOutcome(op_id, str(dst), str(src), kind, "skipped", refusal)
    try:
        digest = fsops.file_digest(dst)
        info = os.stat(dst)
    except OSError as exc:
        return MoveOutcome(op_id, str(dst), str(src), kind, "failed", os_reason(exc))
    if digest != intent["digest"]:
        reason = "its bytes are not the ones this journal moved (changed in the review folder); left there"
        runner.record("skipped", op=undo_id, reason=reason)
        return MoveOutcome(op_id, str(dst), str(src), kind, "skipped", reason)
    runner.record("intent", op=undo_id, src=str(dst), dst=str(src), tmp=str(fsops.temp_name(src, undo_id)),
                  digest=digest, size=info.st_size, mtime_ns=info.st_mtime_ns, src_dir_mtime_ns=None)
    runner.hook("intent")
    try:
        runner.transfer(undo_id, dst, src, digest)
    except FileExistsError:
        reason = "a file appeared at the original path; left in the review folder"
        runner.record("conflict", op=undo_id, reason=reason)
        return MoveOutcome(op_id, str(dst), str(src), kind, "conflict", reason)
    except (OSError, SourceChanged) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else str(exc)
        runner.record("failed", op=undo_id, reason=reason)
        return MoveOutcome(op_id, str(dst), str(src), kind, "failed", reason)
    runner.record("done", op=undo_id)
    runner.hook("done")
    _restore_mtime(src, intent)
    return MoveOutcome(op_id, str(dst), str(src), kind, "restored")


def _unsafe_to_restore(moved: Path, original: Path, real_root: tuple[Path, ...],
                       real_review: tuple[Path, ...]) -> str | None:
    """Why the file at ``moved`` must not go back to ``original`` (links resolved now), or None."""
    try:
        info = os.lstat(moved)
    except OSError as exc:
        return f"cannot read it in the review folder ({os_reason(exc)})"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file in the review folder (a symbolic link?); left there"
    if not is_inside(moved, real_review):
        return "its real path is outside the review folder; left there"
    if not is_inside(original.parent, real_root) or is_inside(original.parent, real_review):
        return "its original folder now leads outside the root (a symbolic link); left in the review folder"
    return None


def _restore_mtime(path: Path, intent: dict[str, Any]) -> None:
    """Give back the original mtime, unless the file was edited while in review (then its time is true)."""
    try:
        if fsops.file_digest(path) == intent["digest"]:
            _set_mtime(path, int(intent["mtime_ns"]))
    except OSError:
        pass


def _set_mtime(path: Path, mtime_ns: int) -> None:
    try:
        os.utime(path, ns=(os.stat(path).st_atime_ns, mtime_ns), follow_symlinks=False)
    except OSError:
        pass  # cosmetic: a folder time we cannot set is not worth failing an undo for


def _remove_empty_folders(review: Path) -> None:
    """rmdir (which refuses non-empty folders) the folders the move created; the journal folder stays."""
    for folder, _, _ in sorted(os.walk(review), key=lambda item: -len(item[0])):
        path = Path(folder)
        if path == review or JOURNAL_FOLDER in path.relative_to(review).parts:
            continue
        try:
            path.rmdir()
        except OSError:
            pass
