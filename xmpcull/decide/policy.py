"""The decision policy: what each image's analysis means for its colour label and star rating.

Why a declarative policy: photographers use different label sets and languages
and different habits, so *which* outcome gets *which* label and rating is data
(the ``[policy]``, ``[outcomes.*]`` and ``[labels]`` tables of the TOML config),
and the code only fixes the outcomes and their precedence. ``decide`` is pure:
everything it needs arrives in ``DecisionInputs``.

Precedence (the first that applies wins; docs/config.md has the table):

1. ``duplicate``: a non-keeper member of a duplicate group whose distance to the
   keeper is clearly inside the threshold. A blurry duplicate is a duplicate: its
   keeper stands for the picture, and "cull" is already said.
2. ``failed``: very blurry (absolute sharpness) or badly clipped (exposure).
3. ``needs-review``: any review reason - an ambiguous duplicate distance, soft
   focus (sharp enough not to have failed, too soft to trust without a look at
   100 %), borderline quality, a low-confidence crop that is being applied.
4. ``keeper``: the kept member of a duplicate group.
5. ``best-frame``: the best frame of a burst.
6. ``ok``: nothing to say.

Ratings and labels are proposals. The image's current value wins when it is the
user's: present (rating not 0, label not blank) and different from what xmpcull
recorded last time (``RatingSet`` / ``LabelSet``). A value equal to ours is ours
and may change. ``overwrite_ratings`` / ``overwrite_labels`` make ours win.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from xmpcull.decide.quality import QualityScores
from xmpcull.sidecar.fields import DECISIONS, DecisionFields

LABEL_KEYS = ("red", "yellow", "green", "blue", "purple")
# Review reasons are short stable codes (a Bag in the sidecar, filterable in Lightroom);
# the human detail goes into Decision.reason.
REVIEW_AMBIGUOUS_DUPLICATE = "ambiguous-duplicate"
REVIEW_LOW_CROP_CONFIDENCE = "low-crop-confidence"
REVIEW_BORDERLINE_QUALITY = "borderline-quality"
REVIEW_SOFT_FOCUS = "soft-focus"
REVIEW_EYES_CLOSED = "eyes-closed"
EYES_CLOSED_ACTIONS = ("review", "reject", "off")
# What each code means, for the run summary (docs/config.md "The hand-touch share").
REVIEW_WHY: dict[str, str] = {
    REVIEW_AMBIGUOUS_DUPLICATE: "near duplicates too close to the threshold to call",
    REVIEW_SOFT_FOCUS: "softer than a sharp photo: check focus at 100 %",
    REVIEW_BORDERLINE_QUALITY: "low combined quality (sharpness, exposure, faces)",
    REVIEW_LOW_CROP_CONFIDENCE: "a crop written with low confidence",
    REVIEW_EYES_CLOSED: "eyes closed on a judged face (docs/faces.md)",
}


@dataclass(frozen=True)
class Outcome:
    """What one decision proposes: a label key (from LABEL_KEYS) or None, a rating 1..5 or None."""

    label: str | None = None
    rating: int | None = None


DEFAULT_OUTCOMES: dict[str, Outcome] = {
    "duplicate": Outcome(label="red"),
    "failed": Outcome(label="purple", rating=1),
    "needs-review": Outcome(label="yellow"),
    "keeper": Outcome(label="green"),
    "best-frame": Outcome(label="green"),
    "ok": Outcome(),
}
DEFAULT_LABEL_NAMES: dict[str, str] = {key: key.capitalize() for key in LABEL_KEYS}


@dataclass(frozen=True)
class Policy:
    failed_sharpness: float = 0.15  # absolute sharpness below this: very blurry
    failed_exposure: float = 0.15  # exposure score below this: badly clipped / far off
    # Absolute sharpness below this (and not failed): soft. 0.7 is a Laplacian variance of
    # about 100 at the analysis size; sharp real photos measure 200 or more, the same
    # photos blurred by 1 px at most 92 (docs/quality.md, "Calibration").
    review_sharpness: float = 0.7
    review_quality: float = 0.35  # combined quality below this (and not failed): borderline
    review_crop_confidence: float = 0.5  # best crop proposal less confident than this; 0 = never
    duplicate_threshold: int = 10  # [dupes] threshold: pHash bits
    ambiguous_margin: int = 2  # a near duplicate this close to the threshold is ambiguous
    eyes_closed: str = "review"  # closed eyes on a judged face: "review", "reject" (failed) or "off"
    eyes_group_faces: int = 8  # more faces than this: closed eyes only warn (0 = always flag)
    outcomes: Mapping[str, Outcome] = field(default_factory=lambda: dict(DEFAULT_OUTCOMES))
    label_names: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LABEL_NAMES))
    overwrite_ratings: bool = False
    overwrite_labels: bool = False

    def __post_init__(self) -> None:
        missing = set(DECISIONS) - set(self.outcomes)
        if missing:
            raise ValueError(f"policy has no outcome for {sorted(missing)}")
        for name, outcome in self.outcomes.items():
            if outcome.label is not None and outcome.label not in self.label_names:
                raise ValueError(f"outcome {name!r} uses unknown label {outcome.label!r}")

    def label_for(self, decision: str) -> str | None:
        key = self.outcomes[decision].label
        return None if key is None else self.label_names[key]

    def rating_for(self, decision: str) -> int | None:
        return self.outcomes[decision].rating


@dataclass(frozen=True)
class DecisionInputs:
    """Everything the policy looks at for one image (all optional: missing = does not apply)."""

    dupe_role: str | None = None  # "keeper" | "duplicate" | None (not in a group)
    dupe_distance: int | None = None  # pHash bits to the keeper
    dupe_kind: str | None = None  # "exact" | "near"
    dupe_group: str | None = None  # DupGroup id, for the reason text
    burst_id: str | None = None  # None outside bursts
    best_frame: bool = False
    quality: QualityScores | None = None
    crop_confidence: float | None = None  # of the best crop proposal; None when no crop was proposed
    current_rating: float | None = None  # xmp:Rating now (Metadata.rating or SidecarState.rating)
    current_label: str | None = None  # xmp:Label now
    previous: DecisionFields | None = None  # what xmpcull recorded last run (SidecarState.decision)


@dataclass(frozen=True)
class Decision:
    decision: str  # one of xmpcull.sidecar.fields.DECISIONS
    review_reasons: tuple[str, ...]  # codes, only when decision == "needs-review"
    rating: int | None  # the xmp:Rating xmpcull writes (None: none, or the user's value is kept)
    label: str | None  # the xmp:Label xmpcull writes (None: none, or the user's value is kept)
    reason: str  # one human sentence: why this decision
    kept_user_values: tuple[str, ...] = ()  # e.g. "xmp:Label='Green' (set by the user, kept)"

    def to_fields(self) -> DecisionFields:
        return DecisionFields(
            decision=self.decision, review_reasons=self.review_reasons, rating=self.rating, label=self.label
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "decision": self.decision,
            "review_reasons": list(self.review_reasons),
            "rating": self.rating,
            "label": self.label,
            "reason": self.reason,
            "kept_user_values": list(self.kept_user_values),
        }


def _is_ambiguous(inputs: DecisionInputs, policy: Policy) -> bool:
    if inputs.dupe_role != "duplicate" or inputs.dupe_kind == "exact" or inputs.dupe_distance is None:
        return False
    return inputs.dupe_distance > policy.duplicate_threshold - policy.ambiguous_margin


def _closed_eyes(q: QualityScores | None, policy: Policy) -> str | None:
    """The reason text when closed eyes count under the policy (None: no closed eyes, or off)."""
    faces = q.faces if q is not None else None
    if faces is None or not faces.closed or policy.eyes_closed == "off":
        return None
    return faces.describe_eyes()


def _group_photo(q: QualityScores | None, policy: Policy) -> bool:
    return q is not None and q.faces is not None and 0 < policy.eyes_group_faces < q.faces.count


def _failures(q: QualityScores | None, policy: Policy) -> list[str]:
    if q is None:
        return []
    found = []
    closed = _closed_eyes(q, policy)
    if closed and policy.eyes_closed == "reject" and not _group_photo(q, policy):
        found.append(closed)
    if q.sharpness_absolute < policy.failed_sharpness:
        found.append(f"very blurry (absolute sharpness {q.sharpness_absolute:.2f} < {policy.failed_sharpness:g})")
    if q.exposure < policy.failed_exposure:
        found.append(f"badly exposed (exposure {q.exposure:.2f} < {policy.failed_exposure:g})")
    return found


def _review(inputs: DecisionInputs, policy: Policy) -> list[tuple[str, str]]:
    reasons = []
    if _is_ambiguous(inputs, policy):
        reasons.append(
            (
                REVIEW_AMBIGUOUS_DUPLICATE,
                (
                    f"duplicate distance {inputs.dupe_distance} is within {policy.ambiguous_margin} bits of "
                    f"the threshold {policy.duplicate_threshold}"
                ),
            )
        )
    if inputs.crop_confidence is not None and inputs.crop_confidence < policy.review_crop_confidence:
        reasons.append(
            (REVIEW_LOW_CROP_CONFIDENCE, f"crop confidence {inputs.crop_confidence:.2f} < {policy.review_crop_confidence:g}")
        )
    q = inputs.quality
    if q is not None and q.sharpness_absolute < policy.review_sharpness:
        reasons.append(
            (REVIEW_SOFT_FOCUS, f"soft (absolute sharpness {q.sharpness_absolute:.2f} < {policy.review_sharpness:g})")
        )
    if q is not None and q.quality < policy.review_quality:
        reasons.append((REVIEW_BORDERLINE_QUALITY, f"quality {q.quality:.2f} < {policy.review_quality:g}"))
    closed = _closed_eyes(q, policy)
    if closed and policy.eyes_closed == "review" and not _group_photo(q, policy):
        reasons.append((REVIEW_EYES_CLOSED, closed))
    return reasons


def _in_group(inputs: DecisionInputs) -> str:
    return f" {inputs.dupe_group}" if inputs.dupe_group else ""


def classify(inputs: DecisionInputs, policy: Policy) -> tuple[str, tuple[str, ...], str]:
    """(decision, review reason codes, human reason), by the precedence in the module docstring."""
    if inputs.dupe_role == "duplicate" and not _is_ambiguous(inputs, policy):
        distance = "exact copy" if inputs.dupe_kind == "exact" else f"distance {inputs.dupe_distance}"
        return "duplicate", (), f"duplicate in group{_in_group(inputs)} ({distance}); the keeper stays"
    failures = _failures(inputs.quality, policy)
    if failures:
        return "failed", (), "; ".join(failures)
    review = _review(inputs, policy)
    if review:
        return "needs-review", tuple(code for code, _ in review), "; ".join(text for _, text in review)
    note = ""
    closed = _closed_eyes(inputs.quality, policy)
    if closed and _group_photo(inputs.quality, policy):
        note = f" ({closed}: group photo of {inputs.quality.faces.count} faces, not flagged)"  # type: ignore[union-attr]
    if inputs.dupe_role == "keeper":
        return "keeper", (), f"keeper of duplicate group{_in_group(inputs)}{note}"
    if inputs.burst_id is not None and inputs.best_frame:
        return "best-frame", (), f"best frame of burst {inputs.burst_id}{note}"
    return "ok", (), "nothing to flag" + note


def _users_rating(current: float | None, previous: int | None) -> bool:
    # xmp:Rating 0 (or absent) is "unrated": no decision of the user's to keep.
    return current is not None and current != 0 and (previous is None or current != previous)


def _users_label(current: str | None, previous: str | None) -> bool:
    return current is not None and current.strip() != "" and current != previous


def _cleared(current: float | str | None, previous: int | str | None, proposed: int | str) -> bool:
    empty = current is None or current == 0 or (isinstance(current, str) and not current.strip())
    return previous is not None and empty and proposed == previous


def decide(inputs: DecisionInputs, policy: Policy = Policy()) -> Decision:
    """The decision for one image, with the rating/label xmpcull may write under the user-wins rule."""
    decision, review_reasons, reason = classify(inputs, policy)
    rating = policy.rating_for(decision)
    label = policy.label_for(decision)
    previous_rating = inputs.previous.rating if inputs.previous else None
    previous_label = inputs.previous.label if inputs.previous else None
    kept = []
    if not policy.overwrite_ratings and _users_rating(inputs.current_rating, previous_rating):
        kept.append(f"xmp:Rating={inputs.current_rating:g} (set by the user, kept)")
        rating = None
    if not policy.overwrite_labels and _users_label(inputs.current_label, previous_label):
        kept.append(f"xmp:Label={inputs.current_label!r} (set by the user, kept)")
        label = None
    # A value xmpcull set that is gone now was removed by the user: not proposed again
    # (a different proposal, after a new decision, is still made).
    if not policy.overwrite_ratings and rating is not None and _cleared(inputs.current_rating, previous_rating, rating):
        kept.append(f"xmp:Rating removed by the user (xmpcull had set {previous_rating}); not set again")
        rating = None
    if not policy.overwrite_labels and label is not None and _cleared(inputs.current_label, previous_label, label):
        kept.append(f"xmp:Label removed by the user (xmpcull had set {previous_label!r}); not set again")
        label = None
    return Decision(decision, review_reasons, rating, label, reason, tuple(kept))


def hand_touch_share(decisions: Iterable[Decision | DecisionFields | str]) -> float:
    """Share of decided images whose decision is ``needs-review``, in [0, 1]; 0.0 for none.

    The denominator is every image that got a decision (duplicates and failed
    included; files that could not be analysed get no decision and are not
    counted). An image counts by its decision even when its Yellow label was not
    written because the user's own label was kept.
    """
    total = 0
    review = 0
    for item in decisions:
        name = item if isinstance(item, str) else item.decision
        total += 1
        review += name == "needs-review"
    return review / total if total else 0.0


def flagged_counts(decisions: Iterable[Decision]) -> dict[str, int]:
    """How many needs-review images carry each review reason code (an image may carry several)."""
    counts: dict[str, int] = {}
    for decision in decisions:
        if decision.decision == "needs-review":
            for code in decision.review_reasons:
                counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items()))
