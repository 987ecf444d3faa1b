"""Bursts: runs of frames one camera body shot in quick succession.

Pure functions over plain records, so the clustering can be property-tested
without files. The numbers it depends on:

* ``gap_seconds`` (default 2 s): a new burst starts when the time to the
  previous frame *of the same body* is greater than the gap. A gap of exactly
  the threshold stays in the burst. Times are compared as whole microseconds,
  so float noise in epoch seconds never decides a split.
* Bodies never share a burst (Make + Model + SerialNumber, see
  ``Metadata.camera_body``). Files with no camera body at all are clustered
  together as one "unknown camera".
* ``scene_split_threshold``: optionally, a burst is also cut where the pHash
  Hamming distance between consecutive frames is greater than this.
* A run of one frame is not a burst: it gets no burst ID. Files with no
  capture time are singletons with the reason "no capture time".

The clustering itself is vectorised with numpy (one lexsort, one diff), so a
million timestamps cluster in a few seconds (bench/bursts_bench.py).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from xmpcull.analyse.faces.summary import summarise_faces
from xmpcull.errors import ConfigError
from xmpcull.group.identity import picture_identity
from xmpcull.models import CaptureTime, ImageRecord

DEFAULT_GAP_SECONDS = 2.0
# pHash bits (of 64) that separate "same scene, subject moved" from "cut to another
# subject"; frames of one scene in a burst rarely differ by more than ~16 bits.
DEFAULT_SCENE_SPLIT_THRESHOLD = 22
# Frames whose sharpness is within this share of the sharpest count as equally
# sharp, and exposure decides between them (Laplacian variance is noisy).
SHARPNESS_TIE_SHARE = 0.05
NO_TIME_REASON = "no capture time"
SINGLE_FRAME_REASON = "single frame"
UNKNOWN_BODY = ""  # body key of files that name no camera

_MICROS = 1_000_000


@dataclass(frozen=True, slots=True)
class Shot:
    """One frame as the clustering sees it: who shot it, when, and how good it is."""

    path: str
    body: str | None  # Metadata.camera_body; None when the file names no camera
    timestamp: float | None  # seconds, comparable within one body (CaptureTime.timestamp())
    local_time: dt.datetime | None = None  # wall clock of the camera, for readable IDs
    utc_offset_minutes: int | None = None  # the zone of local_time, when the file records it
    model: str | None = None
    serial: str | None = None
    phash: int | None = None
    sharpness: float | None = None
    mean_luma: float | None = None  # 0..1
    clip_high: float | None = None  # share of blown pixels
    clip_low: float | None = None  # share of crushed pixels
    time_source: str | None = None  # e.g. "EXIF:DateTimeOriginal", "File:mtime"
    capture_iso: str | None = None  # capture time as recorded, for reports
    root: str | None = None
    relpath: str | None = None
    companions: tuple[str, ...] = ()  # other files of the same shot (RAW+JPEG)
    closed_faces: int | None = None  # judged faces with eyes closed; None: no face judged
    face_variance: float | None = None  # Laplacian variance of the sharpest face (xmpcull.analyse.faces)

    @property
    def name(self) -> str:
        return self.path.replace("\\", "/").rsplit("/", 1)[-1]

    def exposure_error(self) -> float | None:
        """Distance from a well-exposed frame: off mid-grey plus clipped share."""
        if self.mean_luma is None:
            return None
        return abs(self.mean_luma - 0.5) + (self.clip_high or 0.0) + (self.clip_low or 0.0)


@dataclass(frozen=True, slots=True)
class Burst:
    """Consecutive frames of one body; a size-1 ``Burst`` is a singleton with no ID."""

    shots: tuple[Shot, ...]  # in capture order; index in burst = position + 1
    body: str | None
    camera: str  # short camera name used in the ID
    burst_id: str | None = None  # None for singletons
    best: int = 0  # position of the best frame in ``shots``
    best_reason: str = ""
    reason: str | None = None  # why a singleton is alone: "single frame", "no capture time"
    time_offset: float = 0.0  # clock offset applied to this body, seconds

    @property
    def size(self) -> int:
        return len(self.shots)

    @property
    def is_burst(self) -> bool:
        return self.burst_id is not None

    @property
    def start(self) -> float | None:
        return _corrected(self.shots[0].timestamp, self.time_offset)

    @property
    def end(self) -> float | None:
        return _corrected(self.shots[-1].timestamp, self.time_offset)

    @property
    def best_shot(self) -> Shot:
        return self.shots[self.best]


def _corrected(timestamp: float | None, offset: float) -> float | None:
    return None if timestamp is None else timestamp + offset


# --- clock offsets -----------------------------------------------------------

_OFFSET_RE = re.compile(r"^(?P<sign>[+-])?(?:(?:(?P<h>\d+):)?(?P<m>\d+):)?(?P<s>\d+(?:\.\d*)?|\.\d+)$")


def parse_clock_offset(text: str) -> tuple[str, float]:
    """``"MODEL[#SERIAL]=+HH:MM:SS[.fff]"`` -> (camera key, seconds to add to that camera's times).

    The value may also be ``MM:SS`` or plain seconds (``-1.5``). The key is matched
    case-insensitively against the body's ``Model#Serial`` (model as written or its
    short name, "R5#123"), then ``Model`` (or "R5"), then the full body key
    (``Make Model#Serial``).
    """
    camera, sep, value = text.rpartition("=")
    camera, value = camera.strip(), value.strip()
    match = _OFFSET_RE.match(value)
    if not sep or not camera or not match:
        raise ConfigError(f"clock offset must look like MODEL[#SERIAL]=+00:00:07, got {text!r}")
    seconds = float(match["s"]) + 60 * int(match["m"] or 0) + 3600 * int(match["h"] or 0)
    return camera, -seconds if match["sign"] == "-" else seconds


def parse_clock_offsets(texts: Sequence[str]) -> dict[str, float]:
    offsets: dict[str, float] = {}
    for text in texts:
        camera, seconds = parse_clock_offset(text)
        if camera.casefold() in {key.casefold() for key in offsets}:
            raise ConfigError(f"clock offset given twice for {camera!r}")
        offsets[camera] = seconds
    return offsets


def offset_key_for(shot: Shot, offsets: Mapping[str, float]) -> str | None:
    """Which key of ``offsets`` applies to ``shot`` (most specific first), if any."""
    folded = {key.casefold(): key for key in offsets}
    candidates = []
    if shot.model:
        short = short_camera_name(shot.model)
        if shot.serial:
            candidates += [f"{shot.model}#{shot.serial}", f"{short}#{shot.serial}"]
        candidates += [shot.model, short]
    if shot.body:
        candidates.append(shot.body)
    for candidate in candidates:
        if candidate.casefold() in folded:
            return folded[candidate.casefold()]
    return None


# --- readable IDs ------------------------------------------------------------

# Brand and product-line words that say nothing once the model number is there.
_BRAND_WORDS = frozenset(
    """canon eos powershot ixus nikon corporation coolpix sony fujifilm fuji olympus
    om digital solutions panasonic lumix pentax ricoh leica hasselblad samsung
    apple google sigma dji imaging co ltd inc""".split()
)


def short_camera_name(model: str | None, make: str | None = None) -> str:
    """A short, ID-safe camera name: "Canon EOS R5" -> "R5", "NIKON Z 9" -> "Z9", "iPhone 6" -> "iPhone6"."""
    if not model:
        return "Cam"
    drop = _BRAND_WORDS | {w.casefold() for w in (make or "").split()}
    words = [w for w in re.split(r"[\s_]+", model) if w and w.casefold() not in drop]
    joined = "".join(words) or model
    joined = re.sub(r"Mark", "Mk", joined)
    name = re.sub(r"[^A-Za-z0-9]", "", joined)
    return name[:12] or "Cam"


_DIGIT_RUN = re.compile(r"\d+")


def frame_number(path: str) -> str:
    """The camera's file counter: the last four digits of the last digit run in the name (IMG_0007.CR3 -> "0007")."""
    stem = path.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    runs = _DIGIT_RUN.findall(stem)
    return runs[-1][-4:].rjust(4, "0") if runs else "0000"


def base_burst_id(start_local: dt.datetime, camera: str, first_path: str) -> str:
    """``YYYYMMDD-HHMMSS-<camera>-<frame number of the first frame>``."""
    return f"{start_local:%Y%m%d-%H%M%S}-{camera}-{frame_number(first_path)}"


def wall_clock(shot: Shot, offset: float = 0.0) -> dt.datetime | None:
    """The camera's local time of ``shot``, corrected by a clock ``offset`` in seconds."""
    shift = dt.timedelta(seconds=offset)
    if shot.local_time is not None:
        return shot.local_time + shift
    if shot.timestamp is None:
        return None
    return dt.datetime.fromtimestamp(shot.timestamp, dt.timezone.utc).replace(tzinfo=None) + shift


def wall_clock_iso(shot: Shot, offset: float = 0.0) -> str | None:
    """ISO 8601 local time, with its UTC offset when the file recorded one."""
    local = wall_clock(shot, offset)
    if local is None:
        return None
    if shot.utc_offset_minutes is None:
        return local.isoformat()
    return local.replace(tzinfo=dt.timezone(dt.timedelta(minutes=shot.utc_offset_minutes))).isoformat()


def _start_local(burst: Burst) -> dt.datetime:
    local = wall_clock(burst.shots[0], burst.time_offset)
    assert local is not None
    return local


def assign_ids(bursts: Sequence[Burst]) -> list[Burst]:
    """Give every multi-frame burst its ID; a clash (same second, camera and frame number) gets ``-2``, ``-3``...

    Clashes are ordered by (start, body, first path), so adding files elsewhere
    never renames a burst.
    """
    base_of: dict[int, str] = {}
    clashes: dict[str, list[int]] = defaultdict(list)
    for i, burst in enumerate(bursts):
        if burst.size > 1 and burst.start is not None:
            base = base_burst_id(_start_local(burst), burst.camera, burst.shots[0].path)
            base_of[i] = base
            clashes[base].append(i)
    final: dict[int, str] = {}
    for base, members in clashes.items():
        members.sort(key=lambda i: (bursts[i].start, bursts[i].body or UNKNOWN_BODY, bursts[i].shots[0].path))
        for rank, i in enumerate(members):
            final[i] = base if rank == 0 else f"{base}-{rank + 1}"
    return [
        replace(burst, burst_id=final[i]) if i in final else burst for i, burst in enumerate(bursts)
    ]


# --- best frame --------------------------------------------------------------


def choose_best(shots: Sequence[Shot]) -> tuple[int, str]:
    """Index of the best frame and why: eyes open on every judged face, then the sharpest
    face, then the sharpest frame, exposure between near-equally sharp frames, then earliest."""
    faced = _by_faces(shots)
    return faced if faced is not None else _by_frame(shots)


def _by_frame(shots: Sequence[Shot]) -> tuple[int, str]:
    """Sharpest frame, exposure between near-equally sharp frames, then earliest."""
    scored = [i for i, s in enumerate(shots) if s.sharpness is not None]
    if not scored:
        return 0, "no quality features; first frame"
    by_sharpness = sorted(scored, key=lambda i: (-shots[i].sharpness, i))  # type: ignore[operator]
    top = shots[by_sharpness[0]].sharpness or 0.0
    contenders = [i for i in by_sharpness if (shots[i].sharpness or 0.0) >= top * (1 - SHARPNESS_TIE_SHARE)]
    if len(contenders) == 1:
        best = contenders[0]
        runner = by_sharpness[1] if len(by_sharpness) > 1 else None
        if runner is None:
            return best, f"only frame with quality features (Laplacian var {top:.0f})"
        return best, f"sharpest (Laplacian var {top:.0f} vs next {shots[runner].sharpness:.0f})"
    with_exposure = [i for i in contenders if shots[i].exposure_error() is not None]
    if not with_exposure:
        best = contenders[0]
        return best, f"sharpest (Laplacian var {top:.0f}; others within {SHARPNESS_TIE_SHARE:.0%}, no exposure data)"
    ranked = sorted(with_exposure, key=lambda i: (shots[i].exposure_error(), -(shots[i].sharpness or 0.0), i))
    best, runner = ranked[0], (ranked[1] if len(ranked) > 1 else None)
    chosen = shots[best]
    reason = (
        f"as sharp as the sharpest (Laplacian var {chosen.sharpness:.0f} vs {top:.0f}, within {SHARPNESS_TIE_SHARE:.0%}); "
        f"best exposure (mean {chosen.mean_luma:.2f}, clipped {_clipped(chosen):.1%}"
    )
    if runner is not None:
        other = shots[runner]
        reason += f" vs {other.mean_luma:.2f}, {_clipped(other):.1%}"
    return best, reason + ")"


def _by_faces(shots: Sequence[Shot]) -> tuple[int, str] | None:
    """The frame the faces decide, or None when they do not (no faces, or all frames alike)."""
    judged = [i for i, s in enumerate(shots) if s.closed_faces is not None]
    if not judged:
        return None
    fewest = min(shots[i].closed_faces for i in judged)  # type: ignore[type-var]
    open_frames = [i for i in judged if shots[i].closed_faces == fewest]
    if len(open_frames) < len(judged):
        worst = max(shots[i].closed_faces for i in judged)  # type: ignore[type-var]
        closed_text = "eyes open on every judged face" if fewest == 0 else f"eyes closed on {fewest} face(s)"
        reason = f"{closed_text} (other frames: closed on up to {worst})"
    else:
        reason = ""
    sharp = [i for i in open_frames if shots[i].face_variance is not None]
    if len(sharp) > 1:
        ranked = sorted(sharp, key=lambda i: (-(shots[i].face_variance or 0.0), i))
        top, runner = shots[ranked[0]].face_variance or 0.0, shots[ranked[1]].face_variance or 0.0
        if runner < top * (1 - SHARPNESS_TIE_SHARE):
            face_text = f"sharpest face (Laplacian var {top:.0f} vs next {runner:.0f})"
            return ranked[0], f"{reason}; {face_text}" if reason else face_text
    if not reason:
        return None
    if len(open_frames) == 1:
        return open_frames[0], reason
    # Several frames with open eyes and equally sharp faces: the usual order among them.
    index, why = _by_frame([s if i in open_frames else replace(s, sharpness=None) for i, s in enumerate(shots)])
    return index, f"{reason}; {why}"


def _clipped(shot: Shot) -> float:
    return (shot.clip_high or 0.0) + (shot.clip_low or 0.0)


# --- clustering --------------------------------------------------------------


def burst_starts(body_codes: np.ndarray, micros: np.ndarray, gap_micros: int) -> np.ndarray:
    """For frames already sorted by (body, time): True where a new burst starts."""
    starts = np.ones(len(micros), dtype=bool)
    if len(micros) > 1:
        starts[1:] = (body_codes[1:] != body_codes[:-1]) | ((micros[1:] - micros[:-1]) > gap_micros)
    return starts


def scene_starts(phashes: np.ndarray, has_phash: np.ndarray, threshold: int) -> np.ndarray:
    """For frames in capture order: True where the pHash jumps more than ``threshold`` bits from the previous frame."""
    cuts = np.zeros(len(phashes), dtype=bool)
    if len(phashes) > 1:
        distance = np.bitwise_count(phashes[1:] ^ phashes[:-1])
        cuts[1:] = (distance > threshold) & has_phash[1:] & has_phash[:-1]
    return cuts


def _capture_order(shots: Sequence[Shot], codes: np.ndarray, micros: np.ndarray) -> np.ndarray:
    """Indices of ``shots`` sorted by (body code, time, file name, path), independent of input order."""
    order = np.lexsort((micros, codes))
    # Equal (body, time) pairs are rare; order them by name in Python only where they occur.
    sorted_codes, sorted_micros = codes[order], micros[order]
    same = np.zeros(len(order), dtype=bool)
    if len(order) > 1:
        same[1:] = (sorted_codes[1:] == sorted_codes[:-1]) & (sorted_micros[1:] == sorted_micros[:-1])
    if same.any():
        order = order.copy()
        run_starts = np.flatnonzero(~same)
        run_ends = np.append(run_starts[1:], len(order))
        for lo, hi in zip(run_starts[(run_ends - run_starts) > 1], run_ends[(run_ends - run_starts) > 1]):
            chunk = sorted(order[lo:hi].tolist(), key=lambda i: (shots[i].name, shots[i].path))
            order[lo:hi] = chunk
    return order


def cluster_bursts(
    shots: Sequence[Shot],
    gap_seconds: float = DEFAULT_GAP_SECONDS,
    clock_offsets: Mapping[str, float] = {},  # noqa: B006 - read only
    scene_split_threshold: int | None = None,
) -> list[Burst]:
    """Every shot in exactly one ``Burst`` (size 1 = singleton, no ID), ordered by start time.

    ``clock_offsets`` maps ``Model``, ``Model#Serial`` or a full body key to seconds
    added to that body's times (see ``parse_clock_offset``).
    """
    if not gap_seconds >= 0:
        raise ConfigError(f"burst gap must be zero or more seconds, got {gap_seconds!r}")
    # One pass over the records: touching a million objects costs more than the numpy work.
    timed: list[Shot] = []
    bodies: list[str] = []
    times: list[float] = []
    untimed: list[Shot] = []
    for shot in shots:
        if shot.timestamp is None:
            untimed.append(shot)
        else:
            timed.append(shot)
            bodies.append(shot.body if shot.body is not None else UNKNOWN_BODY)
            times.append(shot.timestamp)
    untimed.sort(key=lambda s: (s.name, s.path))
    bursts: list[Burst] = []
    if timed:
        offset_of_body = _body_offsets(timed, bodies, clock_offsets)
        seconds = np.array(times, dtype=np.float64)
        if offset_of_body:
            seconds = seconds + np.array([offset_of_body.get(b, 0.0) for b in bodies], dtype=np.float64)
        micros = np.round(seconds * _MICROS).astype(np.int64)
        # Codes follow the sorted body keys, so the order never depends on input order.
        body_rank = {body: rank for rank, body in enumerate(sorted(set(bodies)))}
        codes = np.fromiter((body_rank[b] for b in bodies), dtype=np.int64, count=len(bodies))
        order = _capture_order(timed, codes, micros)
        starts = burst_starts(codes[order], micros[order], round(gap_seconds * _MICROS))
        if scene_split_threshold is not None:
            starts |= _scene_cuts(timed, order, scene_split_threshold)
        bursts = _build_bursts(timed, bodies, order, starts, offset_of_body)
        bursts.sort(key=lambda b: (b.start, b.body or UNKNOWN_BODY, b.shots[0].path))
    bursts = assign_ids(bursts)
    bursts.extend(_singleton(s, NO_TIME_REASON, 0.0) for s in untimed)
    return bursts


def _body_offsets(shots: Sequence[Shot], bodies: list[str], clock_offsets: Mapping[str, float]) -> dict[str, float]:
    if not clock_offsets:
        return {}
    offsets: dict[str, float] = {}
    seen: set[str] = set()
    for shot, body in zip(shots, bodies):
        if body in seen:
            continue
        seen.add(body)
        key = offset_key_for(shot, clock_offsets)
        if key is not None:
            offsets[body] = clock_offsets[key]
    return offsets


def _scene_cuts(shots: Sequence[Shot], order: np.ndarray, threshold: int) -> np.ndarray:
    hashes = [shots[i].phash for i in order]
    has = np.fromiter((h is not None for h in hashes), dtype=bool, count=len(hashes))
    values = np.fromiter((h or 0 for h in hashes), dtype=np.uint64, count=len(hashes))
    return scene_starts(values, has, threshold)


def _build_bursts(
    shots: Sequence[Shot], bodies: list[str], order: np.ndarray, starts: np.ndarray, offsets: Mapping[str, float]
) -> list[Burst]:
    bounds = np.append(np.flatnonzero(starts), len(order)).tolist()
    order_list = order.tolist()
    bursts = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        members = tuple(shots[i] for i in order_list[lo:hi])
        body = bodies[order_list[lo]]
        offset = offsets.get(body, 0.0)
        if len(members) == 1:
            bursts.append(_singleton(members[0], SINGLE_FRAME_REASON, offset))
            continue
        best, reason = choose_best(members)
        first = members[0]
        bursts.append(
            Burst(
                shots=members,
                body=first.body,
                camera=short_camera_name(first.model),
                best=best,
                best_reason=reason,
                time_offset=offset,
            )
        )
    return bursts


def _singleton(shot: Shot, reason: str, offset: float) -> Burst:
    return Burst(shots=(shot,), body=shot.body, camera=short_camera_name(shot.model), reason=reason, time_offset=offset)


# --- from pipeline records -----------------------------------------------------


def mtime_capture_time(mtime_ns: int) -> CaptureTime:
    """The file's modification time as a capture time, in this machine's time zone (``--time-fallback mtime``)."""
    aware = dt.datetime.fromtimestamp(mtime_ns / 1e9).astimezone()
    offset = aware.utcoffset() or dt.timedelta(0)
    return CaptureTime(aware.replace(tzinfo=None), int(offset.total_seconds() // 60), "File:mtime")


def shot_from_record(record: ImageRecord, time_fallback: str | None = None) -> Shot:
    """A ``Shot`` from an analysed file; ``time_fallback="mtime"`` uses the file time when no tag has one."""
    if time_fallback not in (None, "mtime"):
        raise ConfigError(f"unknown time fallback {time_fallback!r} (only 'mtime')")
    meta, features = record.metadata, record.features
    faces = summarise_faces(features.faces if features else None)
    capture = meta.capture_time
    if capture is None and time_fallback == "mtime":
        capture = mtime_capture_time(record.file.mtime_ns)
    return Shot(
        path=str(record.file.path),
        body=meta.camera_body,
        timestamp=capture.timestamp() if capture else None,
        local_time=capture.local if capture else None,
        utc_offset_minutes=capture.offset_minutes if capture else None,
        model=meta.model,
        serial=meta.serial,
        phash=features.phash if features else None,
        sharpness=features.sharpness if features else None,
        mean_luma=features.mean_luma if features else None,
        clip_high=features.clip_high if features else None,
        clip_low=features.clip_low if features else None,
        time_source=capture.source if capture else None,
        capture_iso=capture.isoformat() if capture else None,
        root=str(record.file.root),
        relpath=record.file.relpath,
        closed_faces=faces.closed if faces is not None and faces.judged else None,
        face_variance=faces.best_variance if faces is not None else None,
    )


def without_copies(records: Sequence[ImageRecord]) -> list[ImageRecord]:
    """Drop exact copies (the same file in two folders): a copy of a frame is not a second frame.

    The first copy by path stays. Without this, a backup folder next to the
    originals would turn every photo into a two-frame "burst".
    """
    seen: set[tuple[object, ...]] = set()
    kept = []
    for record in sorted(records, key=lambda r: str(r.file.path)):
        identity = picture_identity(record) if record.features else None
        if identity is not None and identity in seen:
            continue
        if identity is not None:
            seen.add(identity)
        kept.append(record)
    return kept


def shots_from_records(records: Sequence[ImageRecord], time_fallback: str | None = None) -> list[Shot]:
    """One ``Shot`` per shot: a RAW+JPEG pair is one frame, not two frames 0 s apart.

    The pair is represented by its RAW (the file its sidecar belongs to), with the
    features of whichever file was analysed, and the other files as companions.
    """
    by_path = {record.file.path: record for record in records}
    done: set[object] = set()
    shots = []
    for record in records:
        if record.file.path in done:
            continue
        group = [record] + [by_path[c] for c in record.file.companions if c in by_path and c not in done]
        done.update(member.file.path for member in group)
        lead = min(group, key=lambda r: (not r.file.is_raw, str(r.file.path)))
        analysed = lead if lead.features is not None else next((r for r in group if r.features is not None), lead)
        timed = lead if lead.metadata.capture_time is not None else next((r for r in group if r.metadata.capture_time is not None), lead)
        merged = replace(lead, metadata=timed.metadata, features=analysed.features)
        shot = shot_from_record(merged, time_fallback)
        others = tuple(sorted(str(r.file.path) for r in group if r is not lead))
        shots.append(replace(shot, companions=others) if others else shot)
    return shots


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?\s*$")


def parse_duration(text: str) -> float:
    """Seconds from "2s", "500ms", "1.5" (plain numbers are seconds)."""
    match = _DURATION_RE.match(str(text))
    if not match:
        raise ConfigError(f"a duration looks like 2s, 500ms or 1.5, got {text!r}")
    value = float(match[1])
    return value / 1000 if match[2] == "ms" else value


# --- report ------------------------------------------------------------------

REPORT_VERSION = 1
CSV_COLUMNS = ("burst_id", "camera", "size", "index", "best", "path", "relpath", "root", "capture_time", "sharpness", "best_reason")


def burst_report(bursts: Sequence[Burst], roots: Sequence[str], gap_seconds: float) -> dict[str, object]:
    """The JSON report: multi-frame bursts with their members, and the files with no capture time.

    ``start``/``end`` are the camera's wall clock (clock offset applied), with the
    UTC offset when the file records one; ``capture_time`` is as recorded.
    """
    entries = []
    for burst in bursts:
        if not burst.is_burst:
            continue
        best = burst.best_shot
        entries.append(
            {
                "id": burst.burst_id,
                "camera": burst.body,
                "start": wall_clock_iso(burst.shots[0], burst.time_offset),
                "end": wall_clock_iso(burst.shots[-1], burst.time_offset),
                "size": burst.size,
                "best": best.path,
                "best_reason": burst.best_reason,
                "members": [
                    {
                        "path": shot.path,
                        "relpath": shot.relpath,
                        "root": shot.root,
                        "index": index,
                        "capture_time": shot.capture_iso,
                        "sharpness": shot.sharpness,
                        "companions": list(shot.companions),
                    }
                    for index, shot in enumerate(burst.shots, start=1)
                ],
            }
        )
    return {
        "version": REPORT_VERSION,
        "roots": list(roots),
        "gap_seconds": gap_seconds,
        "bursts": entries,
        "no_time": [b.shots[0].path for b in bursts if b.reason == NO_TIME_REASON],
    }


def csv_rows(report: Mapping[str, object]) -> list[dict[str, object]]:
    """One row per burst member, columns ``CSV_COLUMNS``."""
    rows = []
    for entry in report["bursts"]:  # type: ignore[attr-defined]
        for member in entry["members"]:
            rows.append(
                {
                    "burst_id": entry["id"],
                    "camera": entry["camera"],
                    "size": entry["size"],
                    "index": member["index"],
                    "best": member["path"] == entry["best"],
                    "path": member["path"],
                    "relpath": member["relpath"],
                    "root": member["root"],
                    "capture_time": member["capture_time"],
                    "sharpness": member["sharpness"],
                    "best_reason": entry["best_reason"] if member["path"] == entry["best"] else "",
                }
            )
    return rows
