"""Group members outside this run's roots, found through the DupMembers, SimilarMembers and
BurstMembers a sidecar records.

Why: a run on a subfolder sees only part of a duplicate group, a similar set or a
burst whose members lie in several folders. Without the others it would find the
group gone and erase its facts (DupGroup, the Red label, SimilarSet, BurstID, the
keywords) from the sidecars it can see, or shrink a burst and pick another best
frame, and the next whole-tree run would put them back. So the members a sidecar
names outside the roots are analysed too (from the cache, normally) and grouped
with the rest, as context only: none of their sidecars is written, they get no
decision, and `move` does not touch them (their root is not one of the report's).
Every member records all the others, so one step finds a whole set.

A member that no longer exists is simply not there: the group or set is decided
on what exists, as a whole-tree run would (a pair whose other picture was deleted
is no set; a member's sidecar outside the roots keeps the old size until a run
covers it).

Bursts are clustered over the roots' frames and the context (the members a
sidecar names are all there is to see), and only bursts with a frame inside the
roots are kept (``bursts_seen``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from xmpcull.analyse.pipeline import analyse_roots
from xmpcull.group.bursts import Burst
from xmpcull.group.dupes import DupeResult
from xmpcull.models import ImageRecord


def member_paths(record: ImageRecord) -> list[Path]:
    """The other members this record's sidecar names (DupMembers, SimilarMembers, BurstMembers), as absolute paths."""
    folder = record.file.path.parent
    meta = record.metadata
    named = (*meta.dup_members, *meta.similar_members, *meta.burst_members)
    return [Path(os.path.normpath(folder / member)) for member in named]


def members_outside(records: Iterable[ImageRecord], roots: Sequence[Path]) -> list[Path]:
    """Recorded members that lie outside every root and still exist, sorted."""
    absolute = [Path(os.path.abspath(r)) for r in roots]
    found: set[Path] = set()
    for record in records:
        for path in member_paths(record):
            if any(path.is_relative_to(root) for root in absolute):
                continue  # inside: the scan saw it, or it is gone or filtered out
            if path.is_file():
                found.add(path)
    return sorted(found)


def outside_context(
    records: Sequence[ImageRecord], roots: Sequence[Path], *, jobs: int | None, cache_path: Path | None,
    faces: bool = True,
) -> list[ImageRecord]:
    """The recorded members outside ``roots``, analysed (from the cache, normally): context for grouping only."""
    outside = members_outside(records, roots)
    return analyse_roots(outside, jobs=jobs, cache_path=cache_path, faces=faces).ok_records if outside else []


def seen_groups(result: DupeResult, inside: set[Path]) -> DupeResult:
    """Only the groups and similar sets with at least one member inside the roots."""

    def seen(members: Iterable[object]) -> bool:
        return any(m.record.file.path in inside for m in members)  # type: ignore[attr-defined]

    return replace(
        result,
        groups=[g for g in result.groups if seen(g.members)],
        similar_sets=[s for s in result.similar_sets if seen(s.members)],
    )


def bursts_seen(bursts: Sequence[Burst], inside: set[Path]) -> list[Burst]:
    """Only the bursts (and single frames) with at least one frame inside the roots."""
    return [b for b in bursts if any(Path(path) in inside for s in b.shots for path in (s.path, *s.companions))]
