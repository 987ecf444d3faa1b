"""Where the picture is: importance maps and faces for the crop search.

Each cue is a non-negative map over the analysis image whose mass sums to one
(or is all zero when the cue found nothing), so cues can be mixed by weights that
read as "share of the vote". The background floor (the median) is removed first:
a uniform texture then carries no mass, and "share of mass kept" by a window
measures how much of what stands out it keeps, not how much area.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from xmpcull.analyse.faces import available as faces_available
from xmpcull.analyse.faces.detect import detect as detect_in_image
from xmpcull.analyse.faces.models import default_runtime
from xmpcull.analyse.faces.person import person_mask
from xmpcull.crop.geometry import Box

# Vote of each cue in the importance map; faces and people only vote when some were
# found, otherwise their share is spread over the others in proportion.
CUE_WEIGHTS = {"saliency": 0.45, "edges": 0.25, "skin": 0.10, "faces": 0.20, "people": 0.20}
PERSON_LEVEL = 0.5  # a pixel with this probability of being a person or more belongs to one
BODY_MIN_SHARE_OF_HEAD = 0.25  # a person blob smaller than this share of the head's box is a speck

# BlazeFace boxes run from the brows to the chin; a person's head is larger
# (hair, ears). Grow them before requiring that a crop keeps them whole.
FACE_GROW_X = 0.25
FACE_GROW_TOP = 0.45
FACE_GROW_BOTTOM = 0.30
# The maps are smooth (blurred by 1-3 % of the diagonal), so they are computed at this
# long side and the importance map scaled back up: the same picture, a quarter of the work.
CUE_LONG_SIDE = 256
CENTER_PRIOR_FLOOR = 0.6  # weight of importance at the frame corners relative to the centre


# The main subject's estimate, on the importance map blurred wide (3 % of the diagonal):
SUBJECT_CORE_LEVEL = 0.35  # the core: the blob at >= 35 % of the peak (what surely belongs to it)
SUBJECT_EXTENT_LEVEL = 0.18  # the extent: the peak's blob at >= 18 % of the peak (thin ends: heads, wheels, spires)
SUBJECT_MERGE_MASS = 0.5  # another blob with at least half the peak blob's mass is part of the subject
SUBJECT_GROW = 0.04  # the extent grows by this share of its size each side: saliency fades before the outline
SUBJECT_MIN_PEAK = 4.0  # the peak must stand this many times above the mean, or nothing stands out
SUBJECT_MAX_AREA = 0.6  # an "extent" over this share of the frame is the whole picture, not a subject


@dataclass(frozen=True)
class Subject:
    """The main subject as the crop search sees it (boxes in analysis pixels)."""

    core: Box  # the surely-subject blob around the importance peak, joined with faces
    extent: Box  # how far it may reach: a lower level, comparable blobs merged, grown a little, with faces
    centre: tuple[float, float]  # centre of the importance mass inside the extent
    concentration: float  # share of all importance mass inside the extent / share of the frame it covers
    rivalry: float  # mass of the strongest blob left out / mass of the subject (0 = no competitor)

    def scaled(self, sx: float, sy: float, w: int, h: int) -> Subject:
        """The same estimate on an image sx, sy times the size (w x h)."""

        def box(b: Box) -> Box:
            return Box(round(b.x0 * sx), round(b.y0 * sy), round(b.x1 * sx), round(b.y1 * sy)).clip(w, h)

        centre = (self.centre[0] * sx, self.centre[1] * sy)
        return Subject(box(self.core), box(self.extent), centre, self.concentration, self.rivalry)

    @property
    def certainty(self) -> float:
        """How sure the estimate is, in [0, 1]: mass packed into the extent, and no rival blob.

        Concentration 1 is "no denser than the picture" (0), 3 or more is clearly a
        thing (1); a rival blob with half the subject's mass or more leaves it at 0.
        """
        packed = min(1.0, max(0.0, (self.concentration - 1.0) / 2.0))
        return packed * max(0.0, 1.0 - 2.0 * self.rivalry)


@dataclass(frozen=True)
class Cues:
    """All cue maps for one analysis image (H x W, float32, each summing to 1 or 0)."""

    saliency: np.ndarray
    edges: np.ndarray
    skin: np.ndarray
    faces: tuple[Box, ...]  # heads (grown face boxes), which a crop keeps whole
    importance: np.ndarray  # weighted mix of the above
    subject: Subject | None  # the main subject, if one stands out
    weights: dict[str, float] = field(default_factory=dict)
    face_boxes: tuple[Box, ...] = ()  # the detector's face boxes, where face sharpness is measured
    people: np.ndarray | None = None  # the person mask's map (None: no face, so not looked for)
    bodies: tuple[Box, ...] = ()  # each found head's person (the mask's blob around it), which a crop keeps whole if it can

    @property
    def size(self) -> tuple[int, int]:
        return self.importance.shape[1], self.importance.shape[0]


def _normalise(m: np.ndarray) -> np.ndarray:
    """Remove the background floor (median) and scale to unit mass."""
    m = m.astype(np.float32)
    # The floor from every other pixel in each direction: the same level, a quarter of the sorting.
    m = np.clip(m - float(np.median(m[::2, ::2])), 0, None)
    total = float(m.sum())
    return m / total if total > 1e-12 else np.zeros_like(m)


def _sigma(shape: tuple[int, ...], share: float) -> float:
    return max(1.0, share * float(np.hypot(shape[0], shape[1])))


def _wide_blur(m: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur for wide sigmas, done at reduced size: same result within a few percent, ~5x faster.

    A full-size float blur with sigma ~10 px has a ~80 px kernel and was a third of
    the cue time; shrinking by f first divides the work by about f^3.
    """
    h, w = m.shape[:2]
    f = int(min(4, sigma // 3))
    if f < 2 or min(h, w) < 8 * f:
        return cv2.GaussianBlur(m, (0, 0), sigma)
    small = cv2.resize(m, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / f)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _border_taper(shape: tuple[int, ...], share: float = 0.04) -> np.ndarray:
    """0 at the frame edge rising to 1 at `share` inside: spectral residual wraps around at the borders."""
    h, w = shape[:2]
    ramp_x = np.clip(np.minimum(np.arange(w), np.arange(w)[::-1]) / max(1.0, share * w), 0, 1)
    ramp_y = np.clip(np.minimum(np.arange(h), np.arange(h)[::-1]) / max(1.0, share * h), 0, 1)
    return (ramp_y[:, None] * ramp_x[None, :]).astype(np.float32)


def saliency_map(rgb: np.ndarray) -> np.ndarray:
    """Half spectral residual (Hou & Zhang 2007), half colour distinctness (Achanta et al. 2009).

    Spectral residual finds what breaks the image's texture statistics; colour
    distinctness finds what differs from the average colour (a red jet in clouds,
    a brown squirrel in leaves). Smoothed so a subject is one blob, not its outline.
    """
    h, w = rgb.shape[:2]
    ok, sr = cv2.saliency.StaticSaliencySpectralResidual_create().computeSaliency(rgb)
    sr = _normalise(sr.astype(np.float32) * _border_taper(rgb.shape)) if ok else np.zeros((h, w), np.float32)
    # Colour distinctness at quarter size: it is a low-frequency cue anyway.
    small = cv2.resize(rgb, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2Lab).astype(np.float32)
    diff = lab - lab.reshape(-1, 3).mean(axis=0)
    diff[..., 0] *= 0.5  # lightness matters less than hue: shadows are not subjects
    ft = cv2.resize(np.sqrt((diff**2).sum(axis=2)), (w, h), interpolation=cv2.INTER_LINEAR)
    mix = 0.5 * sr + 0.5 * _normalise(ft)
    return _normalise(_wide_blur(mix, _sigma(rgb.shape, 0.015)))


def center_prior(shape: tuple[int, ...]) -> np.ndarray:
    """Photographers put subjects near the centre (Tatler 2007); a mild, wide bias, never zero at the edge."""
    h, w = shape[:2]
    gx = np.exp(-(((np.arange(w) + 0.5) / w - 0.5) ** 2) / (2 * 0.3**2))
    gy = np.exp(-(((np.arange(h) + 0.5) / h - 0.5) ** 2) / (2 * 0.3**2))
    return (CENTER_PRIOR_FLOOR + (1 - CENTER_PRIOR_FLOOR) * gy[:, None] * gx[None, :]).astype(np.float32)


def edge_map(gray: np.ndarray) -> np.ndarray:
    """Fine detail (gradient magnitude): in-focus subjects carry it, blurred backgrounds and sky do not."""
    g = cv2.GaussianBlur(gray, (0, 0), 1.0).astype(np.float32)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    # Not cv2.magnitude: its vector loop and its scalar tail round differently, so the result
    # depended on the arrays' memory alignment and one process could differ from another.
    mag = np.sqrt(gx * gx + gy * gy)
    mag = _wide_blur(mag, _sigma(gray.shape, 0.02))
    return _normalise(mag)


def skin_map(rgb: np.ndarray) -> np.ndarray:
    """Skin-coloured pixels (the classic YCrCb box of Chai & Ngan 1999), zero for grey images."""
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    _, cr, cb = cv2.split(ycrcb)
    mask = ((cr >= 135) & (cr <= 173) & (cb >= 77) & (cb <= 127)).astype(np.float32)
    sat = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[..., 1].astype(np.float32) / 255.0
    mask *= sat > 0.12  # greyish pixels fall in the box too; they are not skin
    if mask.mean() > 0.5:  # half the frame "skin": sand, wood, a warm cast. No information.
        return np.zeros_like(mask)
    return _normalise(_wide_blur(mask, _sigma(rgb.shape, 0.01)))


def find_face_boxes(gray: np.ndarray) -> list[Box]:
    """The neural detector's face boxes (``xmpcull.analyse.faces``), brows to chin, merged when overlapping.

    Empty when the face models are not installed: the search then runs on the
    other cues alone, as for a picture without people.
    """
    if not faces_available():
        return []
    found = [Box(*(round(v) for v in d.box)) for d in detect_in_image(gray)]
    h, w = gray.shape[:2]
    return [f.clip(w, h) for f in merge_overlapping(found)]


def heads(faces: Sequence[Box], width: int, height: int) -> list[Box]:
    """Face boxes grown to head size (hair, ears): what a crop must keep whole.

    Merged before growing (``find_face_boxes``): growing first would fuse two
    people standing side by side.
    """
    return [
        Box(
            round(f.x0 - FACE_GROW_X * f.width),
            round(f.y0 - FACE_GROW_TOP * f.height),
            round(f.x1 + FACE_GROW_X * f.width),
            round(f.y1 + FACE_GROW_BOTTOM * f.height),
        ).clip(width, height)
        for f in faces
    ]


def detect_faces(gray: np.ndarray) -> list[Box]:
    """Heads in a grey image: the detector's faces grown to head size."""
    return heads(find_face_boxes(gray), gray.shape[1], gray.shape[0])


def merge_overlapping(boxes: Sequence[Box]) -> list[Box]:
    """Union boxes that overlap until none do: one head found by two cascades is one face."""
    merged = list(boxes)
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                a, b = merged[i], merged[j]
                if a.intersection(b) > 0.3 * min(a.area, b.area):
                    merged[i] = Box(min(a.x0, b.x0), min(a.y0, b.y0), max(a.x1, b.x1), max(a.y1, b.y1))
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return sorted(merged)


def face_map(shape: tuple[int, int], faces: Sequence[Box]) -> np.ndarray:
    m = np.zeros(shape, np.float32)
    for f in faces:
        m[f.y0 : f.y1, f.x0 : f.x1] += 1.0 / max(1, f.area) ** 0.5  # big faces weigh more, not in proportion to area
    total = float(m.sum())
    return m / total if total > 0 else m


def estimate_subject(importance: np.ndarray, faces: Sequence[Box]) -> Subject | None:
    """The main subject: the blob around the importance peak, at two levels, joined with any faces.

    None when nothing stands out (the peak is not clearly above the rest, or the blob is
    most of the frame) and no face was found, so the search does not chase a subject
    that is not there. The core is what a crop should surely keep; the extent is the
    subject's likely outline, larger because saliency fades towards thin ends.
    """
    h, w = importance.shape
    blurred = _wide_blur(importance, _sigma(importance.shape, 0.03))
    peak = float(blurred.max())
    if peak <= 0 or peak < SUBJECT_MIN_PEAK * float(blurred.mean()):
        return _face_subject(importance, faces)
    py, px = np.unravel_index(int(np.argmax(blurred)), blurred.shape)
    core = _blob(blurred >= SUBJECT_CORE_LEVEL * peak, px, py, importance)[0]
    if core.area > SUBJECT_MAX_AREA * w * h:
        return _face_subject(importance, faces)
    extent, mass, rival = _blob(blurred >= SUBJECT_EXTENT_LEVEL * peak, px, py, importance, merge=SUBJECT_MERGE_MASS)
    gx, gy = round(SUBJECT_GROW * extent.width), round(SUBJECT_GROW * extent.height)
    extent = Box(extent.x0 - gx, extent.y0 - gy, extent.x1 + gx, extent.y1 + gy).clip(w, h)
    if extent.area > SUBJECT_MAX_AREA * w * h:
        extent = core  # the lower level spread over the picture: keep to what surely is the subject
    return _subject(importance, _union([core, *faces]), _union([extent, *faces]), rival / max(mass, 1e-12))


def _blob(mask: np.ndarray, px: int, py: int, importance: np.ndarray, merge: float | None = None) -> tuple[Box, float, float]:
    """Bounding box of the component at (px, py), plus components of comparable mass when `merge` is set.

    Also returns the mass taken and the mass of the strongest component left out.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    masses = np.bincount(labels.ravel(), weights=importance.ravel(), minlength=n)
    masses[0] = 0.0  # the background label
    main = int(labels[py, px])
    taken = [main] + ([j for j in range(1, n) if j != main and masses[j] >= merge * masses[main]] if merge else [])
    left = np.delete(masses, [0, *taken])
    boxes = [Box(int(stats[j, 0]), int(stats[j, 1]), int(stats[j, 0] + stats[j, 2]), int(stats[j, 1] + stats[j, 3])) for j in taken]
    return _union(boxes), float(masses[taken].sum()), float(left.max()) if left.size else 0.0  # type: ignore[return-value]


def _face_subject(importance: np.ndarray, faces: Sequence[Box]) -> Subject | None:
    box = _union(faces)
    return None if box is None else _subject(importance, box, box, 0.0)


def _subject(importance: np.ndarray, core: Box, extent: Box, rivalry: float) -> Subject:
    h, w = importance.shape
    part = importance[extent.y0 : extent.y1, extent.x0 : extent.x1]
    mass = float(part.sum())
    if mass > 0:
        cx = extent.x0 + float((part.sum(axis=0) * np.arange(extent.width)).sum()) / mass + 0.5
        cy = extent.y0 + float((part.sum(axis=1) * np.arange(extent.height)).sum()) / mass + 0.5
    else:
        cx, cy = (extent.x0 + extent.x1) / 2, (extent.y0 + extent.y1) / 2
    share = extent.area / max(1, w * h)
    concentration = (mass / max(1e-12, float(importance.sum()))) / max(share, 1e-6)
    return Subject(core, extent, (cx, cy), concentration, rivalry)


def _union(boxes: Sequence[Box]) -> Box | None:
    if not boxes:
        return None
    return Box(min(b.x0 for b in boxes), min(b.y0 for b in boxes), max(b.x1 for b in boxes), max(b.y1 for b in boxes))


def people_map(mask: np.ndarray) -> np.ndarray:
    """The person mask as a cue: mass over the bodies, so a cut through one counts against a window."""
    return _normalise(mask)


def bodies_of(mask: np.ndarray, heads_found: Sequence[Box]) -> tuple[Box, ...]:
    """For each head, the person blob of the mask (>= PERSON_LEVEL) that overlaps it, as a box.

    A blob no head touches (a statue, a poster) is not a person the crop must keep, nor
    is a speck smaller than a quarter of the head (hair against the sky); two people
    touching are one blob, and then one box.
    """
    _, labels, stats, _ = cv2.connectedComponentsWithStats((mask >= PERSON_LEVEL).astype(np.uint8), connectivity=8)
    found: dict[int, Box] = {}
    for head in heads_found:
        part = labels[head.y0 : head.y1, head.x0 : head.x1]
        for j in np.unique(part[part > 0]):
            x, y, bw, bh, area = (int(v) for v in stats[j, :5])
            if area >= BODY_MIN_SHARE_OF_HEAD * head.area:
                found[int(j)] = Box(x, y, x + bw, y + bh)
    return tuple(found[j] for j in sorted(found))


def compute_cues(
    rgb: np.ndarray, *, detect: bool = True, known_faces: Sequence[Box] | None = None, people: bool = True
) -> Cues:
    """All cues for one displayed-orientation RGB image (H x W x 3, uint8).

    ``known_faces``: the detector's face boxes in ``rgb`` pixels when analysis already
    found them on the same picture (``Features.faces``); the detector is then not run again.
    ``people``: where faces were found, also segment the people (``person_mask``) and
    keep their bodies whole where a crop can (False: faces alone, as before 2026-12).
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("expected an H x W x 3 uint8 RGB array")
    h, w = rgb.shape[:2]
    f = min(1.0, CUE_LONG_SIDE / max(h, w))
    small = rgb if f >= 1.0 else cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    sal = saliency_map(small)
    edges = edge_map(gray)
    skin = skin_map(small)
    # Faces are looked for in the grey of the image given (the detector shrinks it to its
    # own input), not in the small cue image: small faces keep more pixels that way.
    if known_faces is not None:
        face_boxes = tuple(f.clip(w, h) for f in merge_overlapping(known_faces))
    else:
        face_boxes = tuple(find_face_boxes(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))) if detect else ()
    faces = tuple(heads(face_boxes, w, h))
    sx, sy = w / gray.shape[1], h / gray.shape[0]
    found = [
        Box(round(b.x0 / sx), round(b.y0 / sy), round(b.x1 / sx), round(b.y1 / sy)).clip(gray.shape[1], gray.shape[0])
        for b in faces
    ]
    fmap = face_map(gray.shape, found)
    # Only where a face was found: pictures without people pay nothing for the mask.
    mask = person_mask(small) if people and found and default_runtime() is not None else None
    pmap = people_map(mask) if mask is not None else np.zeros(gray.shape, np.float32)
    bodies = bodies_of(mask, found) if mask is not None else ()
    maps = {"saliency": sal, "edges": edges, "skin": skin, "faces": fmap, "people": pmap}
    active = {k: v for k, v in CUE_WEIGHTS.items() if float(maps[k].sum()) > 0}
    total = sum(active.values()) or 1.0
    weights = {k: v / total for k, v in active.items()}
    importance = np.zeros(gray.shape, np.float32)
    for k, wgt in weights.items():
        importance += wgt * maps[k]
    importance *= center_prior(gray.shape)
    total_mass = float(importance.sum())
    if total_mass > 0:
        importance /= total_mass
    # The subject is estimated on the small map (the same blobs, a quarter of the work)
    # and, like the faces, handed on in the pixels of the image given.
    subject = estimate_subject(importance, found)
    if importance.shape != (h, w):
        importance = np.clip(cv2.resize(importance, (w, h), interpolation=cv2.INTER_LINEAR), 0, None)
        importance /= max(1e-12, float(importance.sum()))
        subject = subject.scaled(sx, sy, w, h) if subject is not None else None
    return Cues(
        saliency=sal,
        edges=edges,
        skin=skin,
        faces=faces,
        importance=importance,
        subject=subject,
        weights=weights,
        face_boxes=face_boxes,
        people=None if mask is None else pmap,
        bodies=tuple(
            Box(round(b.x0 * sx), round(b.y0 * sy), round(b.x1 * sx), round(b.y1 * sy)).clip(w, h) for b in bodies
        ),
    )
