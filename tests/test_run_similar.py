"""End to end: similar sets reach every member's sidecar, the report and the CSV (issue 14 item 10, issue 17).

Real video frames of a static camera (people walking), a real resized copy of one
frame, and a real pair of the same street lamp 26 s apart; read back with real exiftool.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.cli.helpers import run_json
from tests.conftest import FIXTURES
from tests.test_run import exiftool_tags, snapshot
from xmpcull.sidecar import read_sidecar

FRAMES = ("vtest_0000.jpg", "vtest_0020.jpg", "vtest_0040.jpg")


@pytest.fixture
def street(tmp_path: Path) -> Path:
    root = tmp_path / "street"
    (root / "cam").mkdir(parents=True)
    (root / "web").mkdir()
    for name in FRAMES:
        shutil.copy(FIXTURES / "video" / name, root / "cam" / name)
    with Image.open(FIXTURES / "video" / "vtest_0000.jpg") as im:
        im.resize((384, 288)).save(root / "web" / "vtest_0000-web.jpg", quality=70)  # a real copy
    shutil.copy(FIXTURES / "camera/canon_hdr_NO.jpg", root / "cam/lamp1.jpg")
    shutil.copy(FIXTURES / "camera/canon_hdr_YES.jpg", root / "cam/lamp2.jpg")
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "cam/jet.jpg")  # in no set
    return root


def test_every_member_of_a_similar_set_carries_its_set_and_role(street: Path, tmp_path: Path) -> None:
    code, summary = run_json("run", street, "--cache", tmp_path / "c.sqlite")
    assert code == 0, summary
    report = json.loads((street / ".xmpcull/report.json").read_text())
    sets = {frozenset(Path(m["path"]).name for m in s["members"]): s for s in report["similar_sets"]}
    frames = sets[frozenset(FRAMES)]  # three moments: one similar set, not a duplicate group
    assert frames["reason"].startswith("same scene, another moment")
    assert frames["id"].startswith("s-") and frames["best"] == frames["members"][0]["path"]
    assert [m["role"] for m in frames["members"]] == ["best", "member", "member"]
    for member in frames["members"][1:]:
        assert member["verdict"] == "moment" and member["inliers"] >= 50 and member["changed"] >= 0.02
        assert "inliers" in member["why"] and "% changed" in member["why"]
    assert frozenset({"lamp1.jpg", "lamp2.jpg"}) in sets
    (group,) = [g for g in report["groups"] if any(Path(m["path"]).name.startswith("vtest") for m in g["members"])]
    assert {Path(m["path"]).name for m in group["members"]} == {"vtest_0000.jpg", "vtest_0000-web.jpg"}

    for member in frames["members"]:
        image = Path(member["path"])
        state = read_sidecar(image, include_embedded=False)
        assert state.similar is not None
        assert (state.similar.set_id, state.similar.role, state.similar.size) == (frames["id"], member["role"], 3)
        tags = exiftool_tags(image.with_suffix(".xmp"), "XMP-xmpcull:all", "XMP:HierarchicalSubject")
        assert tags["XMP-xmpcull:SimilarSet"] == frames["id"]
        assert tags["XMP-xmpcull:SimilarRole"] == member["role"]
        assert f"xmpcull|similar|{frames['id']}" in tags["XMP-lr:HierarchicalSubject"]
        if member["role"] == "best":
            assert tags["XMP-xmpcull:SimilarReason"].startswith("best of the set")
        else:
            assert tags["XMP-xmpcull:SimilarReason"] == member["why"]
        # Another moment is never a duplicate; the frame with a web copy keeps that copy's group.
        assert tags.get("XMP-xmpcull:DupRole") == ("keeper" if image.name == "vtest_0000.jpg" else None)
    assert read_sidecar(street / "cam/jet.jpg", include_embedded=False).similar is None

    with open(street / ".xmpcull/report.csv", newline="", encoding="utf-8") as handle:
        rows = {Path(r["path"]).name: r for r in csv.DictReader(handle)}
    for member in frames["members"]:
        row = rows[Path(member["path"]).name]
        assert (row["similar_set"], row["similar_role"]) == (frames["id"], member["role"])
    assert rows["vtest_0020.jpg"]["similar_reason"] and not rows["jet.jpg"]["similar_set"]

    # Nothing new: no byte changes, the set keeps its ID.
    before = snapshot(street)
    code, again = run_json("run", street, "--cache", tmp_path / "c.sqlite")
    assert code == 0 and again["sidecars_changed"] == 0 and snapshot(street) == before
    later = json.loads((street / ".xmpcull/report.json").read_text())
    assert frames["id"] in {s["id"] for s in later["similar_sets"]}


def test_a_frame_that_leaves_its_set_loses_the_set_in_its_sidecar(street: Path, tmp_path: Path) -> None:
    code, _ = run_json("run", street, "--cache", tmp_path / "c.sqlite")
    assert code == 0
    assert read_sidecar(street / "cam/lamp1.jpg", include_embedded=False).similar is not None
    (street / "cam/lamp2.jpg").unlink()  # the set is one picture now: no set
    code, _ = run_json("run", street, "--cache", tmp_path / "c.sqlite")
    assert code == 0
    state = read_sidecar(street / "cam/lamp1.jpg", include_embedded=False)
    assert state.similar is None and not any(k.startswith("xmpcull|similar|") for k in state.hierarchical_keywords)


def test_dupes_command_writes_the_similar_section_too(street: Path, tmp_path: Path) -> None:
    code, summary = run_json("dupes", street, "--report", tmp_path / "groups.json", "--cache", tmp_path / "c.sqlite")
    assert code == 0, summary
    report = json.loads((tmp_path / "groups.json").read_text())
    frames = next(s for s in report["similar_sets"] if {Path(m["path"]).name for m in s["members"]} == set(FRAMES))
    for member in frames["members"]:
        state = read_sidecar(Path(member["path"]), include_embedded=False)
        assert state.similar is not None and state.similar.set_id == frames["id"]
