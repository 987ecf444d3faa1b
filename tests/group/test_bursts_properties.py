"""Properties of burst clustering that must hold for any set of shots."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from xmpcull.group.bursts import Shot, cluster_bursts

BODIES = [("Canon EOS R5#1", "Canon EOS R5", "1"), ("Canon EOS R5#2", "Canon EOS R5", "2"), ("NIKON Z 9", "NIKON Z 9", None), (None, None, None)]
EPOCH = dt.datetime(2024, 12, 31, 23, 59, 0)


@st.composite
def shot_lists(draw):
    count = draw(st.integers(0, 40))
    shots = []
    for i in range(count):
        body, model, serial = draw(st.sampled_from(BODIES))
        # Milliseconds on a coarse grid so equal times and exact-threshold gaps occur often.
        millis = draw(st.one_of(st.none(), st.integers(0, 120).map(lambda n: n * 250)))
        local = None if millis is None else EPOCH + dt.timedelta(milliseconds=millis)
        shots.append(
            Shot(
                path=f"/p/{draw(st.sampled_from('abc'))}/IMG_{i:04d}.JPG",
                body=body,
                model=model,
                serial=serial,
                timestamp=None if local is None else local.replace(tzinfo=dt.timezone.utc).timestamp(),
                local_time=local,
                phash=draw(st.one_of(st.none(), st.integers(0, 2**64 - 1))),
                sharpness=draw(st.one_of(st.none(), st.floats(0, 1000))),
            )
        )
    return shots


gaps = st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0, 3.75])


def body_of(shot: Shot) -> str:
    return shot.body or ""


@settings(max_examples=100, deadline=None)
@given(shot_lists(), gaps)
def test_every_shot_in_exactly_one_burst(shots, gap):
    bursts = cluster_bursts(shots, gap_seconds=gap)
    placed = [s.path for b in bursts for s in b.shots]
    assert sorted(placed) == sorted(s.path for s in shots)
    for burst in bursts:
        assert burst.is_burst == (burst.size > 1)
        assert len({body_of(s) for s in burst.shots}) == 1
        assert (burst.reason == "no capture time") == (burst.shots[0].timestamp is None)
        assert 0 <= burst.best < burst.size


@settings(max_examples=100, deadline=None)
@given(shot_lists(), gaps)
def test_gaps_inside_bursts_are_at_most_the_gap_and_between_bursts_more(shots, gap):
    bursts = [b for b in cluster_bursts(shots, gap_seconds=gap) if b.start is not None]
    for burst in bursts:
        times = [s.timestamp for s in burst.shots]
        assert all(0 <= later - earlier <= gap + 1e-6 for earlier, later in zip(times, times[1:]))
    by_body: dict[str, list] = {}
    for burst in sorted(bursts, key=lambda b: b.start):
        by_body.setdefault(body_of(burst.shots[0]), []).append(burst)
    for runs in by_body.values():
        for before, after in zip(runs, runs[1:]):
            assert after.start - before.end > gap + 1e-7


@settings(max_examples=100, deadline=None)
@given(shot_lists(), gaps, st.randoms(use_true_random=False), st.sampled_from([None, 8, 30]))
def test_result_does_not_depend_on_input_order(shots, gap, rng, threshold):
    shuffled = shots[:]
    rng.shuffle(shuffled)

    def summary(items):
        return [(b.burst_id, [s.path for s in b.shots], b.best) for b in cluster_bursts(items, gap, scene_split_threshold=threshold)]

    assert summary(shuffled) == summary(shots)


@settings(max_examples=100, deadline=None)
@given(shot_lists(), gaps)
def test_burst_ids_are_unique(shots, gap):
    ids = [b.burst_id for b in cluster_bursts(shots, gap_seconds=gap) if b.is_burst]
    assert len(ids) == len(set(ids))
