"""The whole time chain: real exiftool writes times into copies of a real photo,
the scanner and read_metadata read them back, and the bursts come out right."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from xmpcull.group.bursts import NO_TIME_REASON, cluster_bursts, parse_clock_offsets, shot_from_record
from xmpcull.models import ImageRecord
from xmpcull.scan import scan_roots
from xmpcull.scan.exiftool import ExifTool
from xmpcull.scan.metadata import read_metadata

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NIKON = FIXTURES / "camera" / "nikon_D3100_TypeError.jpg"  # 22 KB, real EXIF and maker notes
R5 = ("Canon", "Canon EOS R5", "031")


@pytest.fixture(scope="module")
def exiftool():
    with ExifTool() as tool:
        yield tool


def stamp(exiftool: ExifTool, folder: Path, name: str, camera=R5, **tags: str) -> Path:
    """A copy of the real Nikon JPEG whose only times are ``tags`` (exiftool tag=value)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(NIKON, path)
    make, model, serial = camera
    args = ["-overwrite_original", "-time:all=", "-XMP:all=", f"-Make={make}", f"-Model={model}", f"-SerialNumber={serial}"]
    args += [f"-{tag}={value}" for tag, value in tags.items()]
    exiftool.execute(*args, str(path))
    return path


def bursts_of(exiftool: ExifTool, root: Path, **options):
    time_fallback = options.pop("time_fallback", None)
    files = scan_roots([root]).files
    metadata = read_metadata(files, exiftool)
    records = [ImageRecord(file=f, metadata=m) for f, m in zip(files, metadata)]
    return cluster_bursts([shot_from_record(r, time_fallback=time_fallback) for r in records], **options)


def layout(bursts) -> list[list[str]]:
    return [[s.name for s in b.shots] for b in bursts]


def original(date: str, subsec: str | None = None, offset: str | None = None) -> dict[str, str]:
    tags = {"DateTimeOriginal": date}
    if subsec is not None:
        tags["SubSecTimeOriginal"] = subsec
    if offset is not None:
        tags["OffsetTimeOriginal"] = offset
    return tags


def test_20fps_burst_across_new_year_orders_by_subseconds(exiftool, tmp_path):
    # Names run against capture order, so only SubSecTimeOriginal can order them.
    times = [("2023:12:31 23:59:59", "90"), ("2023:12:31 23:59:59", "950"), ("2024:01:01 00:00:00", "0"), ("2024:01:01 00:00:00", "05"), ("2024:01:01 00:00:00", "5")]
    for i, (date, subsec) in enumerate(times):
        stamp(exiftool, tmp_path, f"IMG_{20 - i:04d}.JPG", **original(date, subsec))
    (burst,) = bursts_of(exiftool, tmp_path)
    assert [s.name for s in burst.shots] == ["IMG_0020.JPG", "IMG_0019.JPG", "IMG_0018.JPG", "IMG_0017.JPG", "IMG_0016.JPG"]
    assert burst.burst_id == "20231231-235959-R5-0020"
    assert burst.end - burst.start == pytest.approx(0.6)


def test_real_iphone_pair_in_one_second_orders_by_subsec(exiftool):
    # The two untouched fixtures: same DateTimeOriginal, SubSec 016 and 550.
    files = [f for f in scan_roots([FIXTURES / "camera"]).files if f.path.name.startswith("iphone_hdr")]
    records = [ImageRecord(file=f, metadata=m) for f, m in zip(files, read_metadata(files, exiftool))]
    (burst,) = [b for b in cluster_bursts([shot_from_record(r) for r in records]) if b.is_burst]
    assert [s.name for s in burst.shots] == ["iphone_hdr_NO.jpg", "iphone_hdr_YES.jpg"]
    assert burst.burst_id == "20150410-201223-iPhone6-0000"
    assert burst.end - burst.start == pytest.approx(0.534)


def test_gap_of_exactly_the_threshold_read_from_files(exiftool, tmp_path):
    stamp(exiftool, tmp_path, "IMG_0001.JPG", **original("2024:06:12 12:00:00", "25"))
    stamp(exiftool, tmp_path, "IMG_0002.JPG", **original("2024:06:12 12:00:02", "25"))  # exactly 2 s
    stamp(exiftool, tmp_path, "IMG_0003.JPG", **original("2024:06:12 12:00:04", "26"))  # 2.01 s
    assert layout(bursts_of(exiftool, tmp_path)) == [["IMG_0001.JPG", "IMG_0002.JPG"], ["IMG_0003.JPG"]]
    assert layout(bursts_of(exiftool, tmp_path, gap_seconds=2.5)) == [["IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG"]]


def test_interleaved_bodies_and_files_without_time(exiftool, tmp_path):
    other_r5 = ("Canon", "Canon EOS R5", "777")
    z9 = ("NIKON CORPORATION", "NIKON Z 9", "3020326")
    for i in range(3):
        for camera, folder in ((R5, "a"), (other_r5, "b"), (z9, "c")):
            stamp(exiftool, tmp_path / folder, f"IMG_{i + 1:04d}.JPG", camera, **original("2024:06:12 12:00:0" + str(i), "30"))
    stamp(exiftool, tmp_path, "scan_0001.JPG")
    bursts = bursts_of(exiftool, tmp_path)
    assert sorted((b.body, b.size) for b in bursts if b.is_burst) == [
        ("Canon EOS R5#031", 3),
        ("Canon EOS R5#777", 3),
        ("NIKON Z 9#3020326", 3),
    ]
    assert sorted(b.burst_id for b in bursts if b.is_burst) == [
        "20240612-120000-R5-0001",
        "20240612-120000-R5-0001-2",
        "20240612-120000-Z9-0001",
    ]
    (timeless,) = [b for b in bursts if not b.is_burst]
    assert timeless.shots[0].name == "scan_0001.JPG" and timeless.reason == NO_TIME_REASON


def test_dst_end_with_offsets_is_one_second_not_minus_an_hour(exiftool, tmp_path):
    stamp(exiftool, tmp_path, "IMG_0001.JPG", **original("2024:10:27 02:59:59", "50", "+02:00"))
    stamp(exiftool, tmp_path, "IMG_0002.JPG", **original("2024:10:27 02:00:00", "30", "+01:00"))
    (burst,) = bursts_of(exiftool, tmp_path)
    assert [s.name for s in burst.shots] == ["IMG_0001.JPG", "IMG_0002.JPG"]
    assert burst.end - burst.start == pytest.approx(0.8)
    assert burst.burst_id == "20241027-025959-R5-0001"


def test_fallback_tags_join_the_same_burst(exiftool, tmp_path):
    # DateTimeOriginal, then EXIF CreateDate with its own sub-seconds, then XMP photoshop:DateCreated.
    stamp(exiftool, tmp_path, "IMG_0001.JPG", **original("2024:06:12 14:59:59", "40", "+02:00"))
    stamp(exiftool, tmp_path, "IMG_0002.JPG", CreateDate="2024:06:12 15:00:00", SubSecTimeDigitized="10", OffsetTimeDigitized="+02:00")
    stamp(exiftool, tmp_path, "IMG_0003.JPG", **{"XMP-photoshop:DateCreated": "2024:06:12 15:00:01.5+02:00"})
    (burst,) = bursts_of(exiftool, tmp_path)
    assert [s.time_source for s in burst.shots] == ["EXIF:DateTimeOriginal", "EXIF:CreateDate", "XMP:DateCreated"]
    assert burst.end - burst.start == pytest.approx(2.1)
    assert layout(bursts_of(exiftool, tmp_path, gap_seconds=1.0)) == [["IMG_0001.JPG", "IMG_0002.JPG"], ["IMG_0003.JPG"]]


def test_clock_offset_aligns_one_body(exiftool, tmp_path):
    z9 = ("NIKON CORPORATION", "NIKON Z 9", "3020326")
    for i in range(2):
        stamp(exiftool, tmp_path / "r5", f"IMG_{i + 1:04d}.JPG", **original(f"2024:06:12 12:00:1{i}"))
        stamp(exiftool, tmp_path / "z9", f"DSC_{i + 1:04d}.JPG", z9, **original(f"2024:06:12 12:00:0{3 + i}"))
    offsets = parse_clock_offsets(["NIKON Z 9#3020326=+00:00:07"])
    ids = sorted(b.burst_id for b in bursts_of(exiftool, tmp_path, clock_offsets=offsets))
    assert ids == ["20240612-120010-R5-0001", "20240612-120010-Z9-0001"]


def test_mtime_only_when_asked(exiftool, tmp_path):
    for i in range(2):
        path = stamp(exiftool, tmp_path, f"IMG_{i + 1:04d}.JPG")
        os.utime(path, ns=(1_718_202_901_000_000_000 + i * 500_000_000,) * 2)
    assert [b.reason for b in bursts_of(exiftool, tmp_path)] == [NO_TIME_REASON, NO_TIME_REASON]
    (burst,) = bursts_of(exiftool, tmp_path, time_fallback="mtime")
    assert burst.size == 2 and {s.time_source for s in burst.shots} == {"File:mtime"}
