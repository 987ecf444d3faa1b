"""Test harness: the Lightroom plug-in's real Lua code in real Lua 5.1 (lupa).

`lightroom` gives a fresh fake Lightroom (tests/plugin/fake_sdk.lua) with the
plug-in folder on package.path; XML parsing goes through lxml so the plug-in
sees a DOM from a real parser. `load_folder` turns a folder of images and
sidecars (hand-written, written by xmpcull, or real fixtures) into catalog
photos, which is what the end-to-end test after `xmpcull run` needs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lupa import lua51
from lxml import etree

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "lr_plugin" / "xmpcull.lrplugin"
HERE = Path(__file__).resolve().parent
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".tif", ".tiff", ".png", ".heic", ".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf"}
RAW_EXTENSIONS = {".cr2", ".cr3", ".nef", ".arw", ".raf"}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _tree(element: etree._Element, parent_nsmap: dict) -> Any:
    """An lxml element as the plain Lua tables fake_xml.lua wraps."""
    children: list[Any] = []
    if element.text:
        children.append({"type": "text", "text": element.text})
    for child in element:
        if isinstance(child, etree._Comment):
            children.append({"type": "comment", "children": []})
        elif isinstance(child, etree._ProcessingInstruction):
            children.append({"type": "processinginstruction", "children": []})
        else:
            children.append(_tree(child, element.nsmap))
        if child.tail:
            children.append({"type": "text", "text": child.tail})
    qname = etree.QName(element)
    attrs = []
    for key, value in element.attrib.items():
        aq = etree.QName(key)
        prefix = None
        if aq.namespace:
            prefix = next((p for p, u in element.nsmap.items() if u == aq.namespace and p), None)
        attrs.append({"name": aq.localname, "ns": aq.namespace, "prefix": prefix, "value": value})
    decls = [{"prefix": p, "uri": u} for p, u in element.nsmap.items() if parent_nsmap.get(p) != u]
    return {"type": "element", "name": qname.localname, "ns": qname.namespace, "prefix": element.prefix,
            "attrs": attrs, "decls": decls, "children": children}


def _lua_literal(value: Any) -> str:
    """Python data (dict/list/str/None) as Lua table-constructor source."""
    if value is None:
        return "nil"
    if isinstance(value, str):
        safe = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.:/")
        return '"' + "".join(chr(b) if b in safe else f"\\{b:03d}" for b in value.encode("utf-8")) + '"'
    if isinstance(value, list):
        return "{" + ",".join(_lua_literal(v) for v in value) + "}"
    return "{" + ",".join(f"[{_lua_literal(k)}]={_lua_literal(v)}" for k, v in value.items() if v is not None) + "}"


def _parse_xml(text: Any) -> str:
    """The Python half of the fake LrXml.parseXml: lxml parses, and the tree
    goes back as Lua source (fake_sdk.lua loads and caches it). Returning
    source instead of Lua tables keeps Python free of references into the Lua
    runtime: lupa can crash when the garbage collector breaks such cycles.
    """
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    root = etree.fromstring(data, _PARSER)
    if root.getroottree().docinfo.doctype:
        raise ValueError("DOCTYPE is not allowed in XMP")
    return _lua_literal(_tree(root, {}))


def _file_kind(path: str) -> Any:
    if os.path.isfile(path):
        return "file"
    if os.path.isdir(path):
        return "directory"
    return False


class FakeLightroom:
    """One fake Lightroom with the plug-in loaded; helpers return Python data."""

    def __init__(self, prefs: dict | None = None, xml_mode: str = "qualified",
                 label_map: dict | None = None) -> None:
        self.lua = lua51.LuaRuntime(unpack_returned_tuples=True)
        g = self.lua.globals()
        g.package.path = f"{PLUGIN_DIR}/?.lua;{HERE}/?.lua;" + g.package.path
        definitions = self.lua.eval("require('MetadataDefinition')")
        fields = self.lua.eval("require('XcFields')")
        make = self.lua.eval("require('fake_sdk').new")
        opts = self.lua.table_from({
            "pluginId": fields.PLUGIN_ID, "pluginPath": str(PLUGIN_DIR), "xmlMode": xml_mode,
            "definitions": definitions, "parseXml": _parse_xml, "fileKind": _file_kind,
            "prefs": self.lua.table_from(prefs or {}),
        })
        if label_map is not None:
            opts.labelMap = self.lua.table_from(label_map)
        self.sdk = make(opts)
        g["import"] = self.sdk["import"]
        g["_PLUGIN"] = self.sdk.plugin
        self.commands = self.lua.eval("require('XcCommands')")
        self.prefs_module = self.lua.eval("require('XcPrefs')")

    # -- catalog set-up
    def add_photo(self, path: Path | str, **state: Any) -> Any:
        ext = Path(path).suffix.lower()
        fmt = "RAW" if ext in RAW_EXTENSIONS else ("DNG" if ext == ".dng" else "JPG")
        args = {"path": str(path), "fileFormat": state.pop("fileFormat", fmt)}
        if "crop" in state:
            args["crop"] = self.lua.table_from(state.pop("crop"))
        args.update(state)
        return self.sdk.addPhoto(self.lua.table_from(args))

    def load_folder(self, folder: Path, **state: Any) -> list[Any]:
        """Every image under folder becomes a catalog photo (sidecars are found by the plug-in)."""
        photos = []
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS:
                photos.append(self.add_photo(path, **state))
        return photos

    # -- running commands
    def context(self, **prefs: Any) -> Any:
        return self.sdk.context(self.prefs_module.resolve(self.lua.table_from(prefs)))

    def _photos(self, photos: Iterable[Any] | None) -> Any:
        chosen = list(photos) if photos is not None else list(self.sdk.photos.values())
        return self.lua.table_from(chosen)

    def run(self, command: str, photos: Iterable[Any] | None = None, **prefs: Any) -> dict:
        ctx = self.context(**prefs)
        fn = self.commands[command]
        if command == "createCollections":
            result = self.sdk.runCommand(fn, ctx)
        else:
            result = self.sdk.runCommand(fn, ctx, self._photos(photos))
        self.last_ctx = ctx
        return to_py(result)

    def sync(self, photos: Iterable[Any] | None = None, **prefs: Any) -> dict:
        return self.run("sync", photos, **prefs)

    @property
    def stats(self) -> dict:
        return to_py(self.sdk.stats)

    def reset_stats(self) -> None:
        self.sdk.stats = self.lua.table_from({"gates": 0, "writes": 0, "yields": 0,
                                              "gateNames": self.lua.table_from([])})

    def keywords(self, photo: Any) -> list[str]:
        return list(to_py(self.sdk.keywordPaths(photo)))

    def props(self, photo: Any) -> dict:
        return to_py(photo.props)


def to_py(value: Any) -> Any:
    """Lua tables to dicts (or lists when they are sequences), recursively."""
    if lua51.lua_type(value) != "table":
        return value
    items = {k: to_py(v) for k, v in value.items()}
    if items and all(isinstance(k, int) for k in items) and sorted(items) == list(range(1, len(items) + 1)):
        return [items[i] for i in range(1, len(items) + 1)]
    return items
