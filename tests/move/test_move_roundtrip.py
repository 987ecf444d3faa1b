"""Move then undo on real files: the tree comes back exactly; the user's CSV and changed files are respected."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.move.movekit import (
    BASE_MTIME_NS,
    JPEGS,
    SHOOT_MOVED,
    build_shoot,
    contents,
    put,
    review_files,
    snapshot,
    write_csv,
    write_report,
)
from xmpcull.move import fsops, latest_journal, move_from_report, read_journal, undo_moves

REAL_RENAMEAT2 = fsops.renameat2


@pytest.fixture
def shoot(tmp_path: Path) -> dict:
    return build_shoot(tmp_path)


def test_move_then_undo_restores_the_exact_tree(shoot: dict) -> None:
    root = shoot["root"]
    before = snapshot(root)
    before_dirs = {d: os.stat(root / d).st_mtime_ns for d in ("2024/copies", "été 2023")}

    result = move_from_report(shoot["report_path"])

    assert result.failures == []
    assert review_files(root) == SHOOT_MOVED
    moved = root / "_review_dupes" / "2024" / "copies" / "IMG_1 copy.jpg"
    assert moved.read_bytes() == JPEGS[0].read_bytes()
    assert moved.stat().st_mtime_ns == BASE_MTIME_NS
    assert set(snapshot(root)) == {"2024/IMG_1.jpg", "été 2023/plage.jpg", "été 2023/unrelated.jpg"}

    undone = undo_moves(result.journals[0])

    assert undone.count("restored") == 5 and undone.failures == []
    assert snapshot(root) == before
    assert review_files(root) == set()
    assert {d: os.stat(root / d).st_mtime_ns for d in before_dirs} == before_dirs


def test_dry_run_touches_nothing_and_predicts_destinations(shoot: dict) -> None:
    before = snapshot(shoot["root"])
    result = move_from_report(shoot["report_path"], dry_run=True)
    assert result.count("planned") == 5 and result.journals == []
    assert snapshot(shoot["root"]) == before
    assert not (shoot["root"] / "_review_dupes").exists()


def test_hand_edited_csv_is_the_authority(shoot: dict) -> None:
    files = shoot["files"]
    edits = {str(files["dup"]): None}  # the user deleted this row, and kept dup2 by switching its role

    def edit(row: dict) -> dict | None:
        if row["path"] == str(files["dup2"]):
            return {**row, "role": "keeper"}
        return row if row["path"] not in edits else None

    csv_path = write_csv(shoot["tmp"] / "groups.csv", shoot["report"], edit)
    before = snapshot(shoot["root"])
    result = move_from_report(shoot["report_path"], csv_path)
    assert result.count("moved") == 0
    assert snapshot(shoot["root"]) == before


def test_csv_row_kept_as_duplicate_moves_and_rows_deleted_stay(shoot: dict) -> None:
    files = shoot["files"]
    csv_path = write_csv(shoot["tmp"] / "groups.csv", shoot["report"],
                         lambda row: None if row["path"] == str(files["dup2"]) else row)
    result = move_from_report(shoot["report_path"], csv_path)
    assert {Path(o.source).name for o in result.outcomes if o.status == "moved"} == {
        "IMG_1 copy.jpg", "IMG_1 copy.jpg.xmp", "IMG_1 copy.NEF", "IMG_1 copy.xmp"}
    assert files["dup2"].exists()


def test_changed_file_is_skipped_with_its_family(shoot: dict) -> None:
    files = shoot["files"]
    with open(files["dup"], "ab") as handle:
        handle.write(b"edited")
    os.utime(files["dup"], ns=(BASE_MTIME_NS, BASE_MTIME_NS))  # same mtime, different size
    result = move_from_report(shoot["report_path"])
    skipped = {Path(o.source).name: o.reason for o in result.outcomes if o.status == "skipped"}
    assert "changed since the report" in skipped["IMG_1 copy.jpg"]
    assert set(skipped) == {"IMG_1 copy.jpg", "IMG_1 copy.jpg.xmp", "IMG_1 copy.NEF", "IMG_1 copy.xmp"}
    assert files["dup_raw"].exists() and files["dup_sidecar"].exists()
    assert any("changed since the report" in f.reason for f in result.failures)


def test_same_size_same_mtime_different_bytes_is_caught_by_digest(shoot: dict) -> None:
    dup = shoot["files"]["dup2"]
    data = bytearray(dup.read_bytes())
    data[-3] ^= 0xFF
    put(dup, bytes(data))
    os.utime(dup, ns=(BASE_MTIME_NS, BASE_MTIME_NS))
    result = move_from_report(shoot["report_path"])
    assert [o.reason for o in result.outcomes if o.source == str(dup)] == [
        "changed since the report (content digest differs)"]
    assert dup.exists()


def test_collision_gets_a_suffix_shared_by_the_family_and_never_overwrites(shoot: dict) -> None:
    root = shoot["root"]
    squatter = put(root / "_review_dupes" / "2024" / "copies" / "IMG_1 copy.NEF", b"someone else's file")
    result = move_from_report(shoot["report_path"])
    assert result.failures == []
    assert squatter.read_bytes() == b"someone else's file"
    assert {"2024/copies/IMG_1 copy (1).jpg", "2024/copies/IMG_1 copy (1).jpg.xmp", "2024/copies/IMG_1 copy (1).NEF",
            "2024/copies/IMG_1 copy (1).xmp"} <= review_files(root)
    undo_moves(result.journals[0])
    assert squatter.read_bytes() == b"someone else's file"
    assert shoot["files"]["dup_raw"].read_bytes() == b"raw bytes"


def test_undo_never_overwrites_a_file_that_came_back(shoot: dict) -> None:
    result = move_from_report(shoot["report_path"])
    newcomer = put(shoot["files"]["dup2"], b"new file at the old name")
    undone = undo_moves(result.journals[0])
    conflicts = [o for o in undone.outcomes if o.status == "conflict"]
    assert [Path(c.destination).name for c in conflicts] == ["dup\nwith newline ü.jpg"]
    assert newcomer.read_bytes() == b"new file at the old name"
    assert (shoot["root"] / "_review_dupes" / "été 2023" / "dup\nwith newline ü.jpg").read_bytes() == JPEGS[2].read_bytes()


def test_undo_twice_is_harmless_and_resume_after_undo_is_refused(shoot: dict) -> None:
    from xmpcull.errors import MoveError
    from xmpcull.move import resume_moves

    before = snapshot(shoot["root"])
    result = move_from_report(shoot["report_path"])
    undo_moves(result.journals[0])
    again = undo_moves(result.journals[0])
    assert again.failures == [] and snapshot(shoot["root"]) == before
    with pytest.raises(MoveError, match="undone"):
        resume_moves(result.journals[0])


def test_keepers_and_similar_set_members_never_move(tmp_path: Path) -> None:
    root = tmp_path / "r"
    keeper = put(root / "a.jpg", JPEGS[0])
    dup = put(root / "b.jpg", JPEGS[0])
    dup_is_similar = put(root / "c.jpg", JPEGS[0])
    write_report(tmp_path / "g.json", [root], [(keeper, [dup, dup_is_similar])], similar_sets=[[dup_is_similar]])
    result = move_from_report(tmp_path / "g.json", roots=[root])
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == ["a.jpg", "c.jpg"]
    assert result.failures == []
    assert [f.path for f in result.kept] == [str(dup_is_similar)]


def test_journal_records_intent_before_done_for_every_file(shoot: dict) -> None:
    result = move_from_report(shoot["report_path"])
    journal = result.journals[0]
    assert journal == latest_journal(shoot["root"], "_review_dupes")
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [r["type"] for r in records[:2]] == ["run", "plan"]
    for op in {r["op"] for r in records if r["type"] == "done"}:
        kinds = [r["type"] for r in records if r.get("op") == op]
        assert kinds == ["intent", "done"]
    state = read_journal(journal)
    assert all(op.status == "done" for op in state.ops.values())


def test_disk_full_is_a_per_file_error_and_the_rest_goes_on(shoot: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write_copy = fsops.write_copy

    def full_for_nef(src: Path, tmp: Path) -> str:
        if src.suffix == ".NEF":
            tmp.write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_copy(src, tmp)

    monkeypatch.setattr(fsops, "renameat2", lambda s, d: errno.EXDEV if os.path.dirname(s) != os.path.dirname(d)
                        else REAL_RENAMEAT2(s, d))
    monkeypatch.setattr(fsops, "write_copy", full_for_nef)
    result = move_from_report(shoot["report_path"])
    failed = [o for o in result.outcomes if o.status == "failed"]
    assert [Path(o.source).name for o in failed] == ["IMG_1 copy.NEF"]
    assert "disk full" in failed[0].reason
    assert shoot["files"]["dup_raw"].read_bytes() == b"raw bytes"
    assert not any(p.name.startswith(fsops.TEMP_PREFIX) for p in (shoot["root"] / "_review_dupes").rglob("*"))
    # The NEF failed after its JPEG moved: the Adobe X.xmp stays with the NEF; the other group went on.
    assert shoot["files"]["dup_adobe"].exists()
    assert not shoot["files"]["dup2"].exists()
    assert read_journal(result.journals[0]).ops["m3"].status in ("failed", "skipped")


def _make_immutable(folder: Path, on: bool) -> None:
    if os.geteuid() == 0:  # root ignores mode bits; the immutable attribute stops even root
        subprocess.run(["chattr", "+i" if on else "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555 if on else 0o755)


def test_read_only_source_folder_gives_a_per_file_error(shoot: dict) -> None:
    if os.geteuid() == 0 and shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a folder read-only for root")
    locked = shoot["root"] / "été 2023"
    _make_immutable(locked, True)
    try:
        result = move_from_report(shoot["report_path"])
    finally:
        _make_immutable(locked, False)
    failed = [o for o in result.outcomes if o.status == "failed"]
    assert [Path(o.source).name for o in failed] == ["dup\nwith newline ü.jpg"]
    assert "permission denied" in failed[0].reason or "not permitted" in failed[0].reason
    assert shoot["files"]["dup2"].exists()
    assert result.count("moved") == 4
    before = contents(shoot["root"])
    undo_moves(result.journals[0])
    assert contents(shoot["root"]) == before
