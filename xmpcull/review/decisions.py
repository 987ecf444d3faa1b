"""A person's decisions in the review pages, written at once through the sidecar engine.

Each key press becomes one ``SidecarUpdate(review=ReviewFields(...))`` for one
file: the engine's single write path (merge-preserving, atomic, and its check
against another application saving the file meanwhile). The model changes only
after the write succeeded, so a decision that cannot be written changes nothing.

Undo (U) writes the values the file had before the last decision. A rating,
label or crop put back that way counts as the person's (they chose it by undoing);
the keeper / keep-both / pick / reject choices come back exactly as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from xmpcull.errors import XmpcullError
from xmpcull.models import CropEdges
from xmpcull.review.model import LABELS, XMP_LOCK, Item, ReviewModel
from xmpcull.sidecar import CLEAR, NO_CROP, ReviewFields, SidecarUpdate, WriteOptions, write_sidecar

ACTIONS = ("rating", "label", "flag", "keeper", "keep", "crop")


class DecisionError(XmpcullError):
    """A decision that was not written (bad request, or the sidecar refused it); nothing changed."""


@dataclass(frozen=True)
class Before:
    """What one decision replaced, for undo."""

    item_id: int
    action: str
    review: ReviewFields | None
    rating: int | None
    label: str | None
    crop: CropEdges | None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().replace(microsecond=0).isoformat()


class Decider:
    def __init__(self, model: ReviewModel, options: WriteOptions, clock: Callable[[], str] = _now) -> None:
        self.model = model
        self.options = options
        self.clock = clock
        self.history: list[Before] = []

    def decide(self, item_id: int, action: str, value: object = None) -> Item:
        """Apply one decision to one file and write it; DecisionError when it cannot be made or written."""
        item = self._fresh(item_id)
        fields = self._fields_for(item, action, value)
        before = Before(item.id, action, item.review, item.rating, item.label, item.crop)
        self._write(item, fields)
        self.history.append(before)
        return item

    def undo(self) -> Item | None:
        """Put back what the last decision replaced; None when there is nothing to undo."""
        if not self.history:
            return None
        before = self.history[-1]
        item = self._fresh(before.item_id)
        self._write(item, _restoring(before))
        self.history.pop()
        return item

    def _fresh(self, item_id: int) -> Item:
        try:
            item = self.model.item(item_id)
        except KeyError as exc:
            raise DecisionError(f"no image with id {item_id}") from exc
        problems = self.model.refresh([item])
        if problems:
            raise DecisionError(f"the sidecar cannot be read: {problems[0][1]}", [item.path])
        return item

    def _fields_for(self, item: Item, action: str, value: object) -> ReviewFields:
        current = item.review or ReviewFields(self.clock())
        current = replace(current, reviewed=self.clock())
        if action == "rating":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 5:
                raise DecisionError(f"a rating is 0 to 5, not {value!r}")
            return replace(current, rating=value)
        if action == "label":
            if value not in LABELS:
                raise DecisionError(f"unknown label {value!r}")
            return replace(current, label="" if item.label == value else str(value))  # the same key again removes it
        if action == "flag":
            if value not in ("pick", "reject"):
                raise DecisionError(f"a flag is pick or reject, not {value!r}")
            return replace(current, flag=None if current.flag == value else str(value))
        if action in ("keeper", "keep"):
            if item.dupe_group is None:
                raise DecisionError("only a member of a duplicate group can be made the keeper or kept", [item.path])
            return replace(current, keep=None if current.keep == action else action)
        if action == "crop":
            if value == "none":
                return replace(current, crop=NO_CROP)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < len(item.proposals):
                raise DecisionError(f"no crop proposal {value!r} for this image", [item.path])
            return replace(current, crop=item.proposals[value].crs)
        raise DecisionError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")

    def _write(self, item: Item, fields: ReviewFields | None) -> None:
        update = SidecarUpdate(review=CLEAR if fields is None else fields)
        try:
            with XMP_LOCK:
                write_sidecar(item.path, update, self.options)
        except XmpcullError as exc:
            raise DecisionError(f"not written: {exc.reason}", [item.path]) from exc
        except OSError as exc:
            raise DecisionError(f"not written: {exc.strerror or exc}", [item.path]) from exc
        item.sidecar_signature = None  # read it back, as the engine left it
        self.model.refresh([item])


def _restoring(before: Before) -> ReviewFields | None:
    """The review section that puts back what ``before`` recorded (None: remove the section)."""
    previous = before.review
    if before.action in ("keeper", "keep", "flag"):
        return previous
    base = previous or ReviewFields("")
    if before.action == "rating" and (previous is None or previous.rating is None):
        base = replace(base, rating=before.rating or 0)
    elif before.action == "label" and (previous is None or previous.label is None):
        base = replace(base, label=before.label or "")
    elif before.action == "crop" and (previous is None or previous.crop is None):
        base = replace(base, crop=before.crop or NO_CROP)
    if previous is not None:
        return base
    return replace(base, reviewed=_now())
