"""Bursts across folders: a run on one folder keeps the bursts it cannot see whole (issue 14).

Three real consecutive frames of a static video camera, stamped as frames of one body
at .00/.20/.40 s, two in cam/ and one in later/; the real command line; sidecars read
back with real exiftool and the ExifTool config xmpcull ships.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import run_json
from tests.conftest import FIXTURES
from tests.test_run import exiftool_tags, snapshot
from tests.test_run_similar_folders import as_list
from xmpcull.group.outside import members_outside
from xmpcull.models import ImageFile, ImageRecord, Metadata
from xmpcull.scan.exiftool import ExifTool

FRAMES = (("vtest_0000.jpg", "cam", "00"), ("vtest_0020.jpg", "cam", "20"), ("vtest_0040.jpg", "later", "40"))


@pytest.fixture
def street(tmp_path: Path) -> Path:
    root = tmp_path / "street"
    (root / "cam").mkdir(parents=True)
    (root / "later").mkdir()
    with ExifTool() as exiftool:
        for name, folder, subsec in FRAMES:
            target = root / folder / name
            shutil.copy(FIXTURES / "video" / name, target)
            exiftool.execute(
                "-m", "-overwrite_original", "-DateTimeOriginal=2019:03:02 10:00:00", f"-SubSecTimeOriginal={subsec}",
                "-Make=Panasonic", "-Model=DMC-GH4", str(target),
            )  # fmt: skip
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "cam/jet.jpg")
    return root


def burst_tags(sidecar: Path) -> dict:
    return exiftool_tags(sidecar, "XMP-xmpcull:all", "XMP-lr:HierarchicalSubject")


def bursts_of(root: Path) -> list[dict]:
    return json.loads((root / ".xmpcull/report.json").read_text())["bursts"]


def test_each_frame_records_the_other_frames_of_its_burst(street: Path, tmp_path: Path) -> None:
    code, summary = run_json("run", street, "--cache", tmp_path / "c.sqlite")
    assert code == 0 and summary["bursts"] == 1 and summary["frames_in_bursts"] == 3
    later = burst_tags(street / "later/vtest_0040.xmp")
    assert later["XMP-xmpcull:BurstSize"] == 3 and later["XMP-xmpcull:BurstIndex"] == 3
    assert as_list(later["XMP-xmpcull:BurstMembers"]) == ["../cam/vtest_0000.jpg", "../cam/vtest_0020.jpg"]
    first = burst_tags(street / "cam/vtest_0000.xmp")
    assert as_list(first["XMP-xmpcull:BurstMembers"]) == ["../later/vtest_0040.jpg", "vtest_0020.jpg"]
    assert "XMP-xmpcull:BurstMembers" not in burst_tags(street / "cam/jet.xmp")


def test_a_subfolder_run_keeps_the_bursts_it_cannot_see_whole(street: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    run_json("run", street, "--cache", cache)
    whole = snapshot(street)
    (burst,) = bursts_of(street)
    for folder in ("later", "cam"):
        for args in (("--cache", cache), ("--no-cache",)):
            code, summary = run_json("run", street / folder, *args)
            assert code == 0 and summary["sidecars_changed"] == 0, (folder, args)
            assert snapshot(street) == whole, (folder, args)  # BurstID, index, size, best, keyword: all still there
            (seen,) = bursts_of(street / folder)  # the whole burst, seen from one folder
            assert (seen["id"], seen["size"], seen["best"]) == (burst["id"], 3, burst["best"])
    code, summary = run_json("run", street, "--cache", cache)
    assert summary["sidecars_changed"] == 0 and snapshot(street) == whole


def test_a_subfolder_run_decides_a_burst_on_the_frames_that_still_exist(street: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    run_json("run", street, "--cache", cache)
    (street / "cam/vtest_0000.jpg").unlink()
    code, _ = run_json("run", street / "later", "--cache", cache)
    assert code == 0
    frame = burst_tags(street / "later/vtest_0040.xmp")
    assert (frame["XMP-xmpcull:BurstSize"], frame["XMP-xmpcull:BurstIndex"]) == (2, 2)
    assert as_list(frame["XMP-xmpcull:BurstMembers"]) == ["../cam/vtest_0020.jpg"]
    later = {k: v for k, v in snapshot(street).items() if k.startswith("later/")}
    run_json("run", street, "--cache", cache)
    assert {k: v for k, v in snapshot(street).items() if k.startswith("later/")} == later


def test_burst_members_alone_lead_to_the_frames_outside(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b/IMG_0002.JPG").write_bytes(b"x")
    image = ImageFile(path=tmp_path / "a/IMG_0001.JPG", root=tmp_path / "a", size=1, mtime_ns=0, format="jpeg")
    record = ImageRecord(file=image, metadata=Metadata(burst_members=("../b/IMG_0002.JPG", "../b/gone.JPG")))
    assert members_outside([record], [tmp_path / "a"]) == [tmp_path / "b/IMG_0002.JPG"]


def test_bursts_on_a_subfolder_keeps_the_bursts_it_cannot_see_whole(street: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    code, summary = run_json("bursts", street, "--report", tmp_path / "whole.json", "--cache", cache)
    assert code == 0 and summary["bursts"] == 1
    whole = snapshot(street)
    (burst,) = json.loads((tmp_path / "whole.json").read_text())["bursts"]
    for folder in ("later", "cam"):
        report = tmp_path / f"{folder}.json"
        code, summary = run_json("bursts", street / folder, "--report", report, "--cache", cache)
        assert code == 0 and summary["sidecars_changed"] == 0, folder
        assert snapshot(street) == whole, folder
        (seen,) = json.loads(report.read_text())["bursts"]
        assert (seen["id"], seen["size"], seen["best"]) == (burst["id"], 3, burst["best"])
