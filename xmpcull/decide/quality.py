"""Quality scores in [0, 1] per image: sharpness, exposure, face sharpness, and one combined value.

Why this module exists: the decision policy needs numbers a photographer can read
and sort by ("Sharpness 0.12" in Lightroom means *blurry*). Everything here is pure
numpy over ``Features`` (computed once by analysis) and the burst grouping, so the
maths is property-tested without files. docs/quality.md explains every formula;
the numbers it depends on are the ``QualitySettings`` defaults, calibrated on the
fixture photos at the analysis size (long side 512 px):

* sharp real photos measure a Laplacian variance of 200-1800, the same photos
  blurred with a Gaussian of sigma 1 px measure 27-110, sigma 2 px 4-18;
* real, well-exposed photos have up to ~7 % blown highlights and up to ~26 %
  crushed shadows, so clipping is only penalised beyond those shares.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from xmpcull.models import Features, ImageRecord
from xmpcull.sidecar.fields import QualityFields

# numpy, OpenCV and the face package are imported by the functions that use them: the
# settings here are read by every command, and `analyze` on a cached tree needs none of them.
if TYPE_CHECKING:
    import numpy as np

    from xmpcull.analyse.faces.summary import FaceSummary


@dataclass(frozen=True)
class SharpnessSettings:
    blur_floor: float = 20.0  # Laplacian variance at or below which absolute sharpness is 0
    sharp_ceiling: float = 200.0  # ... at or above which it is 1 (log scale in between)


@dataclass(frozen=True)
class ExposureSettings:
    highlight_tolerance: float = 0.05  # share of blown pixels (>= 250/255) that costs nothing
    highlight_limit: float = 0.40  # ... that costs everything
    shadow_tolerance: float = 0.15  # share of crushed pixels (<= 5/255) that costs nothing
    shadow_limit: float = 0.70
    mean_tolerance: float = 0.30  # |mean luminance - 0.5| that costs nothing
    mean_limit: float = 0.50


@dataclass(frozen=True)
class FaceSettings:
    # Laplacian variance of the detector's face box resized to 64 px (analyse.faces.sharpness):
    # 0 at or below floor, 1 at or above ceiling. On the fixtures' faces the originals gave
    # 223-907, the same blurred by sigma 2 px (analysis size) 8-69, by 3 px 4-31.
    floor: float = 20.0
    ceiling: float = 300.0


@dataclass(frozen=True)
class QualitySettings:
    sharpness_weight: float = 0.5
    exposure_weight: float = 0.3
    face_weight: float = 0.2  # used only when a face was measured; the others are renormalised
    sharpness: SharpnessSettings = SharpnessSettings()
    exposure: ExposureSettings = ExposureSettings()
    faces: FaceSettings = FaceSettings()


@dataclass(frozen=True)
class QualityScores:
    """One image's scores, each in [0, 1], 1 = best. The first four go to the sidecar.

    Those four describe the image alone (an absolute scale, docs/quality.md), so
    adding or removing other photos never rewrites a sidecar; the ranks within the
    set and the burst depend on the other photos and go to the report only.
    """

    quality: float
    sharpness: float
    exposure: float
    face_sharpness: float | None = None
    sharpness_absolute: float = 0.0  # == sharpness (kept by this name for the policy and the report)
    sharpness_in_set: float = 0.5  # report only: percentile rank among all analysed images
    sharpness_in_burst: float | None = None  # report only: vs the burst's sharpest frame; None outside bursts
    faces: FaceSummary | None = None  # None: no face found (or faces not looked for)

    def to_fields(self) -> QualityFields:
        f = self.faces
        return QualityFields(
            quality=self.quality,
            sharpness=self.sharpness,
            exposure=self.exposure,
            face_sharpness=self.face_sharpness,
            face_count=f.count if f else None,
            eyes=f.eyes if f else None,
            eyes_closed_faces=f.closed if f else None,
            face_eyes=f.per_face if f else (),
        )

    def to_dict(self) -> dict[str, float | None]:
        return {
            "quality": round(self.quality, 4),
            "sharpness": round(self.sharpness, 4),
            "exposure": round(self.exposure, 4),
            "face_sharpness": None if self.face_sharpness is None else round(self.face_sharpness, 4),
            "sharpness_absolute": round(self.sharpness_absolute, 4),
            "sharpness_in_set": round(self.sharpness_in_set, 4),
            "sharpness_in_burst": None if self.sharpness_in_burst is None else round(self.sharpness_in_burst, 4),
            "face_count": self.faces.count if self.faces else 0,
            "eyes": self.faces.eyes if self.faces else None,
            "eyes_closed_faces": self.faces.closed if self.faces else None,
        }


class _ShotLike(Protocol):
    @property
    def path(self) -> str: ...

    @property
    def companions(self) -> tuple[str, ...]: ...


class _BurstLike(Protocol):
    """What score_quality needs of a burst (xmpcull.group.bursts.Burst fits)."""

    @property
    def shots(self) -> Sequence[_ShotLike]: ...

    @property
    def is_burst(self) -> bool: ...


def clamp01(value: float) -> float:
    if not math.isfinite(value):
        return 0.0
    return min(1.0, max(0.0, float(value)))


def ramp(value: float, start: float, end: float) -> float:
    """0 at or below ``start``, 1 at or above ``end``, linear in between."""
    if end <= start:
        return 1.0 if value > start else 0.0
    return clamp01((value - start) / (end - start))


def log_ramp(variance: float, floor: float, ceiling: float) -> float:
    """A Laplacian variance mapped to [0, 1], linear in log10 between ``floor`` and ``ceiling``."""
    if not variance > 0:  # also NaN
        return 0.0
    return ramp(math.log10(variance), math.log10(max(floor, 1e-9)), math.log10(max(ceiling, 1e-9)))


def percentile_ranks(values: np.ndarray) -> np.ndarray:
    """Mid-rank percentile of each value among all: (below + equal / 2 - 1/2) / (n - 1), in [0, 1].

    The lowest value gets 0 and the highest 1; ties share a rank; one value alone gets 0.5.
    """
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    n = values.size
    if n == 0:
        return values
    if n == 1:
        return np.full(1, 0.5)
    ordered = np.sort(values)
    below = np.searchsorted(ordered, values, side="left")
    equal = np.searchsorted(ordered, values, side="right") - below
    return np.clip((below + (equal - 1) / 2.0) / (n - 1), 0.0, 1.0)


def burst_ratio(variance: float, burst_max: float) -> float:
    """sqrt(variance / sharpest variance): the RMS Laplacian ratio, linear in edge contrast."""
    if not burst_max > 0:
        return 1.0  # every frame equally flat: none is worse than the others
    return clamp01(math.sqrt(max(variance, 0.0) / burst_max))


def exposure_score(features: Features, settings: ExposureSettings = ExposureSettings()) -> float:
    """1 minus the penalties for blown highlights, crushed shadows and a mean far from mid-grey (multiplied)."""
    s = settings
    highlights = ramp(features.clip_high, s.highlight_tolerance, s.highlight_limit)
    shadows = ramp(features.clip_low, s.shadow_tolerance, s.shadow_limit)
    mean = ramp(abs(features.mean_luma - 0.5), s.mean_tolerance, s.mean_limit)
    return clamp01((1.0 - highlights) * (1.0 - shadows) * (1.0 - mean))


def combine(scores: Iterable[tuple[float, float]]) -> float:
    """Weighted geometric mean of (score, weight) pairs: one very bad part pulls the whole down."""
    pairs = [(clamp01(s), w) for s, w in scores if w > 0]
    total = sum(w for _, w in pairs)
    if total <= 0:
        return 0.0
    if any(s == 0.0 for s, _ in pairs):
        return 0.0
    return clamp01(math.exp(sum(w * math.log(s) for s, w in pairs) / total))


def _burst_members(bursts: Iterable[_BurstLike] | None) -> list[list[str]]:
    groups: list[list[str]] = []
    for burst in bursts or ():
        if not burst.is_burst:
            continue
        members = []
        for shot in burst.shots:
            members.append(str(shot.path))
            members.extend(str(c) for c in shot.companions)  # RAW+JPEG: one frame
        groups.append(members)
    return groups


def score_quality(
    records: Iterable[ImageRecord],
    bursts: Iterable[_BurstLike] | None = None,
    face_sharpness: Mapping[Path, float | None] | None = None,
    settings: QualitySettings = QualitySettings(),
) -> dict[Path, QualityScores]:
    """Scores for every analysed record (records without features are left out).

    ``bursts`` (from xmpcull.group.bursts) gives each burst member its ratio to the
    burst's sharpest frame. ``face_sharpness`` maps a path to the value from
    ``face_sharpness()`` when faces were measured.
    """
    import numpy as np

    from xmpcull.analyse.faces.summary import summarise_faces

    analysed = [r for r in records if r.ok and r.features is not None]
    if not analysed:
        return {}
    variances = np.array([max(0.0, float(r.features.sharpness)) for r in analysed])  # type: ignore[union-attr]
    ranks = percentile_ranks(np.log1p(variances))
    index = {str(r.file.path): i for i, r in enumerate(analysed)}
    in_burst: dict[int, float] = {}
    for members in _burst_members(bursts):
        positions = [index[p] for p in members if p in index]
        if len(positions) < 2:
            continue
        sharpest = float(variances[positions].max())
        for i in positions:
            in_burst[i] = burst_ratio(float(variances[i]), sharpest)
    faces = face_sharpness or {}
    s = settings
    result: dict[Path, QualityScores] = {}
    for i, record in enumerate(analysed):
        features = record.features
        assert features is not None
        absolute = log_ramp(float(variances[i]), s.sharpness.blur_floor, s.sharpness.sharp_ceiling)
        sharp = absolute  # the image alone: ranks would move whenever another photo comes or goes
        exposure = exposure_score(features, s.exposure)
        found = summarise_faces(features.faces)
        if found is not None and found.best_variance is not None:  # the analysis's detector, when it ran
            face: float | None = log_ramp(found.best_variance, s.faces.floor, s.faces.ceiling)
        else:
            face = faces.get(record.file.path)
            face = None if face is None else clamp01(face)
        parts = [(sharp, s.sharpness_weight), (exposure, s.exposure_weight)]
        if face is not None:
            parts.append((face, s.face_weight))
        result[record.file.path] = QualityScores(
            quality=combine(parts),
            sharpness=sharp,
            exposure=exposure,
            face_sharpness=face,
            sharpness_absolute=absolute,
            sharpness_in_set=float(ranks[i]),
            sharpness_in_burst=in_burst.get(i),
            faces=found,
        )
    return result


def face_sharpness(grey: np.ndarray, faces: Sequence[object], settings: FaceSettings = FaceSettings()) -> float | None:
    """Sharpness in [0, 1] of the sharpest face, or None when no face is large enough to judge.

    ``grey``: the 2-D uint8 image the boxes refer to (the analysis-size grey image);
    ``faces``: the detector's face boxes in its pixels (``Cues.face_boxes``, not the
    grown head boxes, see ``xmpcull.analyse.faces.sharpness``), or (x0, y0, x1, y1) tuples. The sharpest face counts because focus on the subject
    is what a photographer checks first; a blurred face behind it is depth of field.
    """
    import cv2
    import numpy as np

    from xmpcull.analyse.faces.sharpness import face_variance

    grey = np.asarray(grey)
    if grey.ndim == 3:
        grey = cv2.cvtColor(grey.astype(np.uint8), cv2.COLOR_RGB2GRAY)
    values = [v for v in (face_variance(grey, box) for box in faces) if v is not None]
    if not values:
        return None
    return log_ramp(max(values), settings.floor, settings.ceiling)
