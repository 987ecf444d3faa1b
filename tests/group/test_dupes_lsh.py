"""The approximate radius search (group.hamming_lsh) and the crop search above its exact size.

It may miss pairs, never invent one: every pair it returns is a brute-force pair with
its true distance, once. How much it misses is stated before the search
(``LshPlan.recall``) and must hold on planted pairs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.group.test_dupes_index import clustered_hashes
from xmpcull.group import crop_search, hamming_lsh
from xmpcull.group.hamming_lsh import LshPlan, hit_probability, lsh_pairs, lsh_pairs_between, plan


def as_set(p) -> set[tuple[int, int, int]]:
    return set(zip(p.left.tolist(), p.right.tolist(), p.distance.tolist(), strict=True))


def brute(hashes: list[int], r: int) -> set[tuple[int, int, int]]:
    return {(i, j, (a ^ b).bit_count()) for (i, a), (j, b) in itertools.combinations(enumerate(hashes), 2)
            if (a ^ b).bit_count() <= r}


plans = st.builds(LshPlan, bits=st.integers(1, 24), tables=st.integers(1, 12))


@settings(max_examples=80, deadline=None)
@given(hashes=clustered_hashes(), radius=st.integers(0, 14), chosen=plans)
def test_self_join_returns_only_true_pairs_once(hashes: list[int], radius: int, chosen: LshPlan) -> None:
    pairs, used = lsh_pairs_between(np.array(hashes, dtype=np.uint64), np.array(hashes, dtype=np.uint64),
                                    radius, 0.9, self_join=True, chosen=chosen)
    assert used == chosen
    found = as_set(pairs)
    assert len(found) == len(pairs)  # each pair once
    assert found <= brute(hashes, radius)


@settings(max_examples=60, deadline=None)
@given(hashes=clustered_hashes(), radius=st.integers(0, 14), windows=st.integers(1, 3), chosen=plans)
def test_join_leaves_out_own_windows_and_returns_only_true_pairs(
    hashes: list[int], radius: int, windows: int, chosen: LshPlan
) -> None:
    q = np.array(hashes, dtype=np.uint64)
    data = np.repeat(q, windows) ^ np.tile(np.arange(windows, dtype=np.uint64), q.size)  # near their own picture
    pairs, _ = lsh_pairs_between(q, data, radius, 0.9, windows_per_query=windows, chosen=chosen)
    truth = {(i, j, (int(q[i]) ^ int(data[j])).bit_count()) for i in range(q.size) for j in range(data.size)
             if j // windows != i and (int(q[i]) ^ int(data[j])).bit_count() <= radius}
    found = as_set(pairs)
    assert len(found) == len(pairs) and found <= truth


@settings(max_examples=30, deadline=None)
@given(hashes=clustered_hashes(), radius=st.integers(0, 12))
def test_a_plan_sure_to_meet_finds_every_pair(hashes: list[int], radius: int) -> None:
    sure = LshPlan(bits=1, tables=400)  # one random bit per table: misses a pair with probability < 1e-12
    assert sure.recall(radius) > 1 - 1e-12
    assert as_set(lsh_pairs_between(np.array(hashes, dtype=np.uint64), np.array(hashes, dtype=np.uint64),
                                    radius, 0.9, self_join=True, chosen=sure)[0]) == brute(hashes, radius)


@pytest.mark.parametrize("distance", [6, 10, 12, 14])
def test_the_stated_recall_holds_on_planted_pairs(distance: int) -> None:
    rng = np.random.default_rng(distance)
    n = 4000
    base = rng.integers(0, 2**64, n, dtype=np.uint64)
    flips = np.zeros(n, dtype=np.uint64)
    for row in range(n):  # exactly `distance` distinct bits
        for bit in rng.choice(64, distance, replace=False):
            flips[row] |= np.uint64(1) << np.uint64(bit)
    hashes = np.concatenate([base, base ^ flips])
    chosen = LshPlan(bits=16, tables=6)
    pairs, _ = lsh_pairs_between(hashes, hashes, distance, 0.9, self_join=True, chosen=chosen)
    planted = {(i, i + n) for i in range(n)}
    share = len(planted & set(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True))) / n
    expected = chosen.recall(distance)
    sigma = (expected * (1 - expected) / n) ** 0.5
    assert abs(share - expected) <= 4 * sigma + 1e-9, (share, expected)


def test_hit_probability_is_the_hypergeometric_share() -> None:
    assert hit_probability(10, 0) == 1.0
    assert hit_probability(60, 5) == 0.0
    assert hit_probability(1, 16) == pytest.approx(48 / 64)


def test_plans_reach_the_recall_they_are_asked_for() -> None:
    for n, radius in ((10**5, 14), (10**6, 14), (10**6, 12)):
        for recall in (0.8, 0.9, 0.99):
            chosen = plan(n, 5 * n, radius, recall)
            assert chosen.recall(radius) >= recall
            assert chosen.recall(radius - 2) > chosen.recall(radius)


def test_the_same_pairs_on_every_run_and_with_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 2**64, 3000, dtype=np.uint64)
    hashes = np.concatenate([base, base ^ rng.integers(0, 2**64, 3000, dtype=np.uint64) & base])
    one, _ = lsh_pairs(hashes, 14, 0.9, jobs=1)
    again, _ = lsh_pairs(hashes, 14, 0.9, jobs=1)
    monkeypatch.setattr(hamming_lsh, "_PARALLEL_ABOVE", 0.0)  # share even this small search out to 2 processes
    forked, _ = lsh_pairs(hashes, 14, 0.9, jobs=2)
    for other in (again, forked):
        assert np.array_equal(one.left, other.left) and np.array_equal(one.right, other.right)
        assert np.array_equal(one.distance, other.distance)


@dataclass(frozen=True)
class Hashes:
    phash: int
    window_phashes: tuple[int, ...]


def test_crop_search_above_its_exact_size_proposes_only_exact_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    n = 3000
    full = rng.integers(0, 2**64, n, dtype=np.uint64)
    windows = np.repeat(full, 5) ^ (np.uint64(1) << rng.integers(0, 64, 5 * n).astype(np.uint64))
    for crop in range(0, 300):  # crops of pictures 1000.., by window (up to 8 bits off) or full hash (up to 10)
        original = 1000 + crop
        flips = rng.choice(64, 8 if crop % 2 else 10, replace=False)
        source = int(windows[5 * original + crop % 5]) if crop % 2 else int(full[original])
        full[crop] = source ^ sum(1 << int(b) for b in flips)
    feats = [Hashes(int(h), tuple(int(w) for w in windows[5 * i : 5 * i + 5])) for i, h in enumerate(full.tolist())]
    exact = crop_search.crop_candidates(feats, 14, 12)
    monkeypatch.setattr(crop_search, "EXACT_SEARCH_MAX", 100)
    approximate = crop_search.crop_candidates(feats, 14, 12, jobs=1)
    assert approximate.keys() <= exact.keys()
    # A pair found by one join only may show a larger distance than its nearest one (never a smaller).
    assert all(d >= exact[pair] for pair, d in approximate.items())
    planted = {(crop, 1000 + crop) for crop in range(300)}
    assert planted <= exact.keys()
    assert len(planted & approximate.keys()) >= 0.97 * len(planted)  # 8 and 10 bits: recall >= 0.99 stated
