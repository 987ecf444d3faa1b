"""Exempi (python-xmp-toolkit) behind a few small functions.

Parsing, serialising and a flat, comparable snapshot of every node. The
snapshot is what tells whether a merge changed anything (idempotence) and what
the dry-run diff shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from xmpcull.errors import SidecarError, ToolMissingError
from xmpcull.sidecar.safety import parse_xml

try:
    from libxmp import XMPError, XMPIterator, XMPMeta
except Exception as exc:  # ImportError, or ExempiLoadError when libexempi is missing
    raise ToolMissingError(f"python-xmp-toolkit needs the Exempi library: {exc}") from exc

from xmpcull.sidecar import aliases, alttext  # noqa: E402  (they import libxmp, checked above)

NS_XMPCULL = "http://ns.xmpcull.org/xmpcull/1.0/"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_LR = "http://ns.adobe.com/lightroom/1.0/"
NS_CRS = "http://ns.adobe.com/camera-raw-settings/1.0/"
NS_PHOTOSHOP = "http://ns.adobe.com/photoshop/1.0/"
NS_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
NS_MWG_RS = "http://www.metadataworkinggroup.com/schemas/regions/"
NS_ST_DIM = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
NS_ST_AREA = "http://ns.adobe.com/xmp/sType/Area#"
NS_MP = "http://ns.microsoft.com/photo/1.2/"

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# Registered once per process, before any parse can bind the prefix to another URI.
_registered = XMPMeta.register_namespace(NS_XMPCULL, "xmpcull").rstrip(":")
if _registered != "xmpcull":  # pragma: no cover - only if another library registered it first
    raise ToolMissingError(f"Exempi bound our namespace to prefix {_registered!r} instead of 'xmpcull'")
for _uri, _prefix in (
    (NS_LR, "lr"), (NS_CRS, "crs"), (NS_IPTC_EXT, "Iptc4xmpExt"),
    (NS_MWG_RS, "mwg-rs"), (NS_ST_DIM, "stDim"), (NS_ST_AREA, "stArea"), (NS_MP, "MP"),
):
    XMPMeta.register_namespace(_uri, _prefix)


@dataclass(frozen=True)
class Node:
    """One XMP node: schema, path, value and the options that give it its shape."""

    schema: str
    path: str
    value: str
    kind: str  # "simple", "struct", "bag", "seq", "alt", "alt-text", "qualifier"

    @property
    def top(self) -> str:
        """The top-level property this node belongs to, e.g. 'dc:subject'."""
        return self.path.split("/", 1)[0].split("[", 1)[0].split("?", 1)[0]


def new_meta() -> XMPMeta:
    return XMPMeta()


def parse(text: str, origin: Path | str) -> XMPMeta:
    """Exempi's tree of a vetted packet, without the toolkit's lossy touch-ups.

    Alt-text arrays stay item for item (alttext.py) and an alias that folding would
    drop stays (aliases.py); Exempi gets the original text when neither applies.
    """
    languages: list[str] = []
    if alttext.may_need_shield(text) or aliases.may_need_shield(text):
        root = parse_xml(text, origin)
        languages = alttext.shield_tree(root)
        if aliases.shield_tree(root) or languages:
            text = etree.tostring(root.getroottree(), encoding="unicode")
    meta = XMPMeta()
    try:
        meta.parse_from_str(text)
    except XMPError as exc:
        raise SidecarError(f"Exempi cannot parse the XMP ({exc})", [origin]) from exc
    if languages:
        alttext.restore_tree(meta, languages)
    return meta


def serialize(meta: XMPMeta) -> bytes:
    """Sidecar bytes: XML declaration (XMP Part 3), then the packet without wrapper or padding.

    Padding is for in-place edits of embedded packets; a sidecar is rewritten whole.
    The output is a pure function of the XMP tree, which keeps rewrites byte-stable.
    """
    body = _serialize(meta, omit_packet_wrapper=True, use_compact_format=True)
    return (XML_DECLARATION + body.lstrip("\ufeff")).encode("utf-8")


def serialize_packet(meta: XMPMeta) -> bytes:
    """A full packet with xpacket wrapper, as ExifTool expects to embed."""
    return _serialize(meta, use_compact_format=True).encode("utf-8")


def _serialize(meta: XMPMeta, **options: bool) -> str:
    """Exempi's serialisation, alt-text arrays and kept aliases as they are in the tree."""
    text = alttext.serialize_shielded(meta, lambda m: m.serialize_to_str(**options))
    return aliases.unshield_serialized(text)


def snapshot(meta: XMPMeta) -> tuple[Node, ...]:
    """Every node in document order (schema nodes left out)."""
    nodes = []
    for schema, path, value, opts in XMPIterator(meta):
        if opts["IS_SCHEMA"] or not path:
            continue
        nodes.append(Node(schema, path, value or "", _kind(opts)))
    return tuple(nodes)


def top_level(nodes: Iterable[Node]) -> dict[tuple[str, str], str]:
    """Each top-level property rendered as one string, for diffs."""
    grouped: dict[tuple[str, str], list[Node]] = {}
    for node in nodes:
        grouped.setdefault((node.schema, node.top), []).append(node)
    return {key: _render(key[1], members) for key, members in grouped.items()}


def diff_lines(before: Iterable[Node], after: Iterable[Node]) -> tuple[str, ...]:
    """Human-readable changes between two snapshots, one line per top-level property."""
    old, new = top_level(before), top_level(after)
    lines = []
    for key in sorted(old.keys() | new.keys(), key=lambda k: k[1]):
        if key not in new:
            lines.append(f"- {old[key]}")
        elif key not in old:
            lines.append(f"+ {new[key]}")
        elif old[key] != new[key]:
            lines.append(f"~ {old[key]}  ->  {new[key].split(' = ', 1)[1]}")
    return tuple(lines)


def get(meta: XMPMeta, schema: str, name: str) -> str | None:
    """A simple property's value, or None when absent."""
    if not meta.does_property_exist(schema, name):
        return None
    try:
        return meta.get_property(schema, name)
    except XMPError:
        return None


def array_items(meta: XMPMeta, schema: str, name: str) -> list[str]:
    if not meta.does_property_exist(schema, name):
        return []
    return [meta.get_array_item(schema, name, i) for i in range(1, meta.count_array_items(schema, name) + 1)]


def _kind(opts: dict[str, bool]) -> str:
    if opts["IS_QUALIFIER"]:
        return "qualifier"
    if opts["VALUE_IS_STRUCT"]:
        return "struct"
    if opts["VALUE_IS_ARRAY"]:
        if opts["ARRAY_IS_ALTTEXT"]:
            return "alt-text"
        if opts["ARRAY_IS_ALT"]:
            return "alt"
        return "seq" if opts["ARRAY_IS_ORDERED"] else "bag"
    return "simple"


def _render(top: str, members: list[Node]) -> str:
    head = members[0]
    if len(members) == 1 and head.kind == "simple":
        return f"{top} = {head.value}"
    leaves = [
        f"{m.path[len(top):]}={m.value}" if "/" in m.path else m.value
        for m in members[1:]
        if m.kind == "simple"
    ]
    if head.kind == "bag":
        leaves.sort()  # a bag has no order: show it the same however it was rebuilt
    return f"{top} = [{', '.join(leaves)}]"
