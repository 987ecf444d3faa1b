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
