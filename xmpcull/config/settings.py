"""The typed settings a run reads, and the effective configuration that holds them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from xmpcull.cluster import ClusterSettings
from xmpcull.config.layers import DEFAULT_SOURCE, OVERRIDE_SOURCE
from xmpcull.config.toml_text import dump_toml
from xmpcull.decide.policy import Policy
from xmpcull.decide.quality import QualitySettings
from xmpcull.errors import ConfigError
from xmpcull.scan.filter import ScanFilter
from xmpcull.sidecar.fields import WriteOptions


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
    faces: bool = True  # [analysis] faces: look for faces and eyes (False: a library without people)
    semantic: SemanticSettings | None = None  # None: no model configured (the tier is off)
    origins: Mapping[str, str] = field(default_factory=dict)  # dotted key -> the source of its value

    def to_toml(self, *, with_sources: bool = False) -> str:
        """The merged tree as TOML; ``with_sources`` ends each value with ``# <where it came from>``."""
        short = {DEFAULT_SOURCE: "default", OVERRIDE_SOURCE: "command line"}
        comments = {key: short.get(source, source) for key, source in self.origins.items()}
        return dump_toml(self.data, comments=comments if with_sources else None)

