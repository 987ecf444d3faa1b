"""All pairs of 64-bit hashes within a Hamming radius, without an N x N matrix.

Why: a photo library has 10^4..10^6 images; comparing every pair is O(N^2)
(about 6 minutes for 10^6 hashes even with SIMD popcount). This module does
exact multi-index hashing in vectorised numpy.

How: the 64 bits are cut into ``m`` substrings. By the generalised pigeonhole
principle, if two hashes differ in at most ``r`` bits and the per-substring
thresholds ``t_i`` sum to ``r - m + 1``, then at least one substring ``i``
differs in at most ``t_i`` bits (else the total would be >= r + 1). So for
each substring we join every bucket ``k`` with the buckets ``k ^ e`` for all
masks ``e`` of popcount <= ``t_i``, and verify each candidate with a full
popcount. Longer substrings mean smaller buckets (fewer candidates) but more
masks; ``m`` is picked per call from a cost model (candidates + bucket scans),
which is what keeps both 10^5 and 10^6 hashes fast. The search is exact: it
returns the same pairs as brute force.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

MAX_RADIUS = 24
_BRUTE_FORCE_BELOW = 3000  # below this many hashes a blocked brute force is faster
_CHUNK_PAIRS = 1 << 22  # candidate pairs verified at once (bounds memory to ~100 MB)


@dataclass(frozen=True)
class Pairs:
    """Pairs (left[k], right[k]) with left < right and their Hamming distance."""

    left: np.ndarray  # int64 indices into the input
    right: np.ndarray
    distance: np.ndarray  # uint8

    def __len__(self) -> int:
        return int(self.left.size)


@dataclass(frozen=True)
class _Substring:
    shift: int
    bits: int
    threshold: int  # match when this substring differs in <= threshold bits (-1: never)

    @property
    def mask(self) -> int:
        return ((1 << self.bits) - 1) << self.shift


def as_hash_array(hashes: object) -> np.ndarray:
    """Python ints (0..2^64-1) or an integer array -> uint64 array."""
    if isinstance(hashes, np.ndarray):
        return hashes.astype(np.uint64, copy=False)
    return np.fromiter((int(h) for h in hashes), dtype=np.uint64)  # type: ignore[attr-defined]


def popcount(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x)


def brute_force_pairs(hashes: np.ndarray, radius: int, block: int = 2048) -> Pairs:
    """O(N^2) reference in blocks of rows; exact and used for small N."""
    h = as_hash_array(hashes)
    n = h.size
    lefts, rights, dists = [], [], []
    for start in range(0, n, block):
        rows = h[start : start + block]
        d = popcount(rows[:, None] ^ h[None, start:])
        i, j = np.nonzero(d <= radius)
        keep = j > i  # columns start at `start`, so j > i means a later hash
        lefts.append(i[keep] + start)
        rights.append(j[keep] + start)
        dists.append(d[i[keep], j[keep]].astype(np.uint8))
    return _concat(lefts, rights, dists)


def _concat(lefts: list[np.ndarray], rights: list[np.ndarray], dists: list[np.ndarray]) -> Pairs:
    if not lefts:
        empty = np.empty(0, dtype=np.int64)
        return Pairs(empty, empty.copy(), np.empty(0, dtype=np.uint8))
    return Pairs(
        np.concatenate(lefts).astype(np.int64),
        np.concatenate(rights).astype(np.int64),
        np.concatenate(dists).astype(np.uint8),
    )


def _split(m: int, radius: int) -> list[_Substring]:
    """m near-equal substrings; thresholds sum to radius - m + 1, longer substrings get more.

    A threshold of -1 (when m > radius + 1) means that substring is never probed.
    """
    base, extra = divmod(64, m)
    bits = [base + (1 if i < extra else 0) for i in range(m)]
    budget = radius - m + 1
    t_base, t_extra = divmod(budget, m)
    thresholds = [t_base + (1 if i < t_extra else 0) for i in range(m)]
    subs, shift = [], 0
    for b, t in zip(bits, thresholds, strict=True):
        subs.append(_Substring(shift, b, t))
        shift += b
    return subs


def _n_masks(bits: int, t: int) -> int:
    return sum(math.comb(bits, k) for k in range(t + 1))


def _cost(n: int, m: int, radius: int) -> float:
    """Rough cost of one search: bucket scans per mask plus candidate verifications."""
    total = 0.0
    for sub in _split(m, radius):
        if sub.bits > 26:
            return float("inf")  # the dense bucket table would not fit comfortably
        masks = _n_masks(sub.bits, sub.threshold)
        keys = min(n, 1 << sub.bits)
        candidates = masks * n * n / (1 << sub.bits) / 2
        # Nanoseconds per bucket scanned, per mask and per candidate, measured on 2 cores
        # (bench/dupes_scale.py): at 10^5 hashes 4 substrings win, at 10^6 three do.
        total += masks * (keys * 19.0 + 20_000) + candidates * 53.0
    return total


def choose_substrings(n: int, radius: int) -> int:
    """The number of substrings with the lowest modelled cost."""
    options = range(3, max(3, min(radius + 1, 16)) + 1)
    return min(options, key=lambda m: _cost(n, m, radius))


def _masks(bits: int, t: int) -> np.ndarray:
    out = [0]
    for k in range(1, t + 1):
        for combo in itertools.combinations(range(bits), k):
            out.append(sum(1 << b for b in combo))
    return np.array(out, dtype=np.int64)


def radius_pairs(hashes: object, radius: int, method: str = "auto", substrings: int | None = None) -> Pairs:
    """Every pair (i < j) with hamming(hashes[i], hashes[j]) <= radius, exactly once.

    ``method`` is "auto", "mih" (multi-index hashing) or "brute".
    """
    if not 0 <= radius <= MAX_RADIUS:
        raise ValueError(f"radius must be in 0..{MAX_RADIUS}, got {radius}")
    h = as_hash_array(hashes)
    if method == "brute" or (method == "auto" and h.size < _BRUTE_FORCE_BELOW):
        return brute_force_pairs(h, radius)
    if method not in ("auto", "mih"):
        raise ValueError(f"unknown method {method!r}")
    # At least 3 substrings: 32-bit ones would need a 4-billion-slot bucket table.
    m = max(3, substrings or choose_substrings(max(h.size, 2), radius))
    subs = _split(m, radius)
    lefts, rights, dists = [], [], []
    for index, sub in enumerate(subs):
        if sub.threshold < 0:
            continue
        earlier = subs[:index]
        for i, j in _candidates(h, sub):
            x = h[i] ^ h[j]
            d = popcount(x)
            ok = d <= radius
            # A pair may qualify in several substrings: keep it only in the first one.
            for prev in earlier:
                if prev.threshold >= 0:
                    ok &= popcount(x & np.uint64(prev.mask)) > prev.threshold
            lefts.append(np.minimum(i[ok], j[ok]))
            rights.append(np.maximum(i[ok], j[ok]))
            dists.append(d[ok])
    return _concat(lefts, rights, dists)


def _candidates(h: np.ndarray, sub: _Substring) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Chunks of candidate index pairs whose substring differs by a mask of popcount <= threshold."""
    keys = ((h >> np.uint64(sub.shift)) & np.uint64((1 << sub.bits) - 1)).astype(np.int64)
    order = np.argsort(keys, kind="stable")
    uniq, start, count = np.unique(keys[order], return_index=True, return_counts=True)
    slot = np.full(1 << sub.bits, -1, dtype=np.int32)  # key -> position in uniq
    slot[uniq] = np.arange(uniq.size, dtype=np.int32)
    for e in _masks(sub.bits, sub.threshold):
        if e == 0:
            a = np.nonzero(count > 1)[0]
            b = a
        else:
            partner = uniq ^ e
            found = slot[partner]
            sel = (found >= 0) & (partner > uniq)  # each unordered bucket pair once
            a = np.nonzero(sel)[0]
            b = found[sel].astype(np.int64)
        if a.size:
            yield from _cross(order, start, count, a, b, same=(e == 0))


def _chunks(sizes: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(bucket pair k, position within its sizes[k] products) for every product, in bounded chunks."""
    ends = np.cumsum(sizes)
    lo = 0
    while lo < sizes.size:
        base = ends[lo - 1] if lo else 0
        hi = max(int(np.searchsorted(ends, base + _CHUNK_PAIRS, side="right")), lo + 1)
        k = np.arange(lo, hi)
        n = sizes[k]
        yield np.repeat(k, n), np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
        lo = hi


def _cross(
    order: np.ndarray, start: np.ndarray, count: np.ndarray, a: np.ndarray, b: np.ndarray, same: bool
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """All (member of bucket a[k], member of bucket b[k]) pairs, in bounded chunks."""
    ca, cb = count[a].astype(np.int64), count[b].astype(np.int64)
    for rep, within in _chunks(ca * cb):
        ia = within // cb[rep]
        ib = within % cb[rep]
        if same:
            keep = ia < ib
            rep, ia, ib = rep[keep], ia[keep], ib[keep]
        yield order[start[a[rep]] + ia], order[start[b[rep]] + ib]

def brute_force_between(queries: np.ndarray, data: np.ndarray, radius: int, block: int = 1024) -> Pairs:
    """O(Q x D) reference for ``radius_pairs_between``."""
    q, d_all = as_hash_array(queries), as_hash_array(data)
    lefts, rights, dists = [], [], []
    for start in range(0, q.size, block):
        d = popcount(q[start : start + block, None] ^ d_all[None, :])
        i, j = np.nonzero(d <= radius)
        lefts.append(i + start)
        rights.append(j)
        dists.append(d[i, j].astype(np.uint8))
    return _concat(lefts, rights, dists)


def radius_pairs_between(queries: object, data: object, radius: int, method: str = "auto") -> Pairs:
    """Every (query i, data j) with hamming(queries[i], data[j]) <= radius, exactly once.

    ``left`` indexes ``queries``, ``right`` indexes ``data`` (no ``left < right``
    order here). Same multi-index hashing as ``radius_pairs``, but buckets of the
    queries are joined with buckets of the data in both mask directions.
    """
    if not 0 <= radius <= MAX_RADIUS:
        raise ValueError(f"radius must be in 0..{MAX_RADIUS}, got {radius}")
    q, d_all = as_hash_array(queries), as_hash_array(data)
    if method == "brute" or (method == "auto" and q.size * d_all.size < _BRUTE_FORCE_BELOW**2):
        return brute_force_between(q, d_all, radius)
    if method not in ("auto", "mih"):
        raise ValueError(f"unknown method {method!r}")
    # Cost of a Q x D join is about that of a self-join of sqrt(2 Q D) hashes.
    m = max(3, choose_substrings(max(int(math.sqrt(2.0 * q.size * d_all.size)), 2), radius))
    subs = _split(m, radius)
    lefts, rights, dists = [], [], []
    for index, sub in enumerate(subs):
        if sub.threshold < 0:
            continue
        for i, j in _candidates_between(q, d_all, sub):
            x = q[i] ^ d_all[j]
            d = popcount(x)
            ok = d <= radius
            for prev in subs[:index]:  # found already in an earlier substring
                if prev.threshold >= 0:
                    ok &= popcount(x & np.uint64(prev.mask)) > prev.threshold
            lefts.append(i[ok])
            rights.append(j[ok])
            dists.append(d[ok])
    return _concat(lefts, rights, dists)


def _buckets(h: np.ndarray, sub: _Substring) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    keys = ((h >> np.uint64(sub.shift)) & np.uint64((1 << sub.bits) - 1)).astype(np.int64)
    order = np.argsort(keys, kind="stable")
    uniq, start, count = np.unique(keys[order], return_index=True, return_counts=True)
    return order, uniq, start, count


def _candidates_between(q: np.ndarray, d: np.ndarray, sub: _Substring) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    q_order, q_uniq, q_start, q_count = _buckets(q, sub)
    d_order, d_uniq, d_start, d_count = _buckets(d, sub)
    slot = np.full(1 << sub.bits, -1, dtype=np.int32)  # data key -> position in d_uniq
    slot[d_uniq] = np.arange(d_uniq.size, dtype=np.int32)
    for e in _masks(sub.bits, sub.threshold):
        found = slot[q_uniq ^ e]
        a = np.nonzero(found >= 0)[0]
        if a.size:
            b = found[a].astype(np.int64)
            yield from _cross_between(q_order, q_start, q_count, a, d_order, d_start, d_count, b)


def _cross_between(
    q_order: np.ndarray, q_start: np.ndarray, q_count: np.ndarray, a: np.ndarray,
    d_order: np.ndarray, d_start: np.ndarray, d_count: np.ndarray, b: np.ndarray,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """All (query in bucket a[k], datum in bucket b[k]) pairs, in bounded chunks."""
    ca, cb = q_count[a].astype(np.int64), d_count[b].astype(np.int64)
    for rep, within in _chunks(ca * cb):
        yield q_order[q_start[a[rep]] + within // cb[rep]], d_order[d_start[b[rep]] + within % cb[rep]]
