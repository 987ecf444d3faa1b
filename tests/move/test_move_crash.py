"""Kill the move (or the undo) after every single step; resume or undo must leave no file lost or doubled."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.move.movekit import SHOOT_MOVED, build_shoot, contents, review_files, snapshot, temp_leftovers
from xmpcull.move import fsops, latest_journal, move_from_report, resume_moves, undo_moves


class Crash(BaseException):
    """A simulated kill -9: BaseException, so no `except Exception` cleanup runs."""


def crash_after(count: int) -> Callable[[str], None]:
    calls = 0

    def hook(step: str) -> None:
        nonlocal calls
        calls += 1
        if calls == count:
            raise Crash(step)

    return hook


def count_steps(base: Path) -> int:
    steps: list[str] = []
    shoot = build_shoot(base)
    move_from_report(shoot["report_path"], crash_hook=steps.append)
    return len(steps)


def _fake_exdev(src: bytes, dst: bytes) -> int:
    """Every rename between two folders is 'cross-device'; the temp->final rename stays real."""
    if os.path.dirname(src) != os.path.dirname(dst):
        return errno.EXDEV
    return REAL_RENAMEAT2(src, dst) if REAL_RENAMEAT2 else _rename_plain(src, dst)


def _rename_plain(src: bytes, dst: bytes) -> int:
    if os.path.lexists(dst):
        return errno.EEXIST
    os.rename(src, dst)
    return 0


REAL_RENAMEAT2 = fsops.renameat2
MODES = {
    "renameat2": lambda mp: None,
    "reserve-fallback": lambda mp: mp.setattr(fsops, "renameat2", None),
    "simulated-exdev": lambda mp: mp.setattr(fsops, "renameat2", _fake_exdev),
}


@pytest.fixture(params=sorted(MODES))
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "renameat2" and REAL_RENAMEAT2 is None:
        pytest.skip("renameat2 is not available on this platform")
    MODES[request.param](monkeypatch)
    return request.param


def _crashed_move(base: Path, at: int) -> dict:
    shoot = build_shoot(base)
    shoot["before"] = snapshot(shoot["root"])
    shoot["bytes"] = contents(shoot["root"])
    with pytest.raises(Crash):
        move_from_report(shoot["report_path"], crash_hook=crash_after(at))
    # Nothing lost or doubled even before recovery, apart from one of our own temp copies.
    assert len(temp_leftovers(shoot["root"])) <= 1
    on_disk = contents(shoot["root"], with_temps=False)
    # Between "placed" and "source removed" the verified copy and the original coexist.
    assert on_disk == shoot["bytes"] or len(on_disk) == len(shoot["bytes"]) + 1
    shoot["journal"] = latest_journal(shoot["root"], "_review_dupes")
    return shoot


def test_crash_at_every_step_then_resume_completes_the_move(tmp_path: Path, mode: str) -> None:
    total = count_steps(tmp_path / "count")
    assert total >= 10
    for at in range(1, total + 1):
        shoot = _crashed_move(tmp_path / f"r{at}", at)
        result = resume_moves(shoot["journal"])
        assert result.failures == [], (at, result.failures)
        assert review_files(shoot["root"]) == SHOOT_MOVED, at
        assert contents(shoot["root"]) == shoot["bytes"], at
        assert temp_leftovers(shoot["root"]) == [], at
        kept = {k: v for k, v in shoot["before"].items() if k not in SHOOT_MOVED}
        assert snapshot(shoot["root"]) == kept, at


def test_crash_at_every_step_then_undo_restores_the_tree(tmp_path: Path, mode: str) -> None:
    total = count_steps(tmp_path / "count")
    for at in range(1, total + 1):
        shoot = _crashed_move(tmp_path / f"u{at}", at)
        result = undo_moves(shoot["journal"])
        assert result.failures == [], (at, result.failures)
        assert snapshot(shoot["root"]) == shoot["before"], at
        assert review_files(shoot["root"]) == set(), at
        assert temp_leftovers(shoot["root"]) == [], at


def test_crash_during_undo_then_undo_again(tmp_path: Path, mode: str) -> None:
    probe = build_shoot(tmp_path / "probe")
    done = move_from_report(probe["report_path"])
    steps: list[str] = []
    undo_moves(done.journals[0], crash_hook=steps.append)
    for at in range(1, len(steps) + 1):
        shoot = build_shoot(tmp_path / f"x{at}")
        before = snapshot(shoot["root"])
        journal = move_from_report(shoot["report_path"]).journals[0]
        with pytest.raises(Crash):
            undo_moves(journal, crash_hook=crash_after(at))
        undo_moves(journal)
        assert snapshot(shoot["root"]) == before, at
        assert temp_leftovers(shoot["root"]) == [], at


def test_crash_during_resume_then_resume_again(tmp_path: Path) -> None:
    shoot = _crashed_move(tmp_path / "a", 4)
    for at in (1, 2, 3):
        with pytest.raises(Crash):
            resume_moves(shoot["journal"], crash_hook=crash_after(at))
    resume_moves(shoot["journal"])
    assert review_files(shoot["root"]) == SHOOT_MOVED
    assert contents(shoot["root"]) == shoot["bytes"]


def test_torn_last_journal_line_is_ignored(tmp_path: Path) -> None:
    shoot = _crashed_move(tmp_path / "a", 5)
    with open(shoot["journal"], "ab") as handle:
        handle.write(b'{"type": "done", "op": "m')  # the write a kill -9 interrupted
    resume_moves(shoot["journal"])
    assert review_files(shoot["root"]) == SHOOT_MOVED
    assert contents(shoot["root"]) == shoot["bytes"]
    undo_moves(shoot["journal"])
    assert snapshot(shoot["root"]) == shoot["before"]


KILL_SCRIPT = """
import os, sys
from xmpcull.move import fsops, move_from_report
if sys.argv[3] == "exdev":
    real = fsops.renameat2
    fsops.renameat2 = lambda s, d: 18 if os.path.dirname(s) != os.path.dirname(d) else real(s, d)
count = 0
def hook(step):
    global count
    count += 1
    if count == int(sys.argv[2]):
        os.kill(os.getpid(), 9)
move_from_report(sys.argv[1], crash_hook=hook)
"""


@pytest.mark.parametrize("variant", ["same-device", "exdev"])
def test_real_sigkill_then_resume(tmp_path: Path, variant: str) -> None:
    """A real kill -9 of a separate process (no Python cleanup at all), at a few steps."""
    if REAL_RENAMEAT2 is None and variant == "exdev":
        pytest.skip("needs renameat2 for the in-folder rename of the simulated EXDEV path")
    repo = Path(__file__).resolve().parents[2]
    for at in (2, 3, 6):
        shoot = build_shoot(tmp_path / f"{variant}{at}")
        original = contents(shoot["root"])
        run = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(shoot["report_path"]), str(at), variant],
                             cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)}, capture_output=True)
        assert run.returncode == -9, run.stderr.decode()
        resume_moves(latest_journal(shoot["root"], "_review_dupes"))
        assert review_files(shoot["root"]) == SHOOT_MOVED
        assert contents(shoot["root"]) == original


def test_real_second_filesystem(tmp_path: Path) -> None:
    """_review_dupes is a symlink onto /dev/shm (tmpfs): os.rename really fails with EXDEV."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        pytest.skip("no writable /dev/shm tmpfs for a real second filesystem")
    if os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("/dev/shm is on the same device as the test folder")
    import tempfile

    with tempfile.TemporaryDirectory(dir=shm) as other:
        shoot = build_shoot(tmp_path)
        os.chmod(shoot["files"]["dup"], 0o444)  # a read-only file keeps its mode across the copy
        before = snapshot(shoot["root"])
        (shoot["root"] / "_review_dupes").symlink_to(other)
        result = move_from_report(shoot["report_path"])
        assert result.failures == []
        assert review_files(shoot["root"]) == SHOOT_MOVED
        moved = Path(other) / "2024" / "copies" / "IMG_1 copy.jpg"
        assert os.stat(moved).st_dev != os.stat(shoot["root"]).st_dev
        assert moved.stat().st_mtime_ns == before["2024/copies/IMG_1 copy.jpg"][1]
        assert moved.stat().st_mode == before["2024/copies/IMG_1 copy.jpg"][2] == 0o100444
        undo_moves(result.journals[0])
        assert snapshot(shoot["root"]) == before
