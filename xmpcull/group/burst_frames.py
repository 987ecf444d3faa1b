"""A burst's frames as the clustering sees them (``Shot``) and a burst (``Burst``): plain records.

Kept apart from the clustering (group/bursts.py), the best-frame choice
(burst_best.py), the readable IDs (burst_ids.py) and the records-in, report-out
edges (burst_records.py), which all work on them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

NO_TIME_REASON = "no capture time"
SINGLE_FRAME_REASON = "single frame"
UNKNOWN_BODY = ""  # body key of files that name no camera


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
