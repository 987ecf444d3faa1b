"""What a sidecar write carries: one typed record per section of our schema.

A command owns some sections (docs/xmp-schema.md). ``SidecarUpdate`` names the
sections it writes; a section left as ``None`` is not touched, a section given
as ``CLEAR`` is removed, a section given as a record replaces the old one whole.
Floats are rounded to 6 decimals on construction so what we write reads back
equal (the sidecar stores decimal text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal

from xmpcull.models import CropEdges

FLOAT_DECIMALS = 6
DUP_KINDS = ("exact", "near", "mirrored")
DUP_ROLES = ("keeper", "duplicate")
SIMILAR_ROLES = ("best", "member")
DECISIONS = ("keeper", "duplicate", "best-frame", "needs-review", "failed", "ok")
# A person's choice in `xmpcull review`: this file is the keeper of its duplicate group, or
# it stays as well ("keep both").
REVIEW_KEEPS = ("keeper", "keep")
REVIEW_FLAGS = ("pick", "reject")
Naming = Literal["adobe", "darktable"]


def round_real(value: float) -> float:
    """The value as it will read back from the sidecar."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    rounded = round(float(value), FLOAT_DECIMALS)
    return 0.0 if rounded == 0 else rounded  # no "-0"


def format_real(value: float) -> str:
    """Decimal text, never scientific notation ('0.231776', '1', '0')."""
    text = f"{round_real(value):.{FLOAT_DECIMALS}f}".rstrip("0").rstrip(".")
    return text or "0"


def _round_floats(record: object) -> None:
    for f in fields(record):  # type: ignore[arg-type]
        value = getattr(record, f.name)
        if isinstance(value, float):
            object.__setattr__(record, f.name, round_real(value))


def _unit(name: str, value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be within 0..1, got {value!r}")


class _Marker:
    """A value with one instance per class, compared with ``is`` (and stable in reprs, for the write memo)."""

    def __new__(cls) -> _Marker:
        instance = cls.__dict__.get("_instance")
        if instance is None:
            instance = super().__new__(cls)
            setattr(cls, "_instance", instance)  # noqa: B010 - per subclass, not inherited
        return instance

    def __repr__(self) -> str:
        return self.__class__.__name__.upper()


class Clear(_Marker):
    """Marker: remove this section (our properties and keywords) from the sidecar."""


CLEAR = Clear()


@dataclass(frozen=True)
class DupeFields:
    group: str  # DupGroup, e.g. "d-3fa9c2e1"
    kind: str  # "exact" | "near"
    role: str  # "keeper" | "duplicate"
    distance: int = 0  # Hamming distance to the keeper
    keeper_reason: str | None = None
    # DupMembers: the group's other members, as paths relative to this image's folder
    # ('/'-separated, sorted), so a run on a subfolder can find the members it does
    # not scan and keep the group instead of erasing it (docs/xmp-schema.md).
    members: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", tuple(self.members))
        if self.kind not in DUP_KINDS:
            raise ValueError(f"DupKind must be one of {DUP_KINDS}, got {self.kind!r}")
        if self.role not in DUP_ROLES:
            raise ValueError(f"DupRole must be one of {DUP_ROLES}, got {self.role!r}")
        if self.distance < 0:
            raise ValueError("DupDistance must be >= 0")
        _check_keyword_part("DupGroup", self.group)


@dataclass(frozen=True)
class SimilarFields:
    """Membership of a similar set (same scene, another moment): for review, never for moving."""

    set_id: str  # SimilarSet, e.g. "s-81c0aa12"
    role: str  # "best" | "member"
    size: int  # pictures in the set
    reason: str | None = None  # why: the best's keeper reason, or a member's evidence against the best
    # SimilarMembers: the set's other members, relative to this image's folder as DupMembers
    # are, so a run on a subfolder keeps the set instead of erasing it (docs/xmp-schema.md).
    members: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", tuple(self.members))
        if self.role not in SIMILAR_ROLES:
            raise ValueError(f"SimilarRole must be one of {SIMILAR_ROLES}, got {self.role!r}")
        if self.size < 2:
            raise ValueError("SimilarSize must be at least 2")
        _check_keyword_part("SimilarSet", self.set_id)


@dataclass(frozen=True)
class BurstFields:
    burst_id: str  # e.g. "20240612-143501-R5-0007"
    index: int  # 1-based
    size: int
    best: bool = False
    best_reason: str | None = None
    # BurstMembers: the burst's other frames, relative to this image's folder as DupMembers
    # are, so a run on a subfolder keeps a burst whose frames lie in several folders.
    members: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", tuple(self.members))
        if not 1 <= self.index <= self.size:
            raise ValueError(f"BurstIndex {self.index} outside 1..{self.size}")
        _check_keyword_part("BurstID", self.burst_id)


EYES_SUMMARIES = ("all-open", "some-closed", "cant-tell")


@dataclass(frozen=True)
class QualityFields:
    quality: float
    sharpness: float
    exposure: float
    face_sharpness: float | None = None  # only when faces were found
    face_count: int | None = None  # only when faces were found
    eyes: str | None = None  # "all-open", "some-closed", "cant-tell"; only when faces were found
    eyes_closed_faces: int | None = None  # judged faces with eyes closed
    face_eyes: tuple[str, ...] = ()  # per face: "open/closed" (right/left eye) or "not-judged"

    def __post_init__(self) -> None:
        _round_floats(self)
        for name in ("quality", "sharpness", "exposure", "face_sharpness"):
            _unit(name, getattr(self, name))
        if self.eyes is not None and self.eyes not in EYES_SUMMARIES:
            raise ValueError(f"Eyes must be one of {EYES_SUMMARIES}, got {self.eyes!r}")


@dataclass(frozen=True)
class CropProposal:
    """One suggested crop: Camera Raw edges (stored frame) for one aspect ratio."""

    aspect: str  # "4:5", "1:1", "original"
    left: float
    top: float
    right: float
    bottom: float
    confidence: float

    def __post_init__(self) -> None:
        _round_floats(self)
        _check_edges(self.left, self.top, self.right, self.bottom)
        _unit("confidence", self.confidence)

    @property
    def edges(self) -> CropEdges:
        return CropEdges(self.left, self.top, self.right, self.bottom)


@dataclass(frozen=True)
class CropFields:
    proposals: tuple[CropProposal, ...] = ()
    applied: CropEdges | None = None  # written to crs:Crop* (subject to the user's crop)

    def __post_init__(self) -> None:
        object.__setattr__(self, "proposals", tuple(self.proposals))
        if self.applied is not None:
            edges = self.applied
            # Rotated crops stay off until the CropAngle sign is calibrated in LrC (facts §8).
            if edges.angle != 0:
                raise ValueError("only axis-aligned crops (angle 0) can be applied")
            rounded = CropEdges(*(round_real(v) for v in (edges.left, edges.top, edges.right, edges.bottom)))
            _check_edges(rounded.left, rounded.top, rounded.right, rounded.bottom)
            object.__setattr__(self, "applied", rounded)


@dataclass(frozen=True)
class DecisionFields:
    decision: str
    review_reasons: tuple[str, ...] = ()
    rating: int | None = None  # proposed xmp:Rating (read back: the one we set, RatingSet)
    label: str | None = None  # proposed xmp:Label (read back: LabelSet)

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise ValueError(f"Decision must be one of {DECISIONS}, got {self.decision!r}")
        object.__setattr__(self, "review_reasons", tuple(dict.fromkeys(self.review_reasons)))
        if self.rating is not None and not -1 <= self.rating <= 5:
            raise ValueError(f"rating must be within -1..5, got {self.rating}")
        if self.label is not None and not self.label.strip():
            raise ValueError("label must not be blank")


class NoCrop(_Marker):
    """Marker: the person chose no crop (the Camera Raw crop is switched off)."""

    def __repr__(self) -> str:
        return "NO_CROP"


NO_CROP = NoCrop()


@dataclass(frozen=True)
class ReviewFields:
    """What a person decided in `xmpcull review`: it outranks every later run.

    ``rating``, ``label`` and ``crop`` are also written to xmp:Rating, xmp:Label and
    the crs crop as the user's own values; ``None`` = the person did not decide it.
    ``label`` "" means the person removed the label.
    """

    reviewed: str  # ISO date-time of the last decision
    keep: str | None = None  # "keeper" | "keep"
    flag: str | None = None  # "pick" | "reject"
    rating: int | None = None  # 0..5
    label: str | None = None
    crop: CropEdges | NoCrop | None = None

    def __post_init__(self) -> None:
        if self.keep is not None and self.keep not in REVIEW_KEEPS:
            raise ValueError(f"ReviewKeep must be one of {REVIEW_KEEPS}, got {self.keep!r}")
        if self.flag is not None and self.flag not in REVIEW_FLAGS:
            raise ValueError(f"ReviewFlag must be one of {REVIEW_FLAGS}, got {self.flag!r}")
        if self.rating is not None and not 0 <= self.rating <= 5:
            raise ValueError(f"rating must be within 0..5, got {self.rating}")
        if isinstance(self.crop, CropEdges):
            # Same rule as CropFields.applied: only axis-aligned crops, edges inside the frame.
            object.__setattr__(self, "crop", CropFields((), self.crop).applied)


@dataclass(frozen=True)
class GenerationFields:
    """An AI image's generation record (docs/xmp-schema.md, "generation"); IPTC's standard AI properties
    are derived from it by the merge."""

    generator: str | None = None
    generator_version: str | None = None
    model: str | None = None
    model_hash: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    steps: int | None = None
    sampler: str | None = None
    cfg: float | None = None
    width: int | None = None  # as the generator declared it
    height: int | None = None
    derivation: str | None = None  # txt2img | img2img | inpaint | hires | upscale
    denoise: float | None = None
    parent: str | None = None  # the source image: a path relative to this image when found, else as recorded
    batch: str | None = None  # GenBatch, e.g. "b-1a2b3c4d"
    batch_index: int | None = None
    batch_size: int | None = None
    source_type: str | None = None  # IPTC digital source type URI
    c2pa: str | None = None  # C2PA validation state; None: no manifest
    prompt_writer: str | None = None

    def __post_init__(self) -> None:
        _round_floats(self)
        if self.batch is not None:
            _check_keyword_part("GenBatch", self.batch)


@dataclass(frozen=True)
class FaceRegion:
    """One face as an MWG region: centre and size, fractions of the *stored* frame (docs/xmp-schema.md)."""

    x: float
    y: float
    w: float
    h: float

    def __post_init__(self) -> None:
        _round_floats(self)
        for name in ("x", "y", "w", "h"):
            _unit(name, getattr(self, name))
        if self.w <= 0 or self.h <= 0:
            raise ValueError(f"empty face region: {self}")


@dataclass(frozen=True)
class FaceRegionFields:
    """The faces found, written as ``mwg-rs:Regions`` (only where the file has no regions of the user's)."""

    width: int  # mwg-rs:AppliedToDimensions: the stored frame in pixels
    height: int
    regions: tuple[FaceRegion, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "regions", tuple(self.regions))
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"AppliedToDimensions must be positive, got {self.width}x{self.height}")
        if not self.regions:
            raise ValueError("no face regions: clear the section instead")


Section = (
    DupeFields | SimilarFields | BurstFields | QualityFields | CropFields | DecisionFields | ReviewFields
    | GenerationFields | FaceRegionFields
)


@dataclass(frozen=True)
class SidecarUpdate:
    """The sections one command writes for one image; None = leave that section alone."""

    dupes: DupeFields | Clear | None = None
    burst: BurstFields | Clear | None = None
    quality: QualityFields | Clear | None = None
    crop: CropFields | Clear | None = None
    decision: DecisionFields | Clear | None = None
    review: ReviewFields | Clear | None = None  # only `xmpcull review` writes it
    generation: GenerationFields | Clear | None = None
    similar: SimilarFields | Clear | None = None
    regions: FaceRegionFields | Clear | None = None  # MWG face regions: only `run`, with [sidecar] face_regions


SECTION_NAMES = ("dupes", "burst", "quality", "crop", "decision", "review", "generation", "similar", "regions")


@dataclass(frozen=True)
class WriteOptions:
    naming: Naming = "adobe"
    overwrite_ratings: bool = False
    overwrite_labels: bool = False
    overwrite_crops: bool = False
    dry_run: bool = False
    embed: bool = False  # write into the image itself (through exiftool, backup kept)
    embed_over_c2pa: bool = False  # embed also into files with a C2PA manifest (breaks its signature)
    caption_from_prompt: bool = False  # fill an empty dc:description with the generation's prompt
    face_regions: bool = False  # `run` writes the faces as MWG regions (mwg-rs:Regions) where the file has none

    def __post_init__(self) -> None:
        if self.naming not in ("adobe", "darktable"):
            raise ValueError(f"naming must be 'adobe' or 'darktable', got {self.naming!r}")


@dataclass(frozen=True)
class SidecarState:
    """What a sidecar (or the embedded XMP) says now: the user's values and ours."""

    path: str | None  # the sidecar read, or None (embedded XMP / nothing)
    source: str  # "sidecar", "embedded" or "none"
    rating: float | None = None
    label: str | None = None
    crop: CropEdges | None = None  # crs crop in force (HasCrop True)
    keywords: tuple[str, ...] = ()  # dc:subject
    hierarchical_keywords: tuple[str, ...] = ()  # lr:hierarchicalSubject
    schema_version: int | None = None
    engine_version: str | None = None
    analysis_date: str | None = None
    dupes: DupeFields | None = None
    similar: SimilarFields | None = None
    burst: BurstFields | None = None
    quality: QualityFields | None = None
    crop_fields: CropFields | None = None
    decision: DecisionFields | None = None
    review: ReviewFields | None = None
    generation: GenerationFields | None = None
    face_regions: FaceRegionFields | None = None  # the MWG regions xmpcull wrote, while they are still ours


FileStamp = tuple[int, int]  # a file's (size, mtime_ns)


@dataclass(frozen=True)
class WriteResult:
    path: str  # the sidecar (or, with embed, the image) written or that would be written
    changed: bool
    kept_user_values: tuple[str, ...] = ()  # e.g. "xmp:Rating=4 (set by the user, kept)"
    changes: tuple[str, ...] = ()  # human-readable diff lines, for --dry-run
    warnings: tuple[str, ...] = ()  # written, but something was left out, and why
    # --embed: the image's (size, mtime_ns) right before and right after our write, so the
    # analysis cache can tell the bytes xmpcull wrote itself from another program's edit.
    embedded_over: tuple[FileStamp, FileStamp] | None = None


def _check_edges(left: float, top: float, right: float, bottom: float) -> None:
    for name, value in (("left", left), ("top", top), ("right", right), ("bottom", bottom)):
        _unit(f"crop {name}", value)
    if not (left < right and top < bottom):
        raise ValueError(f"empty crop: left={left} top={top} right={right} bottom={bottom}")


def _check_keyword_part(name: str, value: str) -> None:
    # The value becomes a keyword path component: '|' would split it, blanks are useless.
    if not value or not value.strip() or "|" in value:
        raise ValueError(f"{name} must be non-blank and contain no '|': {value!r}")
