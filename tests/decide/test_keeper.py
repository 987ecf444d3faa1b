"""The keeper tiebreak chain: order of rules, reasons, configuration errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xmpcull.decide.keeper import DEFAULT_CHAIN, choose_keeper, parse_chain, parse_metadata_date
from xmpcull.errors import ConfigError
from xmpcull.models import Features, ImageFile, ImageRecord, Metadata


def rec(path: str, w: int = 4000, h: int = 3000, fmt: str = "jpeg", sharp: float = 100.0, mtime: int = 0,
        rating: float | None = None, developed: bool = False, mdate: str | None = None) -> ImageRecord:
    root = Path("/lib")
    features = Features(digest="0" * 32, phash=0, dhash=0, phash_variants=(0,) * 8, width=w, height=h,
                        sharpness=sharp, mean_luma=0.5, clip_high=0, clip_low=0, decoded_from="full")
    meta = Metadata(rating=rating, has_develop_settings=developed, metadata_date=mdate)
    return ImageRecord(file=ImageFile(root / path, root, fmt, 1, mtime), metadata=meta, features=features)


def test_most_pixels_wins_first_and_says_by_how_much() -> None:
    big, small = rec("a/small_name.jpg", 6000, 4000), rec("b.jpg", 3000, 2000, fmt="raw", sharp=999, rating=5)
    keeper, reason = choose_keeper([small, big])
    assert keeper is big
    assert reason == "most pixels (24.0 MP vs 6.0 MP)"


def test_raw_beats_rendered_copy_of_same_size() -> None:
    jpeg, raw = rec("x.jpg", sharp=500), rec("x.cr3", fmt="raw")
    keeper, reason = choose_keeper([jpeg, raw])
    assert keeper is raw and reason == "RAW over rendered copy"


T0 = 1_700_000_000 * 10**9  # 2023-11-14 22:13:20 UTC
NEWEST = ["most_recently_edited", "sharpest", "shortest_path"]  # the order of the "newest" preset


def test_most_recently_edited_looks_at_develop_settings_then_metadata_date_then_mtime() -> None:
    plain = rec("a.jpg", mtime=9 * 10**18)
    developed = rec("b.jpg", developed=True, mdate="2020-01-01T10:00:00+02:00")
    later = rec("c.jpg", developed=True, mdate="2021:06:19 12:22:10")
    assert choose_keeper([plain, developed], NEWEST)[0] is developed
    keeper, reason = choose_keeper([plain, developed, later], NEWEST)
    assert keeper is later and reason.startswith("most recently edited (develop settings, metadata 2021-06-19 12:22")
    same_date = [rec("d.jpg", developed=True, mdate="2021-01-01", mtime=5 * 10**9),
                 rec("e.jpg", developed=True, mdate="2021-01-01", mtime=9 * 10**9)]
    assert choose_keeper(same_date, NEWEST)[0].file.path.name == "e.jpg"


def test_the_default_chain_never_looks_at_mtimes() -> None:
    # A newer mtime is no evidence of an edit (a copy, a backup restore, xmpcull's own --embed).
    old, new = rec("a.jpg", mtime=T0, sharp=999), rec("b.jpg", mtime=T0 + 10**15)
    assert choose_keeper([old, new])[0] is old


@given(st.lists(st.integers(0, 1_999_999_999), min_size=2, max_size=5), st.randoms())
def test_mtimes_within_two_seconds_tie_and_the_next_rule_decides(offsets: list[int], rnd) -> None:
    # Copies made by cp/rsync/FAT differ by nanoseconds to under 2 s: that is no evidence of an edit.
    members = [rec(f"copy{k}.jpg", mtime=T0 + off, sharp=10.0 + k) for k, off in enumerate(offsets)]
    sharpest = members[-1]
    rnd.shuffle(members)
    keeper, reason = choose_keeper(members, NEWEST)
    assert keeper is sharpest
    assert reason.startswith("sharpest (") and "mtime" not in reason


def test_an_mtime_two_seconds_later_wins_and_the_reason_shows_different_values() -> None:
    old, new = rec("a.jpg", mtime=T0, sharp=999), rec("b.jpg", mtime=T0 + 2 * 10**9)
    keeper, reason = choose_keeper([old, new], NEWEST)
    assert keeper is new
    assert reason == "most recently edited (no develop settings, mtime 2023-11-14 22:13:22 vs no develop settings, mtime 2023-11-14 22:13:20)"


def test_a_reason_never_shows_two_equal_values_as_if_one_won() -> None:
    keeper, reason = choose_keeper([rec("a.jpg", sharp=100.2), rec("b.jpg", sharp=100.1)])
    assert keeper.file.path.name == "a.jpg"
    assert reason == "sharpest (sharpness 100, by a fraction)"


def test_sharpness_then_rating_then_shortest_path() -> None:
    assert choose_keeper([rec("a.jpg", sharp=10), rec("b.jpg", sharp=20)])[0].file.path.name == "b.jpg"
    keeper, reason = choose_keeper([rec("a.jpg", rating=1), rec("b.jpg", rating=4), rec("c.jpg")])
    assert keeper.file.path.name == "b.jpg" and reason == "highest rating (4 stars vs 1 stars)"
    keeper, reason = choose_keeper([rec("deep/er/a.jpg"), rec("b.jpg")])
    assert keeper.file.path.name == "b.jpg" and reason.startswith("shortest path")


def test_custom_chain_changes_the_outcome() -> None:
    big_blurry, small_sharp = rec("a.jpg", 6000, 4000, sharp=1), rec("b.jpg", 3000, 2000, sharp=50)
    assert choose_keeper([big_blurry, small_sharp])[0] is big_blurry
    keeper, reason = choose_keeper([big_blurry, small_sharp], ["sharpest", "most_pixels"])
    assert keeper is small_sharp and reason.startswith("sharpest")


def test_full_tie_is_deterministic_whatever_the_order() -> None:
    a, b = rec("a.jpg"), rec("b.jpg")
    assert choose_keeper([a, b])[0] is a and choose_keeper([b, a])[0] is a
    assert "tie on every rule" in choose_keeper([a, b])[1]


def test_unknown_or_repeated_rule_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown keeper rule"):
        parse_chain(["most_pixels", "biggest_smile"])
    with pytest.raises(ConfigError, match="twice"):
        parse_chain(["sharpest", "sharpest"])
    assert [r.name for r in parse_chain(DEFAULT_CHAIN)] == list(DEFAULT_CHAIN)


def test_metadata_date_formats() -> None:
    assert parse_metadata_date("2000-09-27T14:35:33+02:00") == parse_metadata_date("2000-09-27T12:35:33Z")
    assert parse_metadata_date("2021:06:19 12:22:10.790") is not None
    assert parse_metadata_date("yesterday") is None and parse_metadata_date(None) is None
    assert replace(rec("a.jpg"), error=None).ok


def test_a_file_reached_through_a_link_is_never_kept_over_a_real_one() -> None:
    linked = rec("0.jpg", 8000, 6000)  # bigger and first in path order: it would win every rule
    linked = replace(linked, file=replace(linked.file, via_link=True))
    real = rec("b/real.jpg")
    keeper, reason = choose_keeper([real, linked])
    assert keeper is real and reason == "a real file over one reached through a symbolic link"
    only_links = [linked, replace(real, file=replace(real.file, via_link=True))]
    assert choose_keeper(only_links)[0] is linked  # all links: the rules decide as usual


def faced(path: str, closed: int, variance: float, sharp: float = 100.0) -> ImageRecord:
    from xmpcull.models import Face

    states = [("closed", "closed")] * closed + [("open", "open")]
    faces = tuple(Face((0.1, 0.1, 0.3, 0.3), 0.9, ((0.2, 0.2),) * 6, True, (0.3, 0.3), s, variance) for s in states)
    r = rec(path, sharp=sharp)
    return replace(r, features=replace(r.features, faces=faces))  # type: ignore[arg-type]


def test_eyes_open_then_sharpest_face_choose_among_equal_copies() -> None:
    blink, open_ = faced("a.jpg", closed=1, variance=300.0, sharp=500.0), faced("b.jpg", closed=0, variance=100.0)
    keeper, reason = choose_keeper([blink, open_])
    assert keeper is open_ and reason.startswith("eyes open")
    soft, crisp = faced("a.jpg", 0, 80.0, sharp=500.0), faced("b.jpg", 0, 240.0)
    keeper, reason = choose_keeper([soft, crisp])
    assert keeper is crisp and reason.startswith("sharpest face")
    # Without faces both rules tie and the frame's sharpness decides, as before.
    assert choose_keeper([rec("a.jpg", sharp=10), rec("b.jpg", sharp=20)])[0].file.path.name == "b.jpg"


def test_a_copy_whose_faces_were_not_looked_for_is_unknown_never_all_open() -> None:
    # [analysis] faces = false leaves Features.faces None: neither "no closed eyes" nor "no faces".
    blink = faced("a.jpg", closed=1, variance=300.0, sharp=500.0)
    unseen = rec("b.jpg", sharp=100.0)
    assert unseen.features is not None and unseen.features.faces is None
    keeper, reason = choose_keeper([blink, unseen])
    assert keeper is blink and not reason.startswith(("eyes", "sharpest face"))  # the frame's sharpness decided
