"""Similar sets across folders: a run on one folder keeps the sets it cannot see whole (issue 14 item 6).

Real video frames of a static camera and a real pair of one street lamp 26 s apart, split
over two folders; the real command line; sidecars read back with real exiftool and the
ExifTool config xmpcull ships.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import run_json
from tests.conftest import FIXTURES
from tests.test_run import exiftool_tags, snapshot

FRAMES = frozenset({"vtest_0000.jpg", "vtest_0020.jpg", "vtest_0040.jpg"})
LAMPS = frozenset({"lamp1.jpg", "lamp2.jpg"})


@pytest.fixture
def street(tmp_path: Path) -> Path:
    """cam/: two frames, one lamp and an unrelated jet; later/: the third frame and the other lamp."""
    root = tmp_path / "street"
    (root / "cam").mkdir(parents=True)
    (root / "later").mkdir()
    shutil.copy(FIXTURES / "video/vtest_0000.jpg", root / "cam/vtest_0000.jpg")
    shutil.copy(FIXTURES / "video/vtest_0020.jpg", root / "cam/vtest_0020.jpg")
    shutil.copy(FIXTURES / "video/vtest_0040.jpg", root / "later/vtest_0040.jpg")
    shutil.copy(FIXTURES / "camera/canon_hdr_NO.jpg", root / "cam/lamp1.jpg")
    shutil.copy(FIXTURES / "camera/canon_hdr_YES.jpg", root / "later/lamp2.jpg")
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "cam/jet.jpg")
    return root


def similar_tags(sidecar: Path) -> dict:
    return exiftool_tags(sidecar, "XMP-xmpcull:all", "XMP-lr:HierarchicalSubject")


def as_list(value: object) -> list:
    """ExifTool's JSON gives a one-item list as a plain value."""
    return [] if value is None else value if isinstance(value, list) else [value]


def sets_of(root: Path) -> dict[frozenset[str], dict]:
    report = json.loads((root / ".xmpcull/report.json").read_text())
    return {frozenset(Path(m["path"]).name for m in s["members"]): s for s in report["similar_sets"]}


def test_each_member_records_the_other_members_of_its_set(street: Path, tmp_path: Path) -> None:
    code, _ = run_json("run", street, "--cache", tmp_path / "c.sqlite")
    assert code == 0
    frames = sets_of(street)[FRAMES]
    tags = similar_tags(street / "later/vtest_0040.xmp")
    assert tags["XMP-xmpcull:SimilarSet"] == frames["id"] and tags["XMP-xmpcull:SimilarSize"] == 3
    assert as_list(tags["XMP-xmpcull:SimilarMembers"]) == ["../cam/vtest_0000.jpg", "../cam/vtest_0020.jpg"]
    assert as_list(similar_tags(street / "cam/lamp1.xmp")["XMP-xmpcull:SimilarMembers"]) == ["../later/lamp2.jpg"]
    assert "XMP-xmpcull:SimilarMembers" not in similar_tags(street / "cam/jet.xmp")


def test_a_subfolder_run_keeps_the_similar_sets_it_cannot_see_whole(street: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    run_json("run", street, "--cache", cache)
    whole = snapshot(street)
    assert {FRAMES, LAMPS} <= set(sets_of(street))
    for folder in ("later", "cam"):
        for args in (("--cache", cache), ("--no-cache",)):
            code, summary = run_json("run", street / folder, *args)
            assert code == 0 and summary["sidecars_changed"] == 0, (folder, args)
            assert snapshot(street) == whole, (folder, args)  # SimilarSet, role, size, keyword: all still there
    assert set(sets_of(street / "later")) == {FRAMES, LAMPS}  # seen from later/, with their members in cam/
    code, summary = run_json("run", street, "--cache", cache)
    assert summary["sidecars_changed"] == 0 and snapshot(street) == whole


def test_a_subfolder_run_decides_a_set_on_the_members_that_still_exist(street: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    run_json("run", street, "--cache", cache)
    (street / "cam/lamp1.jpg").unlink()  # the lamp pair is one picture now: no set
    (street / "cam/vtest_0000.jpg").unlink()  # three frames become two
    code, _ = run_json("run", street / "later", "--cache", cache)
    assert code == 0
    lamp = similar_tags(street / "later/lamp2.xmp")
    assert not [k for k in lamp if k.startswith("XMP-xmpcull:Similar")]
    assert not [k for k in as_list(lamp.get("XMP-lr:HierarchicalSubject")) if "|similar|" in k]
    frame = similar_tags(street / "later/vtest_0040.xmp")
    assert frame["XMP-xmpcull:SimilarSize"] == 2
    assert as_list(frame["XMP-xmpcull:SimilarMembers"]) == ["../cam/vtest_0020.jpg"]
    # The subfolder run wrote what a whole-tree run writes there: the next one changes nothing in later/.
    later = {k: v for k, v in snapshot(street).items() if k.startswith("later/")}
    run_json("run", street, "--cache", cache)
    assert {k: v for k, v in snapshot(street).items() if k.startswith("later/")} == later
