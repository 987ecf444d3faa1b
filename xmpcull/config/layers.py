"""Where configuration comes from and how layers merge: the shipped defaults are the schema."""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs

from xmpcull.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - pyproject pulls in tomli on 3.10
    import tomli as tomllib

DEFAULT_SOURCE = "<xmpcull default config>"
OVERRIDE_SOURCE = "<command line>"
CONFIG_NAME = "config.toml"
ROOT_CONFIG_DIR = ".xmpcull"  # ROOT/.xmpcull/config.toml, beside the run report


def user_config_path() -> Path:
    """The user's own file: ~/.config/xmpcull/config.toml on Linux (platformdirs, honours XDG_CONFIG_HOME)."""
    return Path(platformdirs.user_config_dir("xmpcull")) / CONFIG_NAME


def root_config_path(roots: Sequence[Path | str]) -> Path | None:
    """FIRST_ROOT/.xmpcull/config.toml (the folder of a root that is a single file), or None without roots."""
    if not roots:
        return None
    first = Path(os.path.abspath(roots[0]))
    base = first.parent if first.is_file() else first
    return base / ROOT_CONFIG_DIR / CONFIG_NAME


def found_config_files(roots: Sequence[Path | str] = ()) -> list[Path]:
    """The files a command merges by itself, in order: the user's, then the root's (those that exist)."""
    candidates = [user_config_path(), root_config_path(roots)]
    return [c for c in candidates if c is not None and c.is_file()]


def default_config_text() -> str:
    """The commented default file shipped in the package (``xmpcull config --default``)."""
    return resources.files("xmpcull").joinpath("config_default.toml").read_text(encoding="utf-8")



def parse(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", [source]) from exc


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for dotted, value in flat.items():
        parts = dotted.split(".")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{dotted}: conflicting override", [OVERRIDE_SOURCE])
        node[parts[-1]] = value
    return tree


def leaves(tree: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    keys = []
    for key, value in tree.items():
        if isinstance(value, dict):
            keys += leaves(value, prefix + (key,))
        else:
            keys.append(prefix + (key,))
    return keys


def _type_name(value: Any) -> str:
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a table"}.get(
        type(value), type(value).__name__
    )


def _same_type(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, list):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return type(default) is type(value)


def merge(
    data: dict[str, Any],
    schema: Mapping[str, Any],
    new: Mapping[str, Any],
    prefix: tuple[str, ...],
    source: str,
    origin: dict[tuple[str, ...], str],
) -> None:
    """Tables merge key by key; any other value replaces the old one whole."""
    for key, value in new.items():
        dotted = ".".join(prefix + (key,))
        if key not in schema:
            known = ", ".join(schema) or "none"
            raise ConfigError(f"unknown key {dotted!r} (known here: {known})", [source])
        default = schema[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{dotted} must be a table, got {value!r}", [source])
            merge(data[key], default, value, prefix + (key,), source, origin)
            continue
        if not _same_type(default, value):
            raise ConfigError(f"{dotted} must be {_type_name(default)}, got {value!r}", [source])
        data[key] = float(value) if isinstance(default, float) else copy.deepcopy(value)
        origin[prefix + (key,)] = source

