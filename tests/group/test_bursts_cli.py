"""``xmpcull bursts`` end to end on stamped copies of real photos: report, CSV, sidecars read back by exiftool."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from xmpcull.cli.bursts import bursts
from xmpcull.errors import ConfigError
from xmpcull.scan.exiftool import ExifTool
from xmpcull.sidecar import exiftool_config_path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NIKON_JPEG = FIXTURES / "camera" / "nikon_D3100_TypeError.jpg"
NIKON_NEF = FIXTURES / "raw" / "stub_exiftool_Nikon.nef"  # real NEF metadata, no decodable pixels


@pytest.fixture(scope="module")
def exiftool():
    with ExifTool() as tool:
        yield tool


def stamp(exiftool: ExifTool, path: Path, when: str, subsec: str, source: Path = NIKON_JPEG) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, path)
    exiftool.execute(
        "-m", "-overwrite_original", "-time:all=", f"-DateTimeOriginal={when}", f"-SubSecTimeOriginal={subsec}",
        "-OffsetTimeOriginal=+02:00", "-Make=Canon", "-Model=Canon EOS R5", "-SerialNumber=031", str(path),
    )  # fmt: skip
    return path


@pytest.fixture()
def shoot(exiftool, tmp_path):
    """Three frames 0.25 s apart, a lone frame a minute later, one file without time."""
    root = tmp_path / "shoot"
    for i, subsec in enumerate(("10", "35", "60")):
        stamp(exiftool, root / "day1" / f"IMG_{i + 7:04d}.JPG", "2024:06:12 14:35:01", subsec)
    stamp(exiftool, root / "day1" / "IMG_0050.JPG", "2024:06:12 14:36:01", "00")
    shutil.copyfile(NIKON_JPEG, root / "scan.jpg")
    exiftool.execute("-overwrite_original", "-time:all=", str(root / "scan.jpg"))
    return root


def run(*args: str | Path, cache: Path | None = None):
    caching = ["--cache", str(cache)] if cache else ["--no-cache"]
    return CliRunner().invoke(bursts, [str(a) for a in args] + caching + ["--jobs", "1", "--quiet"])


def sidecar_fields(exiftool: ExifTool, *xmps: Path) -> list[dict]:
    out = subprocess.run(
        ["exiftool", "-config", str(exiftool_config_path()), "-j", "-G1", "-XMP-xmpcull:all", "-XMP-lr:HierarchicalSubject", *map(str, xmps)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def test_report_csv_and_sidecars(exiftool, shoot, tmp_path):
    report_path, csv_path = tmp_path / "bursts.json", tmp_path / "bursts.csv"
    result = run(shoot, "--report", report_path, "--csv", csv_path)
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    (entry,) = report["bursts"]
    assert entry["id"] == "20240612-143501-R5-0007"
    assert entry["size"] == 3 and entry["start"] == "2024-06-12T14:35:01.100000+02:00"
    assert [m["relpath"] for m in entry["members"]] == ["day1/IMG_0007.JPG", "day1/IMG_0008.JPG", "day1/IMG_0009.JPG"]
    assert all(Path(m["path"]).is_absolute() for m in entry["members"])
    assert entry["best"] in {m["path"] for m in entry["members"]} and entry["best_reason"]
    assert report["no_time"] == [str(shoot / "scan.jpg")]
    rows = list(csv.DictReader(csv_path.open()))
    assert [r["index"] for r in rows] == ["1", "2", "3"] and sum(r["best"] == "True" for r in rows) == 1

    xmps = [shoot / "day1" / f"IMG_{n:04d}.xmp" for n in (7, 8, 9)]
    fields = sidecar_fields(exiftool, *xmps)
    assert [f["XMP-xmpcull:BurstID"] for f in fields] == ["20240612-143501-R5-0007"] * 3
    assert [f["XMP-xmpcull:BurstIndex"] for f in fields] == [1, 2, 3]
    assert {f["XMP-xmpcull:BurstSize"] for f in fields} == {3}
    assert sum(f["XMP-xmpcull:BurstBest"] is True for f in fields) == 1
    assert {f["XMP-lr:HierarchicalSubject"] for f in fields} == {"xmpcull|burst|20240612-143501-R5-0007"}
    assert not (shoot / "day1" / "IMG_0050.xmp").exists()  # a single frame is not a burst


def test_rerun_with_smaller_gap_clears_stale_burst_fields(exiftool, shoot, tmp_path):
    cache = tmp_path / "cache.sqlite"
    assert run(shoot, "--report", tmp_path / "a.json", cache=cache).exit_code == 0
    result = run(shoot, "--report", tmp_path / "b.json", "--gap", "200ms", cache=cache)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "b.json").read_text())["bursts"] == []
    for fields in sidecar_fields(exiftool, *(shoot / "day1").glob("IMG_000*.xmp")):
        assert not any(key.startswith("XMP-xmpcull:Burst") for key in fields)
        assert "XMP-lr:HierarchicalSubject" not in fields


def test_ids_stay_when_files_are_added_elsewhere(exiftool, shoot, tmp_path):
    cache = tmp_path / "cache.sqlite"
    assert run(shoot, "--report", tmp_path / "a.json", cache=cache).exit_code == 0
    for i, subsec in enumerate(("00", "50")):  # an earlier burst of the same body, another folder
        stamp(exiftool, shoot / "day0" / f"IMG_{i + 1:04d}.JPG", "2024:06:12 09:00:00", subsec)
    assert run(shoot, "--report", tmp_path / "b.json", cache=cache).exit_code == 0
    before = {b["id"]: [m["relpath"] for m in b["members"]] for b in json.loads((tmp_path / "a.json").read_text())["bursts"]}
    after = {b["id"]: [m["relpath"] for m in b["members"]] for b in json.loads((tmp_path / "b.json").read_text())["bursts"]}
    assert before.items() < after.items()


def test_raw_and_jpeg_of_one_shot_are_one_frame(exiftool, tmp_path):
    root = tmp_path / "pair"
    stamp(exiftool, root / "IMG_0001.JPG", "2024:06:12 14:35:01", "10")
    stamp(exiftool, root / "IMG_0002.NEF", "2024:06:12 14:35:01", "60", source=NIKON_NEF)  # -m: the stub has minor faults
    stamp(exiftool, root / "IMG_0002.JPG", "2024:06:12 14:35:01", "60")
    result = run(root, "--report", tmp_path / "r.json")
    assert result.exit_code in (0, 1), result.output  # the stub NEF has no pixels: a reported failure is fine
    (entry,) = json.loads((tmp_path / "r.json").read_text())["bursts"]
    assert entry["size"] == 2
    assert [m["relpath"] for m in entry["members"]] == ["IMG_0001.JPG", "IMG_0002.NEF"]
    assert entry["members"][1]["companions"] == [str(root / "IMG_0002.JPG")]
    assert entry["members"][1]["sharpness"] is not None  # features came from the JPEG
    # Adobe naming: the pair shares IMG_0002.xmp.
    (fields,) = sidecar_fields(exiftool, root / "IMG_0002.xmp")
    assert fields["XMP-xmpcull:BurstIndex"] == 2


def test_no_write_leaves_sidecars_alone(shoot, tmp_path):
    result = run(shoot, "--report", tmp_path / "r.json", "--no-write", "--gap", "1.5")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r.json").read_text())["gap_seconds"] == 1.5
    assert not list(shoot.rglob("*.xmp"))


def test_json_summary(shoot, tmp_path):
    result = run(shoot, "--report", tmp_path / "r.json", "--no-write", "--json")
    summary = json.loads(result.output)
    assert (summary["bursts"], summary["frames_in_bursts"], summary["single_frames"], summary["no_time"]) == (1, 3, 1, 1)


def test_bad_gap_and_unknown_camera_offset_are_usage_errors(shoot, tmp_path):
    assert run(shoot, "--gap", "2 minutes").exit_code == 2
    assert run(shoot, "--clock-offset", "R5=soon").exit_code == 2
    result = run(shoot, "--report", tmp_path / "r.json", "--clock-offset", "NIKON Z 9=+00:00:07")
    assert isinstance(result.exception, ConfigError) and "NIKON Z 9" in result.exception.reason
    assert run(shoot, "--report", tmp_path / "r.json", "--clock-offset", "R5#031=+00:00:07").exit_code == 0


def test_scene_change_split_on_real_pictures(exiftool, tmp_path):
    # The iPhone plain/HDR pair is one scene (pHash 4 bits apart); the road and the two
    # people are other subjects (28+ bits), all shot within a second by one body.
    root = tmp_path / "scenes"
    sources = ["iphone_hdr_NO.jpg", "iphone_hdr_YES.jpg", "IMG_20180725_163423-tiny.jpg", "issue-fast-exif-2.jpg"]
    for i, name in enumerate(sources):
        stamp(exiftool, root / f"IMG_{i + 1:04d}.JPG", "2024:06:12 14:35:01", str(i * 2), source=FIXTURES / "camera" / name)
    cache = tmp_path / "cache.sqlite"  # decode the large iPhone frames once
    assert run(root, "--report", tmp_path / "a.json", "--no-write", cache=cache).exit_code == 0
    assert [b["size"] for b in json.loads((tmp_path / "a.json").read_text())["bursts"]] == [4]
    assert run(root, "--report", tmp_path / "b.json", "--no-write", "--split-on-scene-change", cache=cache).exit_code == 0
    (entry,) = json.loads((tmp_path / "b.json").read_text())["bursts"]
    assert [m["relpath"] for m in entry["members"]] == ["IMG_0001.JPG", "IMG_0002.JPG"]
