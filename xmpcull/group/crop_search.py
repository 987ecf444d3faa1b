"""Candidate pairs for the small-crop search: which pictures to check on pixels.

A cropped copy's full pHash lands near its original's full pHash, or near the
pHash of one of its original's sub-windows (``analyse.hashes.WINDOWS``). Both
joins run at a loose radius (14 and 12 bits of 64), which is about the distance
between unrelated hashes' nearest neighbours once a library is large. Up to
``EXACT_SEARCH_MAX`` pictures the search is exact (``hamming_index``: the
pairs brute force finds; 31 s of CPU at 100,000 pictures, growing with N^2);
above it, approximate (``hamming_lsh``): every pair closer than the radius by 2
bits or more is found with probability >= 0.99, pairs at the radius itself with
``RECALL_AT_RADIUS``, and no pair outside the radius is ever proposed. Measured
against brute force in bench/RESULTS.md (bench/dupes_scale.py --crop-radii).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xmpcull.analyse.hashes import WINDOWS
from xmpcull.group.hamming_index import Pairs, radius_pairs, radius_pairs_between
from xmpcull.group.hamming_lsh import lsh_pairs, lsh_pairs_between

EXACT_SEARCH_MAX = 100_000  # pictures; above this the approximate search (a 1,000,000 search: minutes, not hours)
RECALL_AT_RADIUS = 0.9  # share found of the pairs exactly at the radius; closer pairs more (module docstring)


def _full_pairs(full: np.ndarray, radius: int, jobs: int | None) -> Pairs:
    if full.size <= EXACT_SEARCH_MAX:
        return radius_pairs(full, radius)
    return lsh_pairs(full, radius, RECALL_AT_RADIUS, jobs)[0]


def _window_pairs(full: np.ndarray, windows: np.ndarray, owners: np.ndarray, radius: int, jobs: int | None) -> Pairs:
    """(picture, window) pairs; a picture's own windows are left out."""
    k = len(WINDOWS)
    if full.size <= EXACT_SEARCH_MAX:
        pairs = radius_pairs_between(full, windows, radius)
        other = owners[pairs.right // k] != pairs.left
        return Pairs(pairs.left[other], pairs.right[other], pairs.distance[other])
    all_own = owners.size == full.size  # every picture has its windows: owner of group g is g
    return lsh_pairs_between(
        full, windows, radius, RECALL_AT_RADIUS, windows_per_query=k, owners=None if all_own else owners, jobs=jobs
    )[0]


def crop_candidates(feats: Sequence, radius: int, window_radius: int, jobs: int | None = None) -> dict[tuple[int, int], int]:
    """(i, j) with i < j -> smallest pHash distance: full against full within ``radius``, or full
    against a window of the other within ``window_radius``."""
    out: dict[tuple[int, int], int] = {}

    def add(i: int, j: int, d: int) -> None:
        key = (min(i, j), max(i, j))
        if i != j and d < out.get(key, 99):
            out[key] = d

    full = np.array([f.phash for f in feats], dtype=np.uint64)
    pairs = _full_pairs(full, radius, jobs)
    for i, j, d in zip(pairs.left.tolist(), pairs.right.tolist(), pairs.distance.tolist(), strict=True):
        add(i, j, d)
    k = len(WINDOWS)
    owners = np.array([j for j, f in enumerate(feats) if len(f.window_phashes) == k], dtype=np.int64)
    if owners.size:
        windows = np.array([h for j in owners.tolist() for h in feats[j].window_phashes], dtype=np.uint64)
        pairs = _window_pairs(full, windows, owners, window_radius, jobs)
        for i, w, d in zip(pairs.left.tolist(), (owners[pairs.right // k]).tolist(), pairs.distance.tolist(), strict=True):
            add(i, w, d)
    return out
