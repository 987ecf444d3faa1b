"""Runs that must not change their own answers: IDs, bursts at .00 s, --embed twice, cache or not,
one photo added, a subfolder run next to a whole-tree run. Real photos, real exiftool."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.cli.helpers import run_json
from tests.conftest import FIXTURES
from xmpcull.scan.exiftool import ExifTool


@pytest.fixture(scope="module")
def exiftool():
    with ExifTool() as tool:
        yield tool


def stamp(exiftool: ExifTool, path: Path, when: str, subsec: str) -> None:
    exiftool.execute(
        "-m", "-overwrite_original", f"-DateTimeOriginal={when}", f"-SubSecTimeOriginal={subsec}",
        "-Make=Apple", "-Model=iPhone 6", str(path),
    )  # fmt: skip


@pytest.fixture
def shoot(tmp_path: Path, exiftool: ExifTool) -> Path:
    root = tmp_path / "shoot"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "a/dunes.jpg")
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "b/dunes-copy.jpg")  # exact copy in another folder
    with Image.open(FIXTURES / "photos/mongolels.jpg") as im:
        im.resize((475, 317)).save(root / "b/dunes-web.jpg", quality=70)
    # Two frames of one body 0.3 s apart; the first at exactly .00 s.
    for name, source, subsec in (("IMG_0001.JPG", "iphone_hdr_NO.jpg", "00"), ("IMG_0002.JPG", "iphone_hdr_YES.jpg", "30")):
        shutil.copy(FIXTURES / "camera" / source, root / "a" / name)
        stamp(exiftool, root / "a" / name, "2015:04:10 20:12:23", subsec)
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "a/jet.jpg")
    return root


def all_bytes(root: Path) -> dict[str, bytes]:
    """Every file under root except xmpcull's reports (which record times)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".xmpcull" not in p.relative_to(root).parts
    }


def report(root: Path) -> dict:
    return json.loads((root / ".xmpcull/report.json").read_text())


def test_a_burst_frame_at_exactly_zero_subseconds_is_a_frame_not_a_duplicate(shoot: Path, tmp_path: Path) -> None:
    code, summary = run_json("run", shoot, "--cache", tmp_path / "c.sqlite")
    assert code == 0, summary
    groups = report(shoot)["groups"]
    assert not any(Path(m["path"]).name.startswith("IMG_") for g in groups for m in g["members"])
    assert summary["bursts"] == 1 and summary["frames_in_bursts"] == 2


def test_embed_twice_changes_no_byte_and_keeps_the_group_id(shoot: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    code, _ = run_json("run", shoot, "--embed", "--cache", cache)
    assert code == 0
    first_ids = sorted(g["id"] for g in report(shoot)["groups"])
    first = all_bytes(shoot)
    code, summary = run_json("run", shoot, "--embed", "--cache", cache)
    assert code == 0
    assert sorted(g["id"] for g in report(shoot)["groups"]) == first_ids
    assert summary["sidecars_changed"] == 0
    assert all_bytes(shoot) == first


def test_group_ids_do_not_depend_on_the_files_bytes(shoot: Path, tmp_path: Path, exiftool: ExifTool) -> None:
    run_json("run", shoot, "--no-write", "--no-cache")
    before = {g["id"]: sorted(Path(m["path"]).name for m in g["members"]) for g in report(shoot)["groups"]}
    # Another app adds a keyword into the keeper itself: its bytes change, its picture does not.
    exiftool.execute("-overwrite_original", "-XMP-dc:Subject+=holiday", str(shoot / "a/dunes.jpg"))
    run_json("run", shoot, "--no-write", "--no-cache")
    after = {g["id"]: sorted(Path(m["path"]).name for m in g["members"]) for g in report(shoot)["groups"]}
    assert after == before


def sidecars(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.xmp"))}


def test_adding_one_photo_writes_only_its_own_sidecar(shoot: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    run_json("run", shoot, "--cache", cache)
    before = sidecars(shoot)
    # Unrelated to everything there: no group, burst or similar set to join.
    shutil.copy(FIXTURES / "photos/hubble_deep_field.jpg", shoot / "b/space.jpg")
    code, summary = run_json("run", shoot, "--cache", cache)
    assert code == 0
    after = sidecars(shoot)
    assert set(after) - set(before) == {"b/space.xmp"}
    assert {name: after[name] for name in before} == before
    assert summary["sidecars_changed"] == 1


def test_an_uncached_run_and_a_cached_run_write_the_same_bytes(shoot: Path, tmp_path: Path) -> None:
    code, _ = run_json("run", shoot, "--no-cache")
    assert code == 0
    uncached = sidecars(shoot)
    code, summary = run_json("run", shoot, "--cache", tmp_path / "c.sqlite")
    assert summary["sidecars_changed"] == 0
    assert sidecars(shoot) == uncached
    code, summary = run_json("run", shoot, "--no-cache")
    assert summary["sidecars_changed"] == 0
    assert sidecars(shoot) == uncached


def test_a_subfolder_run_keeps_the_groups_it_cannot_see_whole(shoot: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    code, _ = run_json("run", shoot, "--cache", cache)
    whole = all_bytes(shoot)
    copy = next(g for g in report(shoot)["groups"] if any(m["path"].endswith("dunes-copy.jpg") for m in g["members"]))
    assert Path(copy["keeper"]).name == "dunes.jpg"  # the keeper lies in a/, outside the next run's root
    for args in (("--cache", cache), ("--no-cache",)):
        code, summary = run_json("run", shoot / "b", *args)
        assert code == 0 and summary["sidecars_changed"] == 0
        assert all_bytes(shoot) == whole  # DupGroup, DupRole, the Red label: all still there
        sub = report(shoot / "b")
        assert {g["id"] for g in sub["groups"]} == {copy["id"]}
        assert {Path(i["path"]).name for i in sub["images"]} == {"dunes-copy.jpg", "dunes-web.jpg"}
    code, summary = run_json("run", shoot, "--cache", cache)
    assert summary["sidecars_changed"] == 0 and all_bytes(shoot) == whole


def test_a_subfolder_run_forgets_a_member_that_is_gone(shoot: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    run_json("run", shoot, "--cache", cache)
    (shoot / "a/dunes.jpg").unlink()
    (shoot / "b/dunes-web.jpg").unlink()
    run_json("run", shoot / "b", "--cache", cache)
    assert b"DupGroup" not in (shoot / "b/dunes-copy.xmp").read_bytes()
    assert report(shoot / "b")["groups"] == []
