"""The texture signature on real photos: unmoved by tone edits and viewpoint, apart for other pictures."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from xmpcull.analyse.texture import BINS, SCALE, texture_histogram, texture_vectors
from xmpcull.group.texture_search import texture_pairs

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _grey(name: str) -> np.ndarray:
    with Image.open(FIXTURES / name) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("L"))


def _coefficient(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    va, vb = texture_vectors([a, b])
    return float(va @ vb)


def _tilted(grey: np.ndarray) -> np.ndarray:
    """The picture seen from the side: a strong perspective, as a camera a few steps away would see it."""
    h, w = grey.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[0.12 * w, 0.08 * h], [w, 0], [w, h], [0.12 * w, 0.9 * h]])
    return cv2.warpPerspective(grey, cv2.getPerspectiveTransform(src, dst), (w, h), borderMode=cv2.BORDER_REFLECT)


def test_shares_cover_every_pattern_once() -> None:
    signature = texture_histogram(_grey("photos/mongolels.jpg"))
    assert len(signature) == BINS == 59
    assert abs(sum(signature) - SCALE) <= BINS  # shares, rounded one by one


def test_a_tone_edit_leaves_the_signature_where_another_photo_is_far() -> None:
    grey = _grey("photos/mongolels.jpg")
    darker = np.clip(((grey / 255.0) ** 1.6) * 200, 0, 255).astype(np.uint8)  # gamma and a darker exposure
    original, edited = texture_histogram(grey), texture_histogram(darker)
    other = texture_histogram(_grey("photos/portrait.jpg"))
    assert _coefficient(original, edited) > _coefficient(original, other)
    assert _coefficient(original, edited) >= 0.99


def test_another_viewpoint_is_each_others_nearest_among_other_photos() -> None:
    names = ["photos/mongolels.jpg", "photos/portrait.jpg", "photos/astronaut.png", "photos/nikon-e2100.jpg",
             "photos/codingsprint2009-02.jpg", "photos/T-45A_Goshawk_03_1600px.jpg", "photos/hubble_deep_field.jpg"]
    greys = [_grey(n) for n in names]
    signatures = [texture_histogram(g) for g in greys] + [texture_histogram(_tilted(greys[0]))]
    pairs = texture_pairs(signatures, nearest=1)
    assert (0, len(names)) in pairs


def test_pictures_without_a_signature_propose_nothing_and_ties_go_by_index() -> None:
    flat = texture_histogram(np.full((40, 60), 128, np.uint8))  # every pattern "all brighter or equal"
    assert texture_histogram(np.zeros((2, 2), np.uint8)) == ()
    assert texture_pairs([flat, (), flat, flat], nearest=1) == {(0, 2): pytest.approx(1.0), (0, 3): pytest.approx(1.0)}
    assert texture_pairs([flat, ()]) == {}
