"""``run --embed`` twice on a digiKam-tagged JPEG: the second run writes no byte (issue 14).

The real digiKam 4.4 JPEG (fixtures/photos/nikon-e2100.jpg: empty ``mwg-rs:Regions`` and
``MP:RegionInfo`` bags, digiKam labels and tags), its PNG export and a downscaled copy, as
in bench/decisions_bench.py; the real command line, real exiftool and Exempi.

Why a second run could write: our embed changes the file, so the analysis cache saw a new
file and recomputed every number from the pixels, and OpenCV's vector code does not give
bitwise the same numbers twice (they depend on the memory alignment of its arrays: one
crop confidence came out 0.7599367 and 0.7599363 on two runs). The sixth written decimal
flipped and the file was rewritten with a new AnalysisDate, on a busy machine 2 of 11 times.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from tests.cli.helpers import run_json
from tests.conftest import FIXTURES
from tests.test_run_stability import all_bytes
from xmpcull.sidecar import CLEAR, QualityFields, SidecarUpdate, WriteOptions, write_sidecar
from xmpcull.sidecar.embedded import read_embedded_xmp
from xmpcull.sidecar.fields import CropFields, CropProposal
from xmpcull.sidecar.packet import NS_MP, NS_MWG_RS, parse, snapshot
from xmpcull.sidecar.safety import load_packet
from xmpcull.sidecar.state import canonical

DIGIKAM = FIXTURES / "photos/nikon-e2100.jpg"


@pytest.fixture
def shoot(tmp_path: Path) -> Path:
    root = tmp_path / "shoot"
    (root / "day1").mkdir(parents=True)
    (root / "exports").mkdir()
    shutil.copy(DIGIKAM, root / "day1/DSCN4001.JPG")
    with Image.open(DIGIKAM) as im:
        upright = ImageOps.exif_transpose(im).convert("RGB")
        upright.save(root / "exports/DSCN4001.png")
        upright.resize((upright.width // 2, upright.height // 2)).save(root / "exports/DSCN4001-small.jpg", quality=90)
    return root


def cache_row(cache: Path, image: Path) -> tuple:
    with sqlite3.connect(cache) as db:
        return db.execute("SELECT size, mtime_ns, digest, features FROM files WHERE path = ?",
                          (bytes(image),)).fetchone()  # fmt: skip


def embedded_tree(image: Path) -> list:
    data = read_embedded_xmp([image])[image]
    assert data
    return list(snapshot(parse(load_packet(data, image), image)))


def region_nodes(nodes: list) -> list:
    return [n for n in nodes if n.schema in (NS_MWG_RS, NS_MP)]


def test_the_cache_knows_the_bytes_our_embed_wrote(shoot: Path, tmp_path: Path) -> None:
    cache, image = tmp_path / "c.sqlite", shoot / "day1/DSCN4001.JPG"
    code, _ = run_json("run", shoot, "--embed", "--cache", cache)
    assert code == 0
    size, mtime_ns, digest, features = cache_row(cache, image)
    # The entry follows our own write (before: it still described the bytes before it, so
    # the next run decoded the picture again and recomputed every number).
    assert (size, mtime_ns) == (image.stat().st_size, image.stat().st_mtime_ns)
    once = all_bytes(shoot)
    code, summary = run_json("run", shoot, "--embed", "--cache", cache)
    assert code == 0 and summary["sidecars_changed"] == 0
    assert all_bytes(shoot) == once
    # Not analysed again: the same features, under the content key of the bytes they came from.
    assert cache_row(cache, image)[2:] == (digest, features)
    images = {i["relpath"]: i for i in json.loads((shoot / ".xmpcull/report.json").read_text())["images"]}
    assert images["day1/DSCN4001.JPG"]["label"] == "Green"  # the XMP was read again: our label, not the user's


def test_a_changed_file_is_analysed_again_after_an_embed(shoot: Path, tmp_path: Path) -> None:
    cache, image = tmp_path / "c.sqlite", shoot / "day1/DSCN4001.JPG"
    run_json("run", shoot, "--embed", "--cache", cache)
    first_digest = cache_row(cache, image)[2]
    with Image.open(image) as im:  # another program re-saves the picture
        im.save(image, quality=50, exif=im.info.get("exif", b""))
    run_json("run", shoot, "--embed", "--cache", cache)
    size, mtime_ns, digest, _ = cache_row(cache, image)
    assert (size, mtime_ns) == (image.stat().st_size, image.stat().st_mtime_ns)
    assert digest != first_digest  # analysed from its new bytes, not taken for our own write


def test_a_recomputed_value_within_noise_rewrites_nothing(shoot: Path) -> None:
    image = shoot / "day1/DSCN4001.JPG"

    def update(confidence: float, sharpness: float) -> SidecarUpdate:
        proposal = CropProposal("4:5", 0.0625, 0.0, 1.0, 1.0, confidence)
        return SidecarUpdate(quality=QualityFields(0.5, sharpness, 0.5), crop=CropFields((proposal,), None), regions=CLEAR)

    for options in (WriteOptions(embed=True), WriteOptions()):
        assert write_sidecar(image, update(0.7599367, 0.4), options).changed
        target = image if options.embed else image.with_suffix(".xmp")
        before = target.read_bytes()
        # The same measure recomputed: OpenCV noise in the seventh decimal.
        assert not write_sidecar(image, update(0.7599363, 0.4000004), options).changed
        assert target.read_bytes() == before
        # A real change is written.
        assert write_sidecar(image, update(0.75, 0.4), options).changed


def test_a_rewrite_keeps_the_empty_region_bags_digikam_wrote(shoot: Path) -> None:
    image = shoot / "day1/DSCN4001.JPG"
    original = region_nodes(embedded_tree(image))
    assert [n.kind for n in original] == ["struct", "bag", "struct", "bag"]  # two empty bags
    for n, options in enumerate((WriteOptions(embed=True), WriteOptions()), start=1):
        for sharpness in (0.25, 0.5):  # the first write and a rewrite
            assert write_sidecar(image, SidecarUpdate(quality=QualityFields(0.5, sharpness, 0.5), regions=CLEAR), options).changed
            if options.embed:
                tree = embedded_tree(image)
            else:
                sidecar = image.with_suffix(".xmp")
                tree = list(snapshot(parse(load_packet(sidecar.read_bytes(), sidecar), sidecar)))
            assert canonical(region_nodes(tree)) == canonical(original), (n, sharpness)
