"""What an image's faces add up to, for decisions, bursts, keepers and sidecars (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xmpcull.analyse.faces.eyes import summarise
from xmpcull.models import Face


@dataclass(frozen=True)
class FaceSummary:
    count: int
    judged: int  # faces frontal and large enough to judge the eyes
    closed: int  # judged faces with eyes closed
    eyes: str  # "all-open", "some-closed", "cant-tell"
    per_face: tuple[str, ...]  # "right/left" eye states per face, "not-judged" when not judged
    best_variance: float | None  # Laplacian variance of the sharpest face (at 128 px)

    def describe_eyes(self) -> str:
        if self.closed:
            return f"eyes closed on {self.closed} of {self.judged} judged face{'s' if self.judged != 1 else ''}"
        if self.eyes == "all-open":
            return f"eyes open on every judged face ({self.judged})"
        return f"eyes can't be told ({self.count} face{'s' if self.count != 1 else ''}, {self.judged} judged)"


def summarise_faces(faces: Sequence[Face] | None) -> FaceSummary | None:
    """None when faces were not looked for or none were found."""
    if not faces:
        return None
    states = [f.eyes for f in faces]
    variances = [f.variance for f in faces if f.variance is not None]
    return FaceSummary(
        count=len(faces),
        judged=sum(f.judged for f in faces),
        closed=sum(f.closed for f in faces),
        eyes=summarise(states) or "cant-tell",
        per_face=tuple("not-judged" if s is None else "/".join(s) for s in states),
        best_variance=max(variances) if variances else None,
    )
