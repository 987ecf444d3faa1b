"""Group results as sidecar sections, per file: what `run`, `dupes` and `bursts` write for each member."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from xmpcull.group.bursts import Burst
from xmpcull.group.dupes import DupeResult
from xmpcull.sidecar import BurstFields, DupeFields, SimilarFields


def dupe_fields_by_path(dupes: DupeResult) -> dict[Path, DupeFields]:
    """The sidecar's dupes section for every member of a duplicate group (`run` and `dupes` share it)."""
    fields: dict[Path, DupeFields] = {}
    for group in dupes.groups:
        paths = [m.record.file.path for m in group.members]
        for member in group.members:
            path = member.record.file.path
            fields[path] = DupeFields(
                group=group.id,
                kind=group.kind,
                role=member.role,
                distance=member.distance,
                keeper_reason=group.keeper_reason,
                members=_relative_members(path, paths),
            )
    return fields


def _relative_members(path: Path, paths: Sequence[Path]) -> tuple[str, ...]:
    """The other members as '/'-separated paths relative to ``path``'s folder (DupMembers, SimilarMembers).

    A name that is not UTF-8 cannot be written into XMP text; it is left out (a
    subfolder run then cannot find that member, as before DupMembers existed).
    """
    members = []
    for other in paths:
        if other == path:
            continue
        relative = os.path.relpath(other, path.parent).replace(os.sep, "/")
        try:
            relative.encode("utf-8")
        except UnicodeEncodeError:
            continue
        members.append(relative)
    return tuple(sorted(members))


def similar_fields_by_path(dupes: DupeResult) -> dict[Path, SimilarFields]:
    """The sidecar's similar section for every member of a similar set, companions included (`run` and `dupes`)."""
    fields: dict[Path, SimilarFields] = {}
    for similar in dupes.similar_sets:
        paths = [m.record.file.path for m in similar.members]
        for member in similar.members:
            reason = f"best of the set: {similar.best_reason}" if member.role == "best" else member.why
            members = _relative_members(member.record.file.path, paths)  # companions share its folder
            value = SimilarFields(similar.id, member.role, len(similar.members), reason, members)
            for path in (member.record.file.path, *member.record.file.companions):
                fields.setdefault(path, value)
    return fields


def burst_fields_by_path(bursts: Sequence[Burst]) -> dict[Path, BurstFields]:
    """The sidecar's burst section for every file of a real burst, companions included (`run` and `bursts`)."""
    fields: dict[Path, BurstFields] = {}
    for burst in bursts:
        if burst.burst_id is None:
            continue
        frames = [Path(shot.path) for shot in burst.shots]
        for index, shot in enumerate(burst.shots, start=1):
            best = index - 1 == burst.best
            members = _relative_members(Path(shot.path), frames)  # companions share its folder
            value = BurstFields(burst.burst_id, index, burst.size, best, burst.best_reason if best else None, members)
            for path in (shot.path, *shot.companions):
                fields[Path(path)] = value
    return fields

