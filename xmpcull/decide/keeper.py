"""Which file of a duplicate group to keep: a declarative tiebreak chain.

Why a chain of named rules: the photographer must be able to read (and
reorder) the policy, and every group must say which rule chose its keeper.
Rules are applied in order; each keeps only the members that score best on
it, until one member is left. The reason names the rule(s) that narrowed the
field, with the values compared, e.g. ``most pixels (24.2 MP vs 6.0 MP)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xmpcull.errors import ConfigError
from xmpcull.models import ImageRecord


@dataclass(frozen=True)
class Rule:
    """One tiebreak: a score (higher wins) and how to say what it compared."""

    name: str
    label: str
    score: Callable[[ImageRecord], tuple[float, ...]]
    show: Callable[[tuple[float, ...]], str] | None = None  # None: the label says it all


def _pixels(r: ImageRecord) -> tuple[float, ...]:
    return (float(r.features.pixels) if r.features else 0.0,)


def _raw(r: ImageRecord) -> tuple[float, ...]:
    return (1.0 if r.file.is_raw else 0.0,)


def parse_metadata_date(text: str | None) -> float | None:
    """xmp:MetadataDate / ModifyDate as written (ISO 8601 or EXIF 'YYYY:MM:DD hh:mm:ss') -> seconds."""
    if not text:
        return None
    value = text.strip()
    if len(value) >= 10 and value[4] == ":" and value[7] == ":":
        value = value[:4] + "-" + value[5:7] + "-" + value[8:]  # EXIF-style date inside XMP
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)  # no offset written: read as UTC, like capture times
    return parsed.timestamp()


MTIME_TOLERANCE_NS = 2 * 10**9  # FAT stores mtimes in 2 s steps; copies differ by less than that by accident


def _edited(r: ImageRecord) -> tuple[float, ...]:
    # Develop settings first: an edited file beats an untouched one whatever the clocks say.
    date = parse_metadata_date(r.metadata.metadata_date)
    return (
        1.0 if r.metadata.has_develop_settings else 0.0,
        date if date is not None else float("-inf"),
        r.file.mtime_ns / 1e9,
    )


def _edited_survivors(field: Sequence[ImageRecord], scores: list[tuple[float, ...]]) -> list[int]:
    """Indices of the most recently edited; mtimes within MTIME_TOLERANCE_NS of the latest count as equal.

    The tolerance is measured from the latest mtime (not chained), so the
    outcome does not depend on member order.
    """
    head = max(s[:2] for s in scores)
    tied = [i for i, s in enumerate(scores) if s[:2] == head]
    latest = max(field[i].file.mtime_ns for i in tied)  # integers: floats blur nanoseconds at this size
    return [i for i in tied if latest - field[i].file.mtime_ns < MTIME_TOLERANCE_NS]


def _sharpness(r: ImageRecord) -> tuple[float, ...]:
    return (r.features.sharpness if r.features else 0.0,)


def _rating(r: ImageRecord) -> tuple[float, ...]:
    # Only the user's rating counts: one xmpcull proposed last run must not pick the keeper.
    meta = r.metadata
    return (meta.rating if meta.rating is not None and not meta.rating_by_xmpcull else float("-inf"),)


def _short_path(r: ImageRecord) -> tuple[float, ...]:
    return (-float(len(str(r.file.path))),)


def _show_edited(score: tuple[float, ...]) -> str:
    developed, date, mtime = score
    parts = ["develop settings" if developed else "no develop settings"]
    if date != float("-inf"):
        parts.append("metadata " + dt.datetime.fromtimestamp(date, dt.timezone.utc).strftime("%Y-%m-%d %H:%M"))
    parts.append("mtime " + dt.datetime.fromtimestamp(mtime, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"))
    return ", ".join(parts)


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("most_pixels", "most pixels", _pixels, lambda s: f"{s[0] / 1e6:.1f} MP"),
        Rule("raw_over_rendered", "RAW over rendered copy", _raw),
        Rule("most_recently_edited", "most recently edited", _edited, _show_edited),
        Rule("sharpest", "sharpest", _sharpness, lambda s: f"sharpness {s[0]:.0f}"),
        Rule("highest_rating", "highest rating", _rating,
             lambda s: "unrated" if s[0] == float("-inf") else f"{s[0]:g} stars"),
        Rule("shortest_path", "shortest path", _short_path, lambda s: f"{-s[0]:.0f} chars"),
    )
}

DEFAULT_CHAIN: tuple[str, ...] = (
    "most_pixels",
    "raw_over_rendered",
    "most_recently_edited",
    "sharpest",
    "highest_rating",
    "shortest_path",
)


def parse_chain(names: Sequence[str]) -> tuple[Rule, ...]:
    """Rule names (from config or CLI) -> rules; unknown or repeated names are a ConfigError."""
    rules = []
    for name in names:
        key = name.strip().lower().replace("-", "_")
        if key not in RULES:
            raise ConfigError(f"unknown keeper rule {name!r}; known rules: {', '.join(RULES)}")
        if RULES[key] in rules:
            raise ConfigError(f"keeper rule {name!r} is listed twice")
        rules.append(RULES[key])
    return tuple(rules)


def choose_keeper(
    members: Sequence[ImageRecord], chain: Sequence[str] | Sequence[Rule] = DEFAULT_CHAIN
) -> tuple[ImageRecord, str]:
    """The member to keep and why; deterministic for any member order."""
    if not members:
        raise ValueError("choose_keeper needs at least one member")
    rules = parse_chain(chain) if chain and isinstance(chain[0], str) else tuple(chain)  # type: ignore[arg-type]
    # Path order first, so a full tie (same everything) always ends on the same file.
    field = sorted(members, key=lambda r: str(r.file.path))
    if len(field) == 1:
        return field[0], "only member"
    reasons: list[str] = []
    for rule in rules:
        scores = [rule.score(r) for r in field]
        if rule.name == "most_recently_edited":
            keep = _edited_survivors(field, scores)
        else:
            keep = [i for i, s in enumerate(scores) if s == max(scores)]
        if len(keep) < len(field):
            best = max(scores[i] for i in keep)
            runner_up = max(s for i, s in enumerate(scores) if i not in keep)
            shown_best, shown_other = (rule.show(best), rule.show(runner_up)) if rule.show else ("", "")
            if rule.show is None:
                reasons.append(rule.label)
            elif shown_best == shown_other:  # the values differ below the shown precision: say so, not "a vs a"
                reasons.append(f"{rule.label} ({shown_best}, by a fraction)")
            else:
                reasons.append(f"{rule.label} ({shown_best} vs {shown_other})")
            field = [field[i] for i in keep]
        if len(field) == 1:
            break
    if len(field) > 1:
        reasons.append("tie on every rule: first path in sort order")
    return field[0], "; then ".join(reasons)
