import os
import shutil
from pathlib import Path

from tests.cli.helpers import run_cli, run_json
from tests.conftest import FIXTURES


def test_help_lists_commands() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    for command in ("analyze", "show"):
        assert command in proc.stdout


def test_analyze_all_good_exits_zero_with_json_summary(photo_tree: Path, tmp_path: Path) -> None:
    code, summary = run_json("analyze", photo_tree, "--cache", tmp_path / "c.sqlite")
    assert code == 0
    assert summary["images"] == 4 and summary["analysed"] == 4
    assert summary["by_format"] == {"jpeg": 4}
    assert summary["errors"] == []
    assert summary["roots"] == [str(photo_tree)]
    code, again = run_json("analyze", photo_tree, "--cache", tmp_path / "c.sqlite")
    assert again["cache_hits"] == 4


def test_some_failures_exit_one_and_are_listed(photo_tree: Path) -> None:
    (photo_tree / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    code, summary = run_json("analyze", photo_tree, "--no-cache")
    assert code == 1
    assert [Path(e["path"]).name for e in summary["errors"]] == ["broken.jpg"]
    assert summary["analysed"] == 4
    proc = run_cli("analyze", photo_tree, "--no-cache")
    assert proc.returncode == 1 and "broken.jpg" in proc.stderr and "1 failed" in proc.stdout


def test_missing_root_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli("analyze", tmp_path / "nope")
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_missing_exiftool_cannot_run(photo_tree: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # A PATH with python but without exiftool.
    proc = run_cli("analyze", photo_tree, "--no-cache", env={"PATH": str(bin_dir)})
    assert proc.returncode == 3
    assert "exiftool is not installed" in proc.stderr


def test_show_reports_metadata_and_features_of_one_file(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "photos/nikon-e2100.jpg", tmp_path / "street.jpg")
    code, info = run_json("show", tmp_path / "street.jpg", "--no-cache")
    assert code == 0
    assert info["metadata"]["orientation"] == 8
    assert info["metadata"]["capture_time"]["iso"] == "2011-06-28T20:31:21"
    assert (info["features"]["width"], info["features"]["height"]) == (1200, 1600)
    assert len(info["features"]["phash"]) == 16
    proc = run_cli("show", tmp_path / "street.jpg", "--no-cache")
    assert "orientation: 8" in proc.stdout


def test_quiet_when_not_a_terminal(photo_tree: Path) -> None:
    proc = run_cli("analyze", photo_tree, "--no-cache")
    assert proc.stderr == ""  # no progress bar noise in pipes and logs
    assert os.linesep in proc.stdout


def test_show_includes_the_users_sidecar_decisions(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "xmp/lightroom/IMG_5910.jpg", tmp_path / "IMG_5910.jpg")
    shutil.copy(FIXTURES / "xmp/lightroom/IMG_5910.xmp", tmp_path / "IMG_5910.xmp")
    code, info = run_json("show", tmp_path / "IMG_5910.jpg", "--no-cache")
    assert code == 0
    assert info["sidecar"]["path"] == str(tmp_path / "IMG_5910.xmp")
    assert info["sidecar"]["rating"] == 3 and info["sidecar"]["crop"]["top"] == 0.231776


def test_exiftool_config_path_is_printed_and_usable() -> None:
    proc = run_cli("exiftool-config")
    assert proc.returncode == 0
    config = Path(proc.stdout.strip())
    assert config.is_file() and "xmpcull" in config.read_text()
