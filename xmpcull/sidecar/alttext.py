"""Keep every alt-text array (captions, titles, rights) exactly as the user's apps wrote it.

The XMP Toolkit inside Exempi (2.6.x) "normalises" language alternatives in two
places, parse (``DetectAltText``) and serialise (both RDF forms), with the same
routine, ``NormalizeLangArray``: it swaps the ``x-default`` item to the front and,
when an array has exactly two items, copies the ``x-default`` text over the other
one. A caption ``x-default`` "Morning coffee" + ``de`` "Morgenkaffee" would come
out as two English captions. Setting values does not normalise (we never call
``SetLocalizedText``, which does).

The toolkit only acts on an item whose language is literally ``x-default``, so the
shield hides that name: before Exempi parses, every language of an array it would
alter is replaced by a private placeholder (``x-xmpcull<nonce>-<n>``) and put back
into the tree right after; before Exempi serialises, the same is done on the tree
and the placeholders are replaced in the text it returns. In between, the tree
holds the true languages, so everything that reads it sees the user's data.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from libxmp import XMPIterator, XMPMeta
from lxml import etree

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_DEFAULT = "x-default"
# Random per process, so no caption text can pass for a placeholder.
_PREFIX = f"x-xmpcull{secrets.token_hex(6)}-"
_PLACEHOLDER = re.compile(re.escape(_PREFIX) + r"(\d+)")
_ATTRIBUTE_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;"}


def may_need_shield(text: str) -> bool:
    """False when no array in ``text`` can have an x-default item (a cheap test before parsing it)."""
    return _DEFAULT in text.lower()


def shield_tree(root: etree._Element) -> list[str]:
    """Replace, in place, the languages of every ``rdf:Alt`` the toolkit would rewrite; return the originals."""
    languages: list[str] = []
    for alt in root.iter(f"{{{_RDF}}}Alt"):
        items = [child for child in alt if child.tag == f"{{{_RDF}}}li" and child.get(_XML_LANG) is not None]
        if not _would_normalise([item.get(_XML_LANG, "") for item in items]):
            continue
        for item in items:
            languages.append(item.get(_XML_LANG, ""))
            item.set(_XML_LANG, _PREFIX + str(len(languages) - 1))
    return languages


def restore_tree(meta: XMPMeta, languages: list[str]) -> None:
    """Put the true languages back; drop what the toolkit's alias folding added beside them."""
    for schema, items in _alt_text_arrays(meta):
        shielded = [(path, int(m.group(1))) for path, lang in items if (m := _PLACEHOLDER.fullmatch(lang))]
        if not shielded:
            continue
        for path, index in shielded:
            meta.set_property(schema, path, languages[index])
        # An alias such as tiff:ImageDescription is folded into the x-default item; finding
        # none (the shield hid it) the toolkit made it a new first item. A shielded array always
        # had an x-default, and then the toolkit drops the alias: so do we.
        for path, lang in reversed(items):
            if lang == _DEFAULT:
                meta.delete_property(schema, path.rsplit("/", 1)[0])


def serialize_shielded(meta: XMPMeta, serialize: Callable[[XMPMeta], str]) -> str:
    """``serialize(meta)``, with alt-text arrays written item for item as they are in the tree."""
    placed: list[tuple[str, str, str]] = []  # (schema, qualifier path, true language)
    for schema, items in _alt_text_arrays(meta):
        if _would_normalise([lang for _, lang in items]):
            for path, lang in items:
                meta.set_property(schema, path, _PREFIX + str(len(placed)))
                placed.append((schema, path, lang))
    if not placed:
        return serialize(meta)
    try:
        text = serialize(meta)
    finally:
        for schema, path, lang in placed:
            meta.set_property(schema, path, lang)
    return _PLACEHOLDER.sub(lambda m: _escape_attribute(placed[int(m.group(1))][2]), text)


# --- internals ------------------------------------------------------------------


def _would_normalise(languages: list[str]) -> bool:
    """What NormalizeLangArray changes: an x-default that is not first, or the other item of a pair."""
    lowered = [lang.lower() for lang in languages]
    if _DEFAULT not in lowered:
        return False
    return len(lowered) == 2 or lowered.index(_DEFAULT) != 0


def _alt_text_arrays(meta: XMPMeta) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every alt-text array, at any depth: its schema and [(each item's xml:lang path, language)]."""
    arrays: dict[tuple[str, str], list[tuple[str, str]]] = {}
    order: list[tuple[str, str]] = []
    for schema, path, value, opts in XMPIterator(meta):
        if opts["IS_SCHEMA"] or not path:
            continue
        if opts["VALUE_IS_ARRAY"] and opts["ARRAY_IS_ALTTEXT"]:
            order.append((schema, path))
            arrays[(schema, path)] = []
        elif opts["IS_QUALIFIER"] and path.endswith("]/?xml:lang"):
            array = path[: -len("/?xml:lang")].rpartition("[")[0]
            if (schema, array) in arrays:
                arrays[(schema, array)].append((path, value or ""))
    return [(schema, arrays[(schema, path)]) for schema, path in order]


def _escape_attribute(value: str) -> str:
    return "".join(_ATTRIBUTE_ESCAPES.get(ch, ch) for ch in value)
