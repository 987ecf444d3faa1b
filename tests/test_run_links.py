"""Symbolic links inside a root (issue 15 item 3), with real `xmpcull run`, `move` and `undo` processes.

The tree: two real copies of one photo inside the root, a third reached through a
file link pointing outside (named to sort first, so it used to win every tie),
and a folder link leading outside to a copy of another photo.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import run_json
from tests.conftest import FIXTURES
from tests.move.movekit import member


@pytest.fixture
def linked_tree(tmp_path: Path) -> dict[str, Path]:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    (outside / "ext").mkdir(parents=True)
    dunes, portrait = FIXTURES / "photos/mongolels.jpg", FIXTURES / "photos/portrait.jpg"
    shutil.copy(dunes, outside / "0.jpg")
    shutil.copy(dunes, root / "m1.jpg")
    shutil.copy(dunes, root / "sub" / "m2.jpg")
    os.symlink(outside / "0.jpg", root / "0.jpg")
    shutil.copy(portrait, root / "sub" / "p.jpg")
    shutil.copy(portrait, outside / "ext" / "p.jpg")
    os.symlink(outside / "ext", root / "ext")
    return {"root": root, "outside": outside, "tmp": tmp_path}


def outside_state(outside: Path) -> dict[str, bytes]:
    return {p.relative_to(outside).as_posix(): p.read_bytes() for p in sorted(outside.rglob("*")) if p.is_file()}


def groups(root: Path) -> list[dict]:
    return json.loads((root / ".xmpcull/report.json").read_text())["groups"]


def test_links_leading_outside_are_not_followed_and_nothing_outside_is_written_or_moved(linked_tree) -> None:
    root, outside = linked_tree["root"], linked_tree["outside"]
    before = outside_state(outside)
    code, summary = run_json("run", root, "--no-cache")
    assert code == 0, summary["errors"]
    assert outside_state(outside) == before  # no sidecar written outside the root
    assert sorted(summary["outside_links"]) == [str(root / "0.jpg"), str(root / "ext")]
    [group] = groups(root)
    assert sorted(Path(m["path"]).name for m in group["members"]) == ["m1.jpg", "m2.jpg"]

    code, moved = run_json("move", "--report", root / ".xmpcull/report.json")
    assert code == 0, moved
    assert sum(o["status"] == "moved" and o["source"].endswith(".jpg") for o in moved["outcomes"]) == 1
    assert outside_state(outside) == before
    assert (root / "m1.jpg").exists() or (root / "sub/m2.jpg").exists()


def test_with_follow_links_a_link_is_never_the_keeper_and_what_it_reaches_never_moves(linked_tree) -> None:
    root, outside = linked_tree["root"], linked_tree["outside"]
    code, summary = run_json("run", root, "--no-cache", "--follow-links")
    assert code == 0, summary["errors"]
    assert summary["outside_links"] == []
    assert (outside / "ext" / "p.xmp").exists()  # asked for: sidecars beside what the links reach
    by_name = {Path(g["keeper"]).name: g for g in groups(root)}
    assert set(by_name) == {"m1.jpg", "p.jpg"}
    assert by_name["m1.jpg"]["keeper_reason"].startswith("a real file over one reached through a symbolic link")
    assert by_name["p.jpg"]["keeper"] == str(root / "sub" / "p.jpg")

    before = outside_state(outside)
    code, moved = run_json("move", "--report", root / ".xmpcull/report.json")
    outcomes = {o["source"]: o for o in moved["outcomes"]}
    assert outcomes[str(root / "sub/m2.jpg")]["status"] == "moved"
    assert outcomes[str(root / "0.jpg")]["reason"] == "a symbolic link; not moved"
    assert (root / "m1.jpg").exists() and (root / "0.jpg").is_symlink()
    assert outside_state(outside) == before  # neither the linked file nor the linked folder's copy moved
    assert outcomes[str(root / "ext/p.jpg")]["status"] == "skipped"
    assert "real path is outside the root" in outcomes[str(root / "ext/p.jpg")]["reason"]
    assert code == 1  # the skipped files are reported


def test_an_old_report_with_a_link_keeper_or_a_duplicate_behind_a_folder_link_moves_nothing_of_it(linked_tree) -> None:
    """What a report written before the fix says: the link is the keeper, the outside copy a duplicate."""
    root, outside = linked_tree["root"], linked_tree["outside"]
    report = root / ".xmpcull" / "report.json"
    report.parent.mkdir()
    link, m1, m2 = root / "0.jpg", root / "m1.jpg", root / "sub" / "m2.jpg"
    p_inside, p_behind_link = root / "sub" / "p.jpg", root / "ext" / "p.jpg"
    report.write_text(json.dumps({"version": 1, "roots": [str(root)], "similar_sets": [], "groups": [
        {"id": "g1", "kind": "exact", "keeper": str(link), "keeper_reason": "tie",
         "members": [member(link, root, "keeper"), member(m1, root, "duplicate"), member(m2, root, "duplicate")]},
        {"id": "g2", "kind": "exact", "keeper": str(p_inside), "keeper_reason": "tie",
         "members": [member(p_inside, root, "keeper"), member(p_behind_link, root, "duplicate")]},
    ]}))
    before = outside_state(outside)
    code, moved = run_json("move", "--report", report)
    assert code == 1
    reasons = {Path(f["path"]).relative_to(root).as_posix(): f["reason"] for f in moved["failures"]}
    assert "would keep no copy in place" in reasons["m1.jpg"] and "would keep no copy in place" in reasons["sub/m2.jpg"]
    assert "real path is outside the root" in reasons["ext/p.jpg"]
    assert m1.exists() and m2.exists() and p_inside.exists()
    assert outside_state(outside) == before


def test_undo_leaves_a_file_in_review_when_its_folder_became_a_link_leading_outside(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "shoot").mkdir(parents=True)
    outside.mkdir()
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "keep.jpg")
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "shoot" / "copy.jpg")
    code, _ = run_json("run", root, "--no-cache", "--no-write")
    assert code == 0
    code, moved = run_json("move", "--report", root / ".xmpcull/report.json")
    assert code == 0 and [o["status"] for o in moved["outcomes"]] == ["moved"]
    moved_to = Path(moved["outcomes"][0]["destination"])
    original = Path(moved["outcomes"][0]["source"])
    (root / original.parent.relative_to(root)).rmdir()
    os.symlink(outside, root / original.parent.relative_to(root))  # the folder now leads outside
    code, undone = run_json("undo", "--root", root)
    assert code == 1
    assert [o["status"] for o in undone["outcomes"]] == ["skipped"]
    assert "leads outside the root" in undone["outcomes"][0]["reason"]
    assert moved_to.exists() and list(outside.iterdir()) == []
