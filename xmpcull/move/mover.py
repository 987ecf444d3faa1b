"""Carry out a move plan, finish an interrupted one, or undo one, always through the journal.

Every file goes through the same state machine (docs/move.md):

    intent ──rename (same device)──────────────────────────────▶ done
       └──EXDEV──▶ copied (temp, fsynced, verified) ▶ placed ▶ source removed ▶ done

The journal record is fsynced before the step it announces, and recovery
(``_settle``) decides from the filesystem which side of a step a crash left us
on. The crash hook is called after every step so tests can stop the run there.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xmpcull import fsutil
from xmpcull.errors import FileFailure, MoveError
from xmpcull.fsutil import is_inside, real_paths
from xmpcull.move import fsops
from xmpcull.move.journal import Journal, JournalState, OpState, check_journal, read_journal
from xmpcull.move.planner import DEFAULT_DESTINATION, JOURNAL_FOLDER, Plan, PlannedMove, plan_moves
from xmpcull.move.selection import Expectation, check_report_roots, load_move_selection

OUTSIDE_REASON = "its real path is outside the root (a folder on the way is a symbolic link); not moved"
MTIME_TOLERANCE = 1e-3  # seconds; the digest is the real identity check, mtime only catches "touched"

CrashHook = Callable[[str], None]


@dataclass(frozen=True)
class MoveOutcome:
    """What happened to one file. status: planned, moved, skipped, failed, restored, already-restored,
    conflict, not-moved."""

    op_id: str
    source: str
    destination: str | None
    kind: str
    status: str
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op_id, "source": self.source, "destination": self.destination,
                "kind": self.kind, "status": self.status, "reason": self.reason}


PROBLEM_STATUSES = ("skipped", "failed", "conflict")


@dataclass
class MoveRunResult:
    outcomes: list[MoveOutcome] = field(default_factory=list)
    refused: list[FileFailure] = field(default_factory=list)  # refused while planning
    kept: list[FileFailure] = field(default_factory=list)  # protected duplicates, left in place on purpose
    journals: list[Path] = field(default_factory=list)

    @property
    def failures(self) -> list[FileFailure]:
        per_file = [FileFailure(o.source, "move", f"{o.status}: {o.reason}") for o in self.outcomes
                    if o.status in PROBLEM_STATUSES]
        return self.refused + per_file

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {"outcomes": [o.to_dict() for o in self.outcomes],
                "failures": [f.to_dict() for f in self.failures],
                "kept": [f.to_dict() for f in self.kept],
                "journals": [str(p) for p in self.journals]}


class _Changed(Exception):
    """The source is not the file we were asked to move (edited, replaced)."""


def _no_hook(step: str) -> None:
    return None


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


# ---------------------------------------------------------------- checks before touching a file

def _check_source(move: PlannedMove) -> tuple[str, str, os.stat_result | None]:
    """('ok', digest, stat) or (status, reason, None) for a file that must not be moved."""
    try:
        info = os.lstat(move.source)
    except FileNotFoundError:
        return "skipped", "file is missing", None
    except OSError as exc:
        return "failed", f"cannot read ({exc.strerror})", None
    if stat.S_ISLNK(info.st_mode):
        return "skipped", "a symbolic link; not moved", None
    if not stat.S_ISREG(info.st_mode):
        return "skipped", "not a regular file", None
    if not is_inside(move.source, real_paths([move.root])):
        return "skipped", OUTSIDE_REASON, None
    expect = move.expect
    if expect is not None:
        if info.st_size != expect.size:
            return "skipped", f"changed since the report (size {info.st_size}, report {expect.size})", None
        if abs(info.st_mtime - expect.mtime) > MTIME_TOLERANCE:
            return "skipped", "changed since the report (modification time differs)", None
    try:
        digest = fsops.file_digest(move.source)
    except OSError as exc:
        return "failed", f"cannot read ({exc.strerror})", None
    if expect is not None and not _same_content(move.source, info, digest, expect.digest):
        return "skipped", "changed since the report (content digest differs)", None
    return "ok", digest, info


def _same_content(source: Path, info: os.stat_result, digest: str, recorded: str) -> bool:
    """Whether the file still has the content key the report recorded: its full digest,
    or the head-tail key analysis gave a file whose size no other file shared."""
    if recorded.startswith(fsutil.HEAD_TAIL_PREFIX):
        try:
            return fsutil.head_tail_key(source, info.st_size, info.st_mtime_ns) == recorded
        except OSError:
            return False
    return digest == recorded


def _suffix_number(move: PlannedMove, destination: Path) -> int | None:
    middle = destination.name[len(move.family): len(destination.name) - len(move.rest)]
    if middle == "":
        return 0
    if middle.startswith(" (") and middle.endswith(")") and middle[2:-1].isdigit():
        return int(middle[2:-1])
    return None


def _free_suffix(members: list[PlannedMove], preferred: int | None) -> int:
    """Smallest suffix (0 = none) under which every member's destination name is free: never overwrite."""
    candidates = ([preferred] if preferred is not None else []) + list(range(0, 100_000))
    for number in candidates:
        if not any(os.path.lexists(m.destination(number)) for m in members):
            return number
    raise MoveError("no free destination name", [members[0].destination()])


# ---------------------------------------------------------------- one file

class _Runner:
    """Executes operations for one journal."""

    def __init__(self, journal: Journal | None, crash_hook: CrashHook | None, review: Path | None = None) -> None:
        self.journal = journal
        self.hook = crash_hook or _no_hook
        self.review = review  # <root>/<to>: destinations must stay inside it, links resolved

    def record(self, record_type: str, **fields: Any) -> None:
        if self.journal is not None:
            self.journal.append(record_type, **fields)

    def transfer(self, op_id: str, src: Path, dst: Path, digest: str) -> None:
        """Move one file without ever overwriting; raises FileExistsError, _Changed or OSError."""
        try:
            fsops.rename_noreplace(src, dst, self.hook)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
        else:
            fsops.fsync_dir(dst.parent)
            fsops.fsync_dir(src.parent)
            self.hook("renamed")
            return
        self._copy_across(op_id, src, dst, digest)

    def _copy_across(self, op_id: str, src: Path, dst: Path, digest: str) -> None:
        tmp = fsops.temp_name(dst, op_id)
        try:
            copied = fsops.write_copy(src, tmp)
            if copied != digest:
                raise _Changed("changed while being copied")
            if fsops.file_digest(tmp) != digest:
                raise OSError(errno.EIO, "the copy does not read back identical")
        except Exception:  # not BaseException: a simulated kill must leave the temp behind
            _remove_quietly(tmp)
            raise
        self.record("step", op=op_id, step="copied")
        self.hook("copied")
        try:
            fsops.rename_noreplace(tmp, dst, self.hook)
        except Exception:
            _remove_quietly(tmp)
            raise
        fsops.fsync_dir(dst.parent)  # the copy must be durable before the original goes
        self.hook("placed")
        try:
            os.unlink(src)  # the only unlink of a user's file, after a verified durable copy
        except OSError as exc:
            if fsops.file_digest(dst) == digest:
                os.unlink(dst)  # withdraw our copy: a file must not end up in two places
            raise OSError(exc.errno, f"copied, but cannot remove the original ({exc.strerror}); copy withdrawn") from exc
        fsops.fsync_dir(src.parent)
        self.hook("source-removed")

    def move_file(self, move: PlannedMove, dst: Path, digest: str, info: os.stat_result,
                  src_dir_mtime_ns: int | None) -> MoveOutcome:
        number = _suffix_number(move, dst) or 0
        while True:
            tmp = fsops.temp_name(dst, move.op_id)
            self.record("intent", op=move.op_id, src=str(move.source), dst=str(dst), tmp=str(tmp), digest=digest,
                        size=info.st_size, mtime_ns=info.st_mtime_ns, src_dir_mtime_ns=src_dir_mtime_ns)
            self.hook("intent")
            try:
                self.transfer(move.op_id, move.source, dst, digest)
            except FileExistsError:
                number += 1  # someone took the name since we looked: next suffix, new intent
                dst = move.destination(number)
                continue
            except _Changed as exc:
                self.record("skipped", op=move.op_id, reason=str(exc))
                return MoveOutcome(move.op_id, str(move.source), None, move.kind, "skipped", str(exc))
            except OSError as exc:
                reason = _os_reason(exc)
                self.record("failed", op=move.op_id, reason=reason)
                return MoveOutcome(move.op_id, str(move.source), None, move.kind, "failed", reason)
            self.record("done", op=move.op_id)
            self.hook("done")
            return MoveOutcome(move.op_id, str(move.source), str(dst), move.kind, "moved")

    def move_family(self, members: list[PlannedMove], preferred: int | None, dry_run: bool) -> list[MoveOutcome]:
        """All-or-nothing checks first: a changed duplicate keeps its sidecars and companions with it."""
        checked = []
        for move in members:
            status, detail, info = _check_source(move)
            if status != "ok":
                return self._refuse_family(members, move, status, detail)
            checked.append((move, detail, info))
        try:
            src_dir_mtime_ns = os.stat(members[0].source.parent).st_mtime_ns
            if not dry_run:
                members[0].dest_folder.mkdir(parents=True, exist_ok=True)
            number = _free_suffix(members, preferred)
        except OSError as exc:
            return self._refuse_family(members, members[0], "failed", f"cannot prepare destination ({_os_reason(exc)})")
        if not dry_run and self.review is not None and not is_inside(members[0].dest_folder, real_paths([self.review])):
            return self._refuse_family(members, members[0], "skipped", LEAVES_REVIEW_REASON)
        outcomes: list[MoveOutcome] = []
        for index, (move, digest, info) in enumerate(checked):
            if dry_run:
                outcomes.append(MoveOutcome(move.op_id, str(move.source), str(move.destination(number)),
                                            move.kind, "planned"))
                continue
            assert info is not None
            outcome = self.move_file(move, move.destination(number), digest, info, src_dir_mtime_ns)
            outcomes.append(outcome)
            if outcome.status != "moved":  # keep the rest of the family together, in place
                outcomes.extend(self._refuse_family(checked_moves(checked[index + 1:]), move, "skipped",
                                                    "not moved because it could not be moved"))
                break
        return outcomes

    def _refuse_family(self, members: list[PlannedMove], culprit: PlannedMove, status: str,
                       reason: str) -> list[MoveOutcome]:
        outcomes = []
        for move in members:
            why = reason if move is culprit else f"stays with {culprit.source.name} ({reason})"
            self.record(status, op=move.op_id, reason=why)
            outcomes.append(MoveOutcome(move.op_id, str(move.source), None, move.kind, status, why))
        return outcomes


LEAVES_REVIEW_REASON = "its destination folder leads out of the review folder (a symbolic link); not moved"


def checked_moves(checked: list[tuple[PlannedMove, str, Any]]) -> list[PlannedMove]:
    return [move for move, _, _ in checked]


def _os_reason(exc: OSError) -> str:
    names = {errno.ENOSPC: "disk full", errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
             errno.EROFS: "read-only filesystem"}
    label = names.get(exc.errno or 0)
    text = exc.strerror or str(exc)
    return f"{label}: {text}" if label and label.lower() not in text.lower() else text


def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# ---------------------------------------------------------------- recovery

def _settle(op: OpState, prefer_applied: bool) -> str:
    """Bring a half-done operation to a clean state; 'applied', 'not-applied' or 'missing'.

    Only ever removes our own temp copy, our own empty O_EXCL claim, or one of two
    byte-identical copies of the file, so nothing can be lost.
    """
    intent = op.intent or {}
    src, dst, tmp, digest = Path(intent["src"]), Path(intent["dst"]), Path(intent["tmp"]), intent["digest"]
    has_src, has_dst, has_tmp = os.path.lexists(src), os.path.lexists(dst), os.path.lexists(tmp)
    if has_tmp:
        if has_src or has_dst:
            os.unlink(tmp)
        elif fsops.file_digest(tmp) == digest:  # cannot happen by our ordering; never drop a last copy
            fsops.rename_noreplace(tmp, dst, _no_hook)
            return "applied"
    if has_src and has_dst:
        # rename() is atomic and consumes the source, so with the source still there the
        # destination is our verified copy only on the copy path, once the temp is gone.
        if not op.copied or has_tmp:
            fsops.remove_placeholder(dst)  # our empty O_EXCL claim, if that is what it is
            return "not-applied"
        if fsops.file_digest(dst) == digest and fsops.file_digest(src) == digest:
            os.unlink(src if prefer_applied else dst)
            fsops.fsync_dir((src if prefer_applied else dst).parent)
            return "applied" if prefer_applied else "not-applied"
        return "not-applied"  # what sits at dst is not ours
    if has_dst:
        return "applied"
    return "not-applied" if has_src else "missing"


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
            runner = _Runner(journal, crash_hook, moves[0].root / plan.review)
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
        runner = _Runner(journal, crash_hook, Path(state.run["dest"]))
        pending: list[PlannedMove] = []
        preferred: dict[tuple[Path, str], int | None] = {}
        for op_id in state.plan_order:
            op = state.ops[op_id]
            move = _planned_from_record(op.planned or {})
            if op.status != "done" and op.intent is not None:
                settled = _settle(op, prefer_applied=True)
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
                preferred[key] = _suffix_number(move, Path(op.intent["dst"]))
                result.outcomes.append(MoveOutcome(op_id, str(move.source), op.intent["dst"], move.kind, "moved"))
            else:
                pending.append(move)
        for family in _families(pending):
            key = (family[0].source.parent, family[0].family)
            result.outcomes.extend(runner.move_family(family, preferred.get(key), dry_run=False))
    return result


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
        runner = _Runner(journal, crash_hook)
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


def _undo_one(runner: _Runner, state: JournalState, op_id: str, real_root: tuple[Path, ...],
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
        and _settle(undo, prefer_applied=True) == "applied"
    ):
        runner.record("done", op=undo_id)
        _restore_mtime(src, intent)
        return MoveOutcome(op_id, str(dst), str(src), kind, "restored")
    if op.status == "done":
        applied = "applied" if os.path.lexists(dst) else ("not-applied" if os.path.lexists(src) else "missing")
    else:
        applied = _settle(op, prefer_applied=False)
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
        return MoveOutcome(op_id, str(dst), str(src), kind, "failed", _os_reason(exc))
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
    except (OSError, _Changed) as exc:
        reason = _os_reason(exc) if isinstance(exc, OSError) else str(exc)
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
        return f"cannot read it in the review folder ({_os_reason(exc)})"
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


def move_from_report(report_path: Path, csv_path: Path | None = None, to: str = DEFAULT_DESTINATION, *,
                     roots: Iterable[Path] = (), burst_reports: Iterable[Path] = (), dry_run: bool = False,
                     crash_hook: CrashHook | None = None) -> MoveRunResult:
    """Read the duplicate report (and the user's CSV), plan, and move: what ``xmpcull move`` does.

    ``roots``: roots the user vouches for; the report's other roots must be folders it lies in.
    """
    selection = load_move_selection(Path(report_path), None if csv_path is None else Path(csv_path), burst_reports)
    check_report_roots(Path(report_path), selection.roots, roots)
    return move_planned(plan_moves(selection, to), dry_run=dry_run, crash_hook=crash_hook)
