"""Real Lightroom, darktable and digiKam sidecars keep everything that is not ours."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sidecar.sidecar_helpers import REAL_SIDECARS, clock, exiftool_json, place_sidecar, tree
from xmpcull.models import CropEdges
from xmpcull.sidecar import (
    BurstFields,
    CropFields,
    CropProposal,
    DecisionFields,
    DupeFields,
    QualityFields,
    SidecarUpdate,
    SimilarFields,
    read_sidecar,
    write_sidecar,
)
from xmpcull.sidecar.packet import NS_DC, NS_LR, NS_XMPCULL

FULL = SidecarUpdate(
    dupes=DupeFields("d-3fa9c2e1", "near", "duplicate", 4, "lower sharpness", ("../exports/IMG_0001.jpg",)),
    similar=SimilarFields("s-81c0aa12", "member", 3, "pHash 12 bits; 212 inliers (homography), 4.1 % changed",
                          ("../day2/IMG_0107.CR2", "IMG_0005.CR2")),
    burst=BurstFields("20240612-143501-R5-0007", 2, 5, False),
    quality=QualityFields(0.61, 0.4, 0.75, face_sharpness=0.3),
    crop=CropFields((CropProposal("4:5", 0.2, 0.1, 0.8, 0.9, 0.7), CropProposal("1:1", 0.1, 0, 0.9, 1, 0.5))),
    decision=DecisionFields("needs-review", ("soft focus", "closed eyes"), rating=2, label="Yellow"),
)
OUR_KEYWORDS = {"xmpcull|dupes|d-3fa9c2e1", "xmpcull|similar|s-81c0aa12", "xmpcull|burst|20240612-143501-R5-0007",
                "xmpcull|review"}
# Top-level properties the update above may touch; everything else must survive unchanged.
XMP_ALIASES = {"XMP-tiff:DateTime": "XMP-xmp:ModifyDate", "XMP-tiff:Software": "XMP-xmp:CreatorTool"}
OURS = {"xmp:Rating", "xmp:Label", "dc:subject", "lr:hierarchicalSubject", "photoshop:SidecarForExtension"}


def _top(path: str) -> str:
    return path.split("/", 1)[0].split("[", 1)[0].split("?", 1)[0]


def _foreign(nodes: set) -> set:
    return {n for n in nodes if n[0] != NS_XMPCULL and _top(n[1]) not in OURS}


def _items(nodes: set, schema: str, array: str) -> set[str]:
    return {n[2] for n in nodes if n[0] == schema and n[1].startswith(array + "[")}


@pytest.mark.parametrize("fixture", sorted(REAL_SIDECARS))
def test_real_sidecar_keeps_every_foreign_property(tmp_path: Path, fixture: str) -> None:
    image, sidecar = place_sidecar(tmp_path, fixture)
    before = tree(sidecar)
    result = write_sidecar(image, FULL, clock=clock)
    assert result.changed and Path(result.path) == sidecar  # updated in place, no second sidecar
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([image.name, sidecar.name])
    after = tree(sidecar)

    assert _foreign(after) == _foreign(before)
    # keywords are set-merged: the user's all stay, ours are added
    for schema, array, wanted in (
        (NS_LR, "lr:hierarchicalSubject", OUR_KEYWORDS),
        (NS_DC, "dc:subject", {k.rsplit("|", 1)[1] for k in OUR_KEYWORDS}),
    ):
        assert _items(after, schema, array) == _items(before, schema, array) | wanted
    # a rating or label the user set is never replaced
    for name in ("xmp:Rating", "xmp:Label"):
        old = {n for n in before if n[1] == name}
        if old and not {n for n in old if n[2] in ("", "0")}:
            assert {n for n in after if n[1] == name} == old


@pytest.mark.parametrize("fixture", sorted(REAL_SIDECARS))
def test_exiftool_sees_the_same_foreign_tags_after_our_write(tmp_path: Path, fixture: str) -> None:
    image, sidecar = place_sidecar(tmp_path, fixture)
    ignore = {"SourceFile", "ExifTool:ExifToolVersion", "ExifTool:Warning"}
    standard = {"XMP-xmp:Rating", "XMP-xmp:Label", "XMP-dc:Subject", "XMP-lr:HierarchicalSubject",
                "XMP-photoshop:SidecarForExtension", "XMP-x:XMPToolkit"}

    def foreign(tags: dict) -> dict:
        # ExifTool names the group of a namespace it cannot map after the prefix in the file, or
        # XMP-tmp0, tmp1... in the order it meets them; prefixes are a serialisation detail (Exempi
        # may write digiKam_1_ for a second digiKam URI), the namespace URI is what counts.
        return {
            re.sub(r"^XMP-(tmp\d+|\w+_\d+_):", "XMP-unmapped:", k): v for k, v in tags.items()
            if not k.startswith(("System:", "File:", "XMP-xmpcull:")) and k not in ignore and k not in standard
        }

    before = foreign(exiftool_json(sidecar))
    write_sidecar(image, FULL, clock=clock)
    after = foreign(exiftool_json(sidecar))
    # The XMP Toolkit folds XMP-defined aliases into their base property (XMP Part 1,
    # "aliases"); the value must survive there. Nothing else may go.
    for tag in before.keys() - after.keys():
        assert tag in XMP_ALIASES, f"{tag} was lost"
        assert after[XMP_ALIASES[tag]] == before[tag]
    assert {k: v for k, v in after.items() if k in before} == {k: v for k, v in before.items() if k in after}
    assert after.keys() <= before.keys()


def test_exiftool_reads_every_field_through_the_shipped_config(tmp_path: Path) -> None:
    image = tmp_path / "IMG_0001.CR2"
    image.write_bytes(b"")
    update = SidecarUpdate(
        dupes=FULL.dupes, similar=FULL.similar, burst=BurstFields("b-7", 1, 3, True, "sharpest eyes"), quality=FULL.quality,
        crop=CropFields(FULL.crop.proposals, applied=CropEdges(0.2, 0.1, 0.8, 0.9)),  # type: ignore[union-attr]
        decision=DecisionFields("needs-review", ("soft focus",), rating=2, label="Yellow"),
    )
    write_sidecar(image, update, clock=clock)
    tags = exiftool_json(tmp_path / "IMG_0001.xmp")
    assert {k.split(":", 1)[1]: v for k, v in tags.items() if k.startswith("XMP-xmpcull:")} == {
        "SchemaVersion": 1, "EngineVersion": "0.1.0", "AnalysisDate": "2024:06:12 14:35:01+00:00",
        "DupGroup": "d-3fa9c2e1", "DupKind": "near", "DupRole": "duplicate", "DupDistance": 4,
        "KeeperReason": "lower sharpness", "DupMembers": ["../exports/IMG_0001.jpg"],
        "SimilarSet": "s-81c0aa12", "SimilarRole": "member", "SimilarSize": 3,
        "SimilarReason": "pHash 12 bits; 212 inliers (homography), 4.1 % changed",
        "SimilarMembers": ["../day2/IMG_0107.CR2", "IMG_0005.CR2"],
        "BurstID": "b-7", "BurstIndex": 1, "BurstSize": 3, "BurstBest": True, "BurstBestReason": "sharpest eyes",
        "Quality": 0.61, "Sharpness": 0.4, "Exposure": 0.75, "FaceSharpness": 0.3,
        "CropProposals": [
            {"Aspect": "4:5", "CropLeft": 0.2, "CropTop": 0.1, "CropRight": 0.8, "CropBottom": 0.9, "Confidence": 0.7},
            {"Aspect": "1:1", "CropLeft": 0.1, "CropTop": 0, "CropRight": 0.9, "CropBottom": 1, "Confidence": 0.5},
        ],
        "CropApplied": "0.2,0.1,0.8,0.9",
        "Decision": "needs-review", "ReviewReasons": ["soft focus"], "RatingSet": 2, "LabelSet": "Yellow",
    }
    # the standard tags every other tool reads
    assert tags["XMP-xmp:Rating"] == 2
    assert tags["XMP-xmp:Label"] == "Yellow"
    assert sorted(tags["XMP-dc:Subject"]) == ["b-7", "d-3fa9c2e1", "review", "s-81c0aa12"]
    assert sorted(tags["XMP-lr:HierarchicalSubject"]) == sorted(
        ["xmpcull|dupes|d-3fa9c2e1", "xmpcull|similar|s-81c0aa12", "xmpcull|burst|b-7", "xmpcull|review"]
    )
    assert tags["XMP-crs:HasCrop"] is True
    assert (tags["XMP-crs:CropLeft"], tags["XMP-crs:CropTop"], tags["XMP-crs:CropRight"],
            tags["XMP-crs:CropBottom"], tags["XMP-crs:CropAngle"]) == (0.2, 0.1, 0.8, 0.9, 0)
    assert tags["XMP-photoshop:SidecarForExtension"] == "CR2"


def test_exiftool_can_write_our_field_and_we_read_it_back(tmp_path: Path) -> None:
    import subprocess

    from xmpcull.sidecar import exiftool_config_path

    image = tmp_path / "IMG_0002.NEF"
    image.write_bytes(b"")
    write_sidecar(image, SidecarUpdate(dupes=FULL.dupes), clock=clock)
    sidecar = tmp_path / "IMG_0002.xmp"
    subprocess.run(
        ["exiftool", "-config", str(exiftool_config_path()), "-overwrite_original",
         "-XMP-xmpcull:DupRole=keeper", "-XMP-xmpcull:DupDistance=0", str(sidecar)],
        check=True, capture_output=True,
    )
    state = read_sidecar(image)
    assert state.dupes == DupeFields("d-3fa9c2e1", "near", "keeper", 0, "lower sharpness", ("../exports/IMG_0001.jpg",))


def test_exiftool_writes_the_member_lists_as_bags_we_read_back(tmp_path: Path) -> None:
    import subprocess

    from xmpcull.sidecar import exiftool_config_path

    image = tmp_path / "IMG_0003.NEF"
    image.write_bytes(b"")
    write_sidecar(image, SidecarUpdate(dupes=FULL.dupes, similar=FULL.similar), clock=clock)
    sidecar = tmp_path / "IMG_0003.xmp"
    subprocess.run(
        ["exiftool", "-config", str(exiftool_config_path()), "-overwrite_original",
         "-XMP-xmpcull:SimilarMembers+=../day3/IMG_0200.CR2", "-XMP-xmpcull:DupMembers-=../exports/IMG_0001.jpg",
         str(sidecar)],
        check=True, capture_output=True,
    )  # fmt: skip
    state = read_sidecar(image)
    assert state.similar is not None and state.dupes is not None
    assert state.similar.members == ("../day2/IMG_0107.CR2", "IMG_0005.CR2", "../day3/IMG_0200.CR2")
    assert state.dupes.members == ()
    assert b"<rdf:Bag>" in sidecar.read_bytes()


def test_sidecar_starts_with_xml_declaration_and_is_utf8(tmp_path: Path) -> None:
    image = tmp_path / "IMG_0003.CR3"
    image.write_bytes(b"")
    write_sidecar(image, SidecarUpdate(quality=FULL.quality), clock=clock)
    data = (tmp_path / "IMG_0003.xmp").read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<x:xmpmeta ')
    data.decode("utf-8")


def test_utf16_damaged_lightroom_sidecar_is_read_and_rewritten_as_utf8(tmp_path: Path) -> None:
    image = tmp_path / "2000.CR2"
    image.write_bytes(b"")
    sidecar = tmp_path / "2000.xmp"
    sidecar.write_bytes((Path(__file__).resolve().parents[2] / "fixtures/xmp/lightroom/utf16le_lr4.1_2000.xmp").read_bytes())
    before = tree(sidecar)
    assert read_sidecar(image).source == "sidecar"
    write_sidecar(image, SidecarUpdate(quality=FULL.quality), clock=clock)
    after = tree(sidecar)
    assert {n for n in after if n[0] != NS_XMPCULL and n[1] != "photoshop:SidecarForExtension"} == before
    # ExifTool could not read the UTF-16 file at all; it reads the rewritten one
    tags = exiftool_json(sidecar)
    assert tags["XMP-xmp:CreatorTool"] == "Adobe Photoshop Lightroom 4.1 (Macintosh)"
    assert tags["XMP-xmpcull:Quality"] == 0.61


def test_old_digikam_uri_survives_when_the_new_one_owns_the_prefix(tmp_path: Path) -> None:
    # After a sidecar with digiKam's current URI was parsed in a process, Exempi has given
    # the prefix "digiKam" to that URI; the 2011 file's properties under the old URI must
    # still all be written back (under another prefix), none dropped. Exempi's namespace
    # registry is process-wide, so the scenario runs in a fresh interpreter.
    image, sidecar = place_sidecar(tmp_path, "digikam/nikon-e2100.jpg.xmp")
    before = {k.split(":", 1)[1]: v for k, v in exiftool_json(sidecar).items() if k.startswith("XMP-tmp")}
    script = (
        "import sys, datetime as dt\n"
        "from pathlib import Path\n"
        "from libxmp import XMPMeta\n"
        "from xmpcull.sidecar import SidecarUpdate, DupeFields, write_sidecar\n"
        "XMPMeta.register_namespace('http://www.digikam.org/ns/1.0/', 'digiKam')\n"
        "write_sidecar(Path(sys.argv[1]), SidecarUpdate(dupes=DupeFields('d-00000001', 'near', 'keeper')))\n"
    )
    subprocess.run([sys.executable, "-c", script, str(image)], check=True, cwd=Path(__file__).resolve().parents[2])
    text = sidecar.read_text()
    assert "xmpcull:DupGroup" in text or "DupGroup" in text
    assert '="http://www.digikam.org/"' in text
    after = {k.split(":", 1)[1]: v for k, v in exiftool_json(sidecar).items() if k.startswith("XMP-") and k.split(":", 1)[1] in before}
    assert before and after == before
