"""Crop geometry: boxes, aspect ratios, and the displayed-pixels <-> Camera Raw mapping.

Camera Raw stores a crop as fractions of the *stored* (un-oriented) frame, while
people and our proposer think in the *displayed* frame. The mapping for the eight
EXIF orientations is the table in docs/crops.md (from the facts sheet, section 8);
it is pure arithmetic here so it can be property-tested without files.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from xmpcull.errors import ConfigError
from xmpcull.models import CropEdges

ORIENTATIONS = (1, 2, 3, 4, 5, 6, 7, 8)


@dataclass(frozen=True, order=True)
class Box:
    """A pixel box in the displayed frame: x0, y0 inclusive; x1, y1 exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    def __post_init__(self) -> None:
        if self.x1 < self.x0 or self.y1 < self.y0:
            raise ValueError(f"box has negative size: {self}")

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def area(self) -> int:
        return self.width * self.height

    def intersection(self, other: Box) -> int:
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return max(0, w) * max(0, h)

    def iou(self, other: Box) -> float:
        inter = self.intersection(other)
        union = self.area + other.area - inter
        return inter / union if union else 0.0

    def contains(self, other: Box) -> bool:
        return self.x0 <= other.x0 and self.y0 <= other.y0 and self.x1 >= other.x1 and self.y1 >= other.y1

    def inside(self, width: int, height: int) -> bool:
        return self.x0 >= 0 and self.y0 >= 0 and self.x1 <= width and self.y1 <= height

    def clip(self, width: int, height: int) -> Box:
        x0 = min(max(self.x0, 0), width)
        y0 = min(max(self.y0, 0), height)
        return Box(x0, y0, max(x0, min(self.x1, width)), max(y0, min(self.y1, height)))

    def to_list(self) -> list[int]:
        return [self.x0, self.y0, self.x1, self.y1]


@dataclass(frozen=True)
class Aspect:
    """A width:height ratio as the user wrote it ("4:5" is portrait, "16:9" landscape)."""

    w: int
    h: int

    @property
    def ratio(self) -> float:
        return self.w / self.h

    def __str__(self) -> str:
        return f"{self.w}:{self.h}"


_ASPECT_RE = re.compile(r"^\s*(\d{1,4})\s*[:xX/]\s*(\d{1,4})\s*$")


def parse_aspect(text: str) -> Aspect:
    """'4:5', '16:9', '1:1', '3:2', '5:4' (also '4x5', '4/5') -> Aspect; ConfigError otherwise."""
    match = _ASPECT_RE.match(text)
    if not match or int(match.group(1)) == 0 or int(match.group(2)) == 0:
        raise ConfigError(f"aspect must look like 4:5 or 16:9, got {text!r}")
    return Aspect(int(match.group(1)), int(match.group(2)))


def window_for_scale(aspect: Aspect, width: int, height: int, scale: float = 1.0) -> tuple[int, int]:
    """Size (w, h) of the aspect window at `scale` of the largest one fitting in width x height.

    The larger side is rounded and the other derived from it, so w/h matches the
    aspect within one pixel, and the window never exceeds the image.
    """
    if width <= 0 or height <= 0:
        raise ValueError("image must have a positive size")
    if not 0.0 < scale <= 1.0:
        raise ValueError("scale must be in (0, 1]")
    r = aspect.ratio
    # Largest window: full height if the image is wider than the aspect, else full width.
    target_h = height * scale if width / height >= r else width * scale / r
    # Drive with the height and derive the width, so the width is off by at most half a pixel.
    h = max(1, min(height, round(target_h)))
    w = max(1, round(h * r))
    while w > width and h > 1:
        h -= 1
        w = max(1, round(h * r))
    return min(w, width), h


def aspect_error_px(w: int, h: int, aspect: Aspect) -> float:
    """How many pixels the box is off its aspect, measured on the width."""
    return abs(w - h * aspect.ratio)


def display_size(stored_w: int, stored_h: int, orientation: int) -> tuple[int, int]:
    """Displayed (w, h) of a stored frame under an EXIF orientation."""
    _check_orientation(orientation)
    return (stored_h, stored_w) if orientation >= 5 else (stored_w, stored_h)


def _check_orientation(orientation: int) -> None:
    if orientation not in ORIENTATIONS:
        raise ValueError(f"EXIF orientation must be 1..8, got {orientation!r}")


def _clamp01(v: float) -> float:
    return min(1.0, max(0.0, v))


def display_fractions_to_crs(l: float, t: float, r: float, b: float, orientation: int) -> CropEdges:
    """Displayed-frame fractions (left, top, right, bottom) -> Camera Raw edges of the stored frame."""
    _check_orientation(orientation)
    table = {
        1: (l, t, r, b),
        2: (1 - r, t, 1 - l, b),
        3: (1 - r, 1 - b, 1 - l, 1 - t),
        4: (l, 1 - b, r, 1 - t),
        5: (t, l, b, r),
        6: (t, 1 - r, b, 1 - l),
        7: (1 - b, 1 - r, 1 - t, 1 - l),
        8: (1 - b, l, 1 - t, r),
    }
    cl, ct, cr, cb = (_clamp01(v) for v in table[orientation])
    return CropEdges(left=cl, top=ct, right=cr, bottom=cb, angle=0.0)


def crs_to_display_fractions(edges: CropEdges, orientation: int) -> tuple[float, float, float, float]:
    """Exact inverse of display_fractions_to_crs: Camera Raw edges -> displayed (l, t, r, b)."""
    _check_orientation(orientation)
    cl, ct, cr, cb = edges.left, edges.top, edges.right, edges.bottom
    table = {
        1: (cl, ct, cr, cb),
        2: (1 - cr, ct, 1 - cl, cb),
        3: (1 - cr, 1 - cb, 1 - cl, 1 - ct),
        4: (cl, 1 - cb, cr, 1 - ct),
        5: (ct, cl, cb, cr),
        6: (1 - cb, cl, 1 - ct, cr),
        7: (1 - cb, 1 - cr, 1 - ct, 1 - cl),
        8: (ct, 1 - cr, cb, 1 - cl),
    }
    return tuple(_clamp01(v) for v in table[orientation])  # type: ignore[return-value]


def display_box_to_crs(box: Box, display_w: int, display_h: int, orientation: int) -> CropEdges:
    """A displayed-pixel box -> Camera Raw crop edges (fractions of the stored frame), clamped to [0, 1]."""
    if display_w <= 0 or display_h <= 0:
        raise ValueError("display size must be positive")
    return display_fractions_to_crs(
        box.x0 / display_w, box.y0 / display_h, box.x1 / display_w, box.y1 / display_h, orientation
    )


def crs_to_display_box(edges: CropEdges, display_w: int, display_h: int, orientation: int) -> Box:
    """Camera Raw crop edges -> the displayed-pixel box (rounded to whole pixels, inside the image)."""
    l, t, r, b = crs_to_display_fractions(edges, orientation)
    box = Box(round(l * display_w), round(t * display_h), round(r * display_w), round(b * display_h))
    return box.clip(display_w, display_h)


def stored_pixel_box(edges: CropEdges, stored_w: int, stored_h: int) -> Box:
    """The stored-frame pixel box the edges select (what Camera Raw cuts from the sensor frame)."""
    return Box(
        round(edges.left * stored_w),
        round(edges.top * stored_h),
        round(edges.right * stored_w),
        round(edges.bottom * stored_h),
    ).clip(stored_w, stored_h)


def is_finite_edges(edges: CropEdges) -> bool:
    return all(math.isfinite(v) for v in (edges.left, edges.top, edges.right, edges.bottom))
