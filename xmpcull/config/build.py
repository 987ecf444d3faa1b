"""Checking the merged tree and building the typed settings: every problem names the key and its file."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from xmpcull.cluster import ClusterSettings, PathMap
from xmpcull.config.layers import DEFAULT_SOURCE
from xmpcull.config.settings import BurstSettings, Config, CropSettings, DupesSettings, SemanticSettings
from xmpcull.crop.geometry import parse_aspect
from xmpcull.decide.keeper import parse_chain
from xmpcull.decide.policy import EYES_CLOSED_ACTIONS, LABEL_KEYS, Outcome, Policy
from xmpcull.decide.quality import ExposureSettings, FaceSettings, QualitySettings, SharpnessSettings
from xmpcull.errors import ConfigError
from xmpcull.models import format_for_extension
from xmpcull.scan.filter import ScanFilter
from xmpcull.sidecar.fields import DECISIONS, WriteOptions


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


def build(data: dict[str, Any], origin: Mapping[tuple[str, ...], str], sources: tuple[str, ...]) -> Config:
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
        faces=r.get("analysis.faces"),
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

