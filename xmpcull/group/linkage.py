"""Clustering without chaining: the shared core of duplicate groups and similar sets.

Why: union-find alone chains A~B~C into one group even when A and C differ a
lot. Each connected component is split around medoids instead, so that every
member of a cluster is a confirmed match of every other member (with one
documented exception for crops, ``part_of``). Pure: indices and edges in,
clusters out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _rank(neighbours: dict[int, int], remaining: set[int], node: int) -> tuple[int, int, int]:
    """Medoid order: most neighbours still unclustered, then smallest total distance, then lowest index."""
    near = [d for u, d in neighbours.items() if u in remaining]
    return (-len(near), sum(near), node)


def _both_parts(
    part_of: Callable[[int, int], bool] | None,
    never: Callable[[int, int], bool] | None,
    anchor: int,
    u: int,
    v: int,
) -> bool:
    if part_of is None or (never is not None and never(u, v)):
        return False
    return part_of(anchor, u) and part_of(anchor, v)


def complete_linkage_clusters(
    n: int,
    edges: dict[tuple[int, int], int],
    part_of: Callable[[int, int], bool] | None = None,
    never: Callable[[int, int], bool] | None = None,
) -> list[list[int]]:
    """Split the graph into clusters without chaining (``complete_linkage_with_anchors`` without the anchors)."""
    return [cluster for _, cluster in complete_linkage_with_anchors(n, edges, part_of, never)]


def complete_linkage_with_anchors(
    n: int,
    edges: dict[tuple[int, int], int],
    part_of: Callable[[int, int], bool] | None = None,
    never: Callable[[int, int], bool] | None = None,
) -> list[tuple[int, list[int]]]:
    """Split the graph into clusters without chaining, as (anchor, members) sorted by members.

    Inside each connected component, repeatedly take the medoid (most neighbours,
    then smallest total distance, then lowest index) as anchor and grow a cluster
    of its neighbours, nearest first. A neighbour joins when it matches every
    member already in, or when ``part_of(anchor, x)`` holds for both (pixels show
    both are parts of the anchor; asked only when a direct match is missing)
    and ``never(u, v)`` does not (two exposures stay apart, even as parts of one
    picture). Without ``part_of`` every cluster is a clique. The anchor is a direct
    neighbour of every other member.
    """
    adjacency, components = _components(n, edges)
    clusters: list[tuple[int, list[int]]] = []
    for nodes in components:
        remaining = set(nodes)
        while len(remaining) > 1:
            medoid = min(remaining, key=lambda v, left=remaining: _rank(adjacency[v], left, v))  # type: ignore[misc]
            cluster = [medoid]
            for v in sorted((u for u in adjacency[medoid] if u in remaining), key=lambda u: (adjacency[medoid][u], u)):
                if all(u in adjacency[v] or _both_parts(part_of, never, medoid, u, v) for u in cluster[1:]):
                    cluster.append(v)
            remaining.difference_update(cluster)
            if len(cluster) > 1:
                clusters.append((medoid, sorted(cluster)))
            # A medoid without neighbours left means the rest are isolated too: stop early.
            if len(cluster) == 1:
                break
    clusters.sort(key=lambda c: c[1])
    return clusters


def nearest_per_picture(pairs: list[tuple[int, int, int]], k: int) -> list[tuple[int, int, int]]:
    """The (i, j, distance) pairs that are among the ``k`` nearest of i or of j, in input order."""
    by_picture: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for n, (i, j, d) in enumerate(pairs):
        by_picture[i].append((d, n))
        by_picture[j].append((d, n))
    keep: set[int] = set()
    for near in by_picture.values():
        keep.update(n for _, n in sorted(near)[:k])
    return [pair for n, pair in enumerate(pairs) if n in keep]


# Pixel checks asked for while one set grows (pairs its candidate search did not check).
ANCHOR_CHECKS_PER_SET = 48


def anchored_clusters(
    n: int,
    edges: dict[tuple[int, int], int],
    on_pixels: set[tuple[int, int]],
    check: Callable[[int, int], bool],
) -> list[tuple[int, list[int]]]:
    """Clusters around an anchor, as (anchor, members): a series the candidate search saw only in part.

    Like ``complete_linkage_clusters``, but a pair confirmed on pixels (``on_pixels``)
    vouches for more: every member matched on pixels with the anchor is compatible
    with every other such member, and a picture reached through a pixel-confirmed
    edge from a member is checked against the anchor (``check(anchor, x)``, at most
    ``ANCHOR_CHECKS_PER_SET`` per set) even when the candidate search never paired
    them. So the frames of one calibration series join whole, yet nothing chains:
    each member matches the anchor itself on pixels, or (hash-only evidence) every
    member. Deterministic: anchors and order as in ``complete_linkage_clusters``.
    """
    adjacency, components = _components(n, edges)
    verified: dict[int, set[int]] = defaultdict(set)
    for i, j in on_pixels:
        if (i, j) in edges:
            verified[i].add(j)
            verified[j].add(i)
    clusters: list[tuple[int, list[int]]] = []
    for nodes in sorted(components, key=min):
        remaining = set(nodes)
        while len(remaining) > 1:
            anchor = min(remaining, key=lambda v, left=remaining: _rank(adjacency[v], left, v))  # type: ignore[misc]
            cluster = _grow(anchor, remaining, adjacency, verified, check)
            remaining.difference_update(cluster)
            if len(cluster) == 1:
                break  # an anchor without neighbours left: the rest are isolated too
            clusters.append((anchor, sorted(cluster)))
    clusters.sort(key=lambda c: c[1])
    return clusters


def _grow(
    anchor: int,
    remaining: set[int],
    adjacency: dict[int, dict[int, int]],
    verified: dict[int, set[int]],
    check: Callable[[int, int], bool],
) -> list[int]:
    """One cluster around ``anchor`` (see ``anchored_clusters``)."""
    cluster = [anchor]
    by_anchor: set[int] = set()  # members confirmed against the anchor on pixels
    for v in sorted((u for u in adjacency[anchor] if u in remaining), key=lambda u: (adjacency[anchor][u], u)):
        on_pixels = v in verified[anchor]
        if all(u in adjacency[v] or (on_pixels and u in by_anchor) for u in cluster[1:]):
            cluster.append(v)
            if on_pixels:
                by_anchor.add(v)
    # Pictures the candidate search did not pair with the anchor, reached through pixel-confirmed
    # edges of members: checked against the anchor itself, nearest members' neighbours first.
    tried = set(cluster) | set(adjacency[anchor])
    frontier = sorted({x for m in by_anchor for x in verified[m] if x in remaining and x not in tried})
    checks = 0
    while frontier and checks < ANCHOR_CHECKS_PER_SET:
        x = frontier.pop(0)
        tried.add(x)
        if not all(u in by_anchor or u in adjacency[x] for u in cluster[1:]):
            continue  # a member joined on hashes alone, and no match with it
        checks += 1
        if not check(anchor, x):
            continue
        cluster.append(x)
        by_anchor.add(x)
        frontier = sorted(set(frontier) | {y for y in verified[x] if y in remaining and y not in tried})
    return cluster


def _components(n: int, edges: dict[tuple[int, int], int]) -> tuple[dict[int, dict[int, int]], list[list[int]]]:
    """The graph as adjacency (node -> neighbour -> distance), and its connected components."""
    adjacency: dict[int, dict[int, int]] = defaultdict(dict)
    uf = _UnionFind(n)
    for (i, j), d in edges.items():
        adjacency[i][j] = d
        adjacency[j][i] = d
        uf.union(i, j)
    components: dict[int, list[int]] = defaultdict(list)
    for node in adjacency:
        components[uf.find(node)].append(node)
    return adjacency, list(components.values())
