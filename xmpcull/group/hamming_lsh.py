"""Hash pairs within a Hamming radius for very large sets: bit-sampling LSH, verified.

Why: the crop search joins full hashes within 14 bits and full against window
hashes within 12 bits. At 10^6 pictures that radius is about the distance of a
hash to its nearest *unrelated* neighbour, where the exact multi-index search
(``hamming_index``) must look at a large share of all N^2 pairs: its 1,000,000
picture crop search would take hours. Here the search is approximate: a pair is
missed with a small, known probability, and only near the edge of the radius.

How: ``tables`` tables, each keyed on ``bits`` of the 64 bits chosen at random
(a fixed seed: the same pairs on every run). Two hashes meet in a table when
none of their differing bits is among the table's bits; for two hashes ``d``
bits apart that chance is C(64-d, bits) / C(64, bits), so the recall at every
distance is known before the search (``LshPlan.recall``), and ``plan`` picks the
cheapest (bits, tables) that reaches the wanted recall at the radius itself.
Closer pairs are found almost surely (a crop 8 bits from its original: 1.0000 at
the crop search's plans). Every candidate is verified with its true distance, so
nothing outside the radius is ever returned: the approximation only misses.
(Probing keys one bit away, multi-probe LSH, cost more than it saved here: each
probe is another pass over the queries.)
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from xmpcull.group.hamming_index import Pairs, as_hash_array, popcount
from xmpcull.parallel import fork_pool

SEED = 20261203  # fixed: the chosen bits, hence the pairs found, are the same on every run
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # multiplicative hashing of the masked bits into a bucket
_MAX_BUCKET_BITS = 22  # 4M buckets: two int32 arrays of 16 MB per table
_QUERY_CHUNK = 1 << 18  # queries probed at once (bounds the candidate arrays)
# CPU seconds per element, measured on the 2-core bench machine (bench/dupes_scale.py --crop-radii):
_INDEX_COST = 1.1e-7  # per indexed hash and table (key, sort)
_PROBE_COST = 3e-8  # per probing hash and table (key, bucket look-up)
_VERIFY_COST = 5.5e-8  # per candidate pair (gather, xor, popcount)
_CHUNK_PAIRS = 1 << 22  # candidate pairs made at once (bounds memory to ~200 MB)
_PARALLEL_ABOVE = 5.0  # modelled CPU seconds above which the tables are shared out to worker processes


def hit_probability(bits: int, distance: int) -> float:
    """Chance that none of ``distance`` differing bits falls among ``bits`` random bits of 64."""
    if distance + bits > 64:
        return 0.0
    return math.comb(64 - distance, bits) / math.comb(64, bits)


@dataclass(frozen=True)
class LshPlan:
    bits: int  # key bits per table
    tables: int

    def recall(self, distance: int) -> float:
        """Share of the pairs ``distance`` bits apart that the search finds."""
        return 1.0 - (1.0 - hit_probability(self.bits, distance)) ** self.tables

    def cost(self, queries: int, data: int, self_join: bool) -> float:
        """Modelled CPU seconds: indexing the smaller side, probing with the other, verifying candidates."""
        small, large = sorted((queries, data))
        meet = 2.0**-self.bits + 2.0**-_bucket_bits(self.bits)  # same bits, or another key in the same bucket
        pairs = queries * (queries - 1) / 2 if self_join else queries * data
        probe = 0 if self_join else large * _PROBE_COST
        return self.tables * (small * _INDEX_COST + probe + pairs * meet * _VERIFY_COST)


def plan(queries: int, data: int, radius: int, recall: float, self_join: bool = False) -> LshPlan:
    """The cheapest modelled plan whose recall at ``radius`` is at least ``recall``."""
    options = []
    for bits in range(8, 64 - radius + 1):
        p = hit_probability(bits, radius)
        tables = 1 if p >= 1.0 else max(1, math.ceil(math.log(1.0 - recall) / math.log(1.0 - p)))
        options.append(LshPlan(bits, tables))
    return min(options, key=lambda o: (o.cost(queries, data, self_join), o.bits))


def _bucket_bits(bits: int) -> int:
    return min(bits + 2, _MAX_BUCKET_BITS)


def _table_masks(bits: int, tables: int) -> list[int]:
    rng = np.random.default_rng(SEED + bits)
    return [int(sum(1 << int(b) for b in rng.choice(64, bits, replace=False))) for _ in range(tables)]


def _bucket(h: np.ndarray, mask: int, bucket_bits: int) -> np.ndarray:
    return (((h & np.uint64(mask)) * _GOLDEN) >> np.uint64(64 - bucket_bits)).astype(np.int32)


@dataclass(frozen=True)
class _Index:
    """One table over one array: members of each bucket, contiguous."""

    order: np.ndarray  # positions sorted by bucket
    counts: np.ndarray  # members per bucket
    starts: np.ndarray  # where each bucket's members start in ``order``

    @classmethod
    def build(cls, keys: np.ndarray, bucket_bits: int) -> _Index:
        counts = np.bincount(keys, minlength=1 << bucket_bits).astype(np.int32)
        # Order inside a bucket does not matter (the pairs are sorted at the end): no stable sort.
        return cls(np.argsort(keys), counts, np.cumsum(counts, dtype=np.int64) - counts)


def _expand(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ranges starts[k] .. starts[k] + counts[k] - 1."""
    ends = np.cumsum(counts)
    return np.arange(int(ends[-1]) if ends.size else 0, dtype=np.int64) - np.repeat(ends - counts - starts, counts)


def _candidates(
    q: np.ndarray, d: np.ndarray, mask: int, bits: int, self_join: bool
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(query index, data index) pairs that share a bucket in this table, in bounded chunks."""
    bucket_bits = _bucket_bits(bits)
    if self_join:  # pairs inside each bucket, i < j by position in the bucket
        keys = _bucket(q, mask, bucket_bits)
        index = _Index.build(keys, bucket_bits)
        crowded = np.flatnonzero(index.counts > 1)
        sizes = index.counts[crowded]
        made = np.cumsum(sizes * (sizes - 1) // 2)
        lo = 0
        while lo < crowded.size:
            before = made[lo - 1] if lo else 0
            hi = max(int(np.searchsorted(made, before + _CHUNK_PAIRS, side="right")), lo + 1)
            part, n = crowded[lo:hi], sizes[lo:hi]
            lo = hi
            firsts = np.repeat(index.starts[part], n) + _expand(np.zeros_like(n), n)  # every member
            after = np.repeat(n, n) - _expand(np.zeros_like(n), n) - 1  # members after it in the bucket
            yield index.order[np.repeat(firsts, after)], index.order[_expand(firsts + 1, after)]
        return
    swap = d.size < q.size  # index the smaller side, probe with the larger
    small, large = (d, q) if swap else (q, d)
    index = _Index.build(_bucket(small, mask, bucket_bits), bucket_bits)
    for lo in range(0, large.size, _QUERY_CHUNK):
        keys = _bucket(large[lo : lo + _QUERY_CHUNK], mask, bucket_bits)
        c = index.counts[keys]
        has = np.flatnonzero(c)
        c = c[has]
        probing = np.repeat(has + lo, c)
        indexed = index.order[_expand(index.starts[keys[has]], c)]
        yield (probing, indexed) if swap else (indexed, probing)


@dataclass(frozen=True)
class _Search:
    q: np.ndarray
    d: np.ndarray
    radius: int
    bits: int
    self_join: bool
    windows_per_query: int
    owners: np.ndarray | None


_forked: _Search | None = None  # the search a forked worker inherits (never pickled: 48 MB at 10^6)


def _found(search: _Search, masks: Sequence[int]) -> np.ndarray:
    """Codes i * len(d) + j of the verified pairs these tables find."""
    q, d, width = search.q, search.d, np.int64(search.d.size)
    found: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    for mask in masks:
        for i, j in _candidates(q, d, mask, search.bits, search.self_join):
            if search.windows_per_query:
                group = j // search.windows_per_query
                other = (search.owners[group] if search.owners is not None else group) != i
                i, j = i[other], j[other]
            near = popcount(q[i] ^ d[j]) <= search.radius
            i, j = i[near], j[near]
            if search.self_join:
                i, j = np.minimum(i, j), np.maximum(i, j)
            found.append(i * width + j)
        if len(found) > 64:  # many tables find the same near pairs: keep the list short
            found = [np.unique(np.concatenate(found))]
    return np.unique(np.concatenate(found))


def _found_forked(masks: Sequence[int]) -> np.ndarray:
    assert _forked is not None
    return _found(_forked, masks)


def lsh_pairs_between(
    queries: object,
    data: object,
    radius: int,
    recall: float,
    *,
    windows_per_query: int = 0,
    owners: np.ndarray | None = None,
    self_join: bool = False,
    chosen: LshPlan | None = None,
    jobs: int | None = None,
) -> tuple[Pairs, LshPlan]:
    """(query i, data j) within ``radius``, each once.

    ``windows_per_query``: data are groups of that many windows, group g belonging to query
    ``owners[g]`` (default g); a query's pairs with its own windows are left out.
    ``self_join`` (queries is data): only i < j. ``jobs`` worker processes share the tables
    of a large search (default: all cores). Returns the pairs and the plan (``chosen``, or
    the cheapest for ``recall``), whose ``recall(d)`` is the share found at distance d.
    """
    global _forked
    q, d_all = as_hash_array(queries), as_hash_array(data)
    chosen = chosen or plan(q.size, d_all.size, radius, recall, self_join)
    search = _Search(q, d_all, radius, chosen.bits, self_join, windows_per_query, owners)
    masks = _table_masks(chosen.bits, chosen.tables)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(masks)))
    if workers == 1 or chosen.cost(q.size, d_all.size, self_join) < _PARALLEL_ABOVE:
        codes = _found(search, masks)
    else:
        _forked = search
        try:
            with fork_pool(workers) as pool:
                parts = list(pool.map(_found_forked, [masks[w::workers] for w in range(workers)]))
        finally:
            _forked = None
        codes = np.unique(np.concatenate(parts))
    width = np.int64(d_all.size)
    left, right = codes // width, codes % width
    distance = popcount(q[left] ^ d_all[right]).astype(np.uint8)
    return Pairs(left.astype(np.int64), right.astype(np.int64), distance), chosen


def lsh_pairs(hashes: object, radius: int, recall: float, jobs: int | None = None) -> tuple[Pairs, LshPlan]:
    """Pairs (i < j) of ``hashes`` within ``radius``; see ``lsh_pairs_between``."""
    h = as_hash_array(hashes)
    return lsh_pairs_between(h, h, radius, recall, self_join=True, jobs=jobs)
