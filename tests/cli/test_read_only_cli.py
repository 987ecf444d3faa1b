"""A read-only photo folder is said once, with a hint, and is not a failed file (real run, real files)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli, run_json
from tests.conftest import FIXTURES


@pytest.fixture
def shoot(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "shoot"
    (root / "archive").mkdir(parents=True)
    (root / "new").mkdir()
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "archive/dunes.jpg")
    shutil.copy(FIXTURES / "camera/iphone_hdr_NO.jpg", root / "archive/flowers.jpg")
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "new/jet.jpg")
    (root / "archive").chmod(0o555)  # mode bits count even for root (xmpcull/sidecar/README.md)
    yield root
    (root / "archive").chmod(0o755)


HINT = "got no sidecar): use --no-write or --report-dir"


def test_run_says_read_only_once_and_exits_zero(shoot: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    for _ in range(2):  # every run, the same single line
        proc = run_cli("run", shoot, "--cache", cache)
        assert proc.returncode == 0, proc.stderr
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert lines == [f"read-only: {shoot / 'archive'} (2 images {HINT}"], proc.stderr
        assert "0 errors" in proc.stdout
    assert sorted(p.name for p in (shoot / "archive").iterdir()) == ["dunes.jpg", "flowers.jpg"]
    assert (shoot / "new/jet.xmp").exists()
    code, summary = run_json("run", shoot, "--cache", cache)
    assert code == 0
    assert summary["errors"] == []
    assert summary["read_only"] == [{"folder": str(shoot / "archive"), "images": 2, "hint": "use --no-write or --report-dir"}]


def test_a_broken_file_still_fails_beside_a_read_only_folder(shoot: Path, tmp_path: Path) -> None:
    (shoot / "new/broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    code, summary = run_json("run", shoot, "--cache", tmp_path / "c.sqlite")
    assert code == 1
    assert [Path(e["path"]).name for e in summary["errors"]] == ["broken.jpg"]
    assert summary["read_only"][0]["images"] == 2


def test_no_write_and_other_commands(shoot: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    quiet = run_cli("run", shoot, "--cache", cache, "--no-write")
    assert quiet.returncode == 0 and "read-only" not in quiet.stderr
    for command, extra in [("dupes", ["--report", tmp_path / "g.json"]), ("bursts", ["--report", tmp_path / "b.json"]),
                           ("crops", ["--aspect", "1:1", "--report", tmp_path / "c.json"])]:
        proc = run_cli(command, shoot, "--cache", cache, *extra)
        assert proc.returncode == 0, (command, proc.stderr)
        assert f"read-only: {shoot / 'archive'} (2 images {HINT}" in proc.stderr, command
        assert "reported and skipped" not in proc.stderr, command
