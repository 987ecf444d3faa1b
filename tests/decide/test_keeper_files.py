"""The keeper of real copies: the camera original or a full-quality edit, never a lossy re-export.

Files are made here from real camera JPEGs the way people make them: a web
export at q60 that keeps the EXIF, a PNG export without it, a re-save by an
editor at lower quality, and an edit saved with the camera's own tables. Every
copy is newer than the original, as in real life; the old chain kept the newest.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance, ImageOps, JpegImagePlugin

from tests.cli.helpers import run_cli, run_json
from tests.conftest import FIXTURES
from xmpcull.analyse.pipeline import analyse_roots
from xmpcull.group.dupes import find_duplicates
from xmpcull.scan.exiftool import ExifTool

CANON = FIXTURES / "camera/canon_hdr_NO.jpg"  # Canon PowerShot SX60, q93 4:2:2, no editor
JET = FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg"  # Canon PowerShot S5, saved by QuickTime (not an edit)
DAY = 24 * 3600 * 10**9


def _copy_exif(exiftool: ExifTool, source: Path, target: Path, *extra: str) -> None:
    exiftool.execute("-m", "-overwrite_original", "-TagsFromFile", str(source), "-all:all", *extra, str(target))


def _age(path: Path, days: int) -> None:
    stamp = path.stat().st_mtime_ns - days * DAY
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture(scope="module")
def exiftool():
    with ExifTool() as tool:
        yield tool


@pytest.fixture
def shoot(tmp_path: Path, exiftool: ExifTool) -> Path:
    root = tmp_path / "shoot"
    (root / "export").mkdir(parents=True)
    original = root / "IMG_1001.JPG"
    shutil.copy2(CANON, original)
    _age(original, 30)
    with Image.open(CANON) as im:
        stored = im.convert("RGB")
        shown = ImageOps.exif_transpose(im).convert("RGB")
    stored.save(root / "export/IMG_1001_web.jpg", quality=60)  # same pixel count, EXIF kept below
    _copy_exif(exiftool, original, root / "export/IMG_1001_web.jpg")
    shown.save(root / "export/IMG_1001.png")  # what a PNG export without metadata looks like
    stored.save(root / "IMG_1001-Edit.jpg", quality=70)
    _copy_exif(exiftool, original, root / "IMG_1001-Edit.jpg", "-Software=Adobe Photoshop 25.4 (Windows)")

    jet = root / "IMG_2001.JPG"
    shutil.copy2(JET, jet)
    _age(jet, 30)
    with Image.open(JET) as im:
        tables, sampling = im.quantization, JpegImagePlugin.get_sampling(im)
        brighter = ImageEnhance.Brightness(im.convert("RGB")).enhance(1.04)
    # An edit saved with the camera's own tables and sampling: the same quality, so the edit is kept.
    brighter.save(root / "IMG_2001-Edit.jpg", qtables=tables, subsampling=sampling)
    _copy_exif(exiftool, jet, root / "IMG_2001-Edit.jpg", "-Software=Adobe Photoshop Lightroom Classic 13.0 (Windows)")
    return root


def _groups(root: Path) -> dict[str, tuple[str, str]]:
    """Original's name -> (keeper's name, reason), for each group."""
    result = find_duplicates(analyse_roots([root], jobs=1).records)
    out = {}
    for group in result.groups:
        names = {m.record.file.path.name for m in group.members}
        original = next(n for n in ("IMG_1001.JPG", "IMG_2001.JPG") if n in names)
        out[original[:8]] = (group.keeper.file.path.name, group.keeper_reason)
    return out


def test_the_camera_original_beats_lossy_png_and_lower_quality_copies(shoot: Path) -> None:
    groups = _groups(shoot)
    keeper, reason = groups["IMG_1001"]
    assert keeper == "IMG_1001.JPG", reason
    # The PNG lost the camera's records; of the JPEGs the original has the finest tables.
    assert "camera capture metadata (Make, Model, DateTimeOriginal vs none)" in reason
    assert "higher JPEG quality (q93 4:2:2" in reason and "vs q70" in reason


def test_an_edit_at_equal_quality_is_kept_and_the_reason_names_the_evidence(shoot: Path) -> None:
    keeper, reason = _groups(shoot)["IMG_2001"]
    assert keeper == "IMG_2001-Edit.jpg", reason
    assert reason.startswith("edited at equal quality (saved by Adobe Photoshop Lightroom Classic 13.0 (Windows) vs")


def test_run_writes_the_deciding_values_into_report_and_sidecar(shoot: Path, tmp_path: Path) -> None:
    code, summary = run_json("run", shoot, "--cache", tmp_path / "c.sqlite")
    assert code == 0, summary
    report = json.loads((shoot / ".xmpcull/report.json").read_text())
    group = next(g for g in report["groups"] if Path(g["keeper"]).name == "IMG_1001.JPG")
    assert "q93" in group["keeper_reason"] and "bpp" in group["keeper_reason"]
    sidecar = (shoot / "export/IMG_1001_web.xmp").read_text()
    assert "higher JPEG quality (q93 4:2:2" in sidecar


@pytest.mark.parametrize(("preset", "kept"), [("original", "IMG_1001.JPG"), ("largest", "IMG_1001.png")])
def test_keep_presets_choose_other_chains(shoot: Path, tmp_path: Path, preset: str, kept: str) -> None:
    report = tmp_path / "groups.json"
    code, _ = run_json("dupes", shoot, "--report", report, "--no-write", "--keep", preset, "--cache", tmp_path / "c.sqlite")
    assert code == 0
    groups = json.loads(report.read_text())["groups"]
    assert any(Path(g["keeper"]).name == kept for g in groups)


def test_an_unknown_preset_is_a_config_error_before_any_work(shoot: Path, tmp_path: Path) -> None:
    proc = run_cli("dupes", shoot, "--report", tmp_path / "g.json", "--keep", "smallest")
    assert proc.returncode != 0 and "unknown --keep preset 'smallest'" in proc.stderr
    assert not (tmp_path / "g.json").exists()
