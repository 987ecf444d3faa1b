"""Move stage: the only part of xmpcull that changes where files are.

Non-keepers of duplicate groups go to ``<root>/_review_dupes/<relpath>`` with
their sidecars and companions, through a fsynced journal so that a crash can be
resumed or undone without losing or duplicating a file. See docs/move.md.
"""

from xmpcull.move.journal import journals_newest_first, latest_journal, read_journal
from xmpcull.move.mover import move_from_report, move_planned, resume_moves
from xmpcull.move.outcome import MoveOutcome, MoveRunResult
from xmpcull.move.planner import DEFAULT_DESTINATION, Plan, PlannedMove, plan_moves
from xmpcull.move.selection import MoveSelection, load_move_selection
from xmpcull.move.undo import undo_moves

__all__ = [
    "DEFAULT_DESTINATION",
    "MoveOutcome",
    "MoveRunResult",
    "MoveSelection",
    "Plan",
    "PlannedMove",
    "journals_newest_first",
    "latest_journal",
    "load_move_selection",
    "move_from_report",
    "move_planned",
    "plan_moves",
    "read_journal",
    "resume_moves",
    "undo_moves",
]
