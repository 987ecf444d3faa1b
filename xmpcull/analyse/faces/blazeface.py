"""BlazeFace output decoding: anchors, boxes and keypoints, and overlap suppression.

Pure numpy over the two raw tensors the MediaPipe detector emits (per-anchor
scores and 16 regressors: box centre, size, six keypoints), so it is testable
without a model. The anchor layout follows MediaPipe's SSD anchor options for
each model (``face_detection_*_range_common.pbtxt``): one fixed-size anchor per
aspect ratio, centred on every cell of each stride's grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

RAW_SCORE_LIMIT = 80.0  # MediaPipe clips at 100; 80 keeps float32 exp() finite


@dataclass(frozen=True)
class AnchorSpec:
    input_size: int  # square model input in pixels
    strides: tuple[int, ...]  # one entry per SSD layer
    interpolated: bool  # a second anchor per layer (aspect ratio 1, interpolated scale)


SHORT_RANGE = AnchorSpec(128, (8, 16, 16, 16), True)  # 896 anchors
FULL_RANGE = AnchorSpec(192, (4,), False)  # 2304 anchors


@cache
def anchors(spec: AnchorSpec) -> np.ndarray:
    """(N, 2) anchor centres in [0, 1], in the order the model's outputs use.

    Consecutive layers with the same stride share one grid, with all their
    anchors per cell together (MediaPipe's SsdAnchorsCalculator).
    """
    centres: list[tuple[float, float]] = []
    layer = 0
    while layer < len(spec.strides):
        stride = spec.strides[layer]
        same = 0
        while layer + same < len(spec.strides) and spec.strides[layer + same] == stride:
            same += 1
        per_cell = same * (2 if spec.interpolated else 1)
        cells = -(-spec.input_size // stride)  # ceil
        for y in range(cells):
            for x in range(cells):
                centres.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * per_cell)
        layer += same
    return np.asarray(centres, np.float32)


@dataclass(frozen=True)
class Detection:
    score: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in model-input units [0, 1]
    keypoints: tuple[tuple[float, float], ...]  # 6: right eye, left eye, nose, mouth, right ear, left ear


def decode(scores: np.ndarray, regressors: np.ndarray, spec: AnchorSpec, min_score: float) -> list[Detection]:
    """Detections scoring at least ``min_score`` (before suppression), best first."""
    raw = np.clip(scores.reshape(-1).astype(np.float64), -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)
    prob = 1.0 / (1.0 + np.exp(-raw))
    keep = np.flatnonzero(prob >= min_score)
    if keep.size == 0:
        return []
    reg = regressors.reshape(-1, 16)[keep].astype(np.float64) / spec.input_size
    centre = anchors(spec)[keep].astype(np.float64)
    cx, cy = reg[:, 0] + centre[:, 0], reg[:, 1] + centre[:, 1]
    half_w, half_h = reg[:, 2] / 2, reg[:, 3] / 2
    points = reg[:, 4:].reshape(-1, 6, 2) + centre[:, None, :]
    found = [
        Detection(
            float(prob[i]),
            (float(cx[j] - half_w[j]), float(cy[j] - half_h[j]), float(cx[j] + half_w[j]), float(cy[j] + half_h[j])),
            tuple((float(px), float(py)) for px, py in points[j]),
        )
        for j, i in enumerate(keep)
    ]
    return sorted(found, key=lambda d: -d.score)


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


OVERLAP = 0.3  # intersection over union above which two detections are one face (MediaPipe's)


def suppress(found: list[Detection], threshold: float = OVERLAP) -> list[Detection]:
    """Weighted non-maximum suppression (MediaPipe's WEIGHTED mode): each kept face
    averages the boxes and keypoints of the detections it absorbs, by score, which
    steadies the keypoints the eye crops are placed from."""
    remaining = sorted(found, key=lambda d: -d.score)
    kept: list[Detection] = []
    while remaining:
        best = remaining[0]
        group = [d for d in remaining if iou(best.box, d.box) > threshold]
        remaining = [d for d in remaining if iou(best.box, d.box) <= threshold]
        weights = np.array([d.score for d in group])
        weights /= weights.sum()
        box = tuple(float(v) for v in np.tensordot(weights, np.array([d.box for d in group]), 1))
        pts = np.tensordot(weights, np.array([d.keypoints for d in group]), 1)
        kept.append(Detection(best.score, box, tuple((float(x), float(y)) for x, y in pts)))  # type: ignore[arg-type]
    return kept
