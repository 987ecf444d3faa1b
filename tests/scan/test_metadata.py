import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from xmpcull.scan import scan_roots
from xmpcull.scan.exiftool import ExifTool
from xmpcull.scan.metadata import parse_capture_time, parse_offset, read_metadata


def _read(paths: list[Path]):
    files = scan_roots(paths).files
    with ExifTool() as et:
        return {f.path.name: m for f, m in zip(files, read_metadata(files, et))}


def test_real_camera_times_with_subseconds_and_offsets() -> None:
    meta = _read([FIXTURES / "camera/iphone_hdr_NO.jpg", FIXTURES / "raw/Canon-R6-pruned.CR3", FIXTURES / "formats/IMG_2682.heic"])
    iphone = meta["iphone_hdr_NO.jpg"].capture_time
    assert iphone.local == dt.datetime(2015, 4, 10, 20, 12, 23, 16000) and iphone.offset_minutes is None
    r6 = meta["Canon-R6-pruned.CR3"]
    assert r6.capture_time.isoformat() == "2021-05-12T12:21:21.920000+02:00"
    assert r6.camera_body == "Canon EOS R6#093022004357"
    assert meta["IMG_2682.heic"].capture_time.local == dt.datetime(2019, 3, 21, 11, 4, 22, 348000)


def test_png_text_date_is_the_fallback() -> None:
    meta = _read([FIXTURES / "formats/density_plot.png"])["density_plot.png"]
    assert meta.capture_time.local == dt.datetime(2007, 2, 13, 6, 34, 38)
    assert meta.capture_time.source == "PNG:CreationTime"


def test_orientation_and_display_size_for_all_eight() -> None:
    meta = _read([FIXTURES / "orientation"])
    for n in range(1, 9):
        m = meta[f"Landscape_{n}.jpg"]
        assert m.orientation == n
        assert m.display_size == (600, 450)  # every file shows the same landscape picture


def test_existing_user_decisions_come_from_the_sidecar(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "xmp/lightroom/IMG_5910.jpg", tmp_path / "IMG_5910.jpg")
    shutil.copy(FIXTURES / "xmp/lightroom/IMG_5910.xmp", tmp_path / "IMG_5910.xmp")
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP:Rating=5", "-XMP:Label=Blue", str(tmp_path / "IMG_5910.xmp")], check=True)
    meta = _read([tmp_path])["IMG_5910.jpg"]
    assert meta.rating == 5 and meta.label == "Blue"
    assert meta.crop is not None and meta.crop.top == pytest.approx(0.231776)
    assert "Alvin the Squirrel" in meta.keywords
    assert meta.has_develop_settings


def test_unreadable_files_get_an_error_not_an_exception(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello, I am not a JPEG")
    shutil.copy(FIXTURES / "photos/mongolels.jpg", tmp_path / "new\nline.jpg")
    meta = _read([tmp_path])
    assert isinstance(meta["empty.jpg"], str) and "exiftool" in meta["empty.jpg"]
    assert meta["text.jpg"].capture_time is None  # exiftool reads it as text; decoding reports it later
    assert meta["new\nline.jpg"].capture_time.local.year == 2009


@pytest.mark.parametrize(
    ("text", "subsec", "offset", "expected"),
    [
        ("2024:12:31 23:59:59", "97", "+01:00", "2024-12-31T23:59:59.970000+01:00"),
        ("2024-03-31T02:30:00.5-04:00", None, None, "2024-03-31T02:30:00.500000-04:00"),
        ("2021:06:19 12:22:10.790", None, None, "2021-06-19T12:22:10.790000"),
        ("2019:03:21 11:04:22", "0348", None, "2019-03-21T11:04:22.034800"),
        ("2019:03:21 11:04:22Z", None, "+05:00", "2019-03-21T11:04:22+00:00"),
    ],
)
def test_parse_capture_time_examples(text, subsec, offset, expected) -> None:
    assert parse_capture_time(text, subsec, offset).isoformat() == expected


@pytest.mark.parametrize("text", ["0000:00:00 00:00:00", "", "garbage", "2024:13:01 00:00:00", None])
def test_unusable_dates_are_none(text) -> None:
    assert parse_capture_time(text) is None


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)), st.integers(-14 * 60, 14 * 60))
def test_parse_round_trips_any_exif_time(moment: dt.datetime, offset: int) -> None:
    sign = "-" if offset < 0 else "+"
    offset_text = f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    parsed = parse_capture_time(moment.strftime("%Y:%m:%d %H:%M:%S"), f"{moment.microsecond:06d}", offset_text)
    assert parsed.local == moment
    assert parse_offset(offset_text) == offset == parsed.offset_minutes
    aware = moment.replace(tzinfo=dt.timezone(dt.timedelta(minutes=offset)))
    assert parsed.timestamp() == pytest.approx(aware.timestamp())


@pytest.mark.parametrize(("subsec", "recorded"), [("00", True), ("0", True), (0, True), ("37", True), (None, False), ("", False)])
def test_a_recorded_subsecond_of_zero_is_a_value_and_only_an_absent_one_is_unknown(subsec, recorded) -> None:
    parsed = parse_capture_time("2024:06:12 14:35:01", subsec)
    assert parsed is not None and parsed.subsec_recorded is recorded
    assert parse_capture_time("2024-06-12T14:35:01.00").subsec_recorded  # a fraction in the date itself
