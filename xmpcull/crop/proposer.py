"""The crop search: for each aspect, the best window over all positions and a few scales.

Every window is scored from summed-area tables (integral images), so one window
costs a handful of lookups and the search is exhaustive on a fine grid. The rules,
in order: never cut a face if some window keeps all faces whole; keep the people
(the person mask's bodies under those faces) whole if some window can; keep the main
subject whole if some window can; then the highest score. docs/crops.md explains
the score and the confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from xmpcull.crop.cues import Cues, Subject, compute_cues
from xmpcull.crop.geometry import Box, crs_to_display_box, display_box_to_crs, parse_aspect, window_for_scale
from xmpcull.models import CropEdges

SCALES = (1.0, 0.92, 0.85, 0.78, 0.7)  # relative to the largest window of the aspect
GRID_STEPS = 64  # positions per axis at most: about 1/64 of the free room
SIZE_PENALTY = 0.10  # score lost by shrinking to zero area: a smaller crop must keep nearly all the mass
CUT_PENALTY = 1.0  # importance mass straddling a cut edge counts against the window
THIRDS_BONUS = 0.03  # tie-breaker only: subject centre near a rule-of-thirds point or the centre
CUT_BAND = 0.03  # half-width of the band around a cut edge, as a share of the window's short side
NO_SUBJECT_FACTOR = 0.6  # nothing stands out: a crop is a guess, however empty its margins
GAP_FULL = 0.05  # room (share of the window's short side) between subject and a cut edge that counts as ample
OFF_CENTRE_TOLERANCE = 0.04  # a subject that overflows: window within 4 % of its size of the best-placed one
TOP_TOLERANCE = 0.01  # ... and its top within 1 % of the window height of that line
HEADROOM = 0.03  # a subject taller than the window keeps its top, with this share of the window height above it
COMPOSE_WEIGHT = 0.15  # pull towards the frame's own centre (its composition), times the subject's uncertainty
ROOM_WEIGHT = 0.3  # reward for room between the subject's extent and the cut edges (up to ROOM_FULL)
TOP_ROOM_SHARE = 0.5  # room above the subject counts at this share (headroom matters more than footroom)
ROOM_FULL = 0.25  # room, as a share of the window's short side, beyond which more does not count


@dataclass(frozen=True)
class CropProposal:
    """One proposed crop for one aspect, in the pixels of the analysed array."""

    aspect: str
    box: Box
    image_size: tuple[int, int]  # (w, h) of the array the box refers to
    scale: float  # window size relative to the largest window of this aspect
    score: float
    confidence: float  # in [0, 1]; see docs/crops.md
    faces_whole: bool  # every detected face is fully inside or fully outside
    subject_whole: bool | None  # None when no single subject stood out
    details: dict[str, float] = field(default_factory=dict)

    def to_display(self, display_w: int, display_h: int) -> Box:
        """The same crop on the full displayed image, with the aspect exact there (within 1 px)."""
        w, h = self.image_size
        aspect = parse_aspect(self.aspect)
        cw, ch = window_for_scale(aspect, display_w, display_h, self.scale)
        # Keep the window's centre, then slide it back inside the frame.
        cx = (self.box.x0 + self.box.x1) / 2 * display_w / w
        cy = (self.box.y0 + self.box.y1) / 2 * display_h / h
        x0 = min(max(0, round(cx - cw / 2)), display_w - cw)
        y0 = min(max(0, round(cy - ch / 2)), display_h - ch)
        return Box(x0, y0, x0 + cw, y0 + ch)

    def to_dict(self) -> dict[str, object]:
        return {
            "aspect": self.aspect,
            "box": self.box.to_list(),
            "image_size": list(self.image_size),
            "scale": self.scale,
            "score": round(self.score, 5),
            "confidence": round(self.confidence, 4),
            "faces_whole": self.faces_whole,
            "subject_whole": self.subject_whole,
            "details": {k: round(v, 5) for k, v in self.details.items()},
        }


def _integral(m: np.ndarray) -> np.ndarray:
    return cv2.integral(np.ascontiguousarray(m, dtype=np.float64), sdepth=cv2.CV_64F)


@dataclass(frozen=True)
class _Tables:
    """Summed-area tables of the importance map, and of it weighted by x and y (for centroids)."""

    mass: np.ndarray
    mass_x: np.ndarray
    mass_y: np.ndarray

    @classmethod
    def of(cls, importance: np.ndarray) -> _Tables:
        h, w = importance.shape
        imp = importance.astype(np.float64)
        return cls(
            _integral(imp),
            _integral(imp * np.arange(w, dtype=np.float64)[None, :]),
            _integral(imp * np.arange(h, dtype=np.float64)[:, None]),
        )


def _rect(ii: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """Sum over [y0, y1) x [x0, x1) for broadcast arrays of corners (clipped to the image)."""
    h, w = ii.shape[0] - 1, ii.shape[1] - 1
    x0 = np.clip(x0, 0, w)
    x1 = np.clip(x1, 0, w)
    y0 = np.clip(y0, 0, h)
    y1 = np.clip(y1, 0, h)
    return ii[y1, x1] - ii[y0, x1] - ii[y1, x0] + ii[y0, x0]


def _positions(free: int) -> np.ndarray:
    step = max(1, int(np.ceil(free / GRID_STEPS)))
    pos = np.arange(0, free + 1, step)
    return pos if pos[-1] == free else np.append(pos, free)


@dataclass
class _Candidates:
    """All windows of one aspect, flattened: corners, scores and constraint flags."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    scale: np.ndarray
    kept: np.ndarray
    score: np.ndarray
    faces_cut: np.ndarray
    faces_whole: np.ndarray  # faces (those that fit a window) fully inside
    bodies_whole: np.ndarray  # people's bodies (those that fit a window) fully inside
    core_whole: np.ndarray  # the subject's core is inside
    subject_whole: np.ndarray  # the subject's extent is inside
    off_centre: np.ndarray  # how far the window is from where an overflowing subject wants it (see _subject_flags)
    centred: np.ndarray  # 1 = the window keeps the frame's centre (the photographer's composition), 0 = flush with an edge
    gap: np.ndarray  # smallest room between the subject's extent and a cut window edge, / window short side
    room: np.ndarray  # the same with the room above counted at half: a head needs more room than feet


def _thirds(cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """1 when (cx, cy) in window-relative units sits on a thirds point or the centre, falling off smoothly."""
    best = np.zeros(np.broadcast(cx, cy).shape)
    for px in (1 / 3, 1 / 2, 2 / 3):
        for py in (1 / 3, 1 / 2, 2 / 3):
            if (px == 1 / 2) != (py == 1 / 2):
                continue  # the centre and the four thirds points, not the edge midpoints
            best = np.maximum(best, np.exp(-((cx - px) ** 2 + (cy - py) ** 2) / (2 * 0.12**2)))
    return best


def _centredness(X: np.ndarray, Y: np.ndarray, w: int, h: int, W: int, H: int) -> np.ndarray:
    """1 when the window's centre is the frame's, falling linearly to 0 when it is flush with an edge.

    Photographers compose: the subject is where they put it in the frame, and the crop
    that changes that least is the centred one. Axes with no room to move do not count.
    """
    off = np.zeros(X.shape)
    if W > w:
        off = np.maximum(off, np.abs(X + w / 2 - W / 2) / ((W - w) / 2))
    if H > h:
        off = np.maximum(off, np.abs(Y + h / 2 - H / 2) / ((H - h) / 2))
    return 1.0 - off


def _candidates(cues: Cues, tables: _Tables, aspect_text: str) -> _Candidates:
    H, W = cues.importance.shape
    ii, iix, iiy = tables.mass, tables.mass_x, tables.mass_y
    aspect = parse_aspect(aspect_text)
    largest = window_for_scale(aspect, W, H)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in _Candidates.__dataclass_fields__}
    # A face taller or wider than every window cannot be kept whole: the subject rules
    # (which include it) place the window on it instead of the face rule pushing it away.
    fitting_faces = [f for f in cues.faces if f.width <= largest[0] and f.height <= largest[1]]
    fitting_bodies = [b for b in cues.bodies if b.width <= largest[0] and b.height <= largest[1]]
    uncertainty = 1.0 - (cues.subject.certainty if cues.subject is not None else 0.0)
    for s in SCALES:
        w, h = window_for_scale(aspect, W, H, s)
        if s < 1.0 and (w, h) == largest:
            continue
        X, Y = np.meshgrid(_positions(W - w), _positions(H - h))
        X, Y = X.ravel(), Y.ravel()
        X1, Y1 = X + w, Y + h
        kept = _rect(ii, X, Y, X1, Y1)
        # Mass straddling each edge that actually cuts (an edge on the image border cuts nothing).
        b = max(1, round(CUT_BAND * min(w, h)))
        cut = np.where(X > 0, _rect(ii, X - b, Y, X + b, Y1), 0.0)
        cut += np.where(X1 < W, _rect(ii, X1 - b, Y, X1 + b, Y1), 0.0)
        cut += np.where(Y > 0, _rect(ii, X, Y - b, X1, Y + b), 0.0)
        cut += np.where(Y1 < H, _rect(ii, X, Y1 - b, X1, Y1 + b), 0.0)
        safe = np.maximum(kept, 1e-12)
        cx = (_rect(iix, X, Y, X1, Y1) / safe - X) / w
        cy = (_rect(iiy, X, Y, X1, Y1) / safe - Y) / h
        area_ratio = (w * h) / (largest[0] * largest[1])
        centred = _centredness(X, Y, w, h, W, H)
        flags = _subject_flags(cues.subject, X, Y, X1, Y1, W, H)
        # The extent is often only the most salient part of the subject (a raccoon's eye mask,
        # a squirrel's head): room around it on every cut side keeps the rest more often
        # than windows that chase importance mass into a busy background.
        room = np.clip(flags["room"], 0.0, ROOM_FULL) / ROOM_FULL if cues.subject is not None else np.zeros(X.shape)
        score = (
            kept - CUT_PENALTY * cut - SIZE_PENALTY * (1 - area_ratio) + THIRDS_BONUS * _thirds(cx, cy)
            + COMPOSE_WEIGHT * uncertainty * centred + ROOM_WEIGHT * room
        )
        faces_cut = np.zeros(X.shape, np.int32)
        faces_whole = np.zeros(X.shape, np.int32)
        for f in fitting_faces:
            inside = (X <= f.x0) & (Y <= f.y0) & (X1 >= f.x1) & (Y1 >= f.y1)
            touches = (X < f.x1) & (X1 > f.x0) & (Y < f.y1) & (Y1 > f.y0)
            faces_cut += touches & ~inside
            faces_whole += inside
        bodies_whole = np.zeros(X.shape, np.int32)
        for b in fitting_bodies:
            bodies_whole += (X <= b.x0) & (Y <= b.y0) & (X1 >= b.x1) & (Y1 >= b.y1)
        for k, v in (
            ("x0", X), ("y0", Y), ("x1", X1), ("y1", Y1), ("scale", np.full(X.shape, s)), ("kept", kept),
            ("score", score), ("faces_cut", faces_cut), ("faces_whole", faces_whole), ("bodies_whole", bodies_whole),
            ("centred", centred),
            *flags.items(),
        ):
            parts[k].append(v)
    return _Candidates(**{k: np.concatenate(v) for k, v in parts.items()})


def _subject_flags(
    subject: Subject | None, X: np.ndarray, Y: np.ndarray, X1: np.ndarray, Y1: np.ndarray, W: int, H: int
) -> dict[str, np.ndarray]:
    """Per window: is the subject's core / extent inside, how far off its centre, how much room around it."""
    if subject is None:
        ones = np.ones(X.shape, bool)
        return {
            "core_whole": ones, "subject_whole": ones, "off_centre": np.zeros(X.shape), "gap": np.ones(X.shape),
            "room": np.ones(X.shape),
        }
    co, ex = subject.core, subject.extent
    w, h = X1 - X, Y1 - Y
    off = np.zeros(X.shape)
    # Wider than the window: the cut falls on both ends alike, the window centred on the
    # subject's mass (a motorcycle loses a bit of both wheels). Taller than the window:
    # keep the top with a little headroom (heads, spires, ears) and cut the bottom, as
    # photographers do.
    if ex.width > w[0]:
        off = np.maximum(off, np.abs((X + X1) / 2 - subject.centre[0]) / w)
    if ex.height > h[0]:
        # A tighter band than for the centring (TOP_TOLERANCE, scaled to the shared one),
        # aimed above the headroom line, so no window in it starts lower.
        top = max(0.0, ex.y0 - (HEADROOM + TOP_TOLERANCE) * float(h[0]))
        off = np.maximum(off, np.abs(Y - top) / h * (OFF_CENTRE_TOLERANCE / TOP_TOLERANCE))
    big = float(max(W, H))
    sides = np.minimum.reduce([np.where(X > 0, ex.x0 - X, big), np.where(X1 < W, X1 - ex.x1, big), np.where(Y1 < H, Y1 - ex.y1, big)])
    above = np.where(Y > 0, ex.y0 - Y, big)
    short = np.minimum(w, h)
    return {
        "core_whole": (X <= co.x0) & (Y <= co.y0) & (X1 >= co.x1) & (Y1 >= co.y1),
        "subject_whole": (X <= ex.x0) & (Y <= ex.y0) & (X1 >= ex.x1) & (Y1 >= ex.y1),
        "off_centre": off,
        "gap": np.minimum(sides, above) / short,
        "room": np.minimum(sides, TOP_ROOM_SHARE * above) / short,
    }


def _choose(c: _Candidates) -> int:
    """Index of the winner.

    In order: most faces whole, then fewest cut (a face is never cut if some window keeps
    them all; a window does not win by leaving every face out); the most people's bodies
    whole; the subject's whole extent inside; else, where the subject overflows the window, the window placed as
    _subject_flags says (within OFF_CENTRE_TOLERANCE), with its core inside if possible;
    then the best score.
    """
    ok = c.faces_whole == c.faces_whole.max()
    ok &= c.faces_cut == c.faces_cut[ok].min()
    ok &= c.bodies_whole == c.bodies_whole[ok].max()
    if np.any(ok & c.subject_whole):
        ok &= c.subject_whole
    else:
        # The subject cannot be whole: cut it evenly about its mass centre (not one end away),
        # keeping its core whole if such a window also does that.
        ok &= c.off_centre <= c.off_centre[ok].min() + OFF_CENTRE_TOLERANCE
        if np.any(ok & c.core_whole):
            ok &= c.core_whole
    idx = np.flatnonzero(ok)
    return int(idx[np.argmax(c.score[idx])])


def _cut_density(ii: np.ndarray, box: Box, W: int, H: int) -> float:
    """Importance density in the band straddling each edge that cuts, at its busiest edge, / the picture's mean.

    0: every cut runs through empty background; 1: a cut runs through the picture's
    average busyness; above 1, through something that stands out.
    """
    b = max(1, round(CUT_BAND * min(box.width, box.height)))
    bands = []
    if box.x0 > 0:
        bands.append((box.x0 - b, box.y0, box.x0 + b, box.y1))
    if box.x1 < W:
        bands.append((box.x1 - b, box.y0, box.x1 + b, box.y1))
    if box.y0 > 0:
        bands.append((box.x0, box.y0 - b, box.x1, box.y0 + b))
    if box.y1 < H:
        bands.append((box.x0, box.y1 - b, box.x1, box.y1 + b))
    worst = 0.0
    for x0, y0, x1, y1 in bands:
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
        area = max(1, (x1 - x0) * (y1 - y0))
        mass = float(_rect(ii, np.array(x0), np.array(y0), np.array(x1), np.array(y1)))
        worst = max(worst, mass / area * (W * H))  # the map sums to 1: mean density is 1 / (W * H)
    return worst


def confidence_terms(c: _Candidates, best: int, ii: np.ndarray, W: int, H: int) -> dict[str, float]:
    """The measurable parts of the confidence (documented in docs/crops.md).

    kept: share of the importance mass inside the window. removed_density: mass removed
    per share of area removed (0 = only empty background was cut away, 1 = what was cut
    away is as busy as the picture on average). cut_density: how busy the picture is
    right where the crop edges cut (see _cut_density).
    """
    kept = float(c.kept[best])
    area = float((c.x1[best] - c.x0[best]) * (c.y1[best] - c.y0[best])) / (W * H)
    removed_area = 1.0 - area
    removed_density = min(1.0, max(0.0, (1.0 - kept) / removed_area)) if removed_area > 0.01 else 0.0
    box = Box(int(c.x0[best]), int(c.y0[best]), int(c.x1[best]), int(c.y1[best]))
    return {"kept": kept, "area": area, "removed_density": removed_density, "cut_density": _cut_density(ii, box, W, H)}


def _confidence(terms: dict[str, float], faces_whole: bool) -> float:
    """See docs/crops.md: clean cuts through empty parts first, then how sure and how whole the subject is.

    On real photos the subject estimate's own certainty did not tell good crops from bad
    (it is often sure of a part of the subject); what did is whether the crop's edges run
    through empty background and how little of what stands out was removed. Those make
    the base; the subject part scales it between half and all of it.
    """
    clean = min(1.0, max(0.0, 1.0 - terms["cut_density"]))
    base = ((1.0 - terms["removed_density"]) * clean) ** 0.5
    conf = base * (0.5 + 0.5 * terms["subject_factor"])
    if not faces_whole:
        conf *= 0.5
    return float(min(1.0, max(0.0, conf)))


def subject_factor(subject: Subject | None, c: _Candidates, best: int) -> float:
    """The subject part of the confidence: is there one we trust, and is it inside with room to spare."""
    if subject is None:
        return NO_SUBJECT_FACTOR
    sure = 0.5 + 0.5 * subject.certainty
    if c.subject_whole[best]:
        # Whole with room: a crop edge right against the estimated outline may still clip a thin end.
        fit = 0.8 + 0.2 * min(1.0, float(c.gap[best]) / GAP_FULL)
    elif c.core_whole[best]:
        fit = 0.6
    else:
        fit = 0.4
    return sure * fit


def propose_crops(rgb: np.ndarray, aspects: Sequence[str], *, cues: Cues | None = None) -> list[CropProposal]:
    """One proposal per aspect for a displayed-orientation RGB array (analysis resolution, e.g. long side 512)."""
    if cues is None:
        cues = compute_cues(rgb)
    W, H = cues.size
    tables = _Tables.of(cues.importance)
    proposals = []
    for aspect_text in aspects:
        aspect = str(parse_aspect(aspect_text))
        c = _candidates(cues, tables, aspect)
        best = _choose(c)
        faces_whole = bool(c.faces_cut[best] == 0)
        subject_whole = None if cues.subject is None else bool(c.subject_whole[best])
        terms = confidence_terms(c, best, tables.mass, W, H)
        terms["subject_factor"] = subject_factor(cues.subject, c, best)
        terms["certainty"] = 0.0 if cues.subject is None else cues.subject.certainty
        proposals.append(
            CropProposal(
                aspect=aspect,
                box=Box(int(c.x0[best]), int(c.y0[best]), int(c.x1[best]), int(c.y1[best])),
                image_size=(W, H),
                scale=float(c.scale[best]),
                score=float(c.score[best]),
                confidence=_confidence(terms, faces_whole),
                faces_whole=faces_whole,
                subject_whole=subject_whole,
                details={**terms, "faces": float(len(cues.faces))},
            )
        )
    return proposals


def proposals_to_crs(
    proposals: Sequence[CropProposal], display_w: int, display_h: int, orientation: int
) -> list[CropEdges]:
    """Camera Raw edges (stored frame, fractions) for each proposal on the full displayed image."""
    return [display_box_to_crs(p.to_display(display_w, display_h), display_w, display_h, orientation) for p in proposals]


def crs_to_box(edges: CropEdges, display_w: int, display_h: int, orientation: int) -> Box:
    """Where an existing Camera Raw crop sits in the displayed image (for reports and previews)."""
    return crs_to_display_box(edges, display_w, display_h, orientation)
