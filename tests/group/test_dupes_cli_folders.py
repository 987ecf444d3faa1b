"""``xmpcull dupes SUBFOLDER``: the groups and similar sets whose members lie elsewhere stay as a
whole-tree ``dupes`` run decides them (read-only outside context, as ``run`` has).

Real photos, the real command line, sidecars compared byte for byte.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.cli.helpers import run_json
from tests.conftest import FIXTURES
from tests.test_run import snapshot


@pytest.fixture
def shoot(tmp_path: Path) -> Path:
    """day1/: the original and one street lamp; exports/: its q70 web export and the other lamp 26 s later."""
    root = tmp_path / "shoot"
    (root / "day1").mkdir(parents=True)
    (root / "exports").mkdir()
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "day1/IMG_1001.JPG")
    with Image.open(FIXTURES / "photos/mongolels.jpg") as im:
        im.resize((475, 317)).save(root / "exports/IMG_1001-web.jpg", quality=70)
    shutil.copy(FIXTURES / "camera/canon_hdr_NO.jpg", root / "day1/lamp1.jpg")
    shutil.copy(FIXTURES / "camera/canon_hdr_YES.jpg", root / "exports/lamp2.jpg")
    return root


def groups_of(report: Path) -> dict[str, object]:
    data = json.loads(report.read_text())

    def members(entry: dict) -> tuple:
        return tuple(sorted((m["path"], m["role"]) for m in entry["members"]))

    return {
        "groups": sorted((g["id"], g["keeper"], members(g)) for g in data["groups"]),
        "similar": sorted((s["id"], members(s)) for s in data["similar_sets"]),
    }


def test_dupes_on_a_subfolder_keeps_the_groups_and_sets_it_cannot_see_whole(shoot: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    code, summary = run_json("dupes", shoot, "--report", tmp_path / "whole.json", "--cache", cache)
    assert code == 0 and summary["groups"] == 1 and summary["similar_sets"] == 1
    whole, seen = snapshot(shoot), groups_of(tmp_path / "whole.json")
    for folder in ("exports", "day1"):
        for args in (("--cache", cache), ("--no-cache",)):
            report = tmp_path / f"{folder}.json"
            code, summary = run_json("dupes", shoot / folder, "--report", report, *args)
            assert code == 0 and summary["sidecars_written"] == 0, (folder, args)
            assert snapshot(shoot) == whole, (folder, args)  # DupGroup, the Red label, SimilarSet: still there
            assert groups_of(report) == seen, (folder, args)  # the same groups, keeper and members in the report
