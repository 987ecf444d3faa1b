"""The decision policy: outcome table, precedence, user decisions kept, hand-touch share."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xmpcull.config import load_config
from xmpcull.decide.policy import (
    REVIEW_AMBIGUOUS_DUPLICATE,
    REVIEW_BORDERLINE_QUALITY,
    REVIEW_EYES_CLOSED,
    REVIEW_LOW_CROP_CONFIDENCE,
    REVIEW_SOFT_FOCUS,
    REVIEW_WHY,
    Decision,
    DecisionInputs,
    Policy,
    decide,
    flagged_counts,
    hand_touch_share,
)
from xmpcull.decide.quality import QualityScores
from xmpcull.sidecar.engine import read_sidecar, write_sidecar
from xmpcull.sidecar.fields import DECISIONS, DecisionFields, SidecarUpdate, WriteOptions

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
POLICY = Policy()


def q(quality: float = 0.9, absolute: float = 1.0, exposure: float = 0.95) -> QualityScores:
    return QualityScores(quality=quality, sharpness=absolute, exposure=exposure, sharpness_absolute=absolute)


GOOD = q()
BLURRY = q(quality=0.1, absolute=0.05)
BLOWN = q(quality=0.0, exposure=0.0)
BORDERLINE = q(quality=0.3, absolute=0.8, exposure=0.2)  # sharp enough, but weak as a whole
SOFT = q(quality=0.6, absolute=0.5)  # not failed, too soft to trust unseen
SOFT_AND_WEAK = q(quality=0.3, absolute=0.4)

# (case, inputs, decision, review reasons, rating, label) with the default policy.
TABLE = [
    ("single good photo", DecisionInputs(quality=GOOD), "ok", (), None, None),
    ("no quality known", DecisionInputs(), "ok", (), None, None),
    ("exact duplicate", DecisionInputs(dupe_role="duplicate", dupe_kind="exact", dupe_distance=0, quality=GOOD), "duplicate", (), None, "Red"),
    ("near duplicate", DecisionInputs(dupe_role="duplicate", dupe_kind="near", dupe_distance=4, quality=GOOD), "duplicate", (), None, "Red"),
    ("keeper", DecisionInputs(dupe_role="keeper", dupe_kind="near", dupe_distance=0, quality=GOOD), "keeper", (), None, "Green"),
    ("best frame", DecisionInputs(burst_id="b1", best_frame=True, quality=GOOD), "best-frame", (), None, "Green"),
    ("other burst frame", DecisionInputs(burst_id="b1", best_frame=False, quality=GOOD), "ok", (), None, None),
    ("very blurry", DecisionInputs(quality=BLURRY), "failed", (), 1, "Purple"),
    ("blown out", DecisionInputs(quality=BLOWN), "failed", (), 1, "Purple"),
    ("borderline quality", DecisionInputs(quality=BORDERLINE), "needs-review", (REVIEW_BORDERLINE_QUALITY,), None, "Yellow"),
    ("soft focus", DecisionInputs(quality=SOFT), "needs-review", (REVIEW_SOFT_FOCUS,), None, "Yellow"),
    ("soft keeper needs a look", DecisionInputs(dupe_role="keeper", quality=SOFT), "needs-review", (REVIEW_SOFT_FOCUS,), None, "Yellow"),
    ("soft duplicate is a duplicate", DecisionInputs(dupe_role="duplicate", dupe_kind="near", dupe_distance=3, quality=SOFT), "duplicate", (), None, "Red"),
    ("low-confidence crop", DecisionInputs(quality=GOOD, crop_confidence=0.2), "needs-review", (REVIEW_LOW_CROP_CONFIDENCE,), None, "Yellow"),
    ("confident crop", DecisionInputs(quality=GOOD, crop_confidence=0.9), "ok", (), None, None),
    ("ambiguous duplicate", DecisionInputs(dupe_role="duplicate", dupe_kind="near", dupe_distance=9, quality=GOOD), "needs-review", (REVIEW_AMBIGUOUS_DUPLICATE,), None, "Yellow"),
    ("duplicate at the threshold", DecisionInputs(dupe_role="duplicate", dupe_kind="near", dupe_distance=10, quality=GOOD), "needs-review", (REVIEW_AMBIGUOUS_DUPLICATE,), None, "Yellow"),
    ("duplicate just clear of the margin", DecisionInputs(dupe_role="duplicate", dupe_kind="near", dupe_distance=8, quality=GOOD), "duplicate", (), None, "Red"),
    # Precedence when several apply.
    ("blurry duplicate is a duplicate", DecisionInputs(dupe_role="duplicate", dupe_kind="near", dupe_distance=3, quality=BLURRY), "duplicate", (), None, "Red"),
    ("blurry keeper is failed", DecisionInputs(dupe_role="keeper", quality=BLURRY), "failed", (), 1, "Purple"),
    ("blurry best frame is failed", DecisionInputs(burst_id="b1", best_frame=True, quality=BLURRY), "failed", (), 1, "Purple"),
    ("failed beats review", DecisionInputs(quality=BLOWN, crop_confidence=0.1), "failed", (), 1, "Purple"),
    ("ambiguous blurry duplicate is failed", DecisionInputs(dupe_role="duplicate", dupe_kind="near", dupe_distance=10, quality=BLURRY), "failed", (), 1, "Purple"),
    ("review beats keeper", DecisionInputs(dupe_role="keeper", quality=GOOD, crop_confidence=0.1), "needs-review", (REVIEW_LOW_CROP_CONFIDENCE,), None, "Yellow"),
    ("review beats best frame", DecisionInputs(burst_id="b1", best_frame=True, quality=BORDERLINE), "needs-review", (REVIEW_BORDERLINE_QUALITY,), None, "Yellow"),
    ("keeper beats best frame", DecisionInputs(dupe_role="keeper", burst_id="b1", best_frame=True, quality=GOOD), "keeper", (), None, "Green"),
    ("every review reason", DecisionInputs(dupe_role="duplicate", dupe_kind="near", dupe_distance=10, quality=SOFT_AND_WEAK, crop_confidence=0.1), "needs-review",
     (REVIEW_AMBIGUOUS_DUPLICATE, REVIEW_LOW_CROP_CONFIDENCE, REVIEW_SOFT_FOCUS, REVIEW_BORDERLINE_QUALITY), None, "Yellow"),
]


@pytest.mark.parametrize(("case", "inputs", "decision", "reasons", "rating", "label"), TABLE, ids=[row[0] for row in TABLE])
def test_policy_table(case: str, inputs: DecisionInputs, decision: str, reasons: tuple[str, ...], rating: int | None, label: str | None) -> None:
    result = decide(inputs, POLICY)
    assert (result.decision, result.review_reasons, result.rating, result.label) == (decision, reasons, rating, label)
    assert result.reason
    assert result.to_fields().decision == decision  # the sidecar record accepts it


def test_every_outcome_is_reachable() -> None:
    assert {decide(row[1], POLICY).decision for row in TABLE} == set(DECISIONS)


def test_reason_says_why() -> None:
    dup = decide(DecisionInputs(dupe_role="duplicate", dupe_kind="near", dupe_distance=4, dupe_group="d-1234abcd"))
    assert "d-1234abcd" in dup.reason and "distance 4" in dup.reason
    blurry = decide(DecisionInputs(quality=BLURRY))
    assert "very blurry" in blurry.reason
    ambiguous = decide(DecisionInputs(dupe_role="duplicate", dupe_kind="near", dupe_distance=9))
    assert "distance 9" in ambiguous.reason and "threshold 10" in ambiguous.reason


def test_flagged_counts_say_what_and_every_code_has_a_why() -> None:
    decisions = [decide(DecisionInputs(quality=x)) for x in (GOOD, SOFT, SOFT, SOFT_AND_WEAK, BLURRY)]
    assert flagged_counts(decisions) == {REVIEW_SOFT_FOCUS: 3, REVIEW_BORDERLINE_QUALITY: 1}
    assert set(REVIEW_WHY) == {REVIEW_AMBIGUOUS_DUPLICATE, REVIEW_SOFT_FOCUS, REVIEW_BORDERLINE_QUALITY, REVIEW_LOW_CROP_CONFIDENCE,
                               REVIEW_EYES_CLOSED}
    assert decide(DecisionInputs(quality=SOFT), Policy(review_sharpness=0.0)).decision == "ok"  # 0 turns it off


def test_thresholds_come_from_the_policy() -> None:
    strict = Policy(failed_sharpness=0.5, review_quality=0.95, duplicate_threshold=6, ambiguous_margin=0, review_crop_confidence=0.0)
    assert decide(DecisionInputs(quality=q(absolute=0.4)), strict).decision == "failed"
    assert decide(DecisionInputs(quality=q(quality=0.9)), strict).decision == "needs-review"
    assert decide(DecisionInputs(dupe_role="duplicate", dupe_kind="near", dupe_distance=6), strict).decision == "duplicate"
    assert decide(DecisionInputs(crop_confidence=0.01), strict).decision == "ok"  # 0 turns the crop check off


def test_label_names_and_ratings_come_from_the_config(tmp_path: Path) -> None:
    path = tmp_path / "xmpcull.toml"
    path.write_text(
        '[labels]\nred = "Rot"\ngreen = "Verde"\n'
        '[outcomes.keeper]\nrating = 4\n'
        '[outcomes.duplicate]\nlabel = "blue"\n'
        '[outcomes.failed]\nlabel = ""\nrating = 0\n',
        encoding="utf-8",
    )
    policy = load_config(path).policy
    keeper = decide(DecisionInputs(dupe_role="keeper", quality=GOOD), policy)
    assert (keeper.label, keeper.rating) == ("Verde", 4)
    assert decide(DecisionInputs(dupe_role="duplicate", dupe_kind="exact", dupe_distance=0), policy).label == "Blue"
    failed = decide(DecisionInputs(quality=BLURRY), policy)
    assert (failed.decision, failed.label, failed.rating) == ("failed", None, None)
    path.write_text('[labels]\nred = "Rot"\n', encoding="utf-8")
    assert decide(DecisionInputs(dupe_role="duplicate", dupe_kind="exact", dupe_distance=0), load_config(path).policy).label == "Rot"


# ---------------------------------------------------------------- the user's decisions


DUPLICATE = DecisionInputs(dupe_role="duplicate", dupe_kind="exact", dupe_distance=0, quality=GOOD)
FAILED = DecisionInputs(quality=BLURRY)


def test_user_label_and_rating_win() -> None:
    result = decide(dataclasses.replace(FAILED, current_label="Blue", current_rating=4))
    assert result.decision == "failed"
    assert (result.label, result.rating) == (None, None)
    assert result.kept_user_values == ("xmp:Rating=4 (set by the user, kept)", "xmp:Label='Blue' (set by the user, kept)")


def test_our_earlier_values_are_ours_and_updated() -> None:
    previous = DecisionFields(decision="failed", rating=1, label="Purple")
    result = decide(dataclasses.replace(DUPLICATE, current_label="Purple", current_rating=1, previous=previous))
    assert (result.decision, result.label, result.rating) == ("duplicate", "Red", None)
    assert result.kept_user_values == ()


def test_user_changed_our_label() -> None:
    # We set Red; the user made it Green in Lightroom: Green is the user's now.
    previous = DecisionFields(decision="duplicate", label="Red")
    result = decide(dataclasses.replace(DUPLICATE, current_label="Green", previous=previous))
    assert result.label is None and result.decision == "duplicate"
    assert "Green" in result.kept_user_values[0]


def test_unrated_and_blank_are_not_user_values() -> None:
    result = decide(dataclasses.replace(FAILED, current_rating=0, current_label="  "))
    assert (result.rating, result.label) == (1, "Purple")


def test_overwrite_flags_make_ours_win() -> None:
    inputs = dataclasses.replace(FAILED, current_label="Blue", current_rating=4)
    both = decide(inputs, Policy(overwrite_ratings=True, overwrite_labels=True))
    assert (both.rating, both.label, both.kept_user_values) == (1, "Purple", ())
    labels_only = decide(inputs, Policy(overwrite_labels=True))
    assert (labels_only.rating, labels_only.label) == (None, "Purple")


@given(
    st.sampled_from([row[1] for row in TABLE]),
    st.one_of(st.none(), st.sampled_from([-1.0, 0.0, 1.0, 3.0, 5.0])),
    st.one_of(st.none(), st.sampled_from(["", "Red", "Green", "Purple", "Rot"])),
    st.one_of(st.none(), st.builds(DecisionFields, decision=st.sampled_from(DECISIONS), rating=st.one_of(st.none(), st.integers(1, 5)),
                                   label=st.one_of(st.none(), st.sampled_from(["Red", "Green", "Purple"])))),
)
def test_a_user_value_is_never_replaced(inputs: DecisionInputs, rating: float | None, label: str | None, previous: DecisionFields | None) -> None:
    result = decide(dataclasses.replace(inputs, current_rating=rating, current_label=label, previous=previous))
    users_rating = rating not in (None, 0.0) and (previous is None or previous.rating != rating)
    users_label = label not in (None, "") and (previous is None or previous.label != label)
    if users_rating:
        assert result.rating is None
    if users_label:
        assert result.label is None
    if not users_rating and not users_label:
        # The only other reason to hold back: the user removed a value xmpcull had set.
        assert all("removed by the user" in kept for kept in result.kept_user_values)
    if previous is not None and label in (None, "") and previous.label is not None:
        assert result.label != previous.label  # a removed label is never proposed again
    # The decision itself never depends on who owns the label.
    assert result.decision == decide(inputs).decision


def test_user_decisions_survive_a_rerun_through_real_sidecars(tmp_path: Path) -> None:
    """decide -> write sidecar -> user edits in 'Lightroom' (exiftool) -> read -> decide again."""
    images = {}
    for name in ("a.jpg", "b.jpg"):
        images[name] = tmp_path / name
        shutil.copy(FIXTURES / "photos" / "mongolels.jpg" if name == "a.jpg" else FIXTURES / "photos" / "portrait.jpg", images[name])

    def run(inputs_for: dict[str, DecisionInputs]) -> dict[str, Decision]:
        decisions = {}
        for name, image in images.items():
            state = read_sidecar(image)
            inputs = dataclasses.replace(
                inputs_for[name], current_rating=state.rating, current_label=state.label, previous=state.decision
            )
            decisions[name] = decide(inputs)
            write_sidecar(image, SidecarUpdate(decision=decisions[name].to_fields()), WriteOptions())
        return decisions

    first = run({"a.jpg": DUPLICATE, "b.jpg": FAILED})
    # mongolels.jpg carries the photographer's own xmp:Rating 3: it stays.
    assert first["a.jpg"].label == "Red" and first["a.jpg"].kept_user_values == ("xmp:Rating=3 (set by the user, kept)",)
    assert (first["b.jpg"].label, first["b.jpg"].rating) == ("Purple", 1)
    assert read_sidecar(images["b.jpg"]).label == "Purple"

    # The user makes a.jpg Green in Lightroom; b.jpg is left alone.
    sidecar_a = tmp_path / "a.xmp"
    subprocess.run(["exiftool", "-q", "-q", "-overwrite_original", "-XMP-xmp:Label=Green", str(sidecar_a)], check=True)

    # Re-run: b.jpg is now a keeper (our Purple/1 is updated), a.jpg still a duplicate.
    second = run({"a.jpg": DUPLICATE, "b.jpg": DecisionInputs(dupe_role="keeper", quality=GOOD)})
    assert second["a.jpg"].label is None
    state_a = read_sidecar(images["a.jpg"])
    assert (state_a.label, state_a.rating) == ("Green", 3)
    state_b = read_sidecar(images["b.jpg"])
    assert (state_b.label, state_b.rating) == ("Green", None)
    assert state_b.decision is not None and state_b.decision.label == "Green"

    # And a third run changes nothing the user decided.
    run({"a.jpg": DUPLICATE, "b.jpg": DecisionInputs(dupe_role="keeper", quality=GOOD)})
    tags = subprocess.run(["exiftool", "-s3", "-XMP-xmp:Label", "-XMP-xmp:Rating", str(sidecar_a)], capture_output=True, text=True, check=True)
    assert tags.stdout.split() == ["Green", "3"]


# ---------------------------------------------------------------- hand-touch share


def test_hand_touch_share_counts_needs_review_over_all_decided() -> None:
    decisions = [decide(row[1]) for row in TABLE]
    review = sum(d.decision == "needs-review" for d in decisions)
    assert hand_touch_share(decisions) == review / len(decisions)
    assert hand_touch_share([]) == 0.0
    assert hand_touch_share(["needs-review", "ok", "duplicate", "failed"]) == 0.25
    assert hand_touch_share([DecisionFields("needs-review"), DecisionFields("keeper")]) == 0.5


def test_hand_touch_share_counts_review_even_when_the_user_label_was_kept() -> None:
    kept = decide(DecisionInputs(quality=BORDERLINE, current_label="Blue"))
    assert kept.label is None and kept.decision == "needs-review"
    assert hand_touch_share([kept, decide(DecisionInputs(quality=GOOD))]) == 0.5


def with_faces(closed: int, judged: int, count: int | None = None, quality: QualityScores = GOOD) -> QualityScores:
    from xmpcull.analyse.faces.summary import FaceSummary

    count = judged if count is None else count
    states = ("closed/closed",) * closed + ("open/open",) * (judged - closed) + ("not-judged",) * (count - judged)
    eyes = "some-closed" if closed else ("all-open" if judged == count else "cant-tell")
    return dataclasses.replace(quality, faces=FaceSummary(count, judged, closed, eyes, states, 200.0))


def test_closed_eyes_need_review_by_default_and_say_on_how_many_faces() -> None:
    result = decide(DecisionInputs(burst_id="b1", best_frame=True, quality=with_faces(1, 2)), POLICY)
    assert (result.decision, result.review_reasons, result.label) == ("needs-review", (REVIEW_EYES_CLOSED,), "Yellow")
    assert result.reason == "eyes closed on 1 of 2 judged faces"
    assert decide(DecisionInputs(quality=with_faces(0, 2)), POLICY).decision == "ok"


def test_closed_eyes_can_reject_or_be_ignored() -> None:
    reject = dataclasses.replace(POLICY, eyes_closed="reject")
    result = decide(DecisionInputs(quality=with_faces(1, 1)), reject)
    assert (result.decision, result.rating, result.label) == ("failed", 1, "Purple")
    assert "eyes closed on 1 of 1 judged face" in result.reason
    off = dataclasses.replace(POLICY, eyes_closed="off")
    assert decide(DecisionInputs(quality=with_faces(1, 1)), off).decision == "ok"


@pytest.mark.parametrize("action", ["review", "reject"])
def test_cant_tell_never_flags(action: str) -> None:
    policy = dataclasses.replace(POLICY, eyes_closed=action)
    result = decide(DecisionInputs(quality=with_faces(0, 0, count=3)), policy)
    assert result.decision == "ok"


def test_a_group_photo_only_warns() -> None:
    group = with_faces(2, 10)
    result = decide(DecisionInputs(dupe_role="keeper", quality=group), POLICY)
    assert result.decision == "keeper"
    assert "eyes closed on 2 of 10 judged faces: group photo of 10 faces, not flagged" in result.reason
    always = dataclasses.replace(POLICY, eyes_group_faces=0)
    assert decide(DecisionInputs(quality=group), always).decision == "needs-review"


def test_eyes_policy_from_the_config(tmp_path: Path) -> None:
    from xmpcull.errors import ConfigError

    path = tmp_path / "x.toml"
    path.write_text('[policy]\neyes_closed = "Reject"\neyes_group_faces = 3\n')
    policy = load_config(path).policy
    assert (policy.eyes_closed, policy.eyes_group_faces) == ("reject", 3)
    path.write_text('[policy]\neyes_closed = "maybe"\n')
    with pytest.raises(ConfigError, match="eyes_closed"):
        load_config(path)
