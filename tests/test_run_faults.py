"""`xmpcull run` against faults a real photo library has: undecodable names, damaged caches,
leftover temp files, images that vanish mid-run. Each run must finish with its report."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli, run_json
from tests.conftest import FIXTURES
from xmpcull.sidecar import exiftool_config_path

BAD_NAME = os.fsdecode(b"bad\xff\xfe name.jpg")  # not UTF-8: legal on Linux, common on old NAS copies


@pytest.fixture
def odd_shoot(tmp_path: Path) -> Path:
    root = tmp_path / "shoot"
    root.mkdir()
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "dunes.jpg")
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / BAD_NAME)  # an exact duplicate of dunes.jpg
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "jet.jpg")
    return root


def xmpcull_fields(sidecar: Path) -> dict:
    out = subprocess.run(
        [b"exiftool", b"-config", os.fsencode(exiftool_config_path()), b"-j", b"-XMP-xmpcull:all", os.fsencode(sidecar)],
        capture_output=True, check=True,
    )
    return json.loads(out.stdout)[0]


def sidecar_bytes(root: Path) -> dict[bytes, bytes]:
    return {os.fsencode(p.name): p.read_bytes() for p in sorted(root.glob("*.xmp"))}


@pytest.mark.parametrize("cache", ["cache", "no-cache"])
def test_undecodable_name_is_analysed_like_any_file(odd_shoot: Path, tmp_path: Path, cache: str) -> None:
    cache_args = ["--cache", tmp_path / "c.sqlite"] if cache == "cache" else ["--no-cache"]
    code, summary = run_json("run", odd_shoot, *cache_args)
    assert code == 0, summary["errors"]
    assert summary["images"] == 3 and summary["analysed"] == 3
    assert summary["duplicate_groups"] == 1 and summary["duplicates"] == 1
    # The sidecar carries the name's own bytes, and exiftool reads it.
    sidecar = odd_shoot / os.fsdecode(b"bad\xff\xfe name.xmp")
    assert xmpcull_fields(sidecar)["DupGroup"]
    # JSON: the bytes appear as \udcXX escapes, which give the name back exactly.
    report_text = (odd_shoot / ".xmpcull/report.json").read_bytes()
    assert b"bad\\udcff\\udcfe name.jpg" in report_text
    report = json.loads(report_text)
    paths = {os.fsencode(i["path"]) for i in report["images"]}
    assert os.fsencode(odd_shoot / BAD_NAME) in paths
    # CSV: the same escape; the file is valid UTF-8.
    with open(odd_shoot / ".xmpcull/report.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert "bad\\udcff\\udcfe name.jpg" in {r["relpath"] for r in rows}
    # A re-run writes no byte.
    before = sidecar_bytes(odd_shoot)
    code, summary = run_json("run", odd_shoot, *cache_args)
    assert code == 0 and summary["sidecars_changed"] == 0
    assert sidecar_bytes(odd_shoot) == before


def test_undecodable_name_moves_and_comes_back(odd_shoot: Path, tmp_path: Path) -> None:
    run_json("run", odd_shoot, "--cache", tmp_path / "c.sqlite")
    report = odd_shoot / ".xmpcull/report.json"
    keeper = json.loads(report.read_bytes())["groups"][0]["keeper"]
    moved_name = "dunes.jpg" if keeper.endswith(BAD_NAME) else BAD_NAME
    code, out = run_json("move", "--report", report)
    assert code == 0, out
    assert (odd_shoot / "_review_dupes" / moved_name).exists() and not (odd_shoot / moved_name).exists()
    code, out = run_json("undo", "--root", odd_shoot)
    assert code == 0, out
    assert (odd_shoot / moved_name).read_bytes() == (FIXTURES / "photos/mongolels.jpg").read_bytes()


def test_undecodable_name_prints_escaped_on_a_terminal(odd_shoot: Path, tmp_path: Path) -> None:
    (odd_shoot / BAD_NAME).write_bytes(b"not a jpeg")  # now it fails, and its name is printed
    proc = run_cli("run", odd_shoot, "--cache", tmp_path / "c.sqlite", env={"PYTHONIOENCODING": "utf-8"})
    assert proc.returncode == 1, proc.stderr
    assert "bad\\udcff\\udcfe name.jpg" in proc.stderr
    assert (odd_shoot / ".xmpcull/report.json").exists()
