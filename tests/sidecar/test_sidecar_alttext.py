"""Captions, titles and rights in several languages survive every write exactly (issue 21).

The XMP Toolkit in Exempi copies the x-default text over the other item of a
two-language array, on parse and on serialise. Each test writes the languages
with real exiftool into a real Lightroom, darktable or digiKam sidecar (or a
JPEG), lets xmpcull write, and reads the result back with exiftool.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from libxmp import XMPIterator
from lxml import etree

from tests.cli.helpers import run_json
from tests.conftest import FIXTURES
from tests.sidecar.sidecar_helpers import clock, exiftool_json, place_sidecar
from xmpcull.sidecar import (
    BurstFields,
    CropFields,
    CropProposal,
    DecisionFields,
    DupeFields,
    SidecarUpdate,
    WriteOptions,
    write_sidecar,
)
from xmpcull.sidecar.packet import parse, serialize, snapshot
from xmpcull.sidecar.safety import load_packet
from xmpcull.sidecar.state import canonical

STYLES = {  # one real sidecar per app
    "lightroom": "lightroom/IMG_5910.xmp",
    "darktable": "darktable/DSC_9034.NEF.xmp",
    "digikam": "digikam/portrait.jpg.xmp",
}
# exiftool tag -> a text with XML specials and non-ASCII, different per property
PROPERTIES = {
    "XMP-dc:Description": "Morning coffee & <cake>",
    "XMP-dc:Title": 'The "first" cup',
    "XMP-dc:Rights": "© 2024 Jane Doe",
    "XMP-xmpRights:UsageTerms": "Editorial use only; no AI training",
    "XMP-iptcCore:AltTextAccessibility": "A white cup on a wooden table",
    "XMP-iptcCore:ExtDescrAccessibility": "Steam rises from the cup 'slowly'",
}
LANGUAGES = (("x-default", ""), ("de", " (Deutsch: Morgenkaffee, Größe)"), ("fr-CA", " (français: café ☕)"))
UNKNOWN_NS = "http://example.com/acme/1.0/"  # an app's own namespace exiftool has no table for
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

FIRST = SidecarUpdate(
    dupes=DupeFields("d-3fa9c2e1", "near", "duplicate", 4, "lower sharpness"),
    crop=CropFields((CropProposal("4:5", 0.2, 0.1, 0.8, 0.9, 0.7),)),
    decision=DecisionFields("needs-review", ("soft focus",), rating=2, label="Yellow"),
)
SECOND = SidecarUpdate(  # a later run that changes our sections: the file is parsed and rewritten again
    dupes=DupeFields("d-3fa9c2e1", "near", "keeper", 0, "sharpest"),
    burst=BurstFields("20240612-143501-R5-0007", 1, 3, True),
    decision=DecisionFields("keeper", rating=4, label="Green"),
)


def _exiftool_args(count: int) -> list[str]:
    return [
        f"-{tag}-{lang}={text}{suffix}"
        for tag, text in PROPERTIES.items()
        for lang, suffix in LANGUAGES[:count]
    ]


def _add_languages(path: Path, count: int) -> None:
    """Every alt-text property above with ``count`` languages, written by exiftool; plus one
    in an unknown namespace (written as XML, exiftool cannot create it) with x-default last."""
    subprocess.run(["exiftool", "-q", "-overwrite_original", *_exiftool_args(count), str(path)], check=True)
    if path.suffix.lower() != ".xmp":
        return
    root = etree.fromstring(path.read_bytes())
    description = root.find(f".//{{{RDF}}}Description")
    caption = etree.SubElement(description, f"{{{UNKNOWN_NS}}}Caption", nsmap={"acme": UNKNOWN_NS})
    alt = etree.SubElement(caption, f"{{{RDF}}}Alt")
    for lang, suffix in reversed(LANGUAGES[:count]):
        etree.SubElement(alt, f"{{{RDF}}}li", {XML_LANG: lang}).text = f"Acme caption{suffix}"
    path.write_bytes(etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8"))


def _alt_entries(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Per property above, its language entries as exiftool reports them, in file order."""
    tags = exiftool_json(path, "-XMP:all")
    entries: dict[str, list[tuple[str, str]]] = {}
    for name in (*PROPERTIES, "XMP-acme:Caption"):
        found = [(k, v) for k, v in tags.items() if k == name or k.startswith(name + "-")]
        if found:
            entries[name] = found
    return entries


@pytest.mark.parametrize("count", [1, 2, 3])
@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_language_survives_a_write_and_a_rewrite(tmp_path: Path, style: str, count: int) -> None:
    image, sidecar = place_sidecar(tmp_path, STYLES[style])
    _add_languages(sidecar, count)
    before = _alt_entries(sidecar)
    assert sum(map(len, before.values())) == count * (len(PROPERTIES) + 1)

    assert write_sidecar(image, FIRST, clock=clock).changed
    assert _alt_entries(sidecar) == before
    assert write_sidecar(image, SECOND, clock=clock).changed  # parses our own output, writes again
    assert _alt_entries(sidecar) == before
    written = sidecar.read_bytes()
    assert not write_sidecar(image, SECOND, clock=clock).changed
    assert sidecar.read_bytes() == written


@pytest.mark.parametrize("count", [1, 2, 3])
def test_every_language_survives_embedding_into_a_jpeg(tmp_path: Path, count: int) -> None:
    image = tmp_path / "IMG_5910.jpg"
    shutil.copyfile(FIXTURES / "xmp/lightroom/IMG_5910.jpg", image)  # Lightroom's embedded XMP
    _add_languages(image, count)
    before = _alt_entries(image)
    assert sum(map(len, before.values())) == count * len(PROPERTIES)
    assert write_sidecar(image, FIRST, WriteOptions(embed=True), clock=clock).changed
    assert _alt_entries(image) == before
    assert write_sidecar(image, SECOND, WriteOptions(embed=True), clock=clock).changed
    assert _alt_entries(image) == before
    assert exiftool_json(image, "-XMP-xmpcull:DupRole")["XMP-xmpcull:DupRole"] == "keeper"


def test_run_rerun_and_embed_keep_a_two_language_caption(tmp_path: Path) -> None:
    """The user's view: `xmpcull run` twice on a digiKam-captioned photo, then `run --embed` on a JPEG."""
    root = tmp_path / "shoot"
    root.mkdir()
    photo = root / "portrait.jpg"
    shutil.copyfile(FIXTURES / "photos/portrait.jpg", photo)
    sidecar = root / "portrait.jpg.xmp"
    shutil.copyfile(FIXTURES / "xmp/digikam/portrait.jpg.xmp", sidecar)
    sidecar.chmod(0o644)
    _add_languages(sidecar, 2)
    before = _alt_entries(sidecar)
    args = ("run", root, "--naming", "darktable", "--cache", tmp_path / "cache.sqlite", "-j", "1")
    for _ in range(2):
        code, _summary = run_json(*args)
        assert code == 0
        assert _alt_entries(sidecar) == before
        assert exiftool_json(sidecar, "-XMP-xmpcull:Decision").get("XMP-xmpcull:Decision")

    embedded = tmp_path / "embedded"
    embedded.mkdir()
    jpeg = embedded / "coffee.jpg"
    shutil.copyfile(FIXTURES / "photos/portrait.jpg", jpeg)
    _add_languages(jpeg, 2)
    before = _alt_entries(jpeg)
    code, _summary = run_json("run", embedded, "--embed", "--no-cache", "-j", "1")
    assert code == 0
    assert _alt_entries(jpeg) == before
    assert exiftool_json(jpeg, "-XMP-xmpcull:Decision").get("XMP-xmpcull:Decision")


# --- any alt-text array, in a namespace we know nothing about ----------------------

_LANG = st.sampled_from(["x-default", "de", "de-CH", "en-US", "fr", "zh-Hant-TW", "sgn-BE-FR", "i-klingon"])
_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff") | st.sampled_from("&<>\"'\t\n"),
    max_size=40,
)
_ARRAY = st.lists(st.tuples(_LANG, _TEXT), min_size=1, max_size=4, unique_by=lambda item: item[0].lower())


def _packet(arrays: list[list[tuple[str, str]]]) -> str:
    root = etree.Element("{adobe:ns:meta/}xmpmeta", nsmap={"x": "adobe:ns:meta/"})
    rdf = etree.SubElement(root, f"{{{RDF}}}RDF", nsmap={"rdf": RDF})
    description = etree.SubElement(rdf, f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""}, nsmap={"acme": UNKNOWN_NS})
    for number, items in enumerate(arrays):
        alt = etree.SubElement(etree.SubElement(description, f"{{{UNKNOWN_NS}}}Text{number}"), f"{{{RDF}}}Alt")
        for lang, text in items:
            etree.SubElement(alt, f"{{{RDF}}}li", {XML_LANG: lang}).text = text
    return etree.tostring(root, encoding="unicode")


def _arrays_in(meta: object) -> list[list[tuple[str, str]]]:
    """Each acme:TextN array as (language, text) items, in order."""
    values: dict[str, str] = {}
    for schema, path, value, _opts in XMPIterator(meta):
        if schema == UNKNOWN_NS:
            values[path] = value or ""
    arrays = []
    for number in range(len({p.split("[", 1)[0] for p in values if p})):
        name = f"acme:Text{number}"
        count = sum(1 for p in values if p.startswith(name + "[") and "/" not in p)
        arrays.append([(values[f"{name}[{i}]/?xml:lang"], values[f"{name}[{i}]"]) for i in range(1, count + 1)])
    return arrays


def _standard_case(lang: str) -> str:
    """BCP 47 tags compare case-insensitively; the toolkit writes 2-letter regions upper, the rest lower."""
    parts = lang.lower().split("-")
    return "-".join([parts[0], *(p.upper() if i == 0 and len(p) == 2 else p for i, p in enumerate(parts[1:]))])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ARRAY, min_size=1, max_size=3))
def test_merge_keeps_any_alt_text_array_item_for_item(arrays: list[list[tuple[str, str]]]) -> None:
    text = _packet(arrays)
    expected = [[(_standard_case(lang), value) for lang, value in items] for items in arrays]
    meta = parse(load_packet(text.encode("utf-8"), "hypothesis"), "hypothesis")
    assert _arrays_in(meta) == expected
    meta.set_property("http://ns.xmpcull.org/xmpcull/1.0/", "Decision", "keeper")  # a merge touches the tree
    written = serialize(meta)
    again = parse(load_packet(written, "written"), "written")
    assert _arrays_in(again) == expected
    assert canonical(snapshot(again)) == canonical(snapshot(meta))  # so a re-run writes nothing


# --- aliases: folded only where no value is lost ------------------------------------


def test_an_alias_folding_would_drop_is_kept_and_one_alone_moves_to_its_base(tmp_path: Path) -> None:
    image, sidecar = place_sidecar(tmp_path, "digikam/portrait.jpg.xmp")
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original",
         "-XMP-dc:Description-x-default=New caption", "-XMP-dc:Description-de=Neue Bildunterschrift",
         "-XMP-tiff:ImageDescription=Old caption",  # differs from its base dc:description[x-default]
         "-XMP-xmp:CreatorTool=digiKam-8.2", "-XMP-tiff:Software=darktable 4.6",  # differs from its base
         "-XMP-tiff:Artist=Jane Doe",  # alone: the toolkit moves it into dc:creator
         str(sidecar)],
        check=True,
    )
    for update in (FIRST, SECOND):
        assert write_sidecar(image, update, clock=clock).changed
        tags = exiftool_json(sidecar, "-XMP:all")
        assert tags["XMP-tiff:ImageDescription"] == "Old caption"
        assert (tags["XMP-dc:Description"], tags["XMP-dc:Description-de"]) == ("New caption", "Neue Bildunterschrift")
        assert (tags["XMP-tiff:Software"], tags["XMP-xmp:CreatorTool"]) == ("darktable 4.6", "digiKam-8.2")
        assert "XMP-tiff:Artist" not in tags and tags["XMP-dc:Creator"] == ["Jane Doe"]  # moved, value intact


def test_an_alt_text_inside_a_struct_keeps_its_languages(tmp_path: Path) -> None:
    image, sidecar = place_sidecar(tmp_path, "darktable/DSC_9034.NEF.xmp")
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original", "-XMP-iptcExt:LocationShown=", str(sidecar)], check=True
    )
    text = sidecar.read_text()
    location = (
        '<Iptc4xmpExt:LocationShown xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"><rdf:Bag>'
        '<rdf:li rdf:parseType="Resource"><Iptc4xmpExt:LocationName><rdf:Alt>'
        '<rdf:li xml:lang="de">Kölner Dom</rdf:li><rdf:li xml:lang="x-default">Cologne Cathedral</rdf:li>'
        "</rdf:Alt></Iptc4xmpExt:LocationName></rdf:li></rdf:Bag></Iptc4xmpExt:LocationShown>"
    )
    sidecar.write_text(text.replace("</rdf:Description>", location + "</rdf:Description>", 1))
    before = _flat_tags(sidecar)
    assert before["XMP-iptcExt:LocationShownLocationName-de"] == "Kölner Dom"
    for update in (FIRST, SECOND):
        assert write_sidecar(image, update, clock=clock).changed
        assert list(_flat_tags(sidecar).items()) == list(before.items())  # same texts, in the same order


def _flat_tags(path: Path) -> dict[str, str]:
    out = subprocess.run(["exiftool", "-j", "-G1", "-XMP-iptcExt:all", str(path)], capture_output=True, check=True)
    return {k: v for k, v in json.loads(out.stdout)[0].items() if k != "SourceFile"}
