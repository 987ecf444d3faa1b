"""Read the metadata culling needs, through one exiftool process.

Capture time, in order of preference (the first tag present wins):

1. EXIF DateTimeOriginal + SubSecTimeOriginal + OffsetTimeOriginal (or OffsetTime)
2. XMP exif:DateTimeOriginal (may carry sub-seconds and a zone itself)
3. EXIF CreateDate + SubSecTimeDigitized + OffsetTimeDigitized
4. XMP photoshop:DateCreated, then xmp:CreateDate
5. QuickTime CreationDate (has a zone), then QuickTime CreateDate (UTC by the spec)
6. PNG "Creation Time" text

File mtime is never used here: it changes on copy, so it is only an explicit
opt-in of the burst stage.

Existing user decisions (rating, label, keywords, crop) are read from the
image's sidecar when there is one, else from the XMP embedded in the file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xmpcull.models import CaptureTime, CropEdges, ImageFile, Metadata, format_for_extension
from xmpcull.scan.exiftool import ExifTool
from xmpcull.scan.generation import GENERATION_FORMATS, read_generation
from xmpcull.scan.generation.containers import TEXT_AFTER_IDAT, ContainerInfo, read_container

# What exiftool is asked for; metadata_from_tags reads its "Group:Tag" keys from the
# ``-j -G -n`` output (-n: numbers, e.g. Orientation 6, not "Rotate 90 CW"). Whole
# groups rather than the ~40 tags read: exiftool spends about 0.03 ms per requested tag
# name per file, so naming every tag cost 1.9 ms of Perl per file and asking for the
# groups costs 1.1 ms (bench/RESULTS.md, Analysis). The extra tags are simply unused.
_READ_PARAMS = ("-n",)
_IMAGE_REQUEST = (
    "EXIF:all",
    "XMP:all",
    "MakerNotes:SerialNumber",
    "MakerNotes:InternalSerialNumber",
    "QuickTime:CreationDate",
    "QuickTime:CreateDate",
    "QuickTime:Make",
    "QuickTime:Model",
    "PNG:CreationTime",
    "Composite:ImageSize",
    "ExifTool:Warning",
    "ExifTool:Error",
)
_SIDECAR_REQUEST = ("XMP:all", "ExifTool:Warning", "ExifTool:Error")
CAPTURE_TIME_SOURCES = (
    # (date tag, sub-second tag, offset tags...)
    ("EXIF:DateTimeOriginal", "EXIF:SubSecTimeOriginal", ("EXIF:OffsetTimeOriginal", "EXIF:OffsetTime")),
    ("XMP:DateTimeOriginal", None, ()),
    ("EXIF:CreateDate", "EXIF:SubSecTimeDigitized", ("EXIF:OffsetTimeDigitized", "EXIF:OffsetTime")),
    ("XMP:DateCreated", None, ()),
    ("XMP:CreateDate", None, ()),
    ("QuickTime:CreationDate", None, ()),
    ("QuickTime:CreateDate", None, ()),
    ("PNG:CreationTime", None, ()),
)
UTC_TAGS = frozenset({"QuickTime:CreateDate"})  # QuickTime stores these in UTC

_DATE_RE = re.compile(
    r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+\-]\d{2}:?\d{2})?\s*$"
)
_OFFSET_RE = re.compile(r"^\s*(Z|([+\-])(\d{2}):?(\d{2}))\s*$")


def parse_offset(text: Any) -> int | None:
    """'+02:00' -> 120, '-0530' -> -330, 'Z' -> 0; None for anything else."""
    if text is None:
        return None
    match = _OFFSET_RE.match(str(text))
    if not match:
        return None
    if match.group(1) == "Z":
        return 0
    minutes = int(match.group(3)) * 60 + int(match.group(4))
    return -minutes if match.group(2) == "-" else minutes


def parse_capture_time(
    date_text: Any, subsec: Any = None, offset_text: Any = None, source: str = "", assume_utc: bool = False
) -> CaptureTime | None:
    """Parse an EXIF/XMP/ISO date string plus optional sub-seconds and offset; None if unusable."""
    if date_text is None:
        return None
    match = _DATE_RE.match(str(date_text))
    if not match:
        return None
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    fraction = match.group(7)
    if fraction is None and subsec is not None:
        digits = re.sub(r"\D", "", str(subsec))
        fraction = digits or None
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        local = dt.datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return None  # 0000:00:00 00:00:00 and other placeholders
    offset = parse_offset(match.group(8)) if match.group(8) else parse_offset(offset_text)
    if offset is None and assume_utc:
        offset = 0
    return CaptureTime(local=local, offset_minutes=offset, source=source, subsec_recorded=fraction is not None)


def capture_time_from_tags(tags: dict[str, Any]) -> CaptureTime | None:
    for date_tag, subsec_tag, offset_tags in CAPTURE_TIME_SOURCES:
        if date_tag not in tags:
            continue
        offset = next((tags[t] for t in offset_tags if t in tags), None)
        parsed = parse_capture_time(
            tags[date_tag],
            tags.get(subsec_tag) if subsec_tag else None,
            offset,
            source=date_tag,
            assume_utc=date_tag in UTC_TAGS,
        )
        if parsed is not None:
            return parsed
    return None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _as_bool(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


def _as_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _first(tags: dict[str, Any], *names: str) -> Any:
    for name in names:
        value = tags.get(name)
        if value not in (None, ""):
            return value
    return None


def _image_size(value: Any) -> tuple[int | None, int | None]:
    parts = re.split(r"[x ]", str(value or "").strip())
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1])
    return None, None


def metadata_from_tags(tags: dict[str, Any], xmp_tags: dict[str, Any] | None = None) -> Metadata:
    """Build a Metadata record from exiftool's JSON for the image (and its sidecar, which wins for XMP)."""
    xmp = dict(tags)
    if xmp_tags:
        xmp.update({k: v for k, v in xmp_tags.items() if k.startswith("XMP:")})
    width, height = _image_size(tags.get("Composite:ImageSize"))
    orientation_value = _first(xmp_tags or {}, "XMP:Orientation") or tags.get("EXIF:Orientation") or 1
    try:
        orientation = int(orientation_value)
    except (TypeError, ValueError):
        orientation = 1
    if orientation not in range(1, 9):
        orientation = 1
    rating = _as_float(_first(xmp, "XMP:Rating", "EXIF:Rating"))
    rating_set = _as_float(xmp.get("XMP:RatingSet"))
    crop = None
    if _as_bool(xmp.get("XMP:HasCrop")):
        edges = [_as_float(xmp.get(f"XMP:Crop{k}")) for k in ("Left", "Top", "Right", "Bottom")]
        if all(e is not None for e in edges):
            crop = CropEdges(*edges, angle=_as_float(xmp.get("XMP:CropAngle")) or 0.0)  # type: ignore[misc]
    keywords = tuple(dict.fromkeys(_as_list(xmp.get("XMP:HierarchicalSubject")) + _as_list(xmp.get("XMP:Subject"))))
    label = xmp.get("XMP:Label")
    warnings = tuple(_as_list(tags.get("ExifTool:Warning")))
    serial = _first(tags, "EXIF:SerialNumber", "MakerNotes:SerialNumber", "MakerNotes:InternalSerialNumber", "XMP:SerialNumber")
    return Metadata(
        capture_time=capture_time_from_tags(tags),
        make=_clean(_first(tags, "EXIF:Make", "QuickTime:Make")),
        model=_clean(_first(tags, "EXIF:Model", "QuickTime:Model")),
        serial=_clean(serial),
        orientation=orientation,
        stored_width=width,
        stored_height=height,
        rating=rating,
        rating_by_xmpcull=rating is not None and rating_set is not None and rating == rating_set,
        label=str(label) if label not in (None, "") else None,
        keywords=keywords,
        crop=crop,
        # HasSettings alone, next to a crop xmpcull applied, is xmpcull's doing, not an edit.
        has_develop_settings=bool(xmp.get("XMP:ProcessVersion"))
        or (_as_bool(xmp.get("XMP:HasSettings")) and not xmp.get("XMP:CropApplied")),
        metadata_date=_clean(_first(xmp, "XMP:MetadataDate", "XMP:ModifyDate")),
        software=_clean(_first(tags, "EXIF:Software", "XMP:CreatorTool")),
        history_agents=tuple(dict.fromkeys(a.strip() for a in _as_list(xmp.get("XMP:HistorySoftwareAgent")) if a.strip())),
        dup_members=tuple(_as_list(xmp.get("XMP:DupMembers"))),
        similar_members=tuple(_as_list(xmp.get("XMP:SimilarMembers"))),
        burst_members=tuple(_as_list(xmp.get("XMP:BurstMembers"))),
        warnings=warnings,
    )


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def existing_sidecar(image: ImageFile) -> Path | None:
    """The sidecar whose user decisions apply to this image, if any.

    A RAW (or an image with no RAW companion) uses ``IMG_1.xmp``; darktable-style
    ``IMG_1.JPG.xmp`` is checked too. A JPEG that has a RAW companion does not
    borrow the RAW's ``IMG_1.xmp``: its own decisions are embedded.
    """
    if image.sidecars == ():  # the scan saw none: the common case, answered without path arithmetic
        return None
    path = image.path
    has_raw_companion = any(c.suffix.upper().lstrip(".") != image.ext and _is_raw(c) for c in image.companions)
    candidates = [path.with_name(path.name + ".xmp"), path.with_name(path.name + ".XMP")]
    if image.is_raw or not has_raw_companion:
        candidates = [path.with_suffix(".xmp"), path.with_suffix(".XMP"), *candidates]
    if image.sidecars is not None:  # the scan listed the folder already
        present = {p.name.lower(): p for p in image.sidecars}
        return next((present[c.name.lower()] for c in candidates if c.name.lower() in present), None)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _is_raw(path: Path) -> bool:
    return format_for_extension(path.suffix) == "raw"


def plain_png_tags(container: ContainerInfo) -> dict[str, Any] | None:
    """What exiftool would answer for a PNG whose chunks hold no EXIF, XMP or capture time; None otherwise.

    Generator output is mostly such PNGs: their chunk walk (needed for the
    generation record anyway) says all exiftool would, so they skip its call
    (a few ms of Perl each, about a tenth of the analysis of a 1024x1024 PNG).
    """
    if not container.plain_png or container.size is None:
        return None
    tags: dict[str, Any] = {"Composite:ImageSize": f"{container.size[0]} {container.size[1]}"}
    if container.text_after_idat:
        tags["ExifTool:Warning"] = TEXT_AFTER_IDAT
    return tags


def read_metadata(files: Sequence[ImageFile], exiftool: ExifTool, *, skip_plain_png: bool = True) -> list[Metadata | str]:
    """Metadata for each file, or an error string for a file exiftool cannot read.

    ``skip_plain_png=False`` asks exiftool about every file (the tests compare both ways).
    """
    containers = [read_container(f.path, f.format) if f.format in GENERATION_FORMATS else None for f in files]
    known = [plain_png_tags(c) if skip_plain_png and c is not None and f.format == "png" else None
             for f, c in zip(files, containers)]
    asked = [f.path for f, k in zip(files, known) if k is None]
    answers = iter(exiftool.read_tags(asked, _IMAGE_REQUEST, _READ_PARAMS) if asked else [])
    image_tags = [k if k is not None else next(answers) for k in known]
    sidecars = [existing_sidecar(f) for f in files]
    sidecar_paths = sorted({s for s in sidecars if s is not None})
    sidecar_tags = dict(zip(sidecar_paths, exiftool.read_tags(sidecar_paths, _SIDECAR_REQUEST, _READ_PARAMS)))
    out: list[Metadata | str] = []
    for image, tags, sidecar, container in zip(files, image_tags, sidecars, containers):
        error = tags.get("ExifTool:Error")
        if error:
            out.append(f"exiftool: {error}")
            continue
        meta = metadata_from_tags(tags, sidecar_tags.get(sidecar) if sidecar else None)
        if image.format in GENERATION_FORMATS:
            # The image's own tags only: a sidecar's DigitalSourceType may be the one we wrote.
            meta = dataclasses.replace(meta, generation=read_generation(image.path, image.format, tags, container))
        out.append(meta)
    return out
