"""What `move` and `undo` believe (issue 15 items 4 and 5): a journal or report placed by someone
else cannot make them move a file anywhere but between a root and its review folder."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.helpers import run_cli, run_json
from tests.move.movekit import JPEGS, build_shoot, put, snapshot, write_report
from xmpcull.errors import MoveError, ReportError
from xmpcull.move import move_from_report, undo_moves

OLD_NS = 86_400 * 10**9  # 1970-01-02: what a crafted journal gave a folder as its mtime


def tree_state(base: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every file and folder under ``base``, journals left out: relpath -> (bytes or None, mtime_ns)."""
    found = {}
    for folder, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if d != ".xmpcull-journal"]
        for name in dirs:
            path = Path(folder) / name
            found[path.relative_to(base).as_posix() + "/"] = (None, path.lstat().st_mtime_ns)
        for name in files:
            path = Path(folder) / name
            found[path.relative_to(base).as_posix()] = (path.read_bytes(), path.lstat().st_mtime_ns)
    return found


def write_journal(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_a_planted_journal_moving_an_outside_file_into_the_root_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "photos", tmp_path / "home"
    secret = put(outside / "secret.txt", b"private")
    put(root / "a.jpg", JPEGS[0])
    review = root / "_review_dupes"
    journal = review / ".xmpcull-journal" / "20990101T000000.000000Z-1.jsonl"
    write_journal(journal, [
        {"type": "run", "version": 1, "run": journal.stem, "root": str(root), "dest": str(review)},
        {"type": "plan", "ops": [{"op": "m1", "src": str(root / "stolen.txt"), "root": str(root), "kind": "duplicate",
                                  "group": "g1", "dest_folder": str(review), "family": "stolen", "rest": ".txt",
                                  "expect": None}]},
        # The "moved" file is the secret: undo would bring it into the root and date the root 1970.
        {"type": "intent", "op": "m1", "src": str(root / "stolen.txt"), "dst": str(secret),
         "tmp": str(root / ".xmpcull-tmp-m1"), "digest": "0" * 32, "size": 7, "mtime_ns": 0,
         "src_dir_mtime_ns": OLD_NS},
        {"type": "done", "op": "m1"},
    ])
    before = tree_state(tmp_path)
    proc = run_cli("undo", "--root", root)
    assert proc.returncode == 3
    assert "refusing this journal" in proc.stderr and "nothing was moved" in proc.stderr
    assert tree_state(tmp_path) == before


def test_undo_leaves_a_file_whose_bytes_are_not_the_journals_in_the_review_folder(tmp_path: Path) -> None:
    shoot = build_shoot(tmp_path)
    moved = move_from_report(shoot["report_path"])
    review_copy = shoot["root"] / "_review_dupes" / "2024" / "copies" / "IMG_1 copy.NEF"
    review_copy.write_bytes(b"another file put in its place")
    code, undone = run_json("undo", "--root", shoot["root"])
    assert code == 1
    skipped = [o for o in undone["outcomes"] if o["status"] == "skipped"]
    assert [Path(o["source"]).name for o in skipped] == ["IMG_1 copy.NEF"]
    assert "not the ones this journal moved" in skipped[0]["reason"]
    assert review_copy.read_bytes() == b"another file put in its place"
    assert not shoot["files"]["dup_raw"].exists()
    assert undone["outcomes"] and moved.count("moved") == 5


# ----------------------------------------------------------------- crafted journals, many of them

def _moved_shoot(base: Path) -> tuple[Path, Path, list[dict[str, Any]]]:
    root = base / "photos"
    keep = put(root / "d" / "keep.jpg", JPEGS[0])
    dups = [put(root / "d" / "copy.jpg", JPEGS[0]), put(root / "e" / "copy2.jpg", JPEGS[0])]
    put(root / "e" / "copy2.jpg.xmp", b"<x:xmpmeta/>")
    put(base / "outside" / "d" / "keep.jpg", b"outside file")
    put(base / "outside" / "other.jpg", JPEGS[0])
    report = root / ".xmpcull" / "groups.json"
    report.parent.mkdir()
    write_report(report, [root], [(keep, dups)])
    journal = move_from_report(report).journals[0]
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    return root, journal, records


def _path_choices(base: Path) -> st.SearchStrategy[str]:
    root = base / "photos"
    return st.sampled_from([
        str(base / "outside" / "other.jpg"), str(base / "outside" / "d" / "keep.jpg"), str(base / "outside" / "new.jpg"),
        str(root / "d" / "keep.jpg"), str(root / "d" / "new.jpg"), str(root / "d" / ".." / ".." / "outside" / "x.jpg"),
        str(root / "_review_dupes" / "d" / "copy.jpg"), str(root / "_review_dupes" / ".xmpcull-journal" / "x"),
        str(root / "_review_dupes"), str(root), "relative/x.jpg", "/",
    ])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_whatever_a_journal_says_undo_only_brings_back_the_files_it_moved(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root, journal, records = _moved_shoot(base)
        intents = [i for i, r in enumerate(records) if r["type"] == "intent"]
        moved_bytes = {Path(records[i]["src"]).relative_to(base).as_posix(): (base / records[i]["dst"]).read_bytes()
                       for i in intents}
        for _ in range(data.draw(st.integers(1, 3))):
            index = data.draw(st.sampled_from(intents + [0, 1]))
            record = records[index]
            if record["type"] == "run":
                key = data.draw(st.sampled_from(["root", "dest"]))
            elif record["type"] == "plan":
                record = data.draw(st.sampled_from(record["ops"]))
                key = data.draw(st.sampled_from(["src", "dest_folder", "root", "rest"]))
            else:
                key = data.draw(st.sampled_from(["src", "dst", "tmp", "digest", "src_dir_mtime_ns"]))
            if key == "digest":
                record[key] = data.draw(st.sampled_from(["0" * 32, "zz", None]))
            elif key == "src_dir_mtime_ns":
                record[key] = data.draw(st.sampled_from([OLD_NS, "1970", None]))
            elif key == "rest":
                record[key] = data.draw(st.sampled_from(["/../../../outside/x.jpg", ".JPG", ""]))
            else:
                record[key] = data.draw(_path_choices(base))
        write_journal(journal, records)
        outside_before = tree_state(base / "outside")
        root_before = {k: v for k, v in tree_state(root).items() if not k.startswith("_review_dupes")}
        try:
            undo_moves(journal)
        except MoveError as exc:
            assert "refusing this journal" in exc.reason or "malformed" in exc.reason
        assert tree_state(base / "outside") == outside_before  # nothing outside the root changes, mtimes included
        after = {k: v for k, v in tree_state(root).items() if not k.startswith("_review_dupes")}
        for relpath, (content, _) in root_before.items():  # what was in place stays, with its bytes
            if content is not None:
                assert after[relpath][0] == content
        for relpath, (content, _) in after.items():  # and only files the move took come back, at their place
            if content is not None and relpath not in root_before:
                assert moved_bytes.get(f"photos/{relpath}") == content


# ----------------------------------------------------------------- report roots

def test_a_report_naming_another_folder_as_its_root_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "elsewhere"
    keep, dup = put(victim / "a.jpg", JPEGS[0]), put(victim / "b.jpg", JPEGS[0])
    photos = tmp_path / "photos"
    report = photos / ".xmpcull" / "report.json"
    report.parent.mkdir(parents=True)
    write_report(report, [victim], [(keep, [dup])])
    before = snapshot(victim)
    proc = run_cli("move", "--report", report)
    assert proc.returncode == 3
    assert "the report names roots it does not lie under" in proc.stderr and f"--root '{victim}'" in proc.stderr
    assert snapshot(victim) == before and not (victim / "_review_dupes").exists()
    assert run_cli("move", "--report", report, "--resume").returncode == 3
    with pytest.raises(ReportError):
        move_from_report(report)

    code, moved = run_json("move", "--report", report, "--root", victim)  # the person vouches for it
    assert code == 0 and [o["status"] for o in moved["outcomes"]] == ["moved"]
    assert (victim / "_review_dupes" / "b.jpg").exists()
