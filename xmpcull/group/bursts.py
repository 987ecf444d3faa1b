"""Bursts: runs of frames one camera body shot in quick succession; here, the clustering.

Pure functions over plain records, so the clustering can be property-tested
without files. Beside it, by concern: the records (burst_frames.py), the best
frame (burst_best.py), readable IDs and clock offsets (burst_ids.py), records in
and the report out (burst_records.py); their names are importable from here too.
The numbers it depends on:

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

The clustering itself (this module) is vectorised with numpy (one lexsort, one diff), so a
million timestamps cluster in a few seconds (bench/bursts_bench.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from xmpcull.errors import ConfigError
from xmpcull.group.burst_best import SHARPNESS_TIE_SHARE, choose_best
from xmpcull.group.burst_frames import NO_TIME_REASON, SINGLE_FRAME_REASON, UNKNOWN_BODY, Burst, Shot
from xmpcull.group.burst_ids import (
    assign_ids,
    base_burst_id,
    frame_number,
    offset_key_for,
    parse_clock_offset,
    parse_clock_offsets,
    short_camera_name,
    wall_clock,
    wall_clock_iso,
)
from xmpcull.group.burst_records import (
    CSV_COLUMNS,
    REPORT_VERSION,
    burst_report,
    csv_rows,
    mtime_capture_time,
    parse_duration,
    shot_from_record,
    shots_from_records,
    without_copies,
)

# The burst stage's names, importable from here as before the split by concern.
__all__ = [
    "CSV_COLUMNS", "DEFAULT_GAP_SECONDS", "DEFAULT_SCENE_SPLIT_THRESHOLD", "NO_TIME_REASON", "REPORT_VERSION",
    "SHARPNESS_TIE_SHARE", "SINGLE_FRAME_REASON", "UNKNOWN_BODY", "Burst", "Shot", "assign_ids", "base_burst_id",
    "burst_report", "burst_starts", "choose_best", "cluster_bursts", "csv_rows", "frame_number", "mtime_capture_time",
    "offset_key_for", "parse_clock_offset", "parse_clock_offsets", "parse_duration", "scene_starts",
    "short_camera_name", "shot_from_record", "shots_from_records", "wall_clock", "wall_clock_iso", "without_copies",
]

DEFAULT_GAP_SECONDS = 2.0
# pHash bits (of 64) that separate "same scene, subject moved" from "cut to another
# subject"; frames of one scene in a burst rarely differ by more than ~16 bits.
DEFAULT_SCENE_SPLIT_THRESHOLD = 22

_MICROS = 1_000_000


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
