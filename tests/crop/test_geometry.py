"""Crop geometry: aspect windows, and displayed box <-> Camera Raw edges for all 8 orientations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from xmpcull.crop.geometry import (
    ORIENTATIONS,
    Aspect,
    Box,
    aspect_error_px,
    crs_to_display_box,
    crs_to_display_fractions,
    display_box_to_crs,
    display_fractions_to_crs,
    display_size,
    parse_aspect,
    stored_pixel_box,
    window_for_scale,
)
from xmpcull.errors import ConfigError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# How Pillow's exif_transpose turns the stored frame into the displayed one; the
# test below checks this mapping against exif_transpose on the real files.
PIL_TRANSPOSE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orient(img: Image.Image, orientation: int) -> Image.Image:
    method = PIL_TRANSPOSE[orientation]
    return img if method is None else img.transpose(method)


@pytest.mark.parametrize("text, expected", [("4:5", (4, 5)), ("16:9", (16, 9)), ("1:1", (1, 1)), ("3:2", (3, 2)), ("5:4", (5, 4)), ("4x5", (4, 5))])
def test_parse_aspect(text: str, expected: tuple[int, int]) -> None:
    a = parse_aspect(text)
    assert (a.w, a.h) == expected
    assert str(a) == f"{expected[0]}:{expected[1]}"


@pytest.mark.parametrize("bad", ["", "4", "4:0", "0:5", "a:b", "4:5:6", "-4:5"])
def test_parse_aspect_rejects(bad: str) -> None:
    with pytest.raises(ConfigError):
        parse_aspect(bad)


aspects = st.sampled_from(["4:5", "16:9", "1:1", "3:2", "5:4", "2:3", "9:16"]).map(parse_aspect)


@given(aspect=aspects, w=st.integers(16, 8000), h=st.integers(16, 8000), scale=st.floats(0.3, 1.0))
def test_window_has_aspect_and_fits(aspect: Aspect, w: int, h: int, scale: float) -> None:
    ww, wh = window_for_scale(aspect, w, h, scale)
    assert 1 <= ww <= w and 1 <= wh <= h
    if wh * aspect.ratio >= 1:
        assert aspect_error_px(ww, wh, aspect) <= 1.0


@given(aspect=aspects, w=st.integers(16, 8000), h=st.integers(16, 8000))
def test_largest_window_touches_two_sides(aspect: Aspect, w: int, h: int) -> None:
    ww, wh = window_for_scale(aspect, w, h)
    # The largest window spans the full width or full height (within a pixel of rounding).
    assert ww >= w - 1 or wh >= h - 1


def test_largest_window_examples() -> None:
    assert window_for_scale(parse_aspect("4:5"), 512, 384) == (307, 384)
    assert window_for_scale(parse_aspect("16:9"), 512, 384) == (512, 288)
    assert window_for_scale(parse_aspect("1:1"), 384, 512) == (384, 384)


def test_facts_sheet_worked_example() -> None:
    # Stored 6000x4000, orientation 6, displayed 4000x6000 (facts sheet section 8).
    edges = display_box_to_crs(Box(400, 1200, 3600, 4800), 4000, 6000, 6)
    assert (edges.left, edges.top, edges.right, edges.bottom) == pytest.approx((0.2, 0.1, 0.8, 0.9))
    assert edges.angle == 0.0
    assert stored_pixel_box(edges, 6000, 4000) == Box(1200, 400, 4800, 3600)


fractions = st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)).map(
    lambda v: (min(v[0], v[2]), min(v[1], v[3]), max(v[0], v[2]), max(v[1], v[3]))
)


@given(f=fractions, orientation=st.sampled_from(ORIENTATIONS))
def test_crs_inverse_is_exact(f: tuple[float, float, float, float], orientation: int) -> None:
    edges = display_fractions_to_crs(*f, orientation)
    assert edges.left <= edges.right and edges.top <= edges.bottom
    assert crs_to_display_fractions(edges, orientation) == pytest.approx(f, abs=1e-12)


@given(orientation=st.sampled_from(ORIENTATIONS), x=st.integers(-50, 700), y=st.integers(-50, 700), w=st.integers(0, 900), h=st.integers(0, 900))
def test_crs_edges_always_inside_unit_square(orientation: int, x: int, y: int, w: int, h: int) -> None:
    edges = display_box_to_crs(Box(x, y, x + w, y + h), 600, 450, orientation)
    for v in (edges.left, edges.top, edges.right, edges.bottom):
        assert 0.0 <= v <= 1.0
    assert crs_to_display_box(edges, 600, 450, orientation).inside(600, 450)


def test_display_size_swaps_for_5_to_8() -> None:
    assert [display_size(600, 450, o) for o in ORIENTATIONS] == [(600, 450)] * 4 + [(450, 600)] * 4


def test_bad_orientation() -> None:
    with pytest.raises(ValueError):
        display_box_to_crs(Box(0, 0, 1, 1), 10, 10, 9)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_pillow_transpose_table_matches_exif_transpose(orientation: int) -> None:
    with Image.open(FIXTURES / "orientation" / f"Landscape_{orientation}.jpg") as img:
        img.load()
        shown = ImageOps.exif_transpose(img)
        assert np.array_equal(np.asarray(_orient(img, orientation)), np.asarray(shown))


# Decode every orientation fixture once: the stored pixels and what a viewer displays.
_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _stored_and_displayed(orientation: int) -> tuple[Image.Image, np.ndarray]:
    if orientation not in _CACHE:
        with Image.open(FIXTURES / "orientation" / f"Landscape_{orientation}.jpg") as img:
            img.load()
            _CACHE[orientation] = (np.asarray(img.convert("RGB")), np.asarray(ImageOps.exif_transpose(img).convert("RGB")))
    return _CACHE[orientation]


@settings(max_examples=40, deadline=None)
@given(
    orientation=st.sampled_from(ORIENTATIONS),
    x0=st.integers(0, 599), y0=st.integers(0, 449), w=st.integers(1, 600), h=st.integers(1, 450),
)
def test_round_trip_through_real_stored_pixels(orientation: int, x0: int, y0: int, w: int, h: int) -> None:
    """Displayed box -> crs -> cut the stored pixels -> orient the cut == the displayed region."""
    stored, displayed = _stored_and_displayed(orientation)
    dh, dw = displayed.shape[:2]
    assert (dw, dh) == (600, 450)  # every Landscape_N displays as the same 600x450 picture
    box = Box(x0, y0, min(dw, x0 + w), min(dh, y0 + h))
    edges = display_box_to_crs(box, dw, dh, orientation)
    sh, sw = stored.shape[:2]
    cut = stored_pixel_box(edges, sw, sh)
    region = np.asarray(_orient(Image.fromarray(stored[cut.y0:cut.y1, cut.x0:cut.x1]), orientation))
    assert np.array_equal(region, displayed[box.y0:box.y1, box.x0:box.x1])
    assert crs_to_display_box(edges, dw, dh, orientation) == box
