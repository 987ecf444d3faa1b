"""Geometric verification: are two pictures the same scene, and the same moment?

Why: 64-bit hashes say "these look alike", nothing more. A static camera's
frames of people walking past have hashes as close as two JPEG exports of one
frame, and a guitar can collide with a wisteria. Local features decide:
SIFT keypoints of two small grey copies (the analysis decode, long side
``SIDE``), Lowe's ratio test, and a RANSAC fit of a homography (one view of a
plane, a pan, a zoom) or, when the scene has depth, a fundamental matrix (the
camera moved). A pair is one scene only when enough matches agree *and* the
agreeing keypoints cover the frame (``MIN_CELLS`` cells of a 4 x 4 grid): a
logo or a strip of text shared by two photos is not a scene.

When a homography aligns the two, the aligned pixels tell *which* kind of
same-scene pair it is. Tone is matched by histogram (a monotone curve: brightness,
contrast, gamma and clipping are edits, not changes), both copies are blurred
(recompression and resampling noise), and the share of the overlap that still
differs by ``CHANGED_LEVEL`` grey levels, in blobs that survive an opening
(thin strokes such as a caption are removed; a person is not), is measured:

* ``same``: it covers (nearly) the whole frame and no region changed: one
  picture, possibly edited, resized or slightly cropped;
* ``moment``: aligned, but a region changed (somebody moved): a similar set;
* ``scene``: one scene from another viewpoint or framing (parallax, perspective,
  a pan that overlaps only partly, an exposure pair): a similar set;
* ``different``: both pictures have keypoints, and they do not agree;
* ``unknown``: too few keypoints to say (flat or tiny pictures).

A homography that mirrors (negative orientation) is never ``same`` here; the
mirrored-copy check flips one picture first and asks for ``same``.

Pure: grey numpy arrays in, a ``SceneMatch`` out. Decoding lives in ``group.pixels``.
Thresholds were set on the labelled dev set of ``bench/similar_bench.py`` (figures in
bench/RESULTS.md, "Similar sets").
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SIDE = 384  # long side of the grey copy features are found on (the crop check's size)
N_FEATURES = 700
RATIO = 0.75  # Lowe's ratio test
MIN_KEYPOINTS = 20  # fewer on either side: "unknown"
MIN_MATCHES = 10
RANSAC_PIXELS = 4.0  # homography reprojection tolerance at SIDE
EPIPOLAR_PIXELS = 2.0  # fundamental-matrix tolerance at SIDE
MIN_INLIERS = 12  # homography inliers for "one scene"
MIN_EPIPOLAR_INLIERS = 30  # a fundamental matrix fits random matches more easily: ask for more
MIN_INLIER_RATIO = 0.3  # of the ratio-test matches
GRID = 4
MIN_CELLS = 4  # of GRID x GRID cells holding an inlier, in each picture
# "Same picture": the aligned pictures overlap on nearly all of the smaller one.
SAME_OVERLAP = 0.85
MAX_PERSPECTIVE = 2e-3  # |h31|, |h32| at SIDE: beyond this the camera turned (a new view)
# Aligned-pixel comparison (0..255 grey after the tone match and the blur).
BLUR_SIGMA = 2.0
CHANGED_LEVEL = 24.0
OPENING = 5  # px at SIDE: strokes thinner than this are edits (text, a watermark)
MOMENT_CHANGED = 0.02  # share of the overlap that changed: at or above, another moment
VERDICTS = ("same", "moment", "scene", "different", "unknown")


@dataclass(frozen=True)
class SceneFeatures:
    """What one picture brings to a comparison (computed once per picture)."""

    grey: np.ndarray  # uint8, long side SIDE
    points: np.ndarray  # float32 (n, 2)
    descriptors: np.ndarray | None  # float32 (n, 128) SIFT


@dataclass(frozen=True)
class SceneMatch:
    """The outcome of comparing picture ``a`` with picture ``b``."""

    verdict: str  # one of VERDICTS
    inliers: int = 0  # keypoints the fitted model agrees on
    model: str = ""  # "homography" | "fundamental" | ""
    cells: int = 0  # grid cells covered by inliers (the smaller of the two pictures)
    overlap: float = 0.0  # share of the smaller picture the homography maps inside the other
    changed: float = 0.0  # share of the overlap whose aligned pixels differ (homography only)

    @property
    def region_changed(self) -> bool:
        """Aligned, and a region differs: another moment (whatever the framing)."""
        return self.model == "homography" and self.changed >= MOMENT_CHANGED

    def describe(self) -> str:
        """A short reason for reports and sidecars, e.g. '212 inliers, 3.1 % changed'."""
        if self.verdict in ("different", "unknown") or not self.model:
            return f"{self.verdict}: {self.inliers} inliers"
        text = f"{self.inliers} inliers ({self.model})"
        return text + (f", {self.changed * 100:.1f} % changed" if self.model == "homography" else "")


def thumbnail(grey: np.ndarray) -> np.ndarray:
    h, w = grey.shape[:2]
    scale = SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def scene_features(grey: np.ndarray) -> SceneFeatures:
    thumb = thumbnail(np.ascontiguousarray(grey, dtype=np.uint8))
    sift = cv2.SIFT_create()
    # OpenCV's threads hand keypoints back in whatever order they finish, and RANSAC's
    # result depends on that order: sort them (strongest first) so a verdict never changes
    # with the machine's load, then keep the strongest N_FEATURES.
    found = sorted(sift.detect(thumb, None), key=lambda k: (-k.response, k.pt[1], k.pt[0], k.size, k.angle))
    found, descriptors = sift.compute(thumb, found[:N_FEATURES])
    points = np.float32([k.pt for k in found]) if found else np.zeros((0, 2), np.float32)
    return SceneFeatures(thumb, points, descriptors)


def mirrored(features: SceneFeatures) -> SceneFeatures:
    """The features of the left-right mirror of the picture (computed afresh: SIFT is not mirror-invariant)."""
    return scene_features(np.ascontiguousarray(features.grey[:, ::-1]))


def _cells(points: np.ndarray, shape: tuple[int, ...]) -> int:
    h, w = shape[:2]
    cols = np.clip((points[:, 0] * GRID / w).astype(int), 0, GRID - 1)
    rows = np.clip((points[:, 1] * GRID / h).astype(int), 0, GRID - 1)
    return len(set(zip(cols.tolist(), rows.tolist())))


def _tone_matched(source: np.ndarray, target: np.ndarray, levels: int = 65) -> np.ndarray:
    """``source`` mapped through the monotone curve that gives it ``target``'s histogram.

    A tone edit (brightness, contrast, gamma, clipping) is a monotone curve, which
    histogram matching undoes exactly; a region that changed moves only a small
    part of the histogram, so it still stands out afterwards.
    """
    shares = np.linspace(0, 100, levels)
    ramp = np.arange(levels) * 1e-6  # strictly increasing knots for np.interp, even on flat stretches
    # Percentiles of a sorted copy: the same values, in about half the time of selecting them in place.
    knots = np.maximum.accumulate(np.percentile(np.sort(source), shares)) + ramp
    return np.interp(source, knots, np.percentile(np.sort(target), shares))


def changed_share(a: np.ndarray, b: np.ndarray, homography: np.ndarray) -> tuple[float, float]:
    """(share of ``b``'s overlap with warped ``a`` that differs after tone matching, overlap share of the smaller)."""
    h, w = b.shape[:2]
    warped = cv2.warpPerspective(a.astype(np.float32), homography, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones_like(a, np.uint8), homography, (w, h), flags=cv2.INTER_NEAREST)
    keep = cv2.erode(mask, np.ones((9, 9), np.uint8)) > 0
    overlap = float(keep.sum()) / min(a.size, b.size)
    if keep.sum() < 500:
        return 1.0, overlap
    sa = cv2.GaussianBlur(warped, (0, 0), BLUR_SIGMA)[keep]
    sb = cv2.GaussianBlur(b.astype(np.float32), (0, 0), BLUR_SIGMA)[keep]
    diff = np.zeros((h, w), np.uint8)
    diff[keep] = np.abs(sb - _tone_matched(sa, sb)) >= CHANGED_LEVEL
    diff = cv2.morphologyEx(diff, cv2.MORPH_OPEN, np.ones((OPENING, OPENING), np.uint8))
    return float(diff.sum()) / float(keep.sum()), overlap


def _orientation_kept(homography: np.ndarray) -> bool:
    return float(np.linalg.det(homography[:2, :2])) > 0


def match_scene(a: SceneFeatures, b: SceneFeatures) -> SceneMatch:
    """Compare two pictures (see the module docstring for the verdicts)."""
    if a.descriptors is None or b.descriptors is None or min(len(a.points), len(b.points)) < MIN_KEYPOINTS:
        return SceneMatch("unknown")
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(a.descriptors, b.descriptors, k=2)
    good = [m[0] for m in pairs if len(m) == 2 and m[0].distance < RATIO * m[1].distance]
    if len(good) < MIN_MATCHES:
        return SceneMatch("different", len(good))
    src = a.points[[m.queryIdx for m in good]]
    dst = b.points[[m.trainIdx for m in good]]
    homography, mask = cv2.findHomography(src, dst, cv2.RANSAC, RANSAC_PIXELS, maxIters=2000, confidence=0.995)
    h_inliers = int(mask.sum()) if mask is not None else 0
    if homography is not None and h_inliers >= max(MIN_INLIERS, MIN_INLIER_RATIO * len(good)) and _orientation_kept(homography):
        keep = mask.ravel() > 0
        cells = min(_cells(src[keep], a.grey.shape), _cells(dst[keep], b.grey.shape))
        if cells >= MIN_CELLS:
            changed, overlap = changed_share(a.grey, b.grey, homography)
            flat = max(abs(homography[2, 0]), abs(homography[2, 1])) / max(abs(homography[2, 2]), 1e-9) <= MAX_PERSPECTIVE
            if overlap >= SAME_OVERLAP and flat and changed < MOMENT_CHANGED:
                verdict = "same"
            elif overlap >= SAME_OVERLAP and flat:
                verdict = "moment"
            else:
                verdict = "scene"
            return SceneMatch(verdict, h_inliers, "homography", cells, overlap, changed)
    if len(good) >= MIN_EPIPOLAR_INLIERS:
        fundamental, fmask = cv2.findFundamentalMat(src, dst, cv2.FM_RANSAC, EPIPOLAR_PIXELS, 0.995)
        f_inliers = int(fmask.sum()) if fundamental is not None and fmask is not None else 0
        if f_inliers >= max(MIN_EPIPOLAR_INLIERS, MIN_INLIER_RATIO * len(good)):
            keep = fmask.ravel() > 0
            cells = min(_cells(src[keep], a.grey.shape), _cells(dst[keep], b.grey.shape))
            if cells >= MIN_CELLS:
                return SceneMatch("scene", f_inliers, "fundamental", cells)
    return SceneMatch("different", h_inliers)
