"""Faces and eyes in the analysis image: BlazeFace, then the iris model on each eye.

Runs on the grey analysis decode (long side 512 px; grey copied to three
channels, which the models take well), so a run still decodes each image once.
An image without faces costs one detector pass (a 192 px input). For each face
we keep what the decisions need: the box, the detector's score, the size, a
frontal flag, each eye's opening and state, and the face's sharpness.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from xmpcull.analyse.faces import blazeface, eyes
from xmpcull.analyse.faces.models import Runtime, run
from xmpcull.analyse.faces.sharpness import face_variance
from xmpcull.models import Face

DETECTOR = "face_detection_full_range"
DETECTOR_SPEC = blazeface.FULL_RANGE
MIN_SCORE = 0.5  # MediaPipe's default for this model
# Set on the dev set (bench/faces_bench.py): face-free photos there score at most 0.13, so images
# without faces rarely pay for a second look; 4 box sizes gave the detector enough context.
CANDIDATE_SCORE = 0.2
RECHECK_CROP = 4.0  # side of the closer look's square, in candidate box sizes
# Small faces: 2 x 2 tiles overlapping by a quarter see the image 1.75x closer (4 more passes).
TILES = 2
TILE_OVERLAP = 0.25
# A doubtful detection a tile's face explains gets no closer look when that face is narrower than this:
# nearer the judging width the closer look's sharper box decides whether the eyes are judged (dev set).
SKIP_LOOK_BELOW = 32
IRIS_INPUT = 64
EYE_CROP_PER_EYE_DISTANCE = 1.1  # crop side / distance between the eyes: MediaPipe's 2.3x the eye width
MIN_JUDGE_FACE_PX = 40  # face box narrower than this (analysis pixels): eyes not judged


def _square(image: np.ndarray, size: int) -> tuple[np.ndarray, float, float, float]:
    """Letterbox a grey or RGB image to ``size`` square in [-1, 1], three channels (a grey image
    is copied into all three after resizing); returns the input and how to map back (scale, pad x, pad y)."""
    h, w = image.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    # Area averaging: a linear resize here, though 8x cheaper, lost 3 of 28 faces on the dev set.
    small = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA).astype(np.float32)
    small *= 1 / 127.5
    small -= 1.0
    canvas = np.zeros((size, size, 3), np.float32)
    px, py = (size - nw) // 2, (size - nh) // 2
    canvas[py : py + nh, px : px + nw] = small[..., None] if small.ndim == 2 else small
    return canvas, scale, px, py


def _pass(
    image: np.ndarray, runtime: Runtime | None, doubtful_from: float | None = None
) -> tuple[list[blazeface.Detection], list[blazeface.Detection]]:
    """One detector pass over the whole of ``image``, in its pixels: the faces (MIN_SCORE or more,
    suppressed among themselves as MediaPipe does) and, when ``doubtful_from`` is given, the doubtful
    detections scoring from it up to MIN_SCORE that overlap none of those faces, best first."""
    size = DETECTOR_SPEC.input_size
    tensor, scale, px, py = _square(image, size)
    outs = run(DETECTOR, tensor[None], runtime)
    scores, regressors = sorted(outs, key=lambda o: o.shape[-1])
    found = blazeface.decode(scores, regressors, DETECTOR_SPEC, MIN_SCORE if doubtful_from is None else doubtful_from)
    sure = blazeface.suppress([d for d in found if d.score >= MIN_SCORE])
    doubtful = blazeface.suppress(
        [d for d in found if d.score < MIN_SCORE and all(blazeface.iou(d.box, f.box) <= blazeface.OVERLAP for f in sure)]
    )

    def back(d: blazeface.Detection) -> blazeface.Detection:
        def point(x: float, y: float) -> tuple[float, float]:
            return (x * size - px) / scale, (y * size - py) / scale

        (x0, y0), (x1, y1) = point(d.box[0], d.box[1]), point(d.box[2], d.box[3])
        return blazeface.Detection(d.score, (x0, y0, x1, y1), tuple(point(x, y) for x, y in d.keypoints))

    return [back(d) for d in sure], [back(d) for d in doubtful]


def _closer_look(image: np.ndarray, candidate: blazeface.Detection, runtime: Runtime | None) -> blazeface.Detection | None:
    """The face a second pass finds on a square around a doubtful detection, enlarged to the model's
    input, when it is the same face (boxes overlapping as suppression counts one face); None otherwise,
    or when the square would be no smaller than the image (the first pass already saw it so)."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = candidate.box
    side = RECHECK_CROP * max(x1 - x0, y1 - y0)
    if side >= max(h, w):
        return None
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = int(max(0.0, cx - side / 2)), int(max(0.0, cy - side / 2))
    crop = image[top : int(min(h, cy + side / 2)), left : int(min(w, cx + side / 2))]
    for d in _pass(crop, runtime)[0]:  # best first
        found = _shifted(d, left, top)
        # A much smaller box inside the candidate is texture blown up, not the face it hinted at.
        if blazeface.iou(found.box, candidate.box) > blazeface.OVERLAP:
            return found
    return None


def _shifted(d: blazeface.Detection, left: int, top: int) -> blazeface.Detection:
    """A detection made on the part of an image starting at (left, top), in the whole image's pixels."""
    box = (d.box[0] + left, d.box[1] + top, d.box[2] + left, d.box[3] + top)
    return blazeface.Detection(d.score, box, tuple((x + left, y + top) for x, y in d.keypoints))


def _tiles(h: int, w: int) -> list[tuple[int, int, int]]:
    """(left, top, side) of TILES x TILES overlapping squares covering an image."""
    side = min(h, w, int(max(h, w) / (TILES - (TILES - 1) * TILE_OVERLAP)))
    lefts = sorted({round(v) for v in np.linspace(0, w - side, TILES)})
    tops = sorted({round(v) for v in np.linspace(0, h - side, TILES)})
    return [(left, top, side) for top in tops for left in lefts]


def _centre_inside(box: tuple[float, float, float, float], other: tuple[float, float, float, float]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return other[0] <= cx <= other[2] and other[1] <= cy <= other[3]


def _covers(face: blazeface.Detection, other: blazeface.Detection) -> bool:
    """Whether ``face`` is (or holds) what ``other`` shows: boxes overlapping as suppression counts
    one face, or ``other``'s centre inside ``face``'s box (a part of it)."""
    return blazeface.iou(face.box, other.box) > blazeface.OVERLAP or _centre_inside(other.box, face.box)


def detect(image: np.ndarray, runtime: Runtime | None = None) -> list[blazeface.Detection]:
    """Faces in a grey or RGB image, in its pixels (box and keypoints), best first.

    The whole image is seen at 192 px, where a small or turned face may score under MIN_SCORE.
    When anything the first pass saw is narrower than MIN_JUDGE_FACE_PX (people far away, a
    group at the back), the image is searched again in overlapping tiles, each seen at 192 px.
    Then each doubtful detection (at least CANDIDATE_SCORE) that no tile's face explains gets a
    closer look, and counts when the detector, seeing that region enlarged, scores it
    MIN_SCORE or more: tiles first, because in a group they find most of the faces the doubtful
    detections hint at, one pass each saved. Images without anything face-like (no detection
    over CANDIDATE_SCORE) cost the one pass."""
    sure, doubtful = _pass(image, runtime, CANDIDATE_SCORE)
    tiled: list[blazeface.Detection] = []
    if any(d.box[2] - d.box[0] < MIN_JUDGE_FACE_PX for d in sure + doubtful):
        h, w = image.shape[:2]
        for left, top, side in _tiles(h, w):
            for d in _pass(image[top : top + side, left : left + side], runtime)[0]:
                found = _shifted(d, left, top)
                # A tile's edge may cut a face the whole-image pass found: its part is not a new face.
                if not any(_covers(f, found) for f in sure):
                    sure.append(found)
                    tiled.append(found)
    for candidate in doubtful:
        if any(_covers(f, candidate) and f.box[2] - f.box[0] < SKIP_LOOK_BELOW for f in tiled):
            continue  # a tile found the face it hints at, too small to judge: no closer look needed
        again = _closer_look(image, candidate, runtime)
        if again is None:
            continue
        # The closer look saw the face larger than a tile did: its box and keypoints replace the tile's.
        sure = [f for f in sure if not any(f is t for t in tiled) or not _covers(again, f)]
        if all(blazeface.iou(again.box, d.box) <= blazeface.OVERLAP for d in sure):
            sure.append(again)
    return sorted(sure, key=lambda d: -d.score)


def _eye_crop(image: np.ndarray, centre: tuple[float, float], side: float, angle: float, flip: bool) -> np.ndarray:
    """A square around the eye, rotated level, IRIS_INPUT px, in the image's own pixel type."""
    scale = IRIS_INPUT / side
    m = cv2.getRotationMatrix2D(centre, math.degrees(angle), scale)
    m[:, 2] += np.array([IRIS_INPUT / 2, IRIS_INPUT / 2]) - np.array(centre)
    crop = cv2.warpAffine(image, m, (IRIS_INPUT, IRIS_INPUT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return crop[:, ::-1] if flip else crop


def eye_openings(
    image: np.ndarray, keypoints: tuple[tuple[float, float], ...], runtime: Runtime | None = None
) -> tuple[float, float]:
    """(right, left) eye opening; MediaPipe's iris model is for a left eye, so the right crop is mirrored.
    Both eyes go to the model as one batch of two (one call instead of two)."""
    (rx, ry), (lx, ly) = keypoints[0], keypoints[1]
    angle = math.atan2(ly - ry, lx - rx)
    side = EYE_CROP_PER_EYE_DISTANCE * math.hypot(lx - rx, ly - ry)
    crops = np.stack([_eye_crop(image, (rx, ry), side, angle, True), _eye_crop(image, (lx, ly), side, angle, False)])
    batch = crops.astype(np.float32) * (1 / 255)
    if batch.ndim == 3:  # grey: the same values in all three channels
        batch = np.repeat(batch[..., None], 3, axis=3)
    # Two outputs: 71 eye-contour points and 5 iris points (x, y, z each); the contour is the larger.
    contours = max(run("iris_landmark", batch, runtime), key=np.size).reshape(2, -1, 3)
    return eyes.eye_opening(contours[0]), eyes.eye_opening(contours[1])


def find_faces(grey: np.ndarray, runtime: Runtime | None = None) -> tuple[Face, ...]:
    """Every face in a grey image, with eye states where the face can be judged."""
    h, w = grey.shape[:2]
    flat = grey if grey.ndim == 2 else cv2.cvtColor(grey, cv2.COLOR_RGB2GRAY)
    faces = []
    for d in detect(grey, runtime):
        pose = eyes.pose_of(d.keypoints)
        width = d.box[2] - d.box[0]
        judged = pose.frontal and width >= MIN_JUDGE_FACE_PX
        openings = eye_openings(grey, d.keypoints, runtime) if judged else None
        faces.append(
            Face(
                box=(d.box[0] / w, d.box[1] / h, d.box[2] / w, d.box[3] / h),
                score=d.score,
                keypoints=tuple((x / w, y / h) for x, y in d.keypoints),
                frontal=pose.frontal,
                openings=openings,
                eyes=None if openings is None else (eyes.eye_state(openings[0]), eyes.eye_state(openings[1])),
                variance=face_variance(flat, d.box),
            )
        )
    return tuple(faces)
