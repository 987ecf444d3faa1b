"""`xmpcull crops` end to end: real photos, real sidecars, read back with real exiftool."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageOps

from xmpcull.analyse.decode import apply_orientation
from xmpcull.cli.crops import crops
from xmpcull.crop.geometry import Box, crs_to_display_box, stored_pixel_box
from xmpcull.crop.stage import (
    BELOW_THRESHOLD,
    NOT_APPLY_ASPECT,
    USER_CROP_KEPT,
    ProposalOutcome,
    choose_applied,
)
from xmpcull.models import CropEdges
from xmpcull.sidecar import exiftool_config_path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# The real Lightroom crop in fixtures/xmp/lightroom/IMG_5910.xmp.
LR_CROP = {"CropLeft": 0, "CropTop": 0.231776, "CropRight": 0.768224, "CropBottom": 1}


def _copy(dest: Path, *names: str) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = dest / Path(name).name
        shutil.copy(FIXTURES / name, target)
        target.chmod(0o644)  # fixtures are read-only; a user's photos are not
    return dest


def _run(root: Path, report: Path, *args: object) -> tuple[Result, dict[str, Any]]:
    result = CliRunner().invoke(
        crops, [str(root), "--report", str(report), "--no-cache", "--jobs", "1", "--quiet", *map(str, args)]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result, json.loads(report.read_text())


def _file(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in report["files"] if Path(f["path"]).name == name)


def _exiftool(*args: str) -> dict[str, Any]:
    out = subprocess.run(["exiftool", "-j", "-n", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out)[0]


def _crs(sidecar: Path) -> dict[str, Any]:
    return _exiftool("-XMP-crs:all", str(sidecar))


def _ours(sidecar: Path) -> dict[str, Any]:
    return _exiftool("-config", str(exiftool_config_path()), "-struct", "-XMP-xmpcull:all", str(sidecar))


def test_sidecar_gets_every_proposal_and_the_applied_crop(tmp_path: Path) -> None:
    root = _copy(tmp_path / "shoot", "photos/astronaut.png")
    # 0.3: the astronaut's 4:5 crop cuts her suit and the helmet she holds at the sides (the person
    # mask sees them), so its confidence is about 0.36; the test is about what the sidecar gets.
    result, report = _run(root, tmp_path / "crops.json", "--aspect", "4:5", "--aspect", "16:9", "--apply-threshold", "0.3")
    assert result.exit_code == 0, result.output
    entry = _file(report, "astronaut.png")
    by_aspect = {p["aspect"]: p for p in entry["proposals"]}
    assert set(by_aspect) == {"4:5", "16:9"}
    applied = by_aspect["4:5"]
    assert applied["confidence"] >= 0.3 and applied["applied"] and entry["applied"] == "4:5"
    assert by_aspect["16:9"]["not_applied_reason"] == NOT_APPLY_ASPECT
    assert len(entry["faces"]) == 1  # the astronaut's head

    crs = _crs(root / "astronaut.xmp")
    assert crs["HasCrop"] is True and crs["CropAngle"] == 0
    for side in ("left", "top", "right", "bottom"):
        assert crs[f"Crop{side.title()}"] == pytest.approx(applied["crs"][side], abs=1e-6)

    ours = _ours(root / "astronaut.xmp")
    stored = {p["Aspect"]: p for p in ours["CropProposals"]}
    assert set(stored) == {"4:5", "16:9"}
    for aspect, proposal in by_aspect.items():
        assert stored[aspect]["Confidence"] == pytest.approx(proposal["confidence"], abs=1e-4)
        assert stored[aspect]["CropLeft"] == pytest.approx(proposal["crs"]["left"], abs=1e-6)
        assert stored[aspect]["CropBottom"] == pytest.approx(proposal["crs"]["bottom"], abs=1e-6)
    assert [float(v) for v in ours["CropApplied"].split(",")] == pytest.approx(
        [applied["crs"][s] for s in ("left", "top", "right", "bottom")], abs=1e-6
    )

    # A second run changes nothing.
    again, report2 = _run(root, tmp_path / "again.json", "--aspect", "4:5", "--aspect", "16:9", "--apply-threshold", "0.3")
    assert again.exit_code == 0
    assert not _file(report2, "astronaut.png")["sidecar_changed"]


def test_orientation_6_edges_cut_the_proposed_displayed_region(tmp_path: Path) -> None:
    root = _copy(tmp_path / "shoot", "camera/canon_hdr_NO.jpg")
    result, report = _run(root, tmp_path / "crops.json", "--aspect", "16:9", "--apply-threshold", "0")
    assert result.exit_code == 0, result.output
    entry = _file(report, "canon_hdr_NO.jpg")
    assert entry["orientation"] == 6 and entry["display_size"] == [1536, 2048]
    (proposal,) = entry["proposals"]
    box = Box(*proposal["box"])
    assert abs(box.width / box.height - 16 / 9) < 1 / box.height  # exact aspect on the full image

    crs = _crs(root / "canon_hdr_NO.xmp")
    edges = CropEdges(crs["CropLeft"], crs["CropTop"], crs["CropRight"], crs["CropBottom"])
    with Image.open(root / "canon_hdr_NO.jpg") as img:
        img.load()
        stored = img.convert("RGB")
        displayed = np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    cut = stored_pixel_box(edges, *stored.size)
    region = np.asarray(apply_orientation(stored.crop((cut.x0, cut.y0, cut.x1, cut.y1)), 6))
    assert np.array_equal(region, displayed[box.y0 : box.y1, box.x0 : box.x1])


def test_sidecar_orientation_wins_over_exif(tmp_path: Path) -> None:
    """Lightroom orients by the sidecar's tiff:Orientation; the crs edges must follow it."""
    root = _copy(tmp_path / "shoot", "orientation/Landscape_1.jpg")
    # A user rotated the photo in Lightroom: EXIF still says 1, the sidecar says 6.
    (root / "Landscape_1.xmp").write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/>'
        "</rdf:RDF></x:xmpmeta>"
    )
    result, report = _run(root, tmp_path / "crops.json", "--aspect", "16:9", "--apply-threshold", "0")
    assert result.exit_code == 0, result.output
    entry = _file(report, "Landscape_1.jpg")
    assert entry["orientation"] == 6 and entry["display_size"] == [450, 600]
    (proposal,) = entry["proposals"]
    crs = _crs(root / "Landscape_1.xmp")
    edges = CropEdges(crs["CropLeft"], crs["CropTop"], crs["CropRight"], crs["CropBottom"])
    assert crs_to_display_box(edges, 450, 600, 6) == Box(*proposal["box"])
    assert _exiftool("-XMP-tiff:Orientation", str(root / "Landscape_1.xmp"))["Orientation"] == 6  # left alone


def test_user_crop_is_kept_unless_overwrite(tmp_path: Path) -> None:
    root = _copy(tmp_path / "shoot", "xmp/lightroom/IMG_5910.jpg", "xmp/lightroom/IMG_5910.xmp")
    args = ("--aspect", "16:9", "--apply-threshold", "0")
    result, report = _run(root, tmp_path / "kept.json", *args)
    assert result.exit_code == 0, result.output
    entry = _file(report, "IMG_5910.jpg")
    (proposal,) = entry["proposals"]
    assert not proposal["applied"] and proposal["not_applied_reason"] == USER_CROP_KEPT
    assert any(v.startswith("crs:Crop=") for v in entry["kept_user_values"])
    assert report["summary"]["user_crops_kept"] == 1
    crs = _crs(root / "IMG_5910.xmp")
    assert crs["HasCrop"] is True and {k: crs[k] for k in LR_CROP} == pytest.approx(LR_CROP)
    assert [p["Aspect"] for p in _ours(root / "IMG_5910.xmp")["CropProposals"]] == ["16:9"]  # proposals still recorded

    result, report = _run(root, tmp_path / "overwrite.json", *args, "--overwrite-crops")
    assert result.exit_code == 0, result.output
    (proposal,) = _file(report, "IMG_5910.jpg")["proposals"]
    assert proposal["applied"]
    crs = _crs(root / "IMG_5910.xmp")
    assert crs["CropTop"] == pytest.approx(proposal["crs"]["top"], abs=1e-6)
    assert crs["CropBottom"] == pytest.approx(proposal["crs"]["bottom"], abs=1e-6)


def test_no_write_and_dry_run_touch_no_sidecar(tmp_path: Path) -> None:
    root = _copy(tmp_path / "shoot", "photos/astronaut.png", "xmp/lightroom/IMG_5910.jpg", "xmp/lightroom/IMG_5910.xmp")
    before = (root / "IMG_5910.xmp").read_bytes()
    result, report = _run(root, tmp_path / "crops.json", "--aspect", "4:5", "--apply-threshold", "0", "--no-write")
    assert result.exit_code == 0, result.output
    assert not (root / "astronaut.xmp").exists()
    assert (root / "IMG_5910.xmp").read_bytes() == before
    assert not report["write"] and all(f["sidecar"] is None for f in report["files"])
    assert all(len(f["proposals"]) == 1 for f in report["files"])

    result, report = _run(root, tmp_path / "dry.json", "--aspect", "4:5", "--apply-threshold", "0", "--dry-run")
    assert result.exit_code == 0, result.output
    assert not (root / "astronaut.xmp").exists()
    assert (root / "IMG_5910.xmp").read_bytes() == before
    assert _file(report, "astronaut.png")["sidecar_changed"]  # what would change is reported
    assert _file(report, "astronaut.png")["changes"]


def test_preview_one_jpeg_per_image_and_corrupt_file_reported(tmp_path: Path) -> None:
    root = _copy(tmp_path / "shoot", "photos/astronaut.png", "photos/mongolels.jpg")
    (root / "sub").mkdir()
    shutil.copy(FIXTURES / "orientation" / "Portrait_6.jpg", root / "sub" / "portrait.jpg")
    (root / "broken.jpg").write_bytes((FIXTURES / "photos" / "portrait.jpg").read_bytes()[:4000])
    previews = tmp_path / "previews"
    result = CliRunner().invoke(
        crops,
        [str(root), "--aspect", "4:5", "--aspect", "1:1", "--preview", str(previews), "--report", str(tmp_path / "r.json"),
         "--no-cache", "--jobs", "2", "--quiet"],
    )
    assert result.exit_code == 1, result.output  # some files failed, the run went on
    report = json.loads((tmp_path / "r.json").read_text())
    assert [e["path"] for e in report["errors"]] == [str(root / "broken.jpg")]
    assert "error" in _file(report, "broken.jpg")
    good = [f for f in report["files"] if "error" not in f]
    assert len(good) == 3 and all(len(f["proposals"]) == 2 for f in good)
    assert (root / "mongolels.xmp").exists() and not (root / "broken.xmp").exists()
    made = sorted(p.relative_to(previews).as_posix() for p in previews.rglob("*.jpg"))
    assert made == ["astronaut.png.jpg", "mongolels.jpg.jpg", "sub/portrait.jpg.jpg"]
    for f in good:
        with Image.open(f["preview"]) as img:
            assert img.format == "JPEG" and max(img.size) == 640


def test_apply_aspect_must_be_requested(tmp_path: Path) -> None:
    root = _copy(tmp_path / "shoot", "photos/astronaut.png")
    result = CliRunner().invoke(crops, [str(root), "--aspect", "4:5", "--apply-aspect", "16:9", "--no-cache"])
    assert result.exit_code == 2
    assert not (root / "astronaut.xmp").exists()


_proposal = st.builds(
    ProposalOutcome,
    aspect=st.sampled_from(["4:5", "16:9", "1:1"]),
    box=st.just(Box(0, 0, 4, 5)),
    crs=st.just(CropEdges(0, 0, 1, 1)),
    confidence=st.floats(0, 1),
)


@given(proposals=st.lists(_proposal, max_size=3, unique_by=lambda p: p.aspect), threshold=st.floats(0, 1))
def test_only_the_apply_aspect_at_or_above_threshold_is_applied(proposals: list[ProposalOutcome], threshold: float) -> None:
    chosen = choose_applied(proposals, "4:5", threshold)
    for p in chosen:
        assert p.applied == (p.aspect == "4:5" and p.confidence >= threshold)
        assert (p.not_applied_reason is None) == p.applied
        if p.aspect == "4:5" and not p.applied:
            assert p.not_applied_reason == BELOW_THRESHOLD
