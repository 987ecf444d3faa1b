"""Configuration: the shipped default TOML, then the user's file, then command-line overrides.

Why one loader: every setting a run depends on (duplicate thresholds, keeper
chain, burst gap, quality weights, the decision policy, label names) is read
and checked in one place, so a typo or a wrong type stops the run before any
file is touched, with a ConfigError that names the key and the file it came
from. The shipped ``config_default.toml`` is the schema: a key it does not
have is unknown, and each value must have the type of the default (an integer
is accepted where a float is expected).
"""

from __future__ import annotations

import copy
import json
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs

from xmpcull.cluster import ClusterSettings, PathMap
from xmpcull.crop.geometry import parse_aspect
from xmpcull.decide.keeper import parse_chain
from xmpcull.decide.policy import EYES_CLOSED_ACTIONS, LABEL_KEYS, Outcome, Policy
from xmpcull.decide.quality import ExposureSettings, FaceSettings, QualitySettings, SharpnessSettings
from xmpcull.errors import ConfigError
from xmpcull.models import format_for_extension
from xmpcull.scan.filter import ScanFilter
from xmpcull.sidecar.fields import DECISIONS, WriteOptions

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


@dataclass(frozen=True)
class DupesSettings:
    threshold: int
    dhash_threshold: int
    similar_threshold: int
    keeper_chain: tuple[str, ...]
    crop_tolerant: bool = False
    rotation_invariant: bool = False
    crop_search_max_images: int = 0  # 0: no limit
    verify_scenes: bool = False  # check near-duplicate and similar pairs on pixels (group.similar)
    keeper_presets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # --keep NAME -> chain

    def with_keep(self, preset: str | None) -> DupesSettings:
        """These settings with the keeper chain of ``--keep preset`` (None: unchanged)."""
        if preset is None:
            return self
        key = preset.strip().lower()
        if key not in self.keeper_presets:
            known = ", ".join(self.keeper_presets) or "none"
            raise ConfigError(f"unknown --keep preset {preset!r}; known: {known} ([dupes.keeper_presets])")
        return replace(self, keeper_chain=self.keeper_presets[key])

    def crop_search_for(self, image_count: int) -> bool:
        """Whether a run over ``image_count`` images checks crop candidates on pixels.

        The crop candidate search grows with the square of the library (bench/RESULTS.md,
        Duplicates), so above the limit a run keeps to the hash search, which scales.
        """
        if not self.crop_tolerant:
            return False
        return self.crop_search_max_images == 0 or image_count <= self.crop_search_max_images


@dataclass(frozen=True)
class BurstSettings:
    gap_seconds: float
    split_on_scene_change: bool
    scene_threshold: int


@dataclass(frozen=True)
class CropSettings:
    aspects: tuple[str, ...]
    apply: bool
    apply_min_confidence: float


@dataclass(frozen=True)
class SemanticSettings:
    """The semantic tier (group.semantic): a local ONNX image encoder and the cosine cut."""

    model: Path
    min_cosine: float


@dataclass(frozen=True)
class Config:
    """The effective configuration, checked and typed; ``data`` is the merged TOML tree."""

    dupes: DupesSettings
    bursts: BurstSettings
    crops: CropSettings
    quality: QualitySettings
    policy: Policy
    write_options: WriteOptions
    scan: ScanFilter
    data: dict[str, Any]
    sources: tuple[str, ...]  # what was merged, in order
    cluster: ClusterSettings | None = None  # None: analyse on this machine
    semantic: SemanticSettings | None = None  # None: no model configured (the tier is off)
    origins: Mapping[str, str] = field(default_factory=dict)  # dotted key -> the source of its value

    def to_toml(self, *, with_sources: bool = False) -> str:
        """The merged tree as TOML; ``with_sources`` ends each value with ``# <where it came from>``."""
        short = {DEFAULT_SOURCE: "default", OVERRIDE_SOURCE: "command line"}
        comments = {key: short.get(source, source) for key, source in self.origins.items()}
        return dump_toml(self.data, comments=comments if with_sources else None)


# ---------------------------------------------------------------- loading


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
    schema = _parse(default_config_text(), DEFAULT_SOURCE)
    data = copy.deepcopy(schema)
    origin: dict[tuple[str, ...], str] = {key: DEFAULT_SOURCE for key in _leaves(schema)}
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
        _merge(data, schema, _parse(text, str(file)), (), str(file), origin)
        sources.append(str(file))
    if overrides:
        given = {k: v for k, v in overrides.items() if v is not None}
        if given:
            _merge(data, schema, _nest(given), (), OVERRIDE_SOURCE, origin)
            sources.append(OVERRIDE_SOURCE)
    return _build(data, origin, tuple(sources))


def _parse(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", [source]) from exc


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
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


def _leaves(tree: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    keys = []
    for key, value in tree.items():
        if isinstance(value, dict):
            keys += _leaves(value, prefix + (key,))
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


def _merge(
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
            _merge(data[key], default, value, prefix + (key,), source, origin)
            continue
        if not _same_type(default, value):
            raise ConfigError(f"{dotted} must be {_type_name(default)}, got {value!r}", [source])
        data[key] = float(value) if isinstance(default, float) else copy.deepcopy(value)
        origin[prefix + (key,)] = source


# ---------------------------------------------------------------- checking and building


class _Reader:
    """Typed access to the merged tree; every problem names the key and its source file."""

    def __init__(self, data: Mapping[str, Any], origin: Mapping[tuple[str, ...], str]) -> None:
        self.data = data
        self.origin = origin

    def fail(self, dotted: str, problem: str) -> ConfigError:
        source = self.origin.get(tuple(dotted.split(".")), DEFAULT_SOURCE)
        return ConfigError(f"{dotted} {problem}", [source])

    def get(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            node = node[part]
        return node

    def number(self, dotted: str, low: float | None = None, high: float | None = None, *, above: bool = False) -> float:
        value = self.get(dotted)
        if not math.isfinite(value):
            raise self.fail(dotted, f"must be a finite number, got {value!r}")
        if low is not None and (value <= low if above else value < low):
            raise self.fail(dotted, f"must be {'>' if above else '>='} {low:g}, got {value!r}")
        if high is not None and value > high:
            raise self.fail(dotted, f"must be <= {high:g}, got {value!r}")
        return value

    def unit(self, dotted: str) -> float:
        return float(self.number(dotted, 0.0, 1.0))

    def ordered(self, low_key: str, high_key: str, check: Callable[[str], float]) -> tuple[float, float]:
        low, high = check(low_key), check(high_key)
        if not low < high:
            # Blame the key the user set: the shipped pair is consistent on its own.
            if self.origin.get(tuple(high_key.split(".")), DEFAULT_SOURCE) == DEFAULT_SOURCE:
                raise self.fail(low_key, f"must be less than {high_key} ({high:g}), got {low!r}")
            raise self.fail(high_key, f"must be greater than {low_key} ({low:g}), got {high!r}")
        return low, high

    def weights(self, prefix: str, names: tuple[str, ...]) -> tuple[float, ...]:
        values = tuple(float(self.number(f"{prefix}.{n}", 0.0)) for n in names)
        if sum(values) <= 0:
            raise self.fail(f"{prefix}.{names[0]}", f"and {', '.join(names[1:])}: at least one weight must be > 0")
        return values


def _build(data: dict[str, Any], origin: Mapping[tuple[str, ...], str], sources: tuple[str, ...]) -> Config:
    r = _Reader(data, origin)
    return Config(
        dupes=_dupes(r),
        bursts=BurstSettings(
            gap_seconds=float(r.number("bursts.gap_seconds", 0.0, above=True)),
            split_on_scene_change=r.get("bursts.split_on_scene_change"),
            scene_threshold=int(r.number("bursts.scene_threshold", 0, 64)),
        ),
        crops=_crops(r),
        quality=_quality(r),
        policy=_policy(r),
        write_options=_write_options(r),
        scan=_scan(r),
        data=data,
        sources=sources,
        cluster=_cluster(r),
        semantic=_semantic(r),
        origins={".".join(key): source for key, source in origin.items()},
    )


def _dupes(r: _Reader) -> DupesSettings:
    presets = {name: _chain(r, f"dupes.keeper_presets.{name}") for name in r.get("dupes.keeper_presets")}
    return DupesSettings(
        threshold=int(r.number("dupes.threshold", 0, 64)),
        dhash_threshold=int(r.number("dupes.dhash_threshold", 0, 64)),
        similar_threshold=int(r.number("dupes.similar_threshold", 0, 64)),
        keeper_chain=_chain(r, "dupes.keeper_chain"),
        keeper_presets=presets,
        crop_tolerant=r.get("dupes.crop_tolerant"),
        rotation_invariant=r.get("dupes.rotation_invariant"),
        crop_search_max_images=int(r.number("dupes.crop_search_max_images", 0)),
        verify_scenes=r.get("dupes.verify_scenes"),
    )


def _chain(r: _Reader, dotted: str) -> tuple[str, ...]:
    chain = tuple(r.get(dotted))
    if not chain:
        raise r.fail(dotted, "must name at least one rule")
    try:
        rules = parse_chain(chain)
    except ConfigError as exc:
        raise r.fail(dotted, f"is invalid: {exc.reason}") from exc
    return tuple(rule.name for rule in rules)


def _crops(r: _Reader) -> CropSettings:
    aspects = tuple(r.get("crops.aspects"))
    for text in aspects:
        try:
            parse_aspect(text)
        except ConfigError as exc:
            raise r.fail("crops.aspects", f"is invalid: {exc.reason}") from exc
    return CropSettings(aspects=aspects, apply=r.get("crops.apply"), apply_min_confidence=r.unit("crops.apply_min_confidence"))


def _quality(r: _Reader) -> QualitySettings:
    sharpness_w, exposure_w, face_w = r.weights("quality", ("sharpness_weight", "exposure_weight", "face_weight"))
    blur_floor, sharp_ceiling = r.ordered(
        "quality.sharpness.blur_floor", "quality.sharpness.sharp_ceiling", lambda k: r.number(k, 0.0, above=True)
    )
    face_floor, face_ceiling = r.ordered(
        "quality.faces.floor", "quality.faces.ceiling", lambda k: r.number(k, 0.0, above=True)
    )
    e = "quality.exposure."
    hi = r.ordered(e + "highlight_tolerance", e + "highlight_limit", r.unit)
    lo = r.ordered(e + "shadow_tolerance", e + "shadow_limit", r.unit)
    mean = r.ordered(e + "mean_tolerance", e + "mean_limit", lambda k: r.number(k, 0.0, 0.5))
    return QualitySettings(
        sharpness_weight=sharpness_w,
        exposure_weight=exposure_w,
        face_weight=face_w,
        sharpness=SharpnessSettings(blur_floor, sharp_ceiling),
        exposure=ExposureSettings(*hi, *lo, *mean),
        faces=FaceSettings(face_floor, face_ceiling),
    )


def _policy(r: _Reader) -> Policy:
    names = {}
    for key in LABEL_KEYS:
        name = r.get(f"labels.{key}")
        if not name.strip():
            raise r.fail(f"labels.{key}", "must not be blank")
        names[key] = name
    outcomes = {}
    for decision in DECISIONS:
        prefix = f"outcomes.{decision}"
        label = r.get(f"{prefix}.label").strip().lower()
        if label and label not in LABEL_KEYS:
            raise r.fail(f"{prefix}.label", f"must be one of {', '.join(LABEL_KEYS)} or \"\", got {label!r}")
        rating = int(r.number(f"{prefix}.rating", 0, 5))
        outcomes[decision] = Outcome(label=label or None, rating=rating or None)
    return Policy(
        failed_sharpness=r.unit("policy.failed_sharpness"),
        failed_exposure=r.unit("policy.failed_exposure"),
        review_sharpness=r.unit("policy.review_sharpness"),
        review_quality=r.unit("policy.review_quality"),
        review_crop_confidence=r.unit("policy.review_crop_confidence"),
        duplicate_threshold=int(r.get("dupes.threshold")),
        ambiguous_margin=int(r.number("policy.ambiguous_margin", 0, 64)),
        eyes_closed=_eyes_closed(r),
        eyes_group_faces=int(r.number("policy.eyes_group_faces", 0, 1000)),
        outcomes=outcomes,
        label_names=names,
        overwrite_ratings=r.get("sidecar.overwrite_ratings"),
        overwrite_labels=r.get("sidecar.overwrite_labels"),
    )


def _semantic(r: _Reader) -> SemanticSettings | None:
    model = str(r.get("semantic.model")).strip()
    cut = r.number("semantic.min_cosine", -1.0, 1.0)
    return SemanticSettings(Path(model).expanduser(), float(cut)) if model else None


def _cluster(r: _Reader) -> ClusterSettings | None:
    address = r.get("cluster.address").strip()
    source = r.origin.get(("cluster", "path_map"), DEFAULT_SOURCE)
    path_map = PathMap.parse(r.get("cluster.path_map"), source)
    return ClusterSettings(address, path_map) if address else None


def _eyes_closed(r: _Reader) -> str:
    value = str(r.get("policy.eyes_closed")).strip().lower()
    if value not in EYES_CLOSED_ACTIONS:
        raise r.fail("policy.eyes_closed", f"must be one of {', '.join(EYES_CLOSED_ACTIONS)}, got {value!r}")
    return value


def _write_options(r: _Reader) -> WriteOptions:
    naming = r.get("sidecar.naming")
    if naming not in ("adobe", "darktable"):
        raise r.fail("sidecar.naming", f"must be \"adobe\" or \"darktable\", got {naming!r}")
    return WriteOptions(
        naming=naming,
        overwrite_ratings=r.get("sidecar.overwrite_ratings"),
        overwrite_labels=r.get("sidecar.overwrite_labels"),
        overwrite_crops=r.get("sidecar.overwrite_crops"),
        face_regions=r.get("sidecar.face_regions"),
    )


def _scan(r: _Reader) -> ScanFilter:
    extensions = tuple(e.strip().lstrip(".").lower() for e in r.get("scan.extensions"))
    unknown = [e for e in extensions if format_for_extension("." + e) is None]
    if unknown:
        raise r.fail("scan.extensions", f"names formats xmpcull does not read: {', '.join(unknown)}")
    return ScanFilter(tuple(r.get("scan.include")), tuple(r.get("scan.exclude")), extensions)


# ---------------------------------------------------------------- writing (for `config --show`)


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
