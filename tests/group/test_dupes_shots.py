"""Frames the camera recorded as separate exposures are never duplicates, however alike."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from PIL import Image, ImageOps

from tests.conftest import FIXTURES
from xmpcull.analyse.pipeline import analyse_roots
from xmpcull.group.dupes import find_duplicates


def _set_time(path: Path, when: str, subsec: str | None, model: str = "EOS R5", serial: str = "031") -> None:
    args = [f"-DateTimeOriginal={when}", "-Make=Canon", f"-Model={model}", f"-SerialNumber={serial}"]
    args.append(f"-SubSecTimeOriginal={subsec}" if subsec is not None else "-SubSecTimeOriginal=")
    subprocess.run(["exiftool", "-q", "-q", "-overwrite_original", *args, str(path)], check=True)


def _groups(root: Path) -> list[set[str]]:
    records = analyse_roots([root], jobs=1).records
    return [{m.record.file.path.name for m in g.members} for g in find_duplicates(records).groups]


def test_tripod_burst_frames_are_not_duplicates_but_an_export_is(tmp_path: Path) -> None:
    with Image.open(FIXTURES / "photos/mongolels.jpg") as im:
        shown = ImageOps.exif_transpose(im).convert("RGB")
    # Three frames of a 10 fps burst: the same picture, three exposures.
    for n, subsec in enumerate(["10", "20", "30"], start=1):
        shown.save(tmp_path / f"IMG_000{n}.JPG", quality=92 - n)
        _set_time(tmp_path / f"IMG_000{n}.JPG", "2024:06:12 14:35:01", subsec)
    # An export of frame 1 that lost its SubSecTime on the way: still the same shot.
    shown.resize((475, 317)).save(tmp_path / "export.jpg", quality=80)
    _set_time(tmp_path / "export.jpg", "2024:06:12 14:35:01", None)
    # A byte copy of frame 2 is of course a duplicate.
    shutil.copy(tmp_path / "IMG_0002.JPG", tmp_path / "IMG_0002 copy.JPG")
    groups = _groups(tmp_path)
    frames = {"IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG"}
    assert all(len(g & frames) <= 1 for g in groups)  # no two exposures in one group
    assert any({"IMG_0002 copy.JPG", "IMG_0002.JPG"} <= g for g in groups)
    # Which frame the export came from, pixels cannot tell (all three look the same);
    # it joins one of them, which is what matters for culling the export.
    assert any("export.jpg" in g and len(g & frames) == 1 for g in groups)


def test_two_cameras_at_the_same_moment_are_two_photos(tmp_path: Path) -> None:
    with Image.open(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg") as im:
        im.save(tmp_path / "a.jpg", quality=90)
        im.save(tmp_path / "b.jpg", quality=85)
    _set_time(tmp_path / "a.jpg", "2024:06:12 14:35:01", "50", model="EOS R5", serial="031")
    _set_time(tmp_path / "b.jpg", "2024:06:12 14:35:01", "50", model="EOS R6", serial="777")
    assert _groups(tmp_path) == []
