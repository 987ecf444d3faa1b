"""Grouping rules on hand-made records: no chaining, every member confirmed against every other."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from xmpcull.group.dupes import complete_linkage_clusters, find_duplicates
from xmpcull.models import Features, ImageFile, ImageRecord


def record(name: str, phash: int, dhash: int | None = None, size: int = 1000, digest: str | None = None) -> ImageRecord:
    root = Path("/lib")
    digest = digest or f"{abs(hash(name)):032x}"[:32]
    features = Features(digest=digest, phash=phash, dhash=phash if dhash is None else dhash,
                        phash_variants=(phash,) * 8, width=100, height=100, sharpness=1.0,
                        mean_luma=0.5, clip_high=0.0, clip_low=0.0, decoded_from="full")
    return ImageRecord(file=ImageFile(root / name, root, "jpeg", size, 0), features=features)


def flip(h: int, bits: range) -> int:
    for b in bits:
        h ^= 1 << b
    return h


def test_a_b_c_chain_does_not_merge_a_and_c() -> None:
    a = 0x0F0F0F0F0F0F0F0F
    b = flip(a, range(8))  # 8 bits from A
    c = flip(b, range(8, 16))  # 8 bits from B, 16 from A
    result = find_duplicates([record("a.jpg", a), record("b.jpg", b), record("c.jpg", c)], similar_threshold=None)
    assert len(result.groups) == 1
    names = {m.record.file.path.name for m in result.groups[0].members}
    assert len(names) == 2 and not {"a.jpg", "c.jpg"} <= names


def test_dhash_disagreement_vetoes_a_phash_match() -> None:
    a = 0x123456789ABCDEF0
    result = find_duplicates([record("a.jpg", a, dhash=0), record("b.jpg", flip(a, range(4)), dhash=2**40 - 1)],
                             similar_threshold=None)
    assert result.groups == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29), st.integers(0, 12)), max_size=80))
def test_clusters_are_cliques_and_disjoint(edge_list) -> None:
    edges = {(min(i, j), max(i, j)): d for i, j, d in edge_list if i != j}
    clusters = complete_linkage_clusters(30, edges)
    seen: set[int] = set()
    for cluster in clusters:
        assert len(cluster) >= 2 and not seen & set(cluster)
        seen.update(cluster)
        for x in cluster:
            for y in cluster:
                if x < y:
                    assert (x, y) in edges
    # No match may remain between two photos left outside every cluster.
    for (i, j) in edges:
        assert i in seen or j in seen, "two unclustered photos still match each other"


def test_a_series_seen_in_part_joins_whole_when_each_frame_matches_the_anchor_on_pixels() -> None:
    from xmpcull.group.linkage import anchored_clusters

    # Six frames of one series: the candidate search paired only neighbours, all confirmed on pixels.
    edges = {(0, 1): 10, (1, 2): 10, (2, 3): 10, (3, 4): 10, (4, 5): 10, (0, 2): 12, (1, 3): 12}
    asked: list[tuple[int, int]] = []

    def check(anchor: int, x: int) -> bool:
        asked.append((anchor, x))
        return True  # the pixels agree for every frame of the series

    (found,) = anchored_clusters(6, edges, set(edges), check)
    assert found == (1, [0, 1, 2, 3, 4, 5])  # frame 1: most neighbours, then lowest index
    assert sorted(asked) == [(1, 4), (1, 5)]  # only the pairs the search had not checked
    # Complete linkage on the same edges splits the series.
    assert len(complete_linkage_clusters(6, edges)) > 1


def test_a_frame_that_fails_the_anchor_check_starts_its_own_set_and_hashes_never_chain() -> None:
    from xmpcull.group.linkage import anchored_clusters

    edges = {(0, 1): 10, (1, 2): 10, (2, 3): 10}
    pixel_edges = {(0, 1), (1, 2), (2, 3)}
    found = anchored_clusters(4, edges, pixel_edges, lambda anchor, x: False)
    assert [members for _, members in found] == [[0, 1, 2]]  # 3 does not match anchor 1: left out (alone)
    # The same chain on hashes alone (no pixel confirmation): complete linkage, nothing is checked.
    def never_asked(anchor: int, x: int) -> bool:
        raise AssertionError("hash-only edges are never extended by pixel checks")

    assert [members for _, members in anchored_clusters(4, edges, set(), never_asked)] == [[0, 1], [2, 3]]


def test_anchor_checks_per_set_are_bounded() -> None:
    from xmpcull.group import linkage

    n = linkage.ANCHOR_CHECKS_PER_SET + 20
    edges = {(i, i + 1): 10 for i in range(n - 1)}  # a long chain confirmed pair by pair
    asked = []
    linkage.anchored_clusters(n, edges, set(edges), lambda a, x: asked.append((a, x)) or False)
    assert 0 < len(asked) <= linkage.ANCHOR_CHECKS_PER_SET * n
    first_anchor = [a for a, _ in asked][0]
    assert sum(1 for a, _ in asked if a == first_anchor) <= linkage.ANCHOR_CHECKS_PER_SET
