"""MWG face regions in the sidecar: written only where the file has none of the user's, ours kept apart.

Real sidecars (Lightroom's with a named region, digiKam's with MP and MWG regions),
real Exempi and real exiftool, which reads what we write and edits it as a user's
program would.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.sidecar.sidecar_helpers import (
    XMP,
    clock,
    exiftool_json,
    exiv2_regions,
    has_exiftool,
    has_exiv2,
    place_sidecar,
    tree,
)
from xmpcull.sidecar import (
    CLEAR,
    FaceRegion,
    FaceRegionFields,
    SidecarUpdate,
    exiftool_config_path,
    read_sidecar,
    write_sidecar,
)
from xmpcull.sidecar.packet import NS_MWG_RS

needs_exiftool = pytest.mark.skipif(not has_exiftool(), reason="exiftool not installed")

TWO_FACES = FaceRegionFields(840, 700, (FaceRegion(0.3684, 0.3097, 0.1421, 0.1185), FaceRegion(0.6853, 0.2713, 0.1157, 0.0965)))
ONE_FACE = FaceRegionFields(840, 700, (FaceRegion(0.5, 0.4, 0.2, 0.25),))


def _image(tmp_path: Path, name: str = "IMG_0001.CR2") -> Path:
    image = tmp_path / name
    image.write_bytes(b"")
    return image


def _write(image: Path, regions: FaceRegionFields | object) -> tuple[bool, tuple[str, ...]]:
    result = write_sidecar(image, SidecarUpdate(regions=regions), clock=clock)  # type: ignore[arg-type]
    return result.changed, result.kept_user_values


def _regions_of(sidecar: Path) -> set[tuple[str, str, str, str]]:
    return {node for node in tree(sidecar) if node[0] == NS_MWG_RS}


def _exiftool(*args: str) -> None:
    subprocess.run(["exiftool", "-config", str(exiftool_config_path()), "-overwrite_original", *args],
                   check=True, capture_output=True)


@needs_exiftool
def test_exiftool_reads_our_regions_as_mwg_regions(tmp_path: Path) -> None:
    image = _image(tmp_path)
    assert _write(image, TWO_FACES)[0]
    tags = exiftool_json(tmp_path / "IMG_0001.xmp", "-XMP-mwg-rs:all", "-XMP-xmpcull:FaceRegions")
    info = tags["XMP-mwg-rs:RegionInfo"]
    assert info["AppliedToDimensions"] == {"W": 840, "H": 700, "Unit": "pixel"}
    areas = [(r["Type"], r["Area"]) for r in info["RegionList"]]
    assert areas == [
        ("Face", {"X": 0.3684, "Y": 0.3097, "W": 0.1421, "H": 0.1185, "Unit": "normalized"}),
        ("Face", {"X": 0.6853, "Y": 0.2713, "W": 0.1157, "H": 0.0965, "Unit": "normalized"}),
    ]
    assert tags["XMP-xmpcull:FaceRegions"] == "840x700 0.3684,0.3097,0.1421,0.1185 0.6853,0.2713,0.1157,0.0965"
    assert read_sidecar(image).face_regions == TWO_FACES


@pytest.mark.skipif(not has_exiv2(), reason="exiv2 not installed (scripts/setup.sh installs Debian's)")
def test_exiv2_reads_our_regions_under_the_keys_digikam_reads(tmp_path: Path) -> None:
    # digiKam reads faces through Exiv2 by these keys: Xmp.mwg-rs.Regions/mwg-rs:RegionList[i]/mwg-rs:Area/stArea:x ...
    image = _image(tmp_path)
    assert _write(image, TWO_FACES)[0]
    applied, regions = exiv2_regions(tmp_path / "IMG_0001.xmp")
    assert applied == (840, 700, "pixel")
    assert [r["mwg-rs:Type"] for r in regions] == ["Face", "Face"]
    assert [r["mwg-rs:Area/stArea:unit"] for r in regions] == ["normalized", "normalized"]
    areas = [tuple(float(r[f"mwg-rs:Area/stArea:{k}"]) for k in "xywh") for r in regions]
    assert areas == [(r.x, r.y, r.w, r.h) for r in TWO_FACES.regions]


def test_a_second_write_changes_no_byte_and_new_faces_replace_ours(tmp_path: Path) -> None:
    image = _image(tmp_path)
    _write(image, TWO_FACES)
    sidecar = tmp_path / "IMG_0001.xmp"
    before = sidecar.read_bytes()
    assert _write(image, TWO_FACES) == (False, ())
    assert sidecar.read_bytes() == before
    assert _write(image, ONE_FACE)[0]
    assert read_sidecar(image).face_regions == ONE_FACE
    assert _write(image, CLEAR)[0]  # face regions switched off: ours go, and our record with them
    state = read_sidecar(image)
    assert state.face_regions is None and not _regions_of(sidecar)
    assert state.schema_version is None  # nothing of ours left, not even the engine stamp


@pytest.mark.parametrize("fixture", ["lightroom/IMG_5910.xmp", "digikam/portrait.jpg.xmp"])
def test_the_users_regions_in_real_sidecars_are_never_touched(tmp_path: Path, fixture: str) -> None:
    # Lightroom's named MWG region (a squirrel tagged "Alvin the Squirrel"); digiKam's two
    # people in both MP and MWG form. Our faces would differ from theirs: still not written.
    image, sidecar = place_sidecar(tmp_path, fixture)
    before = tree(sidecar)
    changed, kept = _write(image, TWO_FACES)
    assert not changed and sidecar.read_bytes() == (XMP / fixture).read_bytes()
    assert tree(sidecar) == before
    assert any("mwg-rs:Regions" in note for note in kept)
    assert read_sidecar(image).face_regions is None
    assert _write(image, CLEAR) == (False, ())


def test_microsoft_or_iptc_regions_alone_keep_ours_out(tmp_path: Path) -> None:
    # digiKam's MP regions without the MWG copy: a person's face tags all the same.
    image, sidecar = place_sidecar(tmp_path, "digikam/portrait.jpg.xmp")
    text = sidecar.read_text()
    start, end = text.index("<mwg-rs:Regions"), text.index("</mwg-rs:Regions>") + len("</mwg-rs:Regions>")
    sidecar.write_text(text[:start] + text[end:])
    changed, kept = _write(image, TWO_FACES)
    assert not changed and not _regions_of(sidecar)
    assert kept == ("MP:RegionInfo (the file's own face regions, kept; xmpcull's not written)",)


@needs_exiftool
def test_regions_a_person_edits_become_theirs(tmp_path: Path) -> None:
    image = _image(tmp_path)
    _write(image, TWO_FACES)
    sidecar = tmp_path / "IMG_0001.xmp"
    # A person names the first face in a program that writes through exiftool.
    _exiftool("-XMP-mwg-rs:RegionInfo={AppliedToDimensions={W=840,H=700,Unit=pixel},RegionList=[{Area={X=0.3684,"
              "Y=0.3097,W=0.1421,H=0.1185,Unit=normalized},Type=Face,Name=Marie Curie}]}", str(sidecar))
    named = _regions_of(sidecar)
    changed, kept = _write(image, ONE_FACE)
    assert changed  # only our record goes: the regions are the person's now
    assert _regions_of(sidecar) == named and read_sidecar(image).face_regions is None
    assert "XMP-xmpcull:FaceRegions" not in exiftool_json(sidecar, "-XMP-xmpcull:all")
    assert any("mwg-rs:Regions" in note for note in kept)
    assert _write(image, CLEAR) == (False, ())  # switched off: the person's regions still stay
    assert _regions_of(sidecar) == named


@needs_exiftool
def test_regions_a_person_deleted_are_not_written_again(tmp_path: Path) -> None:
    image = _image(tmp_path)
    _write(image, TWO_FACES)
    sidecar = tmp_path / "IMG_0001.xmp"
    _exiftool("-XMP-mwg-rs:RegionInfo=", str(sidecar))
    assert not _regions_of(sidecar)
    assert _write(image, TWO_FACES) == (False, ())
    assert not _regions_of(sidecar)
    assert _write(image, ONE_FACE)[0]  # other faces found: a new proposal, written
    assert read_sidecar(image).face_regions == ONE_FACE


@pytest.mark.parametrize(
    "odd",
    [
        '<mwg-rs:Regions>not a structure</mwg-rs:Regions>',
        '<mwg-rs:Regions rdf:parseType="Resource"/>',
        '<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag/></mwg-rs:RegionList></mwg-rs:Regions>',
        '<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:AppliedToDimensions stDim:w="-3" stDim:h="x"/>'
        '<mwg-rs:RegionList><rdf:Bag><rdf:li rdf:parseType="Resource"><mwg-rs:Area stArea:x="9e99" stArea:y="NaN"/>'
        '</rdf:li></rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>',
    ],
)
def test_odd_region_data_of_another_program_is_kept_as_it_is(tmp_path: Path, odd: str) -> None:
    image = _image(tmp_path)
    sidecar = tmp_path / "IMG_0001.xmp"
    sidecar.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        'xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
        'xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#" xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#">'
        f"{odd}</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    before = tree(sidecar)
    changed, _ = _write(image, TWO_FACES)
    assert not changed and tree(sidecar) == before


def test_a_garbled_record_of_ours_is_replaced(tmp_path: Path) -> None:
    image = _image(tmp_path)
    sidecar = tmp_path / "IMG_0001.xmp"
    shutil.copyfile(XMP / "lightroom/lrc9.1_label-Verde_extracted.xmp", sidecar)
    text = sidecar.read_text()
    sidecar.write_text(text.replace("<rdf:Description ", '<rdf:Description xmlns:xmpcull="http://ns.xmpcull.org/xmpcull/1.0/" '
                                    'xmpcull:FaceRegions="12x 0.5,oops" ', 1))
    assert _write(image, ONE_FACE)[0]
    assert read_sidecar(image).face_regions == ONE_FACE


def test_fields_refuse_what_is_not_a_region() -> None:
    with pytest.raises(ValueError):
        FaceRegion(0.5, 0.5, 0.0, 0.1)
    with pytest.raises(ValueError):
        FaceRegion(1.5, 0.5, 0.1, 0.1)
    with pytest.raises(ValueError):
        FaceRegionFields(0, 700, (ONE_FACE.regions[0],))
    with pytest.raises(ValueError):
        FaceRegionFields(840, 700, ())
