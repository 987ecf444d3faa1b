"""Eye state from the iris-landmark model's eye contour, and whether a face can be judged.

The contour's first 16 points run along the lower lid from corner 0 to corner 8
(points 0-8), then along the upper lid in the same direction (9-15, checked on
the model's output); the opening is the area between the lids
over the squared corner distance, scaled so a lens-shaped (elliptic) eye gives
its height/width ratio. MediaPipe's own model card puts the contour's error at
a few per cent of the eye width, which is why the thresholds below leave a
"can't tell" band between open and closed rather than one cut.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Set on the labelled dev set (bench/faces_bench.py, bench/RESULTS.md "Faces and eyes"):
# open eyes measured 0.23-0.42 there (one of 38 at 0.17, on a strongly tilted head),
# eyes shut or lowered over the iris 0.09-0.23 (one under hair 0.29); between the two
# we do not guess.
# Only three judged faces there had their eyes shut: treat these as provisional.
CLOSED_BELOW = 0.21
OPEN_ABOVE = 0.24
# Frontal enough: the nose tip lies between the eyes (yaw) and the eyes are level
# enough (roll is undone by the crop, but a strongly tilted head hides a lid).
MAX_YAW_RATIO = 0.35  # |nose offset from the eye midpoint| / eye distance
MAX_ROLL_DEG = 35.0

OPEN, CLOSED, CANT_TELL = "open", "closed", "cant-tell"


def eye_opening(contour: np.ndarray) -> float:
    """Height/width of the eye from the 16-point contour (x, y), 0 for a shut lid."""
    pts = np.asarray(contour, np.float64)[:16, :2]
    outline = np.concatenate([pts[0:9], pts[15:8:-1]])  # lower lid, then the upper one back to corner 0
    x, y = outline[:, 0], outline[:, 1]
    area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    width = float(np.hypot(*(pts[8] - pts[0])))
    if width <= 0:
        return 0.0
    return 4.0 * area / (math.pi * width * width)


def eye_state(opening: float) -> str:
    if opening < CLOSED_BELOW:
        return CLOSED
    if opening > OPEN_ABOVE:
        return OPEN
    return CANT_TELL


@dataclass(frozen=True)
class Pose:
    yaw_ratio: float
    roll_deg: float

    @property
    def frontal(self) -> bool:
        return abs(self.yaw_ratio) <= MAX_YAW_RATIO and abs(self.roll_deg) <= MAX_ROLL_DEG


def pose_of(keypoints: Sequence[tuple[float, float]]) -> Pose:
    """Yaw and roll from BlazeFace's keypoints (right eye, left eye, nose, ...), in pixels."""
    (rx, ry), (lx, ly), (nx, ny) = keypoints[0], keypoints[1], keypoints[2]
    dx, dy = lx - rx, ly - ry
    dist = math.hypot(dx, dy) or 1e-9
    # Offset of the nose from the eye midpoint along the eye line, in eye distances.
    along = ((nx - (rx + lx) / 2) * dx + (ny - (ry + ly) / 2) * dy) / (dist * dist)
    return Pose(yaw_ratio=along, roll_deg=math.degrees(math.atan2(dy, dx)))


def summarise(states: Sequence[tuple[str, str] | None]) -> str | None:
    """One value for the image from each face's (right, left) eye states; None for a
    face too small or too turned to judge (a passer-by in the background).

    ``some-closed``: a judged face has both eyes closed, or one closed and the
    other not clearly open (one open eye beside a closed one is a wink or a
    squint, not a blink). ``all-open``: at least one face judged, and every
    judged face has both eyes open. Otherwise ``cant-tell``. No faces: None.
    """
    if not states:
        return None
    judged = [s for s in states if s is not None]
    if any(face_closed(s) for s in judged):
        return "some-closed"
    if judged and all(s == (OPEN, OPEN) for s in judged):
        return "all-open"
    return "cant-tell"


def face_closed(state: tuple[str, str]) -> bool:
    return CLOSED in state and OPEN not in state
