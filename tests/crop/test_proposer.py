"""Crop proposals on real photos: faces are never cut, crops stay inside, confidence means something."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from xmpcull.crop.cues import Cues, compute_cues, estimate_subject
from xmpcull.crop.geometry import Box, aspect_error_px, crs_to_display_box, parse_aspect
from xmpcull.crop.io import load_analysis_rgb
from xmpcull.crop.preview import write_preview
from xmpcull.crop.proposer import proposals_to_crs, propose_crops

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# The astronaut's head in photos/astronaut.png (512x512), hair to chin, set by looking at it.
ASTRONAUT_HEAD = Box(150, 20, 300, 190)


def _astronaut_head() -> np.ndarray:
    with Image.open(FIXTURES / "photos" / "astronaut.png") as img:
        return np.asarray(img.convert("RGB"))[ASTRONAUT_HEAD.y0 : ASTRONAUT_HEAD.y1, ASTRONAUT_HEAD.x0 : ASTRONAUT_HEAD.x1]


def _background(name: str) -> np.ndarray:
    rgb, _ = load_analysis_rgb(FIXTURES / name)
    return rgb.copy()


def _paste(background: np.ndarray, patch: np.ndarray, x: int, y: int) -> tuple[np.ndarray, Box]:
    out = background.copy()
    out[y : y + patch.shape[0], x : x + patch.shape[1]] = patch
    return out, Box(x, y, x + patch.shape[1], y + patch.shape[0])


HEAD = _astronaut_head()
DUNES = _background("photos/mongolels.jpg")  # 512x342


def _placements() -> list[tuple[str, int, int]]:
    bh, bw = DUNES.shape[:2]
    ph, pw = HEAD.shape[:2]
    return [
        ("left", 0, (bh - ph) // 2),
        ("right", bw - pw, (bh - ph) // 2),
        ("top-right", bw - pw - 10, 0),
        ("bottom-left", 5, bh - ph),
    ]


@pytest.mark.parametrize("aspect", ["4:5", "16:9"])
@pytest.mark.parametrize("where, x, y", _placements())
def test_pasted_face_is_kept_whole(aspect: str, where: str, x: int, y: int) -> None:
    rgb, face = _paste(DUNES, HEAD, x, y)
    (p,) = propose_crops(rgb, [aspect])
    assert p.box.inside(rgb.shape[1], rgb.shape[0])
    # The head patch is 150x170 and fits every window here, so it must be whole.
    assert p.box.contains(face), (where, p.box, face)
    assert p.faces_whole


def test_real_portrait_faces_stay_whole() -> None:
    rgb, _ = load_analysis_rgb(FIXTURES / "photos" / "astronaut.png")
    for p in propose_crops(rgb, ["4:5", "16:9", "1:1", "3:2"]):
        assert p.faces_whole, p
        assert p.box.contains(Box(165, 40, 285, 175)), p  # the face itself, well inside the head


def test_no_subject_gives_low_confidence() -> None:
    rgb, _ = load_analysis_rgb(FIXTURES / "photos" / "hubble_deep_field.jpg")
    for p in propose_crops(rgb, ["4:5", "16:9"]):
        assert p.confidence < 0.5, p


def test_clear_subject_on_plain_background_beats_no_subject() -> None:
    plain = np.full_like(DUNES, (200, 190, 170))
    rgb, face = _paste(plain, HEAD, 330, 80)
    (clear,) = propose_crops(rgb, ["4:5"])
    (vague,) = propose_crops(_background("photos/hubble_deep_field.jpg"), ["4:5"])
    assert clear.box.contains(face)
    assert clear.confidence >= 0.8 > vague.confidence


def test_aspect_matching_the_image_is_the_whole_frame() -> None:
    rgb = _background("photos/T-45A_Goshawk_03_1600px.jpg")  # 512x383, about 4:3
    (p,) = propose_crops(rgb, ["4:3"])
    assert p.box.width >= rgb.shape[1] - 1 and p.box.height >= rgb.shape[0] - 1


@settings(max_examples=15, deadline=None)
@given(
    w=st.integers(24, 300),
    h=st.integers(24, 300),
    seed=st.integers(0, 2**16),
    aspect=st.sampled_from(["4:5", "16:9", "1:1", "3:2", "5:4"]),
)
def test_crop_inside_image_with_exact_aspect(w: int, h: int, seed: int, aspect: str) -> None:
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    (p,) = propose_crops(rgb, [aspect])
    assert p.box.inside(w, h) and p.box.area > 0
    assert 0.0 <= p.confidence <= 1.0
    assert aspect_error_px(p.box.width, p.box.height, parse_aspect(aspect)) <= 1.0
    full = p.to_display(w * 7, h * 7)
    assert full.inside(w * 7, h * 7)
    assert aspect_error_px(full.width, full.height, parse_aspect(aspect)) <= 1.0


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_proposals_to_crs_round_trip(orientation: int) -> None:
    rgb, (dw, dh) = load_analysis_rgb(FIXTURES / "photos" / "nikon-e2100.jpg")  # displays 1200x1600
    assert (dw, dh) == (1200, 1600)
    proposals = propose_crops(rgb, ["4:5", "16:9"])
    for p, edges in zip(proposals, proposals_to_crs(proposals, dw, dh, orientation)):
        assert 0 <= edges.left < edges.right <= 1 and 0 <= edges.top < edges.bottom <= 1
        assert crs_to_display_box(edges, dw, dh, orientation) == p.to_display(dw, dh)


def test_write_preview(tmp_path: Path) -> None:
    rgb, _ = load_analysis_rgb(FIXTURES / "photos" / "portrait.jpg")
    out = write_preview(rgb, propose_crops(rgb, ["4:5", "16:9"]), tmp_path / "sub" / "p.jpg")
    with Image.open(out) as img:
        assert img.format == "JPEG" and max(img.size) == 640
        drawn = np.asarray(img.convert("RGB")).astype(int)
    # The source is black and white; the coloured outlines must be there.
    assert np.max(np.abs(drawn[..., 0] - drawn[..., 2])) > 100


# --- The main subject (issue #7): kept whole where it fits, cut evenly where it cannot. ---

JET = _background("photos/T-45A_Goshawk_03_1600px.jpg")  # 512x383; the jet spans most of the width


def _plain_with(patch: np.ndarray, size: tuple[int, int], x: int, y: int) -> tuple[np.ndarray, Box]:
    plain = np.full((size[1], size[0], 3), (205, 198, 186), np.uint8)
    return _paste(plain, patch, x, y)


def test_subject_estimate_covers_a_pasted_subject() -> None:
    rgb, box = _plain_with(HEAD, (512, 342), 300, 120)
    cues = compute_cues(rgb, detect=False)  # the estimate alone, not the face detector
    assert cues.subject is not None
    assert cues.subject.extent.contains(box) or box.intersection(cues.subject.extent) >= 0.95 * box.area
    assert cues.subject.certainty > 0.5


@pytest.mark.parametrize("x", [40, 180, 330])
def test_tall_subject_whole_in_a_16_9_crop_of_a_3_2_frame(x: int) -> None:
    # A head-and-shoulders patch 250 px tall in a 342 px frame: the 16:9 window (288 px) holds it.
    tall = np.asarray(Image.fromarray(HEAD).resize((150, 250)))
    rgb, box = _paste(DUNES, tall, x, 50)
    (p,) = propose_crops(rgb, ["16:9"])
    assert p.box.contains(box), (p.box, box)


def test_subject_wider_than_the_window_is_cut_evenly() -> None:
    # A 400 px wide jet strip on a plain 512x342 frame: no 4:5 window (273 px) holds it.
    strip = JET[150:260, 40:440]
    rgb, box = _plain_with(strip, (512, 342), 56, 116)
    (p,) = propose_crops(rgb, ["4:5"])
    cut_left, cut_right = p.box.x0 - box.x0, box.x1 - p.box.x1
    assert cut_left > 0 and cut_right > 0  # both ends lose something, not one end everything
    assert abs(cut_left - cut_right) < 0.25 * (cut_left + cut_right), (cut_left, cut_right)
    assert p.subject_whole is False and p.confidence < 0.5


def test_confidence_lower_when_the_subject_cannot_fit_than_when_it_is_whole() -> None:
    small = np.asarray(Image.fromarray(JET[150:260, 40:440]).resize((200, 55)))
    fits_rgb, fits_box = _plain_with(small, (512, 342), 156, 140)
    wide_rgb, _ = _plain_with(JET[150:260, 40:440], (512, 342), 56, 116)
    (whole,) = propose_crops(fits_rgb, ["4:5"])
    (cut,) = propose_crops(wide_rgb, ["4:5"])
    assert whole.box.contains(fits_box)
    assert whole.confidence > cut.confidence + 0.2, (whole.confidence, cut.confidence)


def test_a_rival_blob_lowers_certainty() -> None:
    one, _ = _plain_with(HEAD, (512, 342), 40, 100)
    two, _ = _paste(one, HEAD, 320, 100)
    s_one = compute_cues(one, detect=False).subject
    s_two = compute_cues(two, detect=False).subject
    assert s_one is not None and s_two is not None
    assert s_two.certainty < s_one.certainty


def test_subject_taller_than_the_window_keeps_its_top() -> None:
    # A head-and-shoulders patch 330 px tall in a 342 px frame: the 16:9 window (288 px) cannot
    # hold it; a photographer keeps the head and cuts the bottom, not the middle of both.
    tall = np.asarray(Image.fromarray(HEAD).resize((150, 330)))
    rgb, box = _plain_with(tall, (512, 342), 180, 6)
    # The subject rule alone: the face rule would (rightly) keep the detected face's box whole.
    (p,) = propose_crops(rgb, ["16:9"], cues=compute_cues(rgb, detect=False))
    assert p.box.y0 <= box.y0, (p.box, box)
    assert p.box.y1 < box.y1  # the cut falls at the bottom
    assert p.confidence < 0.5


def test_a_face_too_big_for_the_window_is_kept_not_avoided() -> None:
    # Portrait frame, face box taller than every 16:9 window: the old rule "fewest faces
    # cut" chose windows that left the face out entirely. The window must hold its top part.
    rgb = np.full((512, 400, 3), 128, np.uint8)
    importance = np.full((512, 400), 1.0, np.float32)
    importance[380:470, 100:300] = 40.0  # a bright detail low in the frame (medals, a name tag)
    importance /= importance.sum()
    face = Box(100, 20, 300, 300)  # 280 px tall; a 16:9 window of this frame is 225 px
    zeros = np.zeros_like(importance)
    cues = Cues(saliency=zeros, edges=zeros, skin=zeros, faces=(face,), importance=importance,
                subject=estimate_subject(importance, [face]))
    (p,) = propose_crops(rgb, ["16:9"], cues=cues)
    assert p.box.y0 <= face.y0 + 5, p.box
