"""Vet untrusted XMP bytes before Exempi sees them.

Sidecars come from anywhere (other tools, downloads, damaged disks). Exempi
already refuses DOCTYPEs, but we check first with lxml in a locked-down mode so
that every hostile or broken file gets one clear reason and is never rewritten.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from lxml import etree

from xmpcull.errors import SidecarError

MAX_SIDECAR_BYTES = 16 * 1024 * 1024  # real sidecars are 2-200 KB; 16 MB leaves room for huge histories

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def read_limited(path: Path, limit: int = MAX_SIDECAR_BYTES) -> bytes:
    """The file's bytes, refusing anything larger than ``limit`` without reading it all."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise SidecarError(f"cannot read sidecar ({exc.strerror or exc})", [path]) from exc
    if len(data) > limit:
        raise SidecarError(f"sidecar larger than {limit // (1024 * 1024)} MB, refusing to parse", [path])
    return data


def decode_packet(data: bytes, origin: Path | str) -> str:
    """Decode XMP bytes to text: UTF-8, or UTF-16/32 when a BOM says so.

    A UTF-16 sidecar (re-saved by some Windows tool) is read; we write it back
    as UTF-8, which is what every XMP reader expects.
    """
    encoding = "utf-8"
    for bom, name in _BOMS:
        if data.startswith(bom):
            data, encoding = data[len(bom) :], name
            break
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SidecarError(f"not valid {encoding.upper()} text at byte {exc.start}", [origin]) from exc
    if "\x00" in text:
        raise SidecarError("contains NUL characters (binary data, not XMP)", [origin])
    if encoding != "utf-8":
        text = _drop_xml_declaration(text)  # it names the old encoding; Exempi gets UTF-8
    return text


def parse_xml(text: str, origin: Path | str) -> etree._Element:
    """The XML tree of ``text``, parsed locked down (no entities, DTDs or network); SidecarError if malformed."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False
    )
    try:
        # Parse as bytes: lxml refuses str input that carries an encoding declaration.
        return etree.fromstring(_drop_xml_declaration(text).encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise SidecarError(f"malformed XML ({exc.msg})", [origin]) from exc


def check_xml(text: str, origin: Path | str) -> None:
    """Raise SidecarError unless ``text`` is plain, well-formed XML holding an rdf:RDF element."""
    root = parse_xml(text, origin)
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise SidecarError("has a DOCTYPE (XMP never needs one; possible entity attack)", [origin])
    if _has_entity_nodes(root):
        raise SidecarError("uses entity references (possible entity attack)", [origin])
    if root.tag != f"{{{_RDF}}}RDF" and root.find(f".//{{{_RDF}}}RDF") is None:
        raise SidecarError("XML without an rdf:RDF element (not an XMP packet)", [origin])


def load_packet(data: bytes, origin: Path | str) -> str:
    """Vetted packet text from untrusted bytes (size cap, encoding, XML safety)."""
    if len(data) > MAX_SIDECAR_BYTES:
        raise SidecarError("XMP packet larger than 16 MB, refusing to parse", [origin])
    if not data.strip():
        raise SidecarError("empty sidecar", [origin])
    text = decode_packet(data, origin)
    check_xml(text, origin)
    return text


def _drop_xml_declaration(text: str) -> str:
    stripped = text.lstrip("\ufeff")
    if stripped.startswith("<?xml "):
        end = stripped.find("?>")
        if end != -1:
            return stripped[end + 2 :]
    return stripped


def _has_entity_nodes(root: etree._Element) -> bool:
    return any(isinstance(node, etree._Entity) for node in root.iter())
