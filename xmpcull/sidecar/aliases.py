"""Keep an alias property whose value the XMP Toolkit's alias folding would throw away.

XMP declares some old names as aliases of a base property (tiff:Software of
xmp:CreatorTool, tiff:ImageDescription of dc:description's x-default, the table
below). On parse the toolkit folds an alias into its base: alone, it is moved
there (the value survives under the base name, which we accept and document);
next to an existing base it is deleted, whatever it said. A stale digiKam
tiff:DateTime or an old tiff:ImageDescription caption would be lost that way.

So before Exempi parses, an alias whose base is present with another value is
moved into a private namespace the toolkit has no alias for, and the text Exempi
serialises gets the real namespace back: the file keeps the property as it was.
"""

from __future__ import annotations

from collections.abc import Iterator

from libxmp import XMPMeta
from lxml import etree

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_KEPT = "http://ns.xmpcull.org/kept-alias/"  # + the alias's own namespace URI

NS = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "png": "http://ns.adobe.com/png/1.0/",
}
# The toolkit's standard aliases (RegisterStandardAliases in Exempi 2.6): alias -> (base, what of it).
# "whole": the base property itself; "x-default" / "first": that item of the base array.
ALIASES: dict[tuple[str, str], tuple[tuple[str, str], str]] = {
    ("xmp", "Authors"): (("dc", "creator"), "whole"),
    ("xmp", "Description"): (("dc", "description"), "whole"),
    ("xmp", "Format"): (("dc", "format"), "whole"),
    ("xmp", "Keywords"): (("dc", "subject"), "whole"),
    ("xmp", "Locale"): (("dc", "language"), "whole"),
    ("xmp", "Title"): (("dc", "title"), "whole"),
    ("xmp", "Author"): (("dc", "creator"), "first"),
    ("xmpRights", "Copyright"): (("dc", "rights"), "whole"),
    ("pdf", "Author"): (("dc", "creator"), "first"),
    ("pdf", "BaseURL"): (("xmp", "BaseURL"), "whole"),
    ("pdf", "CreationDate"): (("xmp", "CreateDate"), "whole"),
    ("pdf", "Creator"): (("xmp", "CreatorTool"), "whole"),
    ("pdf", "ModDate"): (("xmp", "ModifyDate"), "whole"),
    ("pdf", "Subject"): (("dc", "description"), "x-default"),
    ("pdf", "Title"): (("dc", "title"), "x-default"),
    ("photoshop", "Author"): (("dc", "creator"), "first"),
    ("photoshop", "Caption"): (("dc", "description"), "x-default"),
    ("photoshop", "Copyright"): (("dc", "rights"), "x-default"),
    ("photoshop", "Keywords"): (("dc", "subject"), "whole"),
    ("photoshop", "Marked"): (("xmpRights", "Marked"), "whole"),
    ("photoshop", "Title"): (("dc", "title"), "x-default"),
    ("photoshop", "WebStatement"): (("xmpRights", "WebStatement"), "whole"),
    ("tiff", "Artist"): (("dc", "creator"), "first"),
    ("tiff", "Copyright"): (("dc", "rights"), "whole"),
    ("tiff", "DateTime"): (("xmp", "ModifyDate"), "whole"),
    ("exif", "DateTimeDigitized"): (("xmp", "CreateDate"), "whole"),
    ("tiff", "ImageDescription"): (("dc", "description"), "x-default"),
    ("tiff", "Software"): (("xmp", "CreatorTool"), "whole"),
    ("png", "Author"): (("dc", "creator"), "first"),
    ("png", "Copyright"): (("dc", "rights"), "x-default"),
    ("png", "CreationTime"): (("xmp", "CreateDate"), "whole"),
    ("png", "Description"): (("dc", "description"), "x-default"),
    ("png", "ModificationTime"): (("xmp", "ModifyDate"), "whole"),
    ("png", "Software"): (("xmp", "CreatorTool"), "whole"),
    ("png", "Title"): (("dc", "title"), "x-default"),
}
_BY_URI = {(NS[p], name): ((NS[bp], bn), part) for (p, name), ((bp, bn), part) in ALIASES.items()}
_ALIAS_URIS = sorted({NS[p] for p, _ in ALIASES})

# Fixed prefixes, registered before any file can suggest others: the output stays byte-stable.
for _prefix in sorted({p for p, _ in ALIASES}):
    XMPMeta.register_namespace(_KEPT + NS[_prefix], f"{_prefix}Kept")


def may_need_shield(text: str) -> bool:
    """False when ``text`` cannot hold an alias next to its base (a cheap test before parsing it)."""
    return any(f":{name}" in text and f":{base}" in text for (_, name), ((_, base), _) in _BY_URI.items())


def shield_tree(root: etree._Element) -> bool:
    """Move aliases the toolkit would drop into our private namespaces, in place; True if any moved."""
    descriptions = [d for d in root.iter(f"{{{_RDF}}}Description") if _is_top_level(d)]
    present = {key: value for d in descriptions for key, value in _properties(d)}
    moved = False
    for description in descriptions:
        for key, value in list(_properties(description)):
            target = _BY_URI.get(key)
            if target is None or target[0] not in present:
                continue  # not an alias, or alone: the toolkit moves it into the base, value intact
            if _aliased_part(present[target[0]], target[1]) == _plain(value):
                continue  # the same value twice: folding loses nothing
            _rename(description, value, key)
            moved = True
    return moved


def unshield_serialized(text: str) -> str:
    """The serialised packet with each private namespace declared as the alias's real one."""
    for uri in _ALIAS_URIS:
        text = text.replace(f'="{_KEPT}{uri}"', f'="{uri}"')
    return text


# --- internals ------------------------------------------------------------------


def _is_top_level(description: etree._Element) -> bool:
    parent = description.getparent()
    return parent is not None and parent.tag == f"{{{_RDF}}}RDF"


def _split(tag: str) -> tuple[str, str]:
    uri, _, name = tag[1:].partition("}")
    return uri, name


def _properties(description: etree._Element) -> Iterator[tuple[tuple[str, str], str | etree._Element]]:
    """Each top-level property of one rdf:Description: attributes (simple) and child elements."""
    for name, value in description.attrib.items():
        if name.startswith("{") and not name.startswith(f"{{{_RDF}}}"):
            yield _split(name), value
    for child in description:
        if isinstance(child.tag, str) and child.tag.startswith("{"):
            yield _split(child.tag), child


def _plain(value: str | etree._Element) -> object:
    """A comparable form of a property: its text, or its array items; a struct compares unequal."""
    if isinstance(value, str):
        return value
    resource = value.get(f"{{{_RDF}}}resource")
    if resource is not None:
        return resource
    if len(value) == 0:
        return value.text or ""
    array = value[0]
    is_array = array.tag in (f"{{{_RDF}}}Alt", f"{{{_RDF}}}Bag", f"{{{_RDF}}}Seq") and len(value) == 1
    if is_array and all(len(li) == 0 for li in array):
        return tuple((li.get(_XML_LANG), li.text or "") for li in array)
    return object()


def _aliased_part(base: str | etree._Element, part: str) -> object:
    plain = _plain(base)
    if part == "whole" or not isinstance(plain, tuple):
        return plain  # a simple base: the toolkit treats it as the array's only item
    if part == "first":
        return plain[0][1] if plain else None
    return next((text for lang, text in plain if (lang or "").lower() == "x-default"), None)


def _rename(description: etree._Element, value: str | etree._Element, key: tuple[str, str]) -> None:
    uri, name = key
    kept = f"{{{_KEPT}{uri}}}{name}"
    if isinstance(value, str):
        del description.attrib[f"{{{uri}}}{name}"]
        description.set(kept, value)
    else:
        value.tag = kept
