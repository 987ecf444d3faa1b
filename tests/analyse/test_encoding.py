"""JPEG quality from the quantisation tables, on files Pillow's libjpeg writes and on camera files."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.conftest import FIXTURES
from xmpcull.analyse.decode import decode_rendered
from xmpcull.analyse.encoding import estimate_jpeg_quality, ijg_table, jpeg_encoding

PHOTO = Image.open(FIXTURES / "photos/mongolels.jpg").convert("RGB").resize((160, 107))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 100), st.sampled_from([0, 1, 2]))
def test_the_quality_libjpeg_was_asked_for_is_read_back(quality: int, subsampling: int) -> None:
    buffer = io.BytesIO()
    PHOTO.save(buffer, "JPEG", quality=quality, subsampling=subsampling)
    with Image.open(buffer) as im:
        estimated, sampling = jpeg_encoding(im.quantization, im.layer)
    # Qualities with identical tables (q98..100: all entries 1 or 2) cannot be told apart: read as the highest.
    assert estimated is not None and estimated >= quality
    assert (ijg_table(estimated) == ijg_table(quality)).all()
    assert sampling == {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}[subsampling]


def test_camera_files_read_as_high_quality_and_a_bad_table_as_unknown() -> None:
    assert decode_rendered(FIXTURES / "camera/canon_hdr_NO.jpg").jpeg_quality == 93
    assert decode_rendered(FIXTURES / "camera/iphone_hdr_NO.jpg").jpeg_quality == 96
    assert decode_rendered(FIXTURES / "photos/astronaut.png").jpeg_quality is None
    assert estimate_jpeg_quality([1, 2, 3]) is None


def test_metadata_written_into_a_jpeg_leaves_its_image_data_size_alone(tmp_path: Path) -> None:
    # --embed, a keyword from another app, an ICC profile: the file grows, the picture's bytes do not.
    path = tmp_path / "IMG_2001.JPG"
    shutil.copy(FIXTURES / "camera/Sumo_Museum.jpg", path)
    before = path.stat().st_size - (decode_rendered(path).metadata_bytes or 0)
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original", "-XMP-dc:Description=" + "x" * 3000,
         "-XMP-dc:Subject+=holiday", "-Comment=made by hand", str(path)],
        check=True,
    )  # fmt: skip
    grown = path.stat().st_size
    assert grown > before + 3000
    assert grown - (decode_rendered(path).metadata_bytes or 0) == before
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-all=", str(path)], check=True)
    assert path.stat().st_size - (decode_rendered(path).metadata_bytes or 0) == before
