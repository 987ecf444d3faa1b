"""Settings on the command line, as a user types them: config files found by themselves, --config,
--include/--exclude/--ext on every scanning command, an empty root, and what `show` says and returns."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import click
import pytest

from tests.cli.helpers import run_cli, run_json
from tests.conftest import FIXTURES
from xmpcull.cli.main import all_commands

SCANNING = ("run", "analyze", "dupes", "bursts", "crops")
READING_SETTINGS = (*SCANNING, "review", "show", "config")


def _long_options(name: str) -> set[str]:
    command = all_commands()[name]
    return {opt for p in command.params if isinstance(p, click.Option) for opt in p.opts}


@pytest.mark.parametrize("name", READING_SETTINGS)
def test_every_command_that_reads_settings_takes_config(name: str) -> None:
    assert "--config" in _long_options(name)


@pytest.mark.parametrize("name", SCANNING)
def test_every_scanning_command_takes_the_filters(name: str) -> None:
    assert {"--include", "--exclude", "--ext"} <= _long_options(name)


def test_filters_on_the_command_line_and_in_the_roots_file(photo_tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    code, summary = run_json("analyze", photo_tree, "--cache", cache, "--exclude", "day2/*")
    assert code == 0 and summary["images"] == 2
    code, summary = run_json("analyze", photo_tree, "--cache", cache, "--include", "d*.jpg", "--include", "jet.*")
    assert code == 0 and summary["images"] == 2
    code, summary = run_json("analyze", photo_tree, "--cache", cache, "--ext", "png,heic")
    assert code == 0 and summary["images"] == 0
    # ROOT/.xmpcull/config.toml is read without being named; a flag replaces its list.
    (photo_tree / ".xmpcull").mkdir()
    (photo_tree / ".xmpcull" / "config.toml").write_text('[scan]\nexclude = ["portrait.*"]\n', encoding="utf-8")
    code, summary = run_json("analyze", photo_tree, "--cache", cache)
    assert code == 0 and summary["images"] == 3
    code, summary = run_json("analyze", photo_tree, "--cache", cache, "--exclude", "jet.jpg")
    assert code == 0 and summary["images"] == 3
    bad = run_cli("analyze", photo_tree, "--cache", cache, "--ext", "docx")
    assert bad.returncode == 2 and "docx" in bad.stderr


def test_the_users_file_is_read_by_every_command(photo_tree: Path, tmp_path: Path) -> None:
    home = Path(os.environ["XDG_CONFIG_HOME"])  # tests/conftest.py: an empty one per test
    (home / "xmpcull").mkdir(parents=True)
    (home / "xmpcull" / "config.toml").write_text('[scan]\nextensions = ["png"]\n', encoding="utf-8")
    code, summary = run_json("dupes", photo_tree, "--cache", tmp_path / "c.sqlite", "--report", tmp_path / "g.json", "--no-write")
    assert code == 0 and summary["images"] == 0
    given = tmp_path / "mine.toml"
    given.write_text('[scan]\nextensions = ["jpg"]\n', encoding="utf-8")
    code, summary = run_json("dupes", photo_tree, "--cache", tmp_path / "c.sqlite", "--report", tmp_path / "g.json",
                             "--no-write", "--config", given)
    assert code == 0 and summary["images"] == 4


@pytest.mark.parametrize("name", SCANNING)
def test_an_empty_root_says_no_images_found(name: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    extra = {"dupes": ["--report", tmp_path / "g.json"], "bursts": ["--report", tmp_path / "b.json"],
             "crops": ["--aspect", "1:1", "--report", tmp_path / "c.json"]}.get(name, [])
    proc = run_cli(name, empty, "--cache", tmp_path / "c.sqlite", *extra)
    assert proc.returncode == 0, proc.stderr
    assert f"no images found under {empty}" in proc.stdout
    (empty / "notes.txt").write_text("x")
    (empty / "a.jpg").write_bytes(b"x")
    filtered = run_cli(name, empty, "--cache", tmp_path / "c.sqlite", "--exclude", "*.jpg", *extra)
    assert f"no images found under {empty} (after --include/--exclude/--ext)" in filtered.stdout


def test_show_prints_the_decision_its_reason_and_the_keeper(tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    root.mkdir()
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "dunes.jpg")
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "dunes-copy.jpg")
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "jet.jpg")
    cache = tmp_path / "c.sqlite"
    code, _ = run_json("run", root, "--cache", cache)
    assert code == 0
    code, info = run_json("show", root / "dunes-copy.jpg", "--cache", cache)
    assert code == 0
    decision = info["decision"]
    assert decision["report"] == str(root / ".xmpcull" / "report.json")
    assert decision["decision"] == "duplicate" and decision["reason"]
    assert decision["keeper"] == str(root / "dunes.jpg") and decision["keeper_reason"]
    assert decision["dupe_group"].startswith("d-")
    assert list(info)[:2] == ["path", "decision"]  # first thing a person reads
    text = run_cli("show", root / "dunes-copy.jpg", "--cache", cache)
    assert text.returncode == 0
    assert f"keeper: {root / 'dunes.jpg'}" in text.stdout and "decision: duplicate" in text.stdout
    # Without the report, the sidecar still tells the decision and the group.
    shutil.rmtree(root / ".xmpcull")
    code, info = run_json("show", root / "dunes-copy.jpg", "--cache", cache)
    assert code == 0
    assert info["decision"]["decision"] == "duplicate" and info["decision"]["dupe_group"] == decision["dupe_group"]
    code, info = run_json("show", root / "jet.jpg", "--cache", cache)
    assert info["decision"]["decision"] in ("ok", "keeper") and info["decision"]["keeper"] is None


def test_show_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a photo")
    not_image = run_cli("show", tmp_path / "notes.txt", "--no-cache")
    assert not_image.returncode == 1
    assert "not an image type xmpcull handles" in not_image.stderr
    code, info = run_json("show", tmp_path / "notes.txt", "--no-cache")
    assert code == 1 and info["error"] == "not an image type xmpcull handles"
    data = (FIXTURES / "photos/mongolels.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    truncated = run_cli("show", tmp_path / "cut.jpg", "--no-cache")
    assert truncated.returncode == 1 and "cut.jpg" in truncated.stderr and "truncated" in truncated.stderr
    code, info = run_json("show", tmp_path / "cut.jpg", "--no-cache")
    assert code == 1 and "truncated" in info["error"]
    missing = run_cli("show", tmp_path / "nope.jpg", "--no-cache")
    assert missing.returncode == 2
