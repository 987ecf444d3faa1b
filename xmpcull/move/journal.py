"""The move journal: an append-only JSON-lines file, fsynced record by record.

It exists so that a run killed at any instant can be finished (``move --resume``)
or reversed (``undo``) without losing or duplicating a file. It records intent
*before* each filesystem change and completion *after*; recovery reads the last
intent of an unfinished operation and then looks at the filesystem, which is
the final authority (docs/move.md describes the state machine).

Records (one JSON object per line, ``type`` first):
  run     {run, root, dest, created, version}
  plan    {ops: [{op, src, kind, group, dest_folder, family, rest, expect}]}
  intent  {op, src, dst, tmp, digest, size, mtime_ns, src_dir_mtime_ns}
  step    {op, step}                       informational ("copied")
  done    {op}
  skipped {op, reason}                     nothing was touched
  failed  {op, reason}                     cleaned up; the file is where it was
  conflict{op, reason}                     undo: something now exists at the original path
  undo    {}                               an undo started; resume refuses afterwards
  reopened{}                               resume/undo continues this journal
Undo operations use the id ``u:<move op id>``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from xmpcull.errors import MoveError
from xmpcull.move.fsops import fsync_dir, temp_name
from xmpcull.move.planner import DEFAULT_DESTINATION, JOURNAL_FOLDER, validate_destination

JOURNAL_VERSION = 1


class Journal:
    """Appends records to one journal file; every record is on disk before ``append`` returns."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        created = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "ab")  # noqa: SIM115 - kept open for the run's lifetime
        if created:
            fsync_dir(self.path.parent)
        else:
            self._ensure_line_start()
            self.append("reopened")  # lets the reader tell a torn line from damage

    def _ensure_line_start(self) -> None:
        # A kill -9 mid-write can leave a torn last line; start ours on a fresh line.
        if self._handle.tell() > 0:
            with open(self.path, "rb") as reader:
                reader.seek(-1, os.SEEK_END)
                if reader.read(1) != b"\n":
                    self._handle.write(b"\n")

    @classmethod
    def create(cls, folder: Path) -> Journal:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        return cls(Path(folder) / JOURNAL_FOLDER / f"{stamp}-{os.getpid()}.jsonl")

    def append(self, record_type: str, **fields: Any) -> None:
        line = json.dumps({"type": record_type, **fields}, ensure_ascii=True) + "\n"
        self._handle.write(line.encode("ascii"))
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class OpState:
    """What the journal knows about one operation."""

    op_id: str
    planned: dict[str, Any] | None = None
    intent: dict[str, Any] | None = None  # the last intent (a collision retry writes a new one)
    status: str = "pending"  # pending, intent, done, skipped, failed, conflict
    reason: str = ""
    copied: bool = False  # a verified temp copy was made after the last intent (cross-device path)
    order: int = -1  # position of its first intent, for undo in reverse order


@dataclass
class JournalState:
    path: Path
    run: dict[str, Any]
    ops: dict[str, OpState] = field(default_factory=dict)
    plan_order: list[str] = field(default_factory=list)
    undo_started: bool = False

    def op(self, op_id: str) -> OpState:
        return self.ops.setdefault(op_id, OpState(op_id))


def read_journal(path: Path) -> JournalState:
    """Replay a journal; a torn last line (crash mid-write) is ignored, any other bad line is an error."""
    try:
        lines = Path(path).read_bytes().split(b"\n")
    except OSError as exc:
        raise MoveError(f"cannot read journal ({exc.strerror})", [path]) from exc
    records: list[dict[str, Any]] = []
    for number, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            records.append(json.loads(raw))
        except json.JSONDecodeError as exc:
            following = next((rest for rest in lines[number + 1:] if rest.strip()), None)
            if following is not None and b'"type": "reopened"' not in following:
                raise MoveError(f"journal line {number + 1} is damaged", [path]) from exc
            # A torn record (killed mid-write): the step it announced had not started,
            # because records are written before their step.
    first = records[0] if records and isinstance(records[0], dict) else {}
    if first.get("type") != "run" or first.get("version") != JOURNAL_VERSION:
        raise MoveError("not an xmpcull move journal", [path])
    state = JournalState(path=Path(path), run=records[0])
    try:
        _replay(state, records[1:])
    except (KeyError, TypeError, AttributeError) as exc:
        raise MoveError(f"journal record is malformed ({exc!r})", [path]) from exc
    return state


def check_journal(state: JournalState, to: str = DEFAULT_DESTINATION) -> None:
    """Refuse a journal that could move a file anywhere but between its root and its review folder.

    A journal is a file anybody able to write in the review folder can place there,
    and resume/undo rename (and remove temps) exactly where it says. So its root and
    review folder must be the ones its location implies (``<root>/<to>/.xmpcull-journal/``),
    every original path must lie in that root outside the review folder, every
    destination and temp name must be the one the mover derives, inside the review
    folder. Links are checked again right before each file moves (the mover).
    """
    review = Path(os.path.abspath(state.path)).parent.parent
    root = review
    for _ in validate_destination(to).parts:
        root = root.parent
    problem = _journal_problem(state, root, review)
    if problem is not None:
        raise MoveError(f"refusing this journal: {problem}; it was not written by `xmpcull move` for {root}"
                        " (or was edited), so nothing was moved", [state.path])


def _same_place(recorded: Any, expected: Path) -> bool:
    return isinstance(recorded, str) and os.path.realpath(recorded) == os.path.realpath(expected)


def _plain_under(recorded: Any, base: Path) -> bool:
    """An absolute path without ``..`` lexically inside ``base`` (never ``base`` itself)."""
    if not isinstance(recorded, str) or "\0" in recorded:
        return False
    path = PurePosixPath(recorded) if os.sep == "/" else Path(recorded)
    return path.is_absolute() and ".." not in path.parts and Path(path) != base and Path(path).is_relative_to(base)


def _journal_problem(state: JournalState, root: Path, review: Path) -> str | None:
    run_root, run_dest = state.run.get("root"), state.run.get("dest")
    if not _same_place(run_root, root) or not _same_place(run_dest, review):
        return f"it names root {run_root!r} and review folder {run_dest!r}, but lies in {str(review)!r}"
    root, review = Path(run_root), Path(run_dest)  # as recorded, for the lexical checks below
    journals = review / JOURNAL_FOLDER

    def original(path: Any) -> bool:
        return _plain_under(path, root) and not _plain_under(path, review)

    def in_review(path: Any) -> bool:
        return _plain_under(path, review) and not _plain_under(path, journals)

    for op_id, op in state.ops.items():
        planned, intent = op.planned, op.intent
        move_id = op_id[2:] if op_id.startswith("u:") else op_id
        plan = (state.ops[move_id].planned if move_id in state.ops else None) or {}
        if not plan:
            return f"operation {op_id!r} is not in its plan"
        if planned is not None:
            src, dest_folder = planned.get("src"), planned.get("dest_folder")
            folder_ok = dest_folder == str(review) or in_review(dest_folder)
            if not original(src) or not folder_ok or not _same_place(planned.get("root"), root):
                return f"operation {op_id!r} would move {src!r} to {dest_folder!r}, outside its root or review folder"
            if f"{planned.get('family')}{planned.get('rest')}" != Path(src).name:
                return f"operation {op_id!r} names a destination that is not its file's name"
        if intent is None:
            continue
        src, dst, tmp = intent.get("src"), intent.get("dst"), intent.get("tmp")
        digest = intent.get("digest")
        if not (isinstance(digest, str) and len(digest) == 32 and all(c in "0123456789abcdef" for c in digest)):
            return f"operation {op_id!r} has no valid digest"
        if not all(isinstance(intent.get(key), int) for key in ("size", "mtime_ns")) or not isinstance(
                intent.get("src_dir_mtime_ns"), (int, type(None))):
            return f"operation {op_id!r} has no valid size or time"
        if op_id.startswith("u:"):
            moved = state.ops[move_id].intent or {}
            expected = (moved.get("dst"), moved.get("src"))  # undo reverses its move, exactly
        else:
            expected = (plan.get("src"), dst if in_review(dst) and Path(dst).parent == Path(plan["dest_folder"]) else None)
        if (src, dst) != expected or None in expected:
            return f"operation {op_id!r} would move {src!r} to {dst!r}, which its plan does not allow"
        if tmp != str(temp_name(Path(dst), op_id)):
            return f"operation {op_id!r} names a temporary file {tmp!r} that is not its own"
    return None


def _replay(state: JournalState, records: list[Any]) -> None:
    counter = 0
    for record in records:
        kind = record.get("type")
        if kind == "plan":
            for planned in record["ops"]:
                state.op(planned["op"]).planned = planned
                state.plan_order.append(planned["op"])
        elif kind == "undo":
            state.undo_started = True
        elif kind == "intent":
            op = state.op(record["op"])
            op.intent, op.status, op.copied = record, "intent", False
            if op.order < 0:
                op.order, counter = counter, counter + 1
        elif kind == "step" and record.get("step") == "copied":
            state.op(record["op"]).copied = True
        elif kind in ("done", "skipped", "failed", "conflict"):
            op = state.op(record["op"])
            op.status, op.reason = kind, record.get("reason", "")


def journal_folder(root: Path, to: str) -> Path:
    return Path(root) / to / JOURNAL_FOLDER


def journals_newest_first(root: Path, to: str) -> list[Path]:
    """Every journal under ``root``, newest first (names start with a UTC timestamp, so they sort by time)."""
    folder = journal_folder(root, to)
    try:
        names = sorted((n for n in os.listdir(folder) if n.endswith(".jsonl")), reverse=True)
    except OSError:
        return []
    return [folder / name for name in names]


def latest_journal(root: Path, to: str) -> Path | None:
    """The newest journal under ``root``."""
    journals = journals_newest_first(root, to)
    return journals[0] if journals else None
