"""Small JPEGs with the crop proposals drawn on them, so a person can check many quickly."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from xmpcull.crop.proposer import CropProposal

PREVIEW_LONG_SIDE = 640
COLOURS = ((255, 64, 64), (64, 200, 255), (255, 210, 0), (120, 255, 120), (255, 120, 255))


def draw_proposals(rgb: np.ndarray, proposals: Sequence[CropProposal], long_side: int = PREVIEW_LONG_SIDE) -> Image.Image:
    """The image (scaled to `long_side`) with one outlined box and a label per proposal."""
    img = Image.fromarray(rgb).convert("RGB")
    scale = min(1.0, long_side / max(img.size)) if max(img.size) > long_side else long_side / max(img.size)
    img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(img)
    for i, p in enumerate(proposals):
        colour = COLOURS[i % len(COLOURS)]
        sx, sy = img.width / p.image_size[0], img.height / p.image_size[1]
        box = (p.box.x0 * sx, p.box.y0 * sy, p.box.x1 * sx - 1, p.box.y1 * sy - 1)
        draw.rectangle(box, outline=colour, width=3)
        label = f"{p.aspect}  {p.confidence:.2f}"
        tx, ty = box[0] + 4, box[1] + 4 + 14 * i
        draw.rectangle(draw.textbbox((tx, ty), label), fill=(0, 0, 0))
        draw.text((tx, ty), label, fill=colour)
    return img


def write_preview(rgb: np.ndarray, proposals: Sequence[CropProposal], out_path: Path) -> Path:
    """Draw the proposals on `rgb` and save a small JPEG at `out_path` (parent folders created)."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    draw_proposals(rgb, proposals).save(out_path, "JPEG", quality=85)
    return out_path
