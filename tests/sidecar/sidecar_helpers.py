"""Shared helpers for the sidecar tests: real fixtures copied to tmp_path, exiftool, tree comparison."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

from xmpcull.sidecar import exiftool_config_path
from xmpcull.sidecar.packet import parse, snapshot
from xmpcull.sidecar.safety import load_packet
from xmpcull.sidecar.state import canonical

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
XMP = FIXTURES / "xmp"
FIXED_NOW = dt.datetime(2024, 6, 12, 14, 35, 1, tzinfo=dt.timezone.utc)

REAL_SIDECARS = {
    # fixture -> (the image it serves, the sidecar name that tool uses)
    "lightroom/IMG_5910.xmp": ("IMG_5910.CR2", "IMG_5910.xmp"),
    "lightroom/lrc9.1_label-Verde_extracted.xmp": ("_2MV4866.NEF", "_2MV4866.xmp"),
    "darktable/DSC_9034.NEF.xmp": ("DSC_9034.NEF", "DSC_9034.NEF.xmp"),
    "darktable/_27A1417.CR2.xmp": ("_27A1417.CR2", "_27A1417.CR2.xmp"),
    "digikam/nikon-e2100.jpg.xmp": ("nikon-e2100.jpg", "nikon-e2100.jpg.xmp"),
    "digikam/portrait.jpg.xmp": ("portrait.jpg", "portrait.jpg.xmp"),
}


def clock() -> dt.datetime:
    return FIXED_NOW


def place_sidecar(tmp_path: Path, fixture: str) -> tuple[Path, Path]:
    """Copy a real sidecar next to a stand-in image (empty file) under the name its tool uses."""
    image_name, sidecar_name = REAL_SIDECARS[fixture]
    image = tmp_path / image_name
    image.write_bytes(b"")
    sidecar = tmp_path / sidecar_name
    shutil.copyfile(XMP / fixture, sidecar)
    return image, sidecar


def tree(path: Path) -> set[tuple[str, str, str, str]]:
    """Every XMP node of a file, order-free (bags as multisets)."""
    meta = parse(load_packet(path.read_bytes(), path), path)
    return set(canonical(snapshot(meta)))


def exiftool_json(path: Path, *args: str) -> dict:
    completed = subprocess.run(
        ["exiftool", "-config", str(exiftool_config_path()), "-j", "-G1", "-struct", *args, str(path)],
        capture_output=True,
        check=True,
    )
    return json.loads(completed.stdout)[0]


def has_exiftool() -> bool:
    return shutil.which("exiftool") is not None


def has_exiv2() -> bool:
    return shutil.which("exiv2") is not None


def exiv2_regions(path: Path) -> tuple[tuple[int, int, str], list[dict[str, str]]]:
    """The MWG regions of a file as Exiv2 reads them (the library digiKam reads them with):
    ``(w, h, unit)`` of AppliedToDimensions and, per region in order, its fields
    (``mwg-rs:Type``, ``stArea:x`` ...) by Exiv2's own keys, e.g. ``Xmp.mwg-rs.Regions/mwg-rs:RegionList[1]/mwg-rs:Area/stArea:x``."""
    completed = subprocess.run(["exiv2", "-px", str(path)], capture_output=True, text=True, check=True)
    values = {}
    for line in completed.stdout.splitlines():
        key, _type, _count, *value = line.split(None, 3)
        values[key] = value[0] if value else ""
    dims = "Xmp.mwg-rs.Regions/mwg-rs:AppliedToDimensions/stDim:"
    applied = (int(values[dims + "w"]), int(values[dims + "h"]), values[dims + "unit"])
    regions = []
    while (item := f"Xmp.mwg-rs.Regions/mwg-rs:RegionList[{len(regions) + 1}]") in values:
        regions.append({k[len(item) + 1 :]: v for k, v in values.items() if k.startswith(item + "/")})
    return applied, regions
