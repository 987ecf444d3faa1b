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
from pathlib import Path
from typing import Any

from xmpcull.errors import MoveError
from xmpcull.move.fsops import fsync_dir
from xmpcull.move.planner import JOURNAL_FOLDER

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
    if not records or records[0].get("type") != "run" or records[0].get("version") != JOURNAL_VERSION:
        raise MoveError("not an xmpcull move journal", [path])
    state = JournalState(path=Path(path), run=records[0])
    counter = 0
    for record in records[1:]:
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
    return state


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
