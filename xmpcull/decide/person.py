"""What a person decided in `xmpcull review` outranks the keeper chain.

The choices live in each file's sidecar (``xmpcull:ReviewKeep``, see
docs/xmp-schema.md); `run` and `move` both read them and apply this one rule,
so a keeper chosen by hand is the keeper everywhere:

* a member the person made the keeper (K) is a keeper; when any member of a
  group is one, the keeper the chain chose becomes a duplicate unless the person
  kept it too;
* a member the person kept ("keep both", or picked with P) stays: role keeper;
* everything else keeps the role the chain gave it.

A group therefore never loses all its keepers through this rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from xmpcull.errors import XmpcullError
from xmpcull.sidecar import ReviewFields, read_sidecar, sidecar_path_for

if TYPE_CHECKING:  # `move` imports this module and must start without the analysis stack
    from xmpcull.group.dupes import DupeGroup, DupeResult

CHOSEN_REASON = "chosen in review"
P = TypeVar("P")


def staying_choice(review: ReviewFields | None) -> str | None:
    """'keeper', 'keep' (stays beside the keeper) or None: what the person's review says about moving."""
    if review is None:
        return None
    if review.keep is not None:
        return review.keep
    return "keep" if review.flag == "pick" else None


def roles_after_review(members: Sequence[tuple[P, str]], choices: Mapping[P, str]) -> dict[P, str]:
    """Each member's role ('keeper' | 'duplicate') once the person's choices are applied."""
    chosen = any(choices.get(member) == "keeper" for member, _ in members)
    roles = {}
    for member, role in members:
        choice = choices.get(member)
        if choice in ("keeper", "keep"):
            roles[member] = "keeper"
        elif chosen:
            roles[member] = "duplicate"
        else:
            roles[member] = role
    return roles


def read_choices(files: Iterable[tuple[Path, tuple[Path, ...]]], naming: str = "adobe") -> dict[Path, str]:
    """The staying choice recorded in each file's sidecar; an unreadable sidecar counts as no choice."""
    choices = {}
    for path, companions in files:
        try:
            if not _may_hold_a_choice(sidecar_path_for(path, companions, naming)):  # type: ignore[arg-type]
                continue
            state = read_sidecar(path, companions, naming, include_embedded=False)  # type: ignore[arg-type]
        except (XmpcullError, OSError):
            continue
        choice = staying_choice(state.review)
        if choice is not None:
            choices[path] = choice
    return choices


def _may_hold_a_choice(sidecar: Path) -> bool:
    """A cheap look before the XMP parse: review decisions are always written by our engine, in UTF-8."""
    try:
        with open(sidecar, "rb") as handle:
            data = handle.read(16 * 1024 * 1024)
    except OSError:
        return False
    return b"ReviewKeep" in data or b"ReviewFlag" in data


def honour_review(dupes: DupeResult, naming: str = "adobe") -> DupeResult:
    """``dupes`` with every group's roles as the person decided in review (read from the members' sidecars)."""
    members = [(m.record.file.path, m.record.file.companions) for g in dupes.groups for m in g.members]
    choices = read_choices(members, naming)
    if not choices:
        return dupes
    return replace(dupes, groups=apply_to_groups(dupes.groups, choices))


def apply_to_groups(groups: Sequence[DupeGroup], choices: Mapping[Path, str]) -> list[DupeGroup]:
    """DupeGroups with roles (and keeper first) as the person decided; untouched groups are returned as they are."""
    out = []
    for group in groups:
        paths = [m.record.file.path for m in group.members]
        if not any(p in choices for p in paths):
            out.append(group)
            continue
        roles = roles_after_review([(m.record.file.path, m.role) for m in group.members], choices)
        members = [replace(m, role=roles[m.record.file.path]) for m in group.members]
        members.sort(key=lambda m: (m.role != "keeper", choices.get(m.record.file.path) != "keeper"))
        reason = group.keeper_reason
        if any(choices.get(p) == "keeper" for p in paths):
            reason = CHOSEN_REASON
        out.append(replace(group, members=tuple(members), keeper_reason=reason))
    return out
