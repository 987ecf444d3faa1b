"""`xmpcull run --face-regions` end to end: the regions land on the faces in every EXIF orientation.

The photo is digiKam's portrait of Marie and Pierre Curie, whose real digiKam
sidecar holds the two faces a person tagged (upright, orientation 1). The test
stores the picture in each of the eight orientations (pixels turned, EXIF tag
set), runs xmpcull, reads the regions back with exiftool, and turns each one the
way a viewer does (Pillow's ``exif_transpose`` of a mask drawn in the stored
frame): it must cover the face the person tagged.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageOps

from tests.cli.helpers import run_json
from tests.conftest import FIXTURES
from tests.sidecar.sidecar_helpers import exiv2_regions, has_exiv2
from xmpcull.analyse.faces import available
from xmpcull.sidecar import exiftool_config_path

pytestmark = pytest.mark.skipif(not available() or shutil.which("exiftool") is None,
                                reason="needs the face models (scripts/setup.sh) and exiftool")

PORTRAIT = FIXTURES / "photos/portrait.jpg"
TAGGED = FIXTURES / "xmp/digikam/portrait.jpg.xmp"
# Stored pixels -> what the file must hold so that a viewer applying the orientation shows the upright photo.
STORE = {
    1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270,
}


def _region_info(path: Path) -> dict:
    out = subprocess.run(["exiftool", "-config", str(exiftool_config_path()), "-j", "-struct", "-RegionInfo", str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0].get("RegionInfo", {})


def _boxes(info: dict) -> list[tuple[float, float, float, float]]:
    """MWG areas (centre, size) as (x0, y0, x1, y1) fractions of the frame they are given in."""
    areas = [r["Area"] for r in info["RegionList"]]
    return [(a["X"] - a["W"] / 2, a["Y"] - a["H"] / 2, a["X"] + a["W"] / 2, a["Y"] + a["H"] / 2) for a in areas]


def _as_displayed(box: tuple[float, float, float, float], stored: tuple[int, int], orientation: int) -> tuple[float, ...]:
    """Where a stored-frame box shows once a viewer applies the orientation (a drawn mask, turned by Pillow)."""
    w, h = stored
    mask = Image.new("L", stored)
    ImageDraw.Draw(mask).rectangle([round(box[0] * w), round(box[1] * h), round(box[2] * w) - 1, round(box[3] * h) - 1], 255)
    exif = Image.Exif()
    exif[0x0112] = orientation
    mask.info["exif"] = exif.tobytes()
    shown = ImageOps.exif_transpose(mask)
    x0, y0, x1, y1 = shown.getbbox()
    return x0 / shown.width, y0 / shown.height, x1 / shown.width, y1 / shown.height


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.fixture(scope="module")
def oriented(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("oriented")
    upright = Image.open(PORTRAIT).convert("RGB")
    for orientation, turn in STORE.items():
        stored = upright if turn is None else upright.transpose(turn)
        exif = Image.Exif()
        exif[0x0112] = orientation
        stored.save(root / f"portrait-{orientation}.jpg", quality=95, exif=exif)
    code, _ = run_json("run", root, "--face-regions", "--no-cache")
    assert code == 0
    return root


@pytest.mark.parametrize("orientation", sorted(STORE))
def test_regions_cover_the_tagged_faces_in_every_orientation(oriented: Path, orientation: int) -> None:
    info = _region_info(oriented / f"portrait-{orientation}.xmp")
    stored = Image.open(oriented / f"portrait-{orientation}.jpg").size
    dims = info["AppliedToDimensions"]
    assert (dims["W"], dims["H"], dims["Unit"]) == (*stored, "pixel")  # the stored frame, not the displayed one
    shown = [_as_displayed(b, stored, orientation) for b in _boxes(info)]
    tagged = _boxes(_region_info(TAGGED))
    assert len(shown) == len(tagged) == 2
    for person in tagged:
        best = max(shown, key=lambda box: _iou(box, person))
        centre = ((best[0] + best[2]) / 2, (best[1] + best[3]) / 2)
        assert _iou(best, person) >= 0.4
        assert person[0] < centre[0] < person[2] and person[1] < centre[1] < person[3]


@pytest.mark.skipif(not has_exiv2(), reason="exiv2 not installed (scripts/setup.sh installs Debian's)")
@pytest.mark.parametrize("orientation", sorted(STORE))
def test_exiv2_reads_the_same_regions_as_exiftool(oriented: Path, orientation: int) -> None:
    # Exiv2 is the library digiKam reads face regions with; exiftool's reading is checked against the tagged faces above.
    sidecar = oriented / f"portrait-{orientation}.xmp"
    info = _region_info(sidecar)
    applied, regions = exiv2_regions(sidecar)
    dims = info["AppliedToDimensions"]
    assert applied == (dims["W"], dims["H"], dims["Unit"])
    assert len(regions) == len(info["RegionList"]) == 2
    for mine, theirs in zip(regions, info["RegionList"], strict=True):
        assert mine["mwg-rs:Type"] == theirs["Type"] == "Face"
        assert tuple(float(mine[f"mwg-rs:Area/stArea:{k.lower()}"]) for k in "XYWH") == tuple(theirs["Area"][k] for k in "XYWH")


def test_a_rerun_writes_no_byte_and_switching_off_removes_only_ours(oriented: Path, tmp_path: Path) -> None:
    root = tmp_path / "again"
    root.mkdir()
    for photo in oriented.glob("*.jpg"):
        shutil.copy(photo, root / photo.name)
    cache = tmp_path / "cache.sqlite"
    assert run_json("run", root, "--face-regions", "--cache", cache)[0] == 0
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.glob("*.xmp")}
    assert len(before) == 8 and all(b"mwg-rs:Regions" in data for data, _ in before.values())
    assert run_json("run", root, "--face-regions", "--cache", cache)[0] == 0
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.glob("*.xmp")} == before
    assert run_json("run", root, "--cache", cache)[0] == 0  # off by default: our regions go, the rest stays
    for sidecar in root.glob("*.xmp"):
        assert _region_info(sidecar) == {}
        assert "FaceCount" in sidecar.read_text() and "FaceRegions" not in sidecar.read_text()


def test_without_the_flag_no_region_is_written(oriented: Path, tmp_path: Path) -> None:
    shutil.copy(oriented / "portrait-1.jpg", tmp_path / "portrait.jpg")
    assert run_json("run", tmp_path, "--no-cache")[0] == 0
    assert _region_info(tmp_path / "portrait.xmp") == {}


def test_regions_embedded_in_the_photo_are_the_users(tmp_path: Path) -> None:
    # The fixture itself carries digiKam's regions in its XMP: the new sidecar starts as a
    # copy of them, and xmpcull adds none of its own.
    shutil.copy(PORTRAIT, tmp_path / "portrait.jpg")
    assert run_json("run", tmp_path, "--face-regions", "--no-cache")[0] == 0
    sidecar = tmp_path / "portrait.xmp"
    assert _region_info(sidecar) == _region_info(PORTRAIT)
    assert "FaceRegions" not in sidecar.read_text() and "FaceCount" in sidecar.read_text()
