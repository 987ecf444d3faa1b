"""The planner's rules, with a fake folder listing: which sidecars and companions follow a duplicate."""

from __future__ import annotations

from pathlib import Path

import pytest

from xmpcull.errors import ConfigError
from xmpcull.move.planner import plan_moves, validate_destination
from xmpcull.move.selection import Candidate, Expectation, MoveSelection

ROOT = Path("/r")
EXPECT = Expectation(size=1, mtime=0.0, digest="0" * 32)


def selection(duplicates: list[str], keepers: list[str], protected: tuple[str, ...] = ()) -> MoveSelection:
    candidates = [Candidate(ROOT / d, ROOT, d, "g1", EXPECT) for d in duplicates]
    kept = [ROOT / k for k in keepers]
    return MoveSelection(roots=[ROOT], candidates=candidates,
                         protected=frozenset(kept + [ROOT / p for p in protected]), staying_by_group={"g1": kept})


def planned(sel: MoveSelection, folder: list[str], to: str = "_review_dupes") -> dict[str, tuple[str, str]]:
    listing = {ROOT / "d": folder}
    plan = plan_moves(sel, to, listdir=lambda p: listing[p])
    return {m.source.name: (m.kind, m.destination(0).relative_to(ROOT).as_posix()) for m in plan.moves}


def test_adobe_sidecar_stays_with_a_raw_that_stays() -> None:
    folder = ["A.jpg", "B.jpg", "B.jpg.xmp", "B.CR2", "B.xmp"]
    moves = planned(selection(["d/B.jpg"], ["d/A.jpg"], protected=("d/B.CR2",)), folder)
    assert moves == {"B.jpg": ("duplicate", "_review_dupes/d/B.jpg"), "B.jpg.xmp": ("sidecar", "_review_dupes/d/B.jpg.xmp")}


def test_adobe_sidecar_goes_when_the_whole_stem_goes() -> None:
    folder = ["A.jpg", "B.jpg", "B.CR2", "B.xmp", "B.XMP.bak", "Bx.CR2"]
    moves = planned(selection(["d/B.jpg"], ["d/A.jpg"]), folder)
    assert moves == {"B.jpg": ("duplicate", "_review_dupes/d/B.jpg"), "B.CR2": ("companion", "_review_dupes/d/B.CR2"),
                     "B.xmp": ("sidecar", "_review_dupes/d/B.xmp")}


def test_darktable_duplicate_version_sidecars_follow_but_not_another_images_sidecar() -> None:
    folder = ["A.NEF", "B.NEF", "B.NEF.xmp", "B_01.NEF.xmp", "B_02.NEF", "B_02.NEF.xmp"]
    moves = planned(selection(["d/B.NEF"], ["d/A.NEF"]), folder)
    assert set(moves) == {"B.NEF", "B.NEF.xmp", "B_01.NEF.xmp"}


def test_keeper_companion_is_never_dragged_along() -> None:
    folder = ["B.jpg", "B.CR2", "B.xmp"]
    moves = planned(selection(["d/B.jpg"], ["d/B.CR2"]), folder)
    assert moves == {"B.jpg": ("duplicate", "_review_dupes/d/B.jpg")}


def test_group_keeping_no_copy_in_place_is_refused() -> None:
    sel = selection(["d/B.jpg"], ["d/A.jpg"])
    plan = plan_moves(sel, listdir=lambda p: ["B.jpg"])  # the keeper A.jpg is gone
    assert plan.moves == []
    assert "would keep no copy" in plan.failures[0].reason


@pytest.mark.parametrize("relpath, reason", [
    ("../escape.jpg", "not a plain path"),
    ("_review_dupes/d/B.jpg", "already inside the review folder"),
])
def test_paths_that_would_leave_the_root_or_are_already_moved_are_refused(relpath: str, reason: str) -> None:
    sel = selection([], ["d/A.jpg"])
    sel.candidates.append(Candidate(ROOT / relpath, ROOT, relpath, "g1", EXPECT))
    plan = plan_moves(sel, listdir=lambda p: ["A.jpg", "B.jpg", "escape.jpg"])
    assert plan.moves == [] and reason in plan.failures[0].reason


@pytest.mark.parametrize("to", ["", ".", "..", "../out", "/abs", "a/../../b"])
def test_destination_must_stay_inside_the_root(to: str) -> None:
    with pytest.raises(ConfigError):
        validate_destination(to)


def test_collision_suffix_is_shared_by_the_family() -> None:
    folder = ["A.jpg", "B.jpg", "B.jpg.xmp", "B_01.jpg.xmp"]
    sel = selection(["d/B.jpg"], ["d/A.jpg"])
    plan = plan_moves(sel, listdir=lambda p: folder)
    assert sorted(m.destination(2).name for m in plan.moves) == ["B (2).jpg", "B (2).jpg.xmp", "B (2)_01.jpg.xmp"]
