"""Pixel check of a crop candidate: is one picture a sub-rectangle of the other?

Why: 64-bit hashes cannot tell a 5 % crop from the next frame of a hand-held
camera (the Canon HDR pair is as close through a window hash as a real crop),
and random crops on all four sides land far from every stored window hash.
Loose hash candidates are therefore checked on pixels: ORB keypoints of two
small grey copies, a RANSAC similarity fit (scale, rotation, shift), and the
fit must say "a crop": no rotation (a re-shot frame is turned by a degree or
so), one picture maps inside the other (a moved camera shows new scenery on
one side), each side of the inner one spans at least ``MIN_SHARE`` of the
outer one (a small crop, not a detail), and the aligned pixels correlate.

Pure: numpy arrays in, a ``CropFit`` out. Decoding lives in ``group.pixels``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

THUMB_SIDE = 384  # long side of the grey copy keypoints are found on
N_FEATURES = 600
RATIO = 0.8  # Lowe's ratio test on the two nearest descriptors
RANSAC_PIXELS = 3.0  # reprojection tolerance at THUMB_SIDE
# Acceptance, measured on the bench corpus (bench/RESULTS.md, Duplicates): true crops fit
# with |angle| <= 0.36 deg (one 0.48), the Canon re-shot pair at 1.2-1.4 deg.
MIN_INLIERS = 12
MAX_ANGLE_DEG = 0.5
EDGE_SLACK = 0.02  # share of the outer picture a corner may fall outside (resampling, fit error)
MIN_SHARE = 0.75  # each side of the inner picture covers >= 75 % of the outer's: a small crop
MIN_CORRELATION = 0.85  # aligned grey pixels (tone edits keep a linear relation)


@dataclass(frozen=True)
class Keypoints:
    """What one picture contributes to a check (computed once per picture)."""

    grey: np.ndarray  # uint8, long side THUMB_SIDE
    points: np.ndarray  # float32 (n, 2)
    descriptors: np.ndarray | None  # uint8 (n, 32) ORB


@dataclass(frozen=True)
class CropFit:
    """A similarity fit mapping picture ``a`` onto picture ``b``."""

    inliers: int
    scale: float  # b pixels per a pixel (at THUMB_SIDE)
    angle: float  # degrees
    inner: str  # "a" (a lies inside b), "b", or "" (neither: partial overlap)
    share: float  # smallest side share of the inner picture in the outer one (0 when no inner)
    correlation: float  # Pearson correlation of aligned grey pixels (0.0: not measured, the geometry failed)

    @property
    def is_crop_geometry(self) -> bool:
        return self.inliers >= MIN_INLIERS and abs(self.angle) <= MAX_ANGLE_DEG and self.inner != "" and self.share >= MIN_SHARE

    @property
    def is_crop(self) -> bool:
        return self.is_crop_geometry and self.correlation >= MIN_CORRELATION


def thumbnail(grey: np.ndarray) -> np.ndarray:
    """Grey uint8 copy with its long side at THUMB_SIDE (small pictures are enlarged so ORB finds corners)."""
    h, w = grey.shape[:2]
    scale = THUMB_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def keypoints_of(grey: np.ndarray) -> Keypoints:
    thumb = thumbnail(np.ascontiguousarray(grey, dtype=np.uint8))
    orb = cv2.ORB_create(nfeatures=N_FEATURES, fastThreshold=10)
    found, descriptors = orb.detectAndCompute(thumb, None)
    points = np.float32([k.pt for k in found]) if found else np.zeros((0, 2), np.float32)
    return Keypoints(thumb, points, descriptors)


def _corners(shape: tuple[int, ...]) -> np.ndarray:
    h, w = shape[:2]
    return np.float32([[0, 0], [w, 0], [w, h], [0, h]])


def _inside(corners: np.ndarray, shape: tuple[int, ...]) -> tuple[bool, float]:
    """Whether mapped corners lie inside a picture of ``shape`` (with slack), and their smallest side share."""
    h, w = shape[:2]
    sx, sy = EDGE_SLACK * w, EDGE_SLACK * h
    xs, ys = corners[:, 0], corners[:, 1]
    inside = bool(xs.min() >= -sx and xs.max() <= w + sx and ys.min() >= -sy and ys.max() <= h + sy)
    share = min((xs.max() - xs.min()) / w, (ys.max() - ys.min()) / h)
    return inside, float(share)


def _correlation(a: np.ndarray, b: np.ndarray, matrix: np.ndarray) -> float:
    """Correlation of ``a`` warped onto ``b`` over their overlap (borders eroded: interpolation seams)."""
    h, w = b.shape[:2]
    warped = cv2.warpAffine(a.astype(np.float32), matrix, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(np.ones_like(a, np.uint8), matrix, (w, h), flags=cv2.INTER_NEAREST)
    keep = cv2.erode(mask, np.ones((5, 5), np.uint8)) > 0
    if keep.sum() < 100:
        return 0.0
    x, y = warped[keep], b.astype(np.float32)[keep]
    if x.std() == 0 or y.std() == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])


def fit_crop(a: Keypoints, b: Keypoints) -> CropFit | None:
    """The similarity fit of ``a`` onto ``b``, or None when too few keypoints agree to fit one."""
    if a.descriptors is None or b.descriptors is None or len(a.points) < MIN_INLIERS or len(b.points) < MIN_INLIERS:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    good = [m[0] for m in matcher.knnMatch(a.descriptors, b.descriptors, k=2) if len(m) == 2 and m[0].distance < RATIO * m[1].distance]
    if len(good) < MIN_INLIERS:
        return None
    src = a.points[[m.queryIdx for m in good]]
    dst = b.points[[m.trainIdx for m in good]]
    matrix, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PIXELS, maxIters=2000, confidence=0.995
    )
    if matrix is None or mask is None:
        return None
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    if scale <= 1e-6:
        return None
    angle = float(np.degrees(np.arctan2(matrix[1, 0], matrix[0, 0])))
    a_in_b, a_share = _inside(_corners(a.grey.shape) @ matrix[:, :2].T + matrix[:, 2], b.grey.shape)
    inverse = cv2.invertAffineTransform(matrix)
    b_in_a, b_share = _inside(_corners(b.grey.shape) @ inverse[:, :2].T + inverse[:, 2], a.grey.shape)
    inner, share = ("a", a_share) if a_in_b else ("b", b_share) if b_in_a else ("", 0.0)
    fit = CropFit(int(mask.sum()), scale, angle, inner, share, 0.0)
    if not fit.is_crop_geometry:
        return fit  # the pixel comparison costs as much as the fit: only for crops
    return replace(fit, correlation=_correlation(a.grey, b.grey, matrix))
