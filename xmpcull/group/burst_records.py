"""The edges of the burst stage: analysed records in (one ``Shot`` per shot), the report out."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from xmpcull.analyse.faces.summary import summarise_faces
from xmpcull.errors import ConfigError
from xmpcull.group.burst_frames import NO_TIME_REASON, Burst, Shot
from xmpcull.group.burst_ids import wall_clock_iso
from xmpcull.group.identity import picture_identity
from xmpcull.models import CaptureTime, ImageRecord


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
