"""Each file of a RAW+JPEG pair gets what its applications read, under each --naming (real CR3, real exiftool).

darktable and digiKam show the pair's JPEG as a photo of its own and read IMG.JPG.xmp;
Lightroom shows the pair as one photo and reads IMG.xmp (docs/xmp-schema.md).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli
from tests.conftest import FIXTURES
from xmpcull.sidecar import exiftool_config_path


@pytest.fixture
def pair(tmp_path: Path) -> Path:
    root = tmp_path / "pair"
    root.mkdir()
    shutil.copy(FIXTURES / "raw/Canon-R6-pruned.CR3", root / "R6.CR3")
    preview = subprocess.run(["exiftool", "-b", "-PreviewImage", str(root / "R6.CR3")], capture_output=True, check=True).stdout
    (root / "R6.JPG").write_bytes(preview)
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "jet.jpg")
    for p in root.iterdir():
        p.chmod(0o644)
    return root


def tags(path: Path, *names: str) -> dict:
    out = subprocess.run(["exiftool", "-config", str(exiftool_config_path()), "-j", "-G1", *[f"-{n}" for n in names], str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def run(root: Path, cache: Path, *extra: str) -> None:
    proc = run_cli("run", root, "--cache", cache, *extra)
    assert proc.returncode == 0, proc.stderr


def sidecars(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("*.xmp"))


def test_adobe_naming_the_pair_shares_the_raws_sidecar(pair: Path, tmp_path: Path) -> None:
    run(pair, tmp_path / "c.sqlite")
    assert sidecars(pair) == ["R6.xmp", "jet.xmp"]
    shared = tags(pair / "R6.xmp", "XMP-photoshop:SidecarForExtension", "XMP-xmpcull:Decision")
    assert shared["XMP-photoshop:SidecarForExtension"] == "CR3" and shared["XMP-xmpcull:Decision"]


def test_darktable_naming_the_jpeg_of_a_pair_gets_its_own_sidecar(pair: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    run(pair, cache, "--naming", "darktable")
    assert sidecars(pair) == ["R6.CR3.xmp", "R6.JPG.xmp", "jet.jpg.xmp"]
    fields = ("XMP-photoshop:SidecarForExtension", "XMP-xmpcull:Decision", "XMP-xmpcull:Quality", "XMP-xmp:Label")
    raw, jpeg = tags(pair / "R6.CR3.xmp", *fields), tags(pair / "R6.JPG.xmp", *fields)
    assert (raw["XMP-photoshop:SidecarForExtension"], jpeg["XMP-photoshop:SidecarForExtension"]) == ("CR3", "JPG")
    assert raw["XMP-xmpcull:Decision"] == jpeg["XMP-xmpcull:Decision"]  # one shot, one decision
    assert raw.get("XMP-xmpcull:Quality") == jpeg.get("XMP-xmpcull:Quality")

    # A re-run writes no byte; the user's own rating on the JPEG (set in darktable) survives.
    before = {name: (pair / name).read_bytes() for name in sidecars(pair)}
    run(pair, cache, "--naming", "darktable")
    assert {name: (pair / name).read_bytes() for name in sidecars(pair)} == before
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP-xmp:Rating=5", str(pair / "R6.JPG.xmp")], check=True)
    run(pair, cache, "--naming", "darktable")
    assert tags(pair / "R6.JPG.xmp", "XMP-xmp:Rating")["XMP-xmp:Rating"] == 5
    # A JPEG sidecar someone removed comes back on the next run, even when nothing else changed.
    (pair / "R6.JPG.xmp").unlink()
    run(pair, cache, "--naming", "darktable")
    assert "R6.JPG.xmp" in sidecars(pair)


def test_switching_to_darktable_keeps_the_existing_shared_sidecar_and_adds_the_jpegs(pair: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    run(pair, cache)
    run(pair, cache, "--naming", "darktable")
    # Never a second sidecar for the raw; the JPEG gets the one darktable and digiKam read.
    assert sidecars(pair) == ["R6.JPG.xmp", "R6.xmp", "jet.xmp"]
    assert tags(pair / "R6.JPG.xmp", "XMP-photoshop:SidecarForExtension")["XMP-photoshop:SidecarForExtension"] == "JPG"
