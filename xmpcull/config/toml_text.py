"""The merged configuration written back as TOML (``xmpcull config --show``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)
    return key if bare else json.dumps(key, ensure_ascii=False)


def dump_toml(
    tree: Mapping[str, Any], prefix: tuple[str, ...] = (), comments: Mapping[str, str] | None = None
) -> str:
    """A TOML document for a tree of tables, strings, numbers, booleans and lists (what our config holds).

    ``comments`` (dotted key -> text) puts a ``# text`` after a value: where it came from.
    """

    def line(key: str, value: Any) -> str:
        text = f"{_toml_key(key)} = {_toml_value(value)}"
        note = comments.get(".".join(prefix + (key,))) if comments else None
        return f"{text}  # {note}" if note else text

    lines = [line(k, v) for k, v in tree.items() if not isinstance(v, dict)]
    blocks = []
    if prefix and (lines or not any(isinstance(v, dict) for v in tree.values())):
        lines.insert(0, "[" + ".".join(_toml_key(p) for p in prefix) + "]")
    if lines:
        blocks.append("\n".join(lines) + "\n")
    for key, value in tree.items():
        if isinstance(value, dict):
            blocks.append(dump_toml(value, prefix + (key,), comments))
    return "\n".join(blocks)
