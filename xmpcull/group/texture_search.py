"""Similar-set candidates from texture signatures (``analyse.texture``), for the pixel check.

Why: viewpoint and illumination pairs are as far apart in pHash as unrelated
photos, so the hash search never proposes them. Each picture's ``NEAREST``
nearest pictures by texture (Bhattacharyya coefficient of the pattern
histograms) are proposed instead, whatever their hash distance; the pixel check
keeps the pairs whose keypoints agree. A rank, not a cut: the coefficients of
true pairs and of look-alike textures overlap (0.99 both on the dev set), but a
true pair is nearly always among the first two.

Exact search (blocks of a matrix product: N^2 x 59 multiply-adds) up to
``SEARCH_UP_TO`` pictures; above, the texture search is skipped and the hashes
(and the semantic tier, where installed) propose alone.
"""

from __future__ import annotations

import numpy as np

from xmpcull.analyse.texture import texture_vectors

NEAREST = 2  # proposals per picture (set on the similar-set dev set: every true pair ranked 1st from one side)
SEARCH_UP_TO = 100_000  # pictures with a signature; beyond, no texture proposals
_BLOCK = 2048  # rows per matrix product: a block of 2048 x N floats at a time


def texture_pairs(histograms: list[tuple[int, ...]], nearest: int = NEAREST) -> dict[tuple[int, int], float]:
    """(i, j) with i < j -> coefficient, for j among i's ``nearest`` or i among j's.

    Pictures without a signature (an empty tuple: too small, or analysed by an
    older xmpcull) propose nothing. Ties are broken by index, so the same
    library always gives the same pairs.
    """
    have = [i for i, h in enumerate(histograms) if h]
    if len(have) < 2 or len(have) > SEARCH_UP_TO or nearest < 1:
        return {}
    vectors = texture_vectors([histograms[i] for i in have])
    k = min(nearest, len(have) - 1)
    out: dict[tuple[int, int], float] = {}
    for start in range(0, len(have), _BLOCK):
        block = vectors[start : start + _BLOCK] @ vectors.T
        rows = np.arange(block.shape[0])
        block[rows, start + rows] = -np.inf  # not its own neighbour
        kth = -np.partition(-block, k - 1, axis=1)[:, k - 1]  # each row's k-th best score
        for r in range(block.shape[0]):
            a = have[start + r]
            # Best first; ties (at the k-th score too) by index, whatever order partition left.
            near = np.flatnonzero(block[r] >= kth[r]).tolist()
            for c in sorted(near, key=lambda c, r=r: -block[r, c])[:k]:
                b = have[c]
                out[(min(a, b), max(a, b))] = float(block[r, c])
    return out
