"""The best frame of a burst: eyes open on every judged face, then the sharpest face, then the
sharpest frame, exposure between near-equally sharp frames, then the earliest. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from xmpcull.group.burst_frames import Shot

# Frames whose sharpness is within this share of the sharpest count as equally
# sharp, and exposure decides between them (Laplacian variance is noisy).
SHARPNESS_TIE_SHARE = 0.05


def choose_best(shots: Sequence[Shot]) -> tuple[int, str]:
    """Index of the best frame and why: eyes open on every judged face, then the sharpest
    face, then the sharpest frame, exposure between near-equally sharp frames, then earliest."""
    faced = _by_faces(shots)
    return faced if faced is not None else _by_frame(shots)


def _by_frame(shots: Sequence[Shot]) -> tuple[int, str]:
    """Sharpest frame, exposure between near-equally sharp frames, then earliest."""
    scored = [i for i, s in enumerate(shots) if s.sharpness is not None]
    if not scored:
        return 0, "no quality features; first frame"
    by_sharpness = sorted(scored, key=lambda i: (-shots[i].sharpness, i))  # type: ignore[operator]
    top = shots[by_sharpness[0]].sharpness or 0.0
    contenders = [i for i in by_sharpness if (shots[i].sharpness or 0.0) >= top * (1 - SHARPNESS_TIE_SHARE)]
    if len(contenders) == 1:
        best = contenders[0]
        runner = by_sharpness[1] if len(by_sharpness) > 1 else None
        if runner is None:
            return best, f"only frame with quality features (Laplacian var {top:.0f})"
        return best, f"sharpest (Laplacian var {top:.0f} vs next {shots[runner].sharpness:.0f})"
    with_exposure = [i for i in contenders if shots[i].exposure_error() is not None]
    if not with_exposure:
        best = contenders[0]
        return best, f"sharpest (Laplacian var {top:.0f}; others within {SHARPNESS_TIE_SHARE:.0%}, no exposure data)"
    ranked = sorted(with_exposure, key=lambda i: (shots[i].exposure_error(), -(shots[i].sharpness or 0.0), i))
    best, runner = ranked[0], (ranked[1] if len(ranked) > 1 else None)
    chosen = shots[best]
    reason = (
        f"as sharp as the sharpest (Laplacian var {chosen.sharpness:.0f} vs {top:.0f}, within {SHARPNESS_TIE_SHARE:.0%}); "
        f"best exposure (mean {chosen.mean_luma:.2f}, clipped {_clipped(chosen):.1%}"
    )
    if runner is not None:
        other = shots[runner]
        reason += f" vs {other.mean_luma:.2f}, {_clipped(other):.1%}"
    return best, reason + ")"


def _by_faces(shots: Sequence[Shot]) -> tuple[int, str] | None:
    """The frame the faces decide, or None when they do not (no faces, or all frames alike)."""
    judged = [i for i, s in enumerate(shots) if s.closed_faces is not None]
    if not judged:
        return None
    fewest = min(shots[i].closed_faces for i in judged)  # type: ignore[type-var]
    open_frames = [i for i in judged if shots[i].closed_faces == fewest]
    if len(open_frames) < len(judged):
        worst = max(shots[i].closed_faces for i in judged)  # type: ignore[type-var]
        closed_text = "eyes open on every judged face" if fewest == 0 else f"eyes closed on {fewest} face(s)"
        reason = f"{closed_text} (other frames: closed on up to {worst})"
    else:
        reason = ""
    sharp = [i for i in open_frames if shots[i].face_variance is not None]
    if len(sharp) > 1:
        ranked = sorted(sharp, key=lambda i: (-(shots[i].face_variance or 0.0), i))
        top, runner = shots[ranked[0]].face_variance or 0.0, shots[ranked[1]].face_variance or 0.0
        if runner < top * (1 - SHARPNESS_TIE_SHARE):
            face_text = f"sharpest face (Laplacian var {top:.0f} vs next {runner:.0f})"
            return ranked[0], f"{reason}; {face_text}" if reason else face_text
    if not reason:
        return None
    if len(open_frames) == 1:
        return open_frames[0], reason
    # Several frames with open eyes and equally sharp faces: the usual order among them.
    index, why = _by_frame([s if i in open_frames else replace(s, sharpness=None) for i, s in enumerate(shots)])
    return index, f"{reason}; {why}"


def _clipped(shot: Shot) -> float:
    return (shot.clip_high or 0.0) + (shot.clip_low or 0.0)
