"""Typed records passed between pipeline stages.

They are plain, immutable data: no I/O, no behaviour beyond small derived
values, so every stage can be tested with hand-made records.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

RAW_EXTENSIONS = frozenset(
    {"CR2", "CR3", "CRW", "NEF", "NRW", "ARW", "SRF", "SR2", "RAF", "ORF", "RW2", "DNG", "PEF", "SRW", "X3F", "IIQ", "3FR", "ERF", "MEF", "MOS", "RWL"}
)
RENDERED_EXTENSIONS = {
    "JPG": "jpeg",
    "JPEG": "jpeg",
    "JPE": "jpeg",
    "PNG": "png",
    "TIF": "tiff",
    "TIFF": "tiff",
    "WEBP": "webp",
    "HEIC": "heif",
    "HEIF": "heif",
    "HIF": "heif",
}


@functools.lru_cache(maxsize=1024)  # asked once per file of a scan, and a tree has few extensions
def format_for_extension(ext: str) -> str | None:
    """'jpeg', 'png', 'tiff', 'webp', 'heif', 'raw', or None when we do not handle the file."""
    ext = ext.upper().lstrip(".")
    if ext in RAW_EXTENSIONS:
        return "raw"
    return RENDERED_EXTENSIONS.get(ext)


@dataclass(frozen=True, slots=True)
class ImageFile:
    """One image found by the scanner."""

    path: Path  # absolute, not resolved through symlinks
    root: Path  # the root it was found under (absolute)
    format: str  # see format_for_extension
    size: int  # bytes
    mtime_ns: int
    companions: tuple[Path, ...] = ()  # same-stem files of the same shot (RAW+JPEG pair)
    # XMP files in the folder named after this image (IMG_1.xmp, IMG_1.JPG.xmp), as the
    # scan saw them; None when the file did not come from a scan (then look on disk).
    sidecars: tuple[Path, ...] | None = None
    # Reached through a symbolic link leading outside the roots (only with follow_links):
    # never the keeper over a real file, never moved.
    via_link: bool = False

    @property
    def relpath(self) -> str:
        return self.path.relative_to(self.root).as_posix()

    @property
    def ext(self) -> str:
        return self.path.suffix.upper().lstrip(".")

    @property
    def is_raw(self) -> bool:
        return self.format == "raw"


@dataclass(frozen=True, slots=True)
class CaptureTime:
    """When the shutter fired, as the camera recorded it.

    ``local`` is the wall-clock time (naive). ``offset_minutes`` is the UTC offset
    when the file records one (OffsetTimeOriginal & co.), else None.
    """

    local: dt.datetime
    offset_minutes: int | None
    source: str  # the tag it came from, e.g. "EXIF:DateTimeOriginal"
    # The file records sub-seconds (SubSecTimeOriginal, or a fraction in the date),
    # even when they are 0: a burst frame at .00 s is as precise as one at .37 s.
    subsec_recorded: bool = False

    def timestamp(self) -> float:
        """Seconds on one comparable axis: true UTC when the offset is known, else local time read as UTC.

        Mixing both kinds in one camera body is rare; callers cluster per body.
        """
        offset = dt.timedelta(minutes=self.offset_minutes or 0)
        aware = self.local.replace(tzinfo=dt.timezone(offset))
        return aware.timestamp()

    def isoformat(self) -> str:
        if self.offset_minutes is None:
            return self.local.isoformat()
        return self.local.replace(tzinfo=dt.timezone(dt.timedelta(minutes=self.offset_minutes))).isoformat()


@dataclass(frozen=True, slots=True)
class CropEdges:
    """A crop in Camera Raw convention: fractions of the *stored* (un-oriented) frame."""

    left: float
    top: float
    right: float
    bottom: float
    angle: float = 0.0


IPTC_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED_ALGORITHMIC_MEDIA = IPTC_SOURCE_TYPE + "trainedAlgorithmicMedia"
COMPOSITE_WITH_TRAINED = IPTC_SOURCE_TYPE + "compositeWithTrainedAlgorithmicMedia"
DERIVATIONS = ("txt2img", "img2img", "inpaint", "hires", "upscale")


@dataclass(frozen=True, slots=True)
class Generation:
    """What an image generator recorded about how it made the picture (xmpcull.scan.generation).

    ``width``/``height`` are the size the generator declared (A1111: the first-pass size
    when hires fix ran), not the pixel size. ``payload_digest`` fingerprints the raw
    metadata: ComfyUI writes byte-identical graphs into every image of a batch and
    into the base and hires pass of one run.
    """

    generator: str | None = None  # "A1111", "Forge", "ComfyUI", "InvokeAI", "Fooocus", "NovelAI", "SwarmUI", "Midjourney", "C2PA"
    generator_version: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    steps: int | None = None
    sampler: str | None = None
    scheduler: str | None = None
    cfg: float | None = None
    model: str | None = None
    model_hash: str | None = None
    width: int | None = None
    height: int | None = None
    derivation: str = "txt2img"  # see DERIVATIONS
    denoise: float | None = None
    parent: str | None = None  # the source image as the generator named it (file name, hash or job id)
    variation_seed: int | None = None
    variation_strength: float | None = None
    job_id: str | None = None  # Midjourney job: the four images of one grid share it
    prompt_writer: str | None = None  # who wrote the prompt (Midjourney user name)
    source_type: str | None = None  # IPTC digital source type as the file records it (XMP or C2PA)
    c2pa: str | None = None  # None: no manifest; else its validation state ("Valid", "Trusted", "Invalid", "unreadable: …")
    c2pa_generator: str | None = None  # the manifest's claim generator / software agent
    sources: tuple[str, ...] = ()  # where it was read, e.g. ("png:parameters",)
    payload_digest: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def is_generated(self) -> bool:
        return self.generator is not None

    @property
    def iptc_source_type(self) -> str | None:
        """The IPTC digital source type to record: the file's own, else what the generator implies."""
        if self.source_type:
            return self.source_type
        if not self.is_generated or self.generator == "C2PA":
            return None
        return COMPOSITE_WITH_TRAINED if self.derivation == "inpaint" else TRAINED_ALGORITHMIC_MEDIA


@dataclass(frozen=True, slots=True)
class Metadata:
    """What exiftool told us about one file (and its sidecar)."""

    capture_time: CaptureTime | None = None
    make: str | None = None
    model: str | None = None
    serial: str | None = None
    orientation: int = 1  # EXIF 1..8
    stored_width: int | None = None  # pixels as stored, before orientation
    stored_height: int | None = None
    rating: float | None = None  # existing xmp:Rating
    rating_by_xmpcull: bool = False  # that rating is the one xmpcull proposed (xmpcull:RatingSet), not the user's
    label: str | None = None  # existing xmp:Label
    keywords: tuple[str, ...] = ()
    crop: CropEdges | None = None  # existing applied crop (crs:HasCrop True)
    has_develop_settings: bool = False  # edited in a raw developer (not counting a crop xmpcull applied)
    metadata_date: str | None = None  # xmp:MetadataDate (or ModifyDate) as written
    generation: Generation | None = None  # an image generator's record (AI images), or a C2PA manifest
    software: str | None = None  # EXIF Software, else xmp:CreatorTool: camera firmware or an editor
    history_agents: tuple[str, ...] = ()  # xmpMM:History softwareAgent of each recorded save/edit
    dup_members: tuple[str, ...] = ()  # xmpcull:DupMembers our last write recorded (relative paths)
    similar_members: tuple[str, ...] = ()  # xmpcull:SimilarMembers, the same for the image's similar set
    burst_members: tuple[str, ...] = ()  # xmpcull:BurstMembers, the same for the image's burst
    warnings: tuple[str, ...] = ()

    @property
    def camera_body(self) -> str | None:
        """Make + Model (+ SerialNumber): the unit bursts are clustered within."""
        parts = [p for p in (self.make, self.model) if p]
        if not parts:
            return None
        # "Canon" + "Canon EOS R6" reads better as "Canon EOS R6"; the key stays unique.
        if self.make and self.model and self.model.lower().startswith(self.make.split()[0].lower()):
            parts = [self.model]
        body = " ".join(parts)
        return f"{body}#{self.serial}" if self.serial else body

    @property
    def display_size(self) -> tuple[int, int] | None:
        if not self.stored_width or not self.stored_height:
            return None
        if self.orientation in (5, 6, 7, 8):
            return self.stored_height, self.stored_width
        return self.stored_width, self.stored_height


@dataclass(frozen=True, slots=True)
class Face:
    """One face the detector found (``xmpcull.analyse.faces``); positions in [0, 1] of the displayed image."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    score: float  # detector confidence, 0..1
    keypoints: tuple[tuple[float, float], ...]  # right eye, left eye, nose, mouth, right ear, left ear
    frontal: bool  # turned and tilted little enough to judge the eyes
    openings: tuple[float, float] | None  # (right, left) eye height/width; None when not judged
    eyes: tuple[str, str] | None  # (right, left): "open", "closed", "cant-tell"; None when not judged
    variance: float | None  # Laplacian variance of the face box at 64 px (its sharpness)

    def __post_init__(self) -> None:
        # Stored at the precision the cache keeps, so a face read back from the cache
        # equals the one just measured (a cached run decides exactly as a fresh one).
        def r(v: float) -> float:
            return round(float(v), 4)

        set_ = object.__setattr__
        set_(self, "box", tuple(r(v) for v in self.box))
        set_(self, "score", r(self.score))
        set_(self, "keypoints", tuple((r(x), r(y)) for x, y in self.keypoints))
        set_(self, "frontal", bool(self.frontal))
        set_(self, "openings", None if self.openings is None else tuple(r(v) for v in self.openings))
        set_(self, "eyes", None if self.eyes is None else tuple(self.eyes))
        set_(self, "variance", None if self.variance is None else round(float(self.variance), 2))

    @property
    def judged(self) -> bool:
        return self.eyes is not None

    @property
    def closed(self) -> bool:
        """Judged with both eyes closed, or one closed and the other not clearly open."""
        return self.eyes is not None and "closed" in self.eyes and "open" not in self.eyes

    def to_json(self) -> dict[str, object]:
        return {
            "box": list(self.box),
            "score": self.score,
            "keypoints": [list(p) for p in self.keypoints],
            "frontal": self.frontal,
            "openings": None if self.openings is None else list(self.openings),
            "eyes": None if self.eyes is None else list(self.eyes),
            "variance": self.variance,
        }

    @classmethod
    def from_json(cls, data: dict) -> Face:
        return cls(
            box=tuple(data["box"]),  # type: ignore[arg-type]
            score=data["score"],
            keypoints=tuple(tuple(p) for p in data["keypoints"]),  # type: ignore[misc]
            frontal=data["frontal"],
            openings=None if data["openings"] is None else tuple(data["openings"]),  # type: ignore[arg-type]
            eyes=None if data["eyes"] is None else tuple(data["eyes"]),  # type: ignore[arg-type]
            variance=data["variance"],
        )


@dataclass(frozen=True, slots=True)
class Features:
    """What analysis computed from the pixels (displayed orientation) and bytes."""

    # The file's content key (fsutil.content_key): blake2b-128 hex of its bytes, or "ht-" and
    # a digest of its size, mtime and ends when no other file of the scan has its size.
    # Keys the cache's rename lookup and derived results; exact copies go by pixel_digest.
    digest: str
    phash: int  # 64-bit DCT hash of the displayed image
    dhash: int  # 64-bit gradient hash, a second opinion for verification
    phash_variants: tuple[int, ...]  # pHash of the 8 dihedral transforms (index 0 == phash)
    width: int  # displayed full-resolution size (from the decoder's header)
    height: int
    sharpness: float  # variance of the Laplacian at a normalised size
    mean_luma: float  # 0..1
    clip_high: float  # share of pixels at or above 250/255
    clip_low: float  # share of pixels at or below 5/255
    decoded_from: str  # "full", "draft", "raw-preview", ...
    window_phashes: tuple[int, ...] = ()  # pHash of each sub-window in analyse.hashes.WINDOWS (crop tolerance)
    # blake2b-128 of the analysis-size grey pixels: the picture's identity, which
    # metadata written into the file (xmpcull --embed, a keyword added) does not change.
    pixel_digest: str = ""
    jpeg_quality: int | None = None  # estimated from the quantisation tables (analyse.encoding); JPEG only
    chroma_subsampling: str | None = None  # "4:4:4", "4:2:2", "4:2:0"; JPEG only
    jpeg_metadata_bytes: int | None = None  # APPn/COM segment bytes (EXIF, XMP, ICC...); JPEG only
    faces: tuple[Face, ...] | None = None  # None: not looked for (face models not installed)
    texture: tuple[int, ...] = ()  # local-binary-pattern shares (analyse.texture): similar-set candidates

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """One file's analysis outcome: metadata and features, or the reason it failed."""

    file: ImageFile
    metadata: Metadata = field(default_factory=Metadata)
    features: Features | None = None
    error: str | None = None  # set when the file could not be analysed

    @property
    def ok(self) -> bool:
        return self.error is None and self.features is not None
