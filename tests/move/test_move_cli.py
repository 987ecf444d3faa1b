"""`xmpcull move` / `xmpcull undo` from the command line, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.move.movekit import SHOOT_MOVED, build_shoot, review_files, snapshot
from xmpcull.cli.move import move, undo
from xmpcull.errors import MoveError


def test_dry_run_then_move_then_undo_by_root(tmp_path: Path) -> None:
    shoot = build_shoot(tmp_path)
    before = snapshot(shoot["root"])
    runner = CliRunner()

    dry = runner.invoke(move, ["--report", str(shoot["report_path"]), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run: 5 planned" in dry.output
    assert "'" + str(shoot["files"]["dup2"]).replace("\n", "\\n") + "'" in dry.output  # newline name on one line
    assert snapshot(shoot["root"]) == before

    done = runner.invoke(move, ["--report", str(shoot["report_path"]), "--json"])
    assert done.exit_code == 0, done.output
    payload = json.loads(done.output)
    assert sorted(o["status"] for o in payload["outcomes"]) == ["moved"] * 5
    assert review_files(shoot["root"]) == SHOOT_MOVED

    back = runner.invoke(undo, ["--root", str(shoot["root"])])
    assert back.exit_code == 0, back.output
    assert "undone: 5 restored, 0 conflict, 0 failed" in back.output
    assert snapshot(shoot["root"]) == before


def test_skipped_file_gives_exit_code_1(tmp_path: Path) -> None:
    shoot = build_shoot(tmp_path)
    shoot["files"]["dup2"].write_bytes(b"changed")
    result = CliRunner().invoke(move, ["--report", str(shoot["report_path"])])
    assert result.exit_code == 1
    assert "changed since the report" in result.output


def test_undo_without_any_journal_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(undo, ["--root", str(tmp_path)])
    assert isinstance(result.exception, MoveError)


@pytest.mark.parametrize("to", ["../elsewhere", "/abs"])
def test_destination_outside_the_root_is_refused(tmp_path: Path, to: str) -> None:
    shoot = build_shoot(tmp_path)
    result = CliRunner().invoke(move, ["--report", str(shoot["report_path"]), "--to", to])
    assert result.exception is not None and "--to must be a folder inside each root" in str(result.exception)
    assert not (tmp_path / "elsewhere").exists()


def test_burst_frames_never_move(tmp_path: Path) -> None:
    shoot = build_shoot(tmp_path)
    bursts = tmp_path / "bursts.json"
    bursts.write_text(json.dumps({"version": 1, "roots": [str(shoot["root"])], "bursts": [
        {"id": "b1", "members": [{"path": str(shoot["files"]["dup2"]), "companions": []}]}], "no_time": []}))
    result = CliRunner().invoke(move, ["--report", str(shoot["report_path"]), "--bursts", str(bursts)])
    assert result.exit_code == 0  # keeping a protected frame is the rule working, not a failure
    assert shoot["files"]["dup2"].exists()
    assert "1 duplicate(s) kept in place" in result.output


def test_resume_finishes_an_interrupted_run(tmp_path: Path) -> None:
    from xmpcull.move import move_from_report

    class Crash(BaseException):
        pass

    calls: list[str] = []

    def crash_on_fourth(step: str) -> None:
        calls.append(step)
        if len(calls) == 4:
            raise Crash

    shoot = build_shoot(tmp_path)
    with pytest.raises(Crash):
        move_from_report(shoot["report_path"], crash_hook=crash_on_fourth)
    assert review_files(shoot["root"]) != SHOOT_MOVED
    result = CliRunner().invoke(move, ["--report", str(shoot["report_path"]), "--resume"])
    assert result.exit_code == 0, result.output
    assert "resumed: 5 moved" in result.output
    assert review_files(shoot["root"]) == SHOOT_MOVED


def test_undo_by_root_puts_back_every_run_and_counts_honestly(tmp_path: Path) -> None:
    """A second `move` that moves nothing still leaves a journal; `undo --root` must not stop at it."""
    from tests.move.movekit import write_csv
    from xmpcull.move.journal import journal_folder

    shoot = build_shoot(tmp_path)
    held = shoot["files"]["dup2"]
    csv_path = write_csv(tmp_path / "groups.csv", shoot["report"], lambda row: None if row["path"] == str(held) else row)
    runner = CliRunner()
    original = snapshot(shoot["root"])
    first = runner.invoke(move, ["--report", str(shoot["report_path"]), "--csv", str(csv_path)])
    assert first.exit_code == 0 and "4 moved" in first.output, first.output
    held.write_bytes(held.read_bytes() + b"edited")  # changed since the report: the next move skips it
    edited, rel = snapshot(shoot["root"]), held.relative_to(shoot["root"]).as_posix()
    second = runner.invoke(move, ["--report", str(shoot["report_path"])])
    assert "0 moved, 1 skipped" in second.output, second.output
    assert len(list(journal_folder(shoot["root"], "_review_dupes").glob("*.jsonl"))) == 2

    back = runner.invoke(undo, ["--root", str(shoot["root"])])
    assert back.exit_code == 0, back.output
    assert "undone: 4 restored, 0 conflict, 0 failed" in back.output
    assert len([line for line in back.output.splitlines() if line.startswith("journal: ")]) == 2
    assert snapshot(shoot["root"]) == original | {rel: edited[rel]}
    assert review_files(shoot["root"]) == set()
    again = runner.invoke(undo, ["--root", str(shoot["root"]), "--json"])
    assert again.exit_code == 0, again.output
    assert [o for o in json.loads(again.output)["outcomes"] if o["status"] == "restored"] == []
    assert "undone: 0 restored" in runner.invoke(undo, ["--root", str(shoot["root"])]).output


def test_undo_by_root_restores_what_older_runs_left_newest_first(tmp_path: Path) -> None:
    """Run 1 moves part, run 2 the rest: one undo puts both back, the tree is as before."""
    from tests.move.movekit import write_csv

    shoot = build_shoot(tmp_path)
    before = snapshot(shoot["root"])
    held = str(shoot["files"]["dup2"])
    csv_path = write_csv(tmp_path / "groups.csv", shoot["report"], lambda row: None if row["path"] == held else row)
    runner = CliRunner()
    assert runner.invoke(move, ["--report", str(shoot["report_path"]), "--csv", str(csv_path)]).exit_code == 0
    assert shoot["files"]["dup2"].exists()
    rest = runner.invoke(move, ["--report", str(shoot["report_path"])])
    assert "1 moved" in rest.output, rest.output
    assert review_files(shoot["root"]) == SHOOT_MOVED
    back = runner.invoke(undo, ["--root", str(shoot["root"]), "--json"])
    assert back.exit_code == 0, back.output
    restored = [o for o in json.loads(back.output)["outcomes"] if o["status"] == "restored"]
    assert len(restored) == 5 and len({o["destination"] for o in restored}) == 5
    assert restored[0]["destination"] == held  # the newest run first
    assert snapshot(shoot["root"]) == before
