"""The Hamming radius search must return exactly the brute-force pairs."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from xmpcull.group.hamming_index import choose_substrings, radius_pairs, radius_pairs_between

hash64 = st.integers(min_value=0, max_value=2**64 - 1)


def brute(hashes: list[int], r: int) -> set[tuple[int, int, int]]:
    return {(i, j, (a ^ b).bit_count()) for (i, a), (j, b) in itertools.combinations(enumerate(hashes), 2)
            if (a ^ b).bit_count() <= r}


def as_set(p) -> set[tuple[int, int, int]]:
    return set(zip(p.left.tolist(), p.right.tolist(), p.distance.tolist(), strict=True))


@st.composite
def clustered_hashes(draw):
    """Seeds plus copies with a few bits flipped, so many pairs sit near the radius."""
    seeds = draw(st.lists(hash64, min_size=1, max_size=12))
    out = list(seeds)
    for seed in seeds:
        for flips in draw(st.lists(st.lists(st.integers(0, 63), max_size=14), max_size=5)):
            h = seed
            for bit in flips:
                h ^= 1 << bit
            out.append(h)
    return out


@settings(max_examples=80, deadline=None)
@given(hashes=clustered_hashes(), radius=st.integers(0, 12), extra=st.integers(0, 4))
def test_multi_index_search_equals_brute_force(hashes: list[int], radius: int, extra: int) -> None:
    # From few long substrings (many probes each) to more substrings than radius + 1.
    m = max(3, radius // 2) + extra
    found = radius_pairs(hashes, radius, method="mih", substrings=m)
    assert as_set(found) == brute(hashes, radius)
    assert len(found) == len(as_set(found)), "a pair was reported twice"


@settings(max_examples=30, deadline=None)
@given(hashes=clustered_hashes(), radius=st.integers(0, 24))
def test_auto_method_equals_brute_force(hashes: list[int], radius: int) -> None:
    assert as_set(radius_pairs(hashes, radius)) == brute(hashes, radius)


def test_larger_random_set_with_planted_pairs_is_exact() -> None:
    rng = np.random.default_rng(7)
    base = rng.integers(0, 2**64, 4000, dtype=np.uint64)
    noise = np.zeros(600, dtype=np.uint64)
    for k in range(600):
        for bit in rng.choice(64, rng.integers(0, 12), replace=False):
            noise[k] |= np.uint64(1) << np.uint64(bit)
    hashes = np.concatenate([base, base[:600] ^ noise])
    mih = as_set(radius_pairs(hashes, 10, method="mih"))
    assert mih == as_set(radius_pairs(hashes, 10, method="brute"))
    assert len(mih) >= 500  # the planted copies within 10 bits are all there


def test_substring_choice_grows_with_collection_size() -> None:
    # Longer substrings (fewer of them) pay off only once buckets would be crowded.
    assert choose_substrings(100_000, 10) >= choose_substrings(1_000_000, 10)


@settings(max_examples=60, deadline=None)
@given(queries=clustered_hashes(), data=clustered_hashes(), radius=st.integers(0, 12), shared=st.booleans())
def test_query_against_data_search_equals_brute_force(queries: list[int], data: list[int], radius: int, shared: bool) -> None:
    if shared:  # data holds near copies of the queries, as window hashes of a cropped original do
        data = data + [q ^ (1 << (k % 64)) for k, q in enumerate(queries)]
    truth = {(i, j, (a ^ b).bit_count()) for i, a in enumerate(queries) for j, b in enumerate(data)
             if (a ^ b).bit_count() <= radius}
    found = radius_pairs_between(np.array(queries, dtype=np.uint64), np.array(data, dtype=np.uint64), radius, method="mih")
    assert as_set(found) == truth
    assert len(found) == len(truth)  # each pair exactly once
