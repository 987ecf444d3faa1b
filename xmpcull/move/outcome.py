"""What a move, resume or undo did, file by file: the result every entry point returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xmpcull.errors import FileFailure


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
