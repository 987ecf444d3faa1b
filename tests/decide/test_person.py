"""A person's review choices outrank the keeper chain, and a group always keeps a keeper."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from xmpcull.decide.person import roles_after_review, staying_choice
from xmpcull.sidecar import ReviewFields


def test_a_chosen_keeper_demotes_the_chains_keeper_unless_kept_too() -> None:
    members = [("a", "keeper"), ("b", "duplicate"), ("c", "duplicate")]
    assert roles_after_review(members, {"b": "keeper"}) == {"a": "duplicate", "b": "keeper", "c": "duplicate"}
    assert roles_after_review(members, {"b": "keeper", "a": "keep"}) == {"a": "keeper", "b": "keeper", "c": "duplicate"}


def test_keep_both_leaves_the_chains_keeper_alone() -> None:
    members = [("a", "keeper"), ("b", "duplicate"), ("c", "duplicate")]
    assert roles_after_review(members, {"c": "keep"}) == {"a": "keeper", "b": "duplicate", "c": "keeper"}


def test_a_pick_is_a_keep_and_a_reject_changes_nothing() -> None:
    assert staying_choice(ReviewFields("t", flag="pick")) == "keep"
    assert staying_choice(ReviewFields("t", flag="reject")) is None
    assert staying_choice(ReviewFields("t", keep="keeper", flag="reject")) == "keeper"
    assert staying_choice(None) is None


@given(
    st.lists(st.sampled_from(["duplicate"]), min_size=1, max_size=6),
    st.dictionaries(st.integers(0, 6), st.sampled_from(["keeper", "keep"])),
)
def test_a_group_never_loses_its_last_keeper(duplicates: list[str], choices: dict[int, str]) -> None:
    members = [(0, "keeper")] + [(i + 1, role) for i, role in enumerate(duplicates)]
    roles = roles_after_review(members, choices)
    assert "keeper" in roles.values()
    assert all(roles[m] == "keeper" for m in choices if m in roles)
