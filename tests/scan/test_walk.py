import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from xmpcull.errors import ScanError
from xmpcull.scan import scan_roots


def test_finds_every_supported_format_and_ignores_others(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "photos/astronaut.png", tmp_path / "a.png")
    shutil.copy(FIXTURES / "formats/IMG_2682.heic", tmp_path / "b.HEIC")
    shutil.copy(FIXTURES / "raw/Canon-R6-pruned.CR3", tmp_path / "c.cr3")
    shutil.copy(FIXTURES / "photos/mongolels.jpg", tmp_path / "d.JPEG")
    (tmp_path / "notes.txt").write_text("not a photo")
    (tmp_path / "e.webp").write_bytes(b"")
    found = {f.path.name: f.format for f in scan_roots([tmp_path]).files}
    assert found == {"a.png": "png", "b.HEIC": "heif", "c.cr3": "raw", "d.JPEG": "jpeg", "e.webp": "webp"}


def test_skips_review_folder_hidden_folders_and_appledouble(tmp_path: Path) -> None:
    for rel in ["keep.jpg", "_review_dupes/moved.jpg", ".cache/x.jpg", "sub/._keep.jpg", "sub/ok.jpg"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    assert [f.relpath for f in scan_roots([tmp_path]).files] == ["keep.jpg", "sub/ok.jpg"]


def test_symlink_loop_terminates_and_linked_file_counted_once(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "img.jpg").write_bytes(b"x")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    os.symlink(tmp_path / "a" / "img.jpg", tmp_path / "alias.jpg")
    os.link(tmp_path / "a" / "img.jpg", tmp_path / "hard.jpg")
    result = scan_roots([tmp_path])
    assert len(result.files) == 1
    assert result.skipped_links == 2


def test_odd_names_survive(tmp_path: Path) -> None:
    names = ["spa ce.jpg", "ünï©ødé.jpg", "new\nline.jpg", "日本.jpg"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    assert sorted(f.path.name for f in scan_roots([tmp_path]).files) == sorted(names)


def test_raw_and_jpeg_with_same_stem_are_companions(tmp_path: Path) -> None:
    for name in ["IMG_1.CR3", "IMG_1.JPG", "IMG_2.JPG"]:
        (tmp_path / name).write_bytes(b"x")
    files = {f.path.name: f for f in scan_roots([tmp_path]).files}
    assert files["IMG_1.CR3"].companions == (tmp_path / "IMG_1.JPG",)
    assert files["IMG_1.JPG"].companions == (tmp_path / "IMG_1.CR3",)
    assert files["IMG_2.JPG"].companions == ()


def test_missing_root_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScanError, match="cannot read root"):
        scan_roots([tmp_path / "nope"])


def test_unreadable_folder_is_reported_and_scan_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "x.jpg").write_bytes(b"x")
    (tmp_path / "ok.jpg").write_bytes(b"x")
    real_scandir = os.scandir

    def scandir(path):  # what a folder without read permission does (root ignores chmod, so fake it)
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr("xmpcull.scan.walk.os.scandir", scandir)
    result = scan_roots([tmp_path])
    assert [f.path.name for f in result.files] == ["ok.jpg"]
    assert [(f.stage, Path(f.path).name) for f in result.failures] == [("scan", "locked")]
    assert "Permission denied" in result.failures[0].reason


def test_scan_notes_each_images_sidecars_so_later_stages_need_no_stat(tmp_path: Path) -> None:
    for name in ["IMG_1.CR2", "IMG_1.xmp", "IMG_2.JPG", "IMG_2.JPG.XMP", "IMG_3.jpg", "other.xmp"]:
        (tmp_path / name).write_bytes(b"x")
    files = {f.path.name: f for f in scan_roots([tmp_path]).files}
    assert files["IMG_1.CR2"].sidecars == (tmp_path / "IMG_1.xmp",)
    assert files["IMG_2.JPG"].sidecars == (tmp_path / "IMG_2.JPG.XMP",)
    assert files["IMG_3.jpg"].sidecars == ()


def test_links_into_the_root_list_the_real_place_and_links_out_are_followed_only_when_asked(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "real").mkdir(parents=True)
    outside.mkdir()
    (root / "real" / "a.jpg").write_bytes(b"a")
    (outside / "b.jpg").write_bytes(b"b")
    os.symlink(root / "real" / "a.jpg", root / "0-alias.jpg")  # sorts first: it used to take a.jpg's place
    os.symlink(root / "real", root / "0-folder")
    os.symlink(outside, root / "out")
    os.symlink(outside / "b.jpg", root / "b-link.jpg")
    default = scan_roots([root])
    assert [(f.relpath, f.via_link) for f in default.files] == [("real/a.jpg", False)]
    assert sorted(p.name for p in default.outside_links) == ["b-link.jpg", "out"]
    followed = scan_roots([root], follow_links=True)
    assert sorted((f.relpath, f.via_link) for f in followed.files) == [("b-link.jpg", True), ("real/a.jpg", False)]
    assert followed.outside_links == []
