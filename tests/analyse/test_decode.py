from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import FIXTURES
from xmpcull.analyse import decode as decode_mod
from xmpcull.analyse.decode import ANALYSIS_SIZE, decode_rendered
from xmpcull.analyse.hashes import compute_hashes, hamming
from xmpcull.analyse.worker import Job, analyse_file
from xmpcull.errors import DecodeError


def test_all_eight_orientations_hash_as_the_same_displayed_picture() -> None:
    hashes = [compute_hashes(decode_rendered(FIXTURES / f"orientation/Landscape_{n}.jpg").image) for n in range(1, 9)]
    decoded = [decode_rendered(FIXTURES / f"orientation/Landscape_{n}.jpg") for n in range(1, 9)]
    assert {d.image.size for d in decoded} == {(512, 384)}
    assert {(d.full_width, d.full_height) for d in decoded} == {(600, 450)}
    # Each file is a separately encoded JPEG, so allow JPEG noise, far below the near-duplicate threshold.
    assert max(hamming(hashes[0].phash, h.phash) for h in hashes) <= 4
    # ...while the raw stored pixels of a rotated file hash very differently.
    with Image.open(FIXTURES / "orientation/Landscape_6.jpg") as stored:
        stored_hash = compute_hashes(stored.convert("RGB")).phash
    assert hamming(hashes[0].phash, stored_hash) > 16


def test_large_jpeg_is_decoded_reduced_with_full_size_reported() -> None:
    decoded = decode_rendered(FIXTURES / "camera/iphone_hdr_NO.jpg")
    assert decoded.decoded_from == "draft"
    assert max(decoded.image.size) <= ANALYSIS_SIZE
    assert (decoded.full_width, decoded.full_height) == (3264, 2448)


def test_portrait_exif_swaps_full_size() -> None:
    decoded = decode_rendered(FIXTURES / "camera/canon_hdr_NO.jpg")  # stored 2048x1536, Orientation 6
    assert (decoded.full_width, decoded.full_height) == (1536, 2048)
    assert decoded.image.size[1] > decoded.image.size[0]


def test_heic_and_png_decode() -> None:
    assert decode_rendered(FIXTURES / "formats/IMG_2682.heic").full_width == 4032
    png = decode_rendered(FIXTURES / "photos/astronaut.png")
    assert png.image.mode == "RGB" and png.full_width == 512


def test_raw_uses_the_embedded_preview_with_the_raw_orientation() -> None:
    cr3 = FIXTURES / "raw/Canon-R6-pruned.CR3"
    upright = analyse_file(Job(cr3, "raw", 1, (3408, 2272)))
    turned = analyse_file(Job(cr3, "raw", 6, (2272, 3408)))
    assert upright.decoded_from == "raw-preview" and upright.width == 3408
    # Orientation 6 shows the preview turned a quarter clockwise: its hash is the 270-degree variant.
    assert turned.phash == upright.phash_variants[3]


def test_raw_without_usable_preview_is_a_clear_error() -> None:
    result = analyse_file(Job(FIXTURES / "raw/stub_exiftool_Nikon.nef", "raw", 1, None))
    assert result == "RAW file has no embedded preview"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "file is empty"),
        (b"definitely not an image" * 10, "not an image"),
    ],
)
def test_junk_files_raise_decode_error(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(DecodeError) as info:
        decode_rendered(path)
    assert expected in info.value.reason


def test_truncated_jpeg_is_reported(tmp_path: Path) -> None:
    data = (FIXTURES / "photos/mongolels.jpg").read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 3])
    assert "truncated" in analyse_file(Job(path, "jpeg", 1, None))


def test_decompression_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A real PNG whose header claims more pixels than the limit: lower the limit instead of
    # writing gigabytes, the code path is the same.
    path = tmp_path / "bomb.png"
    Image.new("L", (4000, 4000)).save(path, optimize=True)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    with pytest.raises(DecodeError, match="decompression bomb"):
        decode_rendered(path)
    assert decode_mod.MAX_PIXELS >= 100_000_000  # 100 MP medium-format files must still work


def test_transparent_png_is_flattened_on_white(tmp_path: Path) -> None:
    path = tmp_path / "alpha.png"
    Image.new("RGBA", (64, 64), (255, 0, 0, 0)).save(path)
    decoded = decode_rendered(path)
    assert decoded.image.getpixel((10, 10)) == (255, 255, 255)


def test_analyse_file_never_raises_on_missing_file(tmp_path: Path) -> None:
    assert "cannot read file" in analyse_file(Job(tmp_path / "gone.jpg", "jpeg", 1, None))


def test_features_reflect_exposure() -> None:
    bright = analyse_file(Job(FIXTURES / "raw/nikon_z_9_high_efficiency_compressed_dx_cropped_max_overexposed.dng", "raw", 1, None))
    normal = analyse_file(Job(FIXTURES / "photos/mongolels.jpg", "jpeg", 1, None))
    assert bright.clip_high > 0.9 and bright.mean_luma > 0.95
    assert normal.clip_high < 0.05 and 0.2 < normal.mean_luma < 0.8
    assert normal.sharpness > bright.sharpness


@pytest.mark.parametrize(
    "name", ["camera/iphone_hdr_NO.jpg", "orientation/Landscape_6.jpg", "photos/astronaut.png", "formats/IMG_2682.heic"]
)
def test_grey_analysis_decode_sees_the_same_picture_as_the_colour_decode(name: str) -> None:
    # Analysis decodes JPEGs straight to grey (libjpeg skips the colour work); the
    # result must be the picture a colour decode shows, in the same orientation and size.
    grey = decode_rendered(FIXTURES / name, mode="L")
    colour = decode_rendered(FIXTURES / name)
    assert grey.image.mode == "L" and colour.image.mode == "RGB"
    assert grey.image.size == colour.image.size
    assert (grey.full_width, grey.full_height) == (colour.full_width, colour.full_height)
    assert hamming(compute_hashes(grey.image).phash, compute_hashes(colour.image).phash) <= 2


def test_transparent_png_is_flattened_onto_white_in_grey_too(tmp_path: Path) -> None:
    path = tmp_path / "mark.png"
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(path)
    assert decode_rendered(path, mode="L").image.getextrema() == (255, 255)
