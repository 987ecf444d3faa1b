"""Configuration: the shipped default TOML, then the user's file, then command-line overrides.

Why one loader: every setting a run depends on (duplicate thresholds, keeper
chain, burst gap, quality weights, the decision policy, label names) is read
and checked in one place, so a typo or a wrong type stops the run before any
file is touched, with a ConfigError that names the key and the file it came
from. The shipped ``config_default.toml`` is the schema: a key it does not
have is unknown, and each value must have the type of the default (an integer
is accepted where a float is expected).

Rooms: ``layers`` finds and merges the files, ``build`` checks the merged tree
and makes the typed settings of ``settings``, ``toml_text`` writes a tree back.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from xmpcull.config.build import build
from xmpcull.config.layers import (
    CONFIG_NAME,
    DEFAULT_SOURCE,
    OVERRIDE_SOURCE,
    ROOT_CONFIG_DIR,
    default_config_text,
    found_config_files,
    leaves,
    merge,
    nest,
    parse,
    root_config_path,
    user_config_path,
)
from xmpcull.config.settings import BurstSettings, Config, CropSettings, DupesSettings, SemanticSettings
from xmpcull.config.toml_text import dump_toml
from xmpcull.errors import ConfigError

__all__ = [
    "CONFIG_NAME",
    "DEFAULT_SOURCE",
    "OVERRIDE_SOURCE",
    "ROOT_CONFIG_DIR",
    "BurstSettings",
    "Config",
    "CropSettings",
    "DupesSettings",
    "SemanticSettings",
    "default_config_text",
    "dump_toml",
    "found_config_files",
    "load_config",
    "root_config_path",
    "user_config_path",
]


def load_config(
    path: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    roots: Sequence[Path | str] = (),
    lookup: bool = False,
) -> Config:
    """The layers, later ones winning: the shipped defaults; with ``lookup``, the user's file
    (``user_config_path``) and FIRST_ROOT/.xmpcull/config.toml when they exist; then ``path``
    (--config); then ``overrides`` ({"sidecar.overwrite_labels": True}).

    An override whose value is None is ignored, so CLI options left unset can be passed as they are.
    """
    schema = parse(default_config_text(), DEFAULT_SOURCE)
    data = copy.deepcopy(schema)
    origin: dict[tuple[str, ...], str] = {key: DEFAULT_SOURCE for key in leaves(schema)}
    sources = [DEFAULT_SOURCE]
    files = found_config_files(roots) if lookup else []
    if path is not None:
        files.append(Path(path))
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ConfigError("config file not found", [file]) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file ({exc})", [file]) from exc
        merge(data, schema, parse(text, str(file)), (), str(file), origin)
        sources.append(str(file))
    if overrides:
        given = {k: v for k, v in overrides.items() if v is not None}
        if given:
            merge(data, schema, nest(given), (), OVERRIDE_SOURCE, origin)
            sources.append(OVERRIDE_SOURCE)
    return build(data, origin, tuple(sources))
