"""Embedded XMP: seeds a new sidecar (read-only) and, in the opt-in embed mode, is written through exiftool."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.sidecar.sidecar_helpers import FIXTURES, clock, exiftool_json
from xmpcull.sidecar import DecisionFields, DupeFields, SidecarUpdate, WriteOptions, read_sidecar, write_sidecar

JPEG = FIXTURES / "xmp/lightroom/IMG_5910.jpg"  # embedded LR XMP: rating 3, crop, keywords


def test_new_sidecar_is_seeded_from_embedded_xmp_and_the_image_is_not_touched(tmp_path: Path) -> None:
    image = tmp_path / JPEG.name
    shutil.copyfile(JPEG, image)
    state = read_sidecar(image)
    assert state.source == "embedded" and state.rating == 3 and "Berkley" in state.keywords
    result = write_sidecar(image, SidecarUpdate(decision=DecisionFields("ok", rating=5)), clock=clock)
    assert image.read_bytes() == JPEG.read_bytes()
    assert Path(result.path) == tmp_path / "IMG_5910.xmp"
    tags = exiftool_json(tmp_path / "IMG_5910.xmp")
    assert tags["XMP-xmp:Rating"] == 3  # the embedded rating is the user's and wins
    assert tags["XMP-dc:Title"] == "Squirrel at berkely"  # the embedded packet was carried over
    assert tags["XMP-xmpcull:Decision"] == "ok"


def test_embed_mode_writes_into_the_image_keeps_a_backup_and_is_idempotent(tmp_path: Path) -> None:
    image = tmp_path / JPEG.name
    shutil.copyfile(JPEG, image)
    update = SidecarUpdate(dupes=DupeFields("d-5", "exact", "keeper"))
    result = write_sidecar(image, update, WriteOptions(embed=True), clock=clock)
    assert result.changed and Path(result.path) == image
    assert (tmp_path / f"{JPEG.name}_original").read_bytes() == JPEG.read_bytes()
    assert not list(tmp_path.glob("*.xmp"))  # no sidecar in embed mode
    tags = exiftool_json(image)
    assert tags["XMP-xmpcull:DupGroup"] == "d-5" and tags["XMP-xmp:Rating"] == 3
    assert tags["XMP-crs:HasCrop"] is True and "xmpcull|dupes|d-5" in tags["XMP-lr:HierarchicalSubject"]
    written = image.read_bytes()
    assert not write_sidecar(image, update, WriteOptions(embed=True), clock=clock).changed
    assert image.read_bytes() == written
