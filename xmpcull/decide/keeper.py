"""Which file of a duplicate group to keep: a declarative tiebreak chain.

Why a chain of named rules: the photographer must be able to read (and
reorder) the policy, and every group must say which rule chose its keeper.
Rules are applied in order; each keeps only the members that score best on
it, until one member is left. The reason names the rule(s) that narrowed the
field, with the values compared, e.g. ``most pixels (24.2 MP vs 6.0 MP)``.

The default (``DEFAULT_CHAIN``, docs/dupes.md "Keeper policy") puts the quality
of the copy first: more pixels, then RAW, then the camera's own capture
metadata, then lossless over lossy, then the JPEG quality the file was saved
at; only at equal quality does an edit (a file carrying editing evidence) win,
and a newer mtime is no evidence at all. No rule of the default looks at bytes
or times xmpcull changes itself (sidecars, ``--embed``), so a re-run cannot
change its own keeper.

Adding a criterion is adding one ``Rule`` to ``RULES``: a name, a label, a score
(higher wins; None when a member cannot be judged on it, and then the rule
leaves the field as it is, so an unknown never beats a known value) and how to
show a score in the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from xmpcull.errors import ConfigError
from xmpcull.models import ImageRecord, Metadata

Score = tuple[float, ...]


@dataclass(frozen=True)
class Rule:
    """One tiebreak: a score (higher wins) and how to say what it compared."""

    name: str
    label: str
    score: Callable[[ImageRecord], Score | None]
    show: Callable[[Score], str] | None = None  # None: the label says it all


def _pixels(r: ImageRecord) -> Score:
    return (float(r.features.pixels) if r.features else 0.0,)


def _raw(r: ImageRecord) -> Score:
    return (1.0 if r.file.is_raw else 0.0,)


CAPTURE_FIELDS = ("Make", "Model", "DateTimeOriginal")


def capture_fields(meta: Metadata) -> tuple[str, ...]:
    """Which of the camera's capture records the file still carries (exports often drop them)."""
    original_time = meta.capture_time is not None and meta.capture_time.source.endswith("DateTimeOriginal")
    present = (meta.make is not None, meta.model is not None, original_time)
    return tuple(name for name, there in zip(CAPTURE_FIELDS, present) if there)


def _capture(r: ImageRecord) -> Score:
    return (float(len(capture_fields(r.metadata))),)


def _show_capture(score: Score) -> str:
    count = int(score[0])
    return "none" if count == 0 else f"{count} of {', '.join(CAPTURE_FIELDS)}"


LOSSLESS_FORMATS = frozenset({"png", "tiff"})


def _lossless(r: ImageRecord) -> Score:
    return (1.0 if r.file.format in LOSSLESS_FORMATS else 0.0,)


# Chroma kept at full resolution is more of the picture: 4:4:4 > 4:2:2/4:4:0 > 4:2:0.
SUBSAMPLING_RANK = {"4:4:4": 2.0, "4:2:2": 1.0, "4:4:0": 1.0, "4:2:0": 0.0}


def bits_per_pixel(r: ImageRecord) -> float | None:
    """Bits of image data per pixel: a JPEG's metadata segments do not count, so embedding
    XMP (xmpcull's own --embed included) or an ICC profile changes nothing."""
    f = r.features
    if f is None or f.pixels <= 0:
        return None
    return (r.file.size - (f.jpeg_metadata_bytes or 0)) * 8 / f.pixels


def _jpeg_quality(r: ImageRecord) -> Score | None:
    f = r.features
    if r.file.format != "jpeg" or f is None or f.jpeg_quality is None:
        return None
    return (float(f.jpeg_quality), SUBSAMPLING_RANK.get(f.chroma_subsampling or "", -1.0), bits_per_pixel(r) or 0.0)


def _show_jpeg_quality(score: Score) -> str:
    quality, rank, bpp = score
    names = {v: k for k, v in SUBSAMPLING_RANK.items() if k != "4:4:0"}
    sampling = f" {names[rank]}" if rank in names else ""
    return f"q{quality:.0f}{sampling}, {bpp:.1f} bpp"


def _jpeg_quality_key(score: Score) -> Score:
    return score[:2]  # bits per pixel is shown, not compared: the quality setting is the encoder's own word


EDITOR_NAMES = (
    "photoshop", "lightroom", "camera raw", "gimp", "darktable", "digikam", "kipi", "rawtherapee", "capture one",
    "affinity", "luminar", "dxo", "on1 ", "pixelmator", "snapseed", "acdsee", "paint.net", "paintshop", "picasa",
    "imagemagick", "graphicsmagick", "photoscape", "lightzone", "silkypix", "aftershot", "faststone", "irfanview",
    "xnview", "photopea", "krita", "photo ninja", "exposure x", "art ", "ansel", "vsco", "polarr", "fotor",
)


def editing_evidence(meta: Metadata) -> str | None:
    """What shows a person edited this file, or None.

    Develop settings (a crop xmpcull applied does not count), an xmpMM:History of
    saves, or an editor named in Software / CreatorTool. Camera firmware writes
    Software too ("HDR+ 1.0", "E2100v1.1", "8.3"), so only known editors count.
    """
    if meta.has_develop_settings:
        return "develop settings"
    if meta.history_agents:
        return "edit history: " + ", ".join(meta.history_agents[:2])
    software = (meta.software or "").strip()
    if software and any(name in software.lower() + " " for name in EDITOR_NAMES):
        return f"saved by {software}"
    return None


def _edited(r: ImageRecord) -> Score:
    return (1.0 if editing_evidence(r.metadata) else 0.0,)


def _bpp_lossy_other(r: ImageRecord) -> Score | None:
    # JPEGs compare on their quality estimate; bytes per pixel would also count
    # metadata, which xmpcull's own --embed adds. HEIF and WebP have no estimate.
    if r.file.format in ("jpeg", "raw") or r.file.format in LOSSLESS_FORMATS:
        return None
    bpp = bits_per_pixel(r)
    return None if bpp is None else (bpp,)


def parse_metadata_date(text: str | None) -> float | None:
    """xmp:MetadataDate / ModifyDate as written (ISO 8601 or EXIF 'YYYY:MM:DD hh:mm:ss') -> seconds."""
    if not text:
        return None
    value = text.strip()
    if len(value) >= 10 and value[4] == ":" and value[7] == ":":
        value = value[:4] + "-" + value[5:7] + "-" + value[8:]  # EXIF-style date inside XMP
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)  # no offset written: read as UTC, like capture times
    return parsed.timestamp()


MTIME_TOLERANCE_NS = 2 * 10**9  # FAT stores mtimes in 2 s steps; copies differ by less than that by accident


def _recent(r: ImageRecord) -> Score:
    # Develop settings first: an edited file beats an untouched one whatever the clocks say.
    date = parse_metadata_date(r.metadata.metadata_date)
    return (
        1.0 if r.metadata.has_develop_settings else 0.0,
        date if date is not None else float("-inf"),
        r.file.mtime_ns / 1e9,
    )


def _recent_survivors(field: Sequence[ImageRecord], scores: list[Score]) -> list[int]:
    """Indices of the most recently edited; mtimes within MTIME_TOLERANCE_NS of the latest count as equal.

    The tolerance is measured from the latest mtime (not chained), so the
    outcome does not depend on member order.
    """
    head = max(s[:2] for s in scores)
    tied = [i for i, s in enumerate(scores) if s[:2] == head]
    latest = max(field[i].file.mtime_ns for i in tied)  # integers: floats blur nanoseconds at this size
    return [i for i in tied if latest - field[i].file.mtime_ns < MTIME_TOLERANCE_NS]


def _sharpness(r: ImageRecord) -> Score:
    return (r.features.sharpness if r.features else 0.0,)


def _eyes_open(r: ImageRecord) -> Score | None:
    # Fewer judged faces with closed eyes wins; None (the rule says nothing) when a copy has no judged face.
    from xmpcull.analyse.faces.summary import summarise_faces  # numpy: not for every command's settings

    faces = summarise_faces(r.features.faces if r.features else None)
    return (-float(faces.closed),) if faces is not None and faces.judged else None


def _sharpest_face(r: ImageRecord) -> Score | None:
    from xmpcull.analyse.faces.summary import summarise_faces

    faces = summarise_faces(r.features.faces if r.features else None)
    return (faces.best_variance,) if faces is not None and faces.best_variance is not None else None


def _rating(r: ImageRecord) -> Score:
    # Only the user's rating counts: one xmpcull proposed last run must not pick the keeper.
    meta = r.metadata
    return (meta.rating if meta.rating is not None and not meta.rating_by_xmpcull else float("-inf"),)


def _file_size(r: ImageRecord) -> Score:
    return (float(r.file.size),)


def _short_path(r: ImageRecord) -> Score:
    return (-float(len(str(r.file.path))),)


def _show_recent(score: Score) -> str:
    developed, date, mtime = score
    parts = ["develop settings" if developed else "no develop settings"]
    if date != float("-inf"):
        parts.append("metadata " + dt.datetime.fromtimestamp(date, dt.timezone.utc).strftime("%Y-%m-%d %H:%M"))
    parts.append("mtime " + dt.datetime.fromtimestamp(mtime, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"))
    return ", ".join(parts)


def _show_size(score: Score) -> str:
    size = score[0]
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} kB"


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("most_pixels", "most pixels", _pixels, lambda s: f"{s[0] / 1e6:.1f} MP"),
        Rule("raw_over_rendered", "RAW over rendered copy", _raw),
        Rule("camera_metadata", "camera capture metadata", _capture, _show_capture),
        Rule("lossless_over_lossy", "lossless over lossy", _lossless,
             lambda s: "lossless" if s[0] else "lossy"),
        Rule("best_jpeg_quality", "higher JPEG quality", _jpeg_quality, _show_jpeg_quality),
        Rule("edited", "edited at equal quality", _edited, lambda s: "editing evidence" if s[0] else "none"),
        Rule("most_bits_per_pixel", "more bits per pixel", _bpp_lossy_other, lambda s: f"{s[0]:.1f} bpp"),
        Rule("eyes_open", "eyes open", _eyes_open,
             lambda s: "eyes open on every judged face" if s[0] == 0 else f"eyes closed on {-s[0]:.0f} face(s)"),
        Rule("sharpest_face", "sharpest face", _sharpest_face, lambda s: f"face sharpness {s[0]:.0f}"),
        Rule("sharpest", "sharpest", _sharpness, lambda s: f"sharpness {s[0]:.0f}"),
        Rule("highest_rating", "highest rating", _rating,
             lambda s: "unrated" if s[0] == float("-inf") else f"{s[0]:g} stars"),
        Rule("most_recently_edited", "most recently edited", _recent, _show_recent),
        Rule("largest_file", "largest file", _file_size, _show_size),
        Rule("shortest_path", "shortest path", _short_path, lambda s: f"{-s[0]:.0f} chars"),
    )
}
# How a rule compares scores when it does not use the whole tuple.
_COMPARE_KEY: Mapping[str, Callable[[Score], Score]] = {"best_jpeg_quality": _jpeg_quality_key}

DEFAULT_CHAIN: tuple[str, ...] = (
    "most_pixels",
    "raw_over_rendered",
    "camera_metadata",
    "lossless_over_lossy",
    "best_jpeg_quality",
    "edited",
    "most_bits_per_pixel",
    "eyes_open",
    "sharpest_face",
    "sharpest",
    "highest_rating",
    "shortest_path",
)


def parse_chain(names: Sequence[str]) -> tuple[Rule, ...]:
    """Rule names (from config or CLI) -> rules; unknown or repeated names are a ConfigError."""
    rules = []
    for name in names:
        key = name.strip().lower().replace("-", "_")
        if key not in RULES:
            raise ConfigError(f"unknown keeper rule {name!r}; known rules: {', '.join(RULES)}")
        if RULES[key] in rules:
            raise ConfigError(f"keeper rule {name!r} is listed twice")
        rules.append(RULES[key])
    return tuple(rules)


def _detail(rule: Rule, record: ImageRecord, score: Score) -> str:
    """A member's value in words: the edit rule names its evidence."""
    if rule.name == "edited":
        return editing_evidence(record.metadata) or "no editing evidence"
    if rule.name == "camera_metadata":
        present = capture_fields(record.metadata)
        return ", ".join(present) if present else "none"
    return rule.show(score) if rule.show else ""


def _survivors(rule: Rule, field: Sequence[ImageRecord], scores: list[Score]) -> list[int]:
    if rule.name == "most_recently_edited":
        return _recent_survivors(field, scores)
    key = _COMPARE_KEY.get(rule.name, lambda s: s)
    best = max(key(s) for s in scores)
    return [i for i, s in enumerate(scores) if key(s) == best]


def _narrow(rule: Rule, field: list[ImageRecord]) -> tuple[list[ImageRecord], str | None]:
    """The members that do best on ``rule`` and the reason text, or the field unchanged and None."""
    maybe = [rule.score(r) for r in field]
    if any(s is None for s in maybe):
        return field, None  # cannot be told for every member: this rule says nothing here
    scores: list[Score] = [s for s in maybe if s is not None]
    keep = _survivors(rule, field, scores)
    if len(keep) == len(field):
        return field, None
    best_i = keep[0]
    runner_i = max((i for i in range(len(field)) if i not in keep), key=lambda i: scores[i])
    if rule.show is None:
        return [field[i] for i in keep], rule.label
    shown_best = _detail(rule, field[best_i], scores[best_i])
    shown_other = _detail(rule, field[runner_i], scores[runner_i])
    if shown_best == shown_other:  # the values differ below the shown precision: say so, not "a vs a"
        return [field[i] for i in keep], f"{rule.label} ({shown_best}, by a fraction)"
    return [field[i] for i in keep], f"{rule.label} ({shown_best} vs {shown_other})"


LINK_REASON = "a real file over one reached through a symbolic link"


def choose_keeper(
    members: Sequence[ImageRecord], chain: Sequence[str] | Sequence[Rule] = DEFAULT_CHAIN
) -> tuple[ImageRecord, str]:
    """The member to keep and why; deterministic for any member order."""
    if not members:
        raise ValueError("choose_keeper needs at least one member")
    rules = parse_chain(chain) if chain and isinstance(chain[0], str) else tuple(chain)  # type: ignore[arg-type]
    # Path order first, so a full tie (same everything) always ends on the same file.
    field = sorted(members, key=lambda r: str(r.file.path))
    if len(field) == 1:
        return field[0], "only member"
    reasons: list[str] = []
    real = [r for r in field if not r.file.via_link]
    if real and len(real) < len(field):
        # What a link outside the roots points to can vanish or change under us: a real copy stays.
        field = real
        reasons.append(LINK_REASON)
        if len(field) == 1:
            return field[0], LINK_REASON
    for rule in rules:
        field, reason = _narrow(rule, field)
        if reason is not None:
            reasons.append(reason)
        if len(field) == 1:
            break
    if len(field) > 1:
        reasons.append("tie on every rule: first path in sort order")
    return field[0], "; then ".join(reasons)
