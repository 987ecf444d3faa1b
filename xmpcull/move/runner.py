"""Move one file, or one family of files, through the journal's state machine (docs/move.md).

    intent ──rename (same device)──────────────────────────────▶ done
       └──EXDEV──▶ copied (temp, fsynced, verified) ▶ placed ▶ source removed ▶ done

The journal record is fsynced before the step it announces, and recovery
(``settle``) decides from the filesystem which side of a step a crash left us
on. The crash hook is called after every step so tests can stop the run there.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xmpcull import fsutil
from xmpcull.errors import MoveError
from xmpcull.fsutil import is_inside, real_paths
from xmpcull.move import fsops
from xmpcull.move.journal import Journal, OpState
from xmpcull.move.outcome import MoveOutcome
from xmpcull.move.planner import PlannedMove

OUTSIDE_REASON = "its real path is outside the root (a folder on the way is a symbolic link); not moved"
MTIME_TOLERANCE = 1e-3  # seconds; the digest is the real identity check, mtime only catches "touched"

CrashHook = Callable[[str], None]


class SourceChanged(Exception):
    """The source is not the file we were asked to move (edited, replaced)."""


def no_hook(step: str) -> None:
    return None


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


def suffix_number(move: PlannedMove, destination: Path) -> int | None:
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

class Runner:
    """Executes operations for one journal."""

    def __init__(self, journal: Journal | None, crash_hook: CrashHook | None, review: Path | None = None) -> None:
        self.journal = journal
        self.hook = crash_hook or no_hook
        self.review = review  # <root>/<to>: destinations must stay inside it, links resolved

    def record(self, record_type: str, **fields: Any) -> None:
        if self.journal is not None:
            self.journal.append(record_type, **fields)

    def transfer(self, op_id: str, src: Path, dst: Path, digest: str) -> None:
        """Move one file without ever overwriting; raises FileExistsError, SourceChanged or OSError."""
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
                raise SourceChanged("changed while being copied")
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
        number = suffix_number(move, dst) or 0
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
            except SourceChanged as exc:
                self.record("skipped", op=move.op_id, reason=str(exc))
                return MoveOutcome(move.op_id, str(move.source), None, move.kind, "skipped", str(exc))
            except OSError as exc:
                reason = os_reason(exc)
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
            return self._refuse_family(members, members[0], "failed", f"cannot prepare destination ({os_reason(exc)})")
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


def os_reason(exc: OSError) -> str:
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

def settle(op: OpState, prefer_applied: bool) -> str:
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
            fsops.rename_noreplace(tmp, dst, no_hook)
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
