"""Exact and near-duplicate groups, plus looser "similar sets" for review.

Why this shape:
* Exact duplicates are files of the same picture: the same decoded pixels
  (``Features.pixel_digest``), size, format and JPEG encoding. Metadata may
  differ: a copy with a keyword added, or xmpcull's own ``--embed``, is still
  an exact copy (identical bytes are the common case).
* Near duplicates are found on pHash (DCT signs: survives resize, recompression,
  format change and light edits) within ``threshold`` bits, and each candidate
  is confirmed by dHash (gradient signs), an independent second opinion, within
  ``dhash_threshold`` bits. Unrelated photos that collide on one hash rarely
  collide on both, which is what keeps precision high.
* Union-find alone chains A~B~C into one group even when A and C differ a lot.
  Connected components are therefore split by complete linkage around a
  medoid: every member of a group is a confirmed match of every other member.
* A similar set ("same scene, another moment") joins keepers and singletons
  whose pHash is within ``similar_threshold`` (and, with ``verify_scenes``, the
  nearest by texture, ``group.texture_search``); it is for review, never for moving.
* With ``verify_scenes`` every member of a near-duplicate group is checked on
  pixels against the group's keeper (``group.similar``, ``group.scene``): another
  moment of one scene (people who moved) leaves the group for a similar set, a
  hash collision leaves it for nothing, and the rest is grouped again. Against
  the keeper, not every pair: a group of k copies costs k-1 checks, not
  k(k-1)/2, and the keeper is the picture the copies are moved for. Similar-set
  pairs are checked the same way.
* Group IDs come from the keeper's pixel digest (``d-`` + 8 hex): the same on
  every run, unchanged when lesser copies are added or when metadata is written
  into a file (``--embed``: the content digest changes, the pixels do not); they
  change only when a new picture becomes the keeper. Similar-set IDs use the
  smallest member pixel digest.
* RAW+JPEG companions of one shot are one shot: never duplicates of each other.
* Small crops (``crop_tolerant``): a cropped copy's full pHash lands near the
  pHash of one stored sub-window of its original (``analyse.hashes.WINDOWS``),
  or near its full pHash. Both joins run at a looser radius, and every
  candidate that the hashes alone do not confirm is checked on pixels
  (``group.geometry``: one picture must be a small, unrotated sub-rectangle of
  the other). Hashes cannot tell a crop from a re-shot frame; geometry can.
* Grouping with crops: two crops of one photo are not crops of each other
  (each lacks a strip the other has), so complete linkage would split them.
  Members whose match with the group's anchor was checked on pixels are
  compatible with each other (all are parts of the anchor); every other pair
  of members still needs a direct match, so hash-only matches never chain.
* Flat or featureless pictures (blown-out frames, grey stubs) have degenerate
  hashes that match each other whatever the picture: they are never near
  duplicates, only exact ones (same bytes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from xmpcull.analyse.hashes import hamming, is_informative
from xmpcull.decide.keeper import DEFAULT_CHAIN, choose_keeper
from xmpcull.group.crop_search import crop_candidates
from xmpcull.group.hamming_index import radius_pairs, radius_pairs_between
from xmpcull.group.identity import identity_digest, picture_identity
from xmpcull.group.linkage import complete_linkage_clusters, complete_linkage_with_anchors, nearest_per_picture
from xmpcull.group.pixels import PixelSource
from xmpcull.group.similar import Candidate, Evidence, SimilarSet, scene_of, similar_drafts
from xmpcull.group.similar import SimilarMember as SimilarMember  # re-exported: reports and tests import it here
from xmpcull.group.texture_search import texture_pairs
from xmpcull.models import ImageRecord

# Thresholds (bits out of 64), justified in docs/dupes.md and measured in bench/RESULTS.md:
# unrelated photos sit near 32 bits apart (sd about 4), edits of one photo within ~8.
DEFAULT_THRESHOLD = 10  # pHash, same value as imagededup's default
DEFAULT_DHASH_THRESHOLD = 12  # dHash confirmation
ROTATED_THRESHOLD_MARGIN = 2  # rotated matches have no dHash opinion: ask more of pHash
DEFAULT_SIMILAR_THRESHOLD = 18  # pHash, the looser same-scene tier
# Crop candidates go to the pixel check: full pHash pairs up to DEFAULT_CROP_THRESHOLD, full/window
# pairs up to DEFAULT_CROP_WINDOW_THRESHOLD (that join is 5x larger: each extra bit costs more there).
# Random crops of 0-10 % per side were up to 14 bits from their original's closest hash (bench corpus).
DEFAULT_CROP_THRESHOLD = 14
DEFAULT_CROP_WINDOW_THRESHOLD = 12


@dataclass(frozen=True)
class DupeMember:
    record: ImageRecord
    role: str  # "keeper" | "duplicate"
    distance: int  # pHash Hamming distance to the keeper (0 for an exact copy)


@dataclass(frozen=True)
class DupeGroup:
    id: str
    kind: str  # "exact" (all members the same picture, see picture_identity) | "near" | "mirrored" (a member is the other flipped left-right)
    keeper_reason: str
    members: tuple[DupeMember, ...]  # keeper first, then by distance and path

    @property
    def keeper(self) -> ImageRecord:
        return self.members[0].record


@dataclass
class DupeResult:
    groups: list[DupeGroup] = field(default_factory=list)
    similar_sets: list[SimilarSet] = field(default_factory=list)
    scene_checks: int = 0  # pairs compared on pixels in this run (not found in the cache)
    scene_seconds: float = 0.0  # time those comparisons took, decodes included
    collisions: int = 0  # hash matches whose pixels disagree: neither duplicates nor similar
    moments: int = 0  # hash matches that are another moment or view: similar, not duplicates

    def group_of(self) -> dict[str, tuple[DupeGroup, DupeMember]]:
        """Path (str) -> its group and membership."""
        return {str(m.record.file.path): (g, m) for g in self.groups for m in g.members}


@dataclass
class _Unit:
    """Exact copies (one picture_identity), handled as one picture during near-duplicate search."""

    records: list[ImageRecord]

    @property
    def rep(self) -> ImageRecord:
        return self.records[0]

    @property
    def digest(self) -> str:
        return identity_digest(self.rep)

    @property
    def informative(self) -> bool:
        f = self.rep.features
        return f is not None and is_informative(f.phash, f.dhash)


def _units(records: Iterable[ImageRecord]) -> list[_Unit]:
    by_content: dict[tuple[object, ...], list[ImageRecord]] = defaultdict(list)
    for r in records:
        if r.ok:
            by_content[picture_identity(r)].append(r)
    units = [_Unit(sorted(rs, key=lambda r: str(r.file.path))) for rs in by_content.values()]
    units.sort(key=lambda u: (u.digest, str(u.rep.file.path)))
    return units


def _are_companions(a: _Unit, b: _Unit) -> bool:
    paths_b = {r.file.path for r in b.records}
    return any(p in paths_b for r in a.records for p in r.file.companions) or any(
        r.file.path in {c for x in b.records for c in x.file.companions} for r in a.records
    )


@dataclass
class _Edges:
    """Confirmed near-duplicate pairs (i < j, unit indices) -> pHash distance."""

    distance: dict[tuple[int, int], int] = field(default_factory=dict)
    on_pixels: set[tuple[int, int]] = field(default_factory=set)  # confirmed as crops by the pixel check
    mirrored: set[tuple[int, int]] = field(default_factory=set)  # one is the other mirrored, confirmed on pixels
    # Pairs that need no scene check: passed it (or pixels could not say), mirrored, or linked by metadata.
    settled: set[tuple[int, int]] = field(default_factory=set)

    def add(self, i: int, j: int, d: int) -> None:
        key = (min(i, j), max(i, j))
        if i != j and d < self.distance.get(key, 99):
            self.distance[key] = d


def _hash_edges(
    units: Sequence[_Unit], idx: Sequence[int], threshold: int, dhash_threshold: int, rotation_invariant: bool
) -> _Edges:
    """Pairs confirmed by hashes alone: pHash within ``threshold`` and dHash within ``dhash_threshold``."""
    n = len(idx)
    feats = [units[i].rep.features for i in idx]
    edges = _Edges()
    if not rotation_invariant:
        ph = np.array([f.phash for f in feats], dtype=np.uint64)  # type: ignore[union-attr]
        pairs = radius_pairs(ph, threshold)
        for i, j, d in zip(pairs.left.tolist(), pairs.right.tolist(), pairs.distance.tolist(), strict=True):
            if hamming(feats[i].dhash, feats[j].dhash) <= dhash_threshold:  # type: ignore[union-attr]
                edges.add(idx[i], idx[j], d)
        return edges
    # Stack all 8 dihedral variants; a pair counts when one side is an untransformed pHash.
    stacked = np.array([f.phash_variants[k] for k in range(8) for f in feats], dtype=np.uint64)  # type: ignore[union-attr]
    pairs = radius_pairs(stacked, threshold)
    for a, b, d in zip(pairs.left.tolist(), pairs.right.tolist(), pairs.distance.tolist(), strict=True):
        (va, i), (vb, j) = divmod(a, n), divmod(b, n)
        if i == j or (va and vb):
            continue
        if va == 0 and vb == 0:
            ok = hamming(feats[i].dhash, feats[j].dhash) <= dhash_threshold  # type: ignore[union-attr]
        else:
            ok = d <= threshold - ROTATED_THRESHOLD_MARGIN
        if ok:
            edges.add(idx[i], idx[j], d)
    return edges


def _related(units: Sequence[_Unit], i: int, j: int) -> bool:
    """Pairs that are never duplicates whatever the pixels: one shot's RAW+JPEG, or two exposures."""
    return _are_companions(units[i], units[j]) or different_shots(units[i].rep, units[j].rep)


def _near_edges(
    units: Sequence[_Unit], threshold: int, dhash_threshold: int, rotation_invariant: bool,
    crop_thresholds: tuple[int, int] | None = None, pixels: PixelSource | None = None, jobs: int | None = None,
) -> _Edges:
    """Confirmed near-duplicate pairs; ``crop_thresholds`` (full, window; with ``pixels``) add pixel-checked crops."""
    idx = [i for i, u in enumerate(units) if u.informative]  # flat pictures only match by bytes
    if len(idx) < 2:
        return _Edges()
    edges = _hash_edges(units, idx, threshold, dhash_threshold, rotation_invariant)
    if crop_thresholds is not None and pixels is not None:
        feats = [units[i].rep.features for i in idx]
        to_check = []
        for (a, b), d in sorted(crop_candidates(feats, *crop_thresholds, jobs).items()):
            i, j = idx[a], idx[b]
            if (i, j) in edges.distance or _related(units, i, j):
                continue  # already confirmed by hashes, or never a duplicate: no decode needed
            to_check.append((i, j, d))
        to_check = nearest_per_picture(to_check, CROP_CANDIDATES_PER_PICTURE)
        pixels.prefetch([(units[i].rep, units[j].rep) for i, j, _ in to_check])
        for i, j, d in to_check:
            if pixels.is_crop(units[i].rep, units[j].rep):
                edges.add(i, j, d)
                edges.on_pixels.add((min(i, j), max(i, j)))
    edges.distance = {k: d for k, d in edges.distance.items() if not _related(units, *k)}
    return edges


# Pixel checks per picture: its nearest crop candidates by hash distance. Pictures of one
# look (diagrams, one venue) otherwise make dense clusters: 2,369 unseen sample images gave
# 43,548 candidate pairs, 36 s of checks; the 12 nearest keep 98.7 % of the benchmark's
# (crop, original) candidates and a quarter of those pairs.
CROP_CANDIDATES_PER_PICTURE = 12


SUBSECOND = 0.001  # two recorded sub-second times further apart than this are two exposures


def different_shots(a: ImageRecord, b: ImageRecord) -> bool:
    """True when the cameras' own records say these are two exposures, however alike they look.

    A burst on a tripod gives near-identical frames that are not copies of each
    other: they are for the burst stage (best frame) and the similar tier, never
    for moving. Evidence: two different camera bodies, or one body with capture
    times that differ (by more than a millisecond when both record sub-seconds,
    else by a second or more: an export that dropped SubSecTime is still the
    same shot). A recorded sub-second of 0 (a burst frame at .00 s) is a
    sub-second like any other; only a file without one is imprecise. Files
    without camera or time (EXIF stripped) give no evidence.
    """
    ma, mb = a.metadata, b.metadata
    if ma.camera_body is None or mb.camera_body is None or ma.capture_time is None or mb.capture_time is None:
        return False
    if ma.camera_body != mb.camera_body:
        return True
    gap = abs(ma.capture_time.timestamp() - mb.capture_time.timestamp())
    both_subsecond = ma.capture_time.subsec_recorded and mb.capture_time.subsec_recorded
    return gap > SUBSECOND if both_subsecond else gap >= 1.0


def _add_linked(units: Sequence[_Unit], edges: _Edges, linked: Iterable[tuple[Path, Path]]) -> None:
    """Pairs known to be one picture from their metadata, with their pHash distance as the edge."""
    unit_of = {r.file.path: i for i, u in enumerate(units) for r in u.records}
    for a, b in linked:
        i, j = unit_of.get(a), unit_of.get(b)
        if i is None or j is None or i == j or _related(units, i, j):
            continue
        edges.add(i, j, hamming(units[i].rep.features.phash, units[j].rep.features.phash))  # type: ignore[union-attr]
        edges.settled.add((min(i, j), max(i, j)))


def _parts_checker(units: Sequence[_Unit], pixels: PixelSource | None) -> Callable[[int, int], bool] | None:
    """``part_of(anchor, x)``: x is a crop of the anchor or the reverse, on pixels (the
    pixel source remembers every verdict, so a pair is checked once)."""
    if pixels is None:
        return None
    return lambda anchor, x: pixels.is_crop(units[anchor].rep, units[x].rep)


def _distance(a: ImageRecord, b: ImageRecord, rotation_invariant: bool, windows: bool = True) -> int:
    fa, fb = a.features, b.features
    assert fa is not None and fb is not None
    if picture_identity(a) == picture_identity(b):
        return 0
    variants = fa.phash_variants if rotation_invariant else (fa.phash,)
    # A cropped copy is near a sub-window of the other picture, not its full hash.
    crops = [hamming(fa.phash, w) for w in fb.window_phashes] + [hamming(fb.phash, w) for w in fa.window_phashes]
    return min([hamming(v, fb.phash) for v in variants] + (crops if windows else []))


def _short_ids(prefix: str, digests: Sequence[str]) -> list[str]:
    """prefix + 8 hex of each digest, lengthened only where two would collide."""
    ids = []
    for d in digests:
        width = 8
        while width < len(d) and sum(1 for o in digests if o[:width] == d[:width]) > 1:
            width += 4
        ids.append(prefix + d[:width])
    return ids


def _ids(prefix: str, digests: Sequence[str]) -> list[str]:
    counts: dict[str, int] = defaultdict(int)
    for d in digests:
        counts[d[:8]] += 1
    if all(c == 1 for c in counts.values()):
        return [prefix + d[:8] for d in digests]
    return _short_ids(prefix, digests)


def find_duplicates(
    records: Iterable[ImageRecord],
    threshold: int = DEFAULT_THRESHOLD,
    similar_threshold: int | None = DEFAULT_SIMILAR_THRESHOLD,
    rotation_invariant: bool = False,
    *,
    dhash_threshold: int = DEFAULT_DHASH_THRESHOLD,
    keeper_chain: Sequence[str] = DEFAULT_CHAIN,
    crop_tolerant: bool = False,
    crop_threshold: int = DEFAULT_CROP_THRESHOLD,
    crop_window_threshold: int = DEFAULT_CROP_WINDOW_THRESHOLD,
    verify_scenes: bool = False,
    pixels: PixelSource | None = None,
    linked: Iterable[tuple[Path, Path]] = (),
    semantic: dict[tuple[Path, Path], float] | None = None,
    jobs: int | None = None,
) -> DupeResult:
    """Duplicate groups (exact and near) and similar sets among analysed records.

    Records that failed analysis are ignored. ``similar_threshold=None`` skips
    the similar tier. ``crop_tolerant`` also matches small crops: pairs within
    ``crop_threshold`` on full pHash, or within ``crop_window_threshold``
    between one's full pHash and a window pHash of the other, are checked on pixels.
    ``verify_scenes`` checks each near-duplicate against its group's keeper and the
    similar-set pairs on pixels (``group.similar``): another moment of one scene
    becomes a similar set, a hash collision neither. Pixels are decoded on demand by ``pixels`` (default: a fresh
    ``PixelSource``; give it the cache path so its verdicts are kept for the next run).
    ``linked`` pairs of paths are duplicates
    on other evidence whatever their hashes (one AI generation at two sizes, from its
    recorded seed and parameters: ``group.generations``). ``semantic``: pairs of paths the
    semantic tier proposed, with their cosine (``group.semantic``), similar-set candidates
    checked on pixels like the others. Output order is stable: groups by ID.
    """
    units = _units(records)
    if (crop_tolerant or verify_scenes) and pixels is None:
        pixels = PixelSource()
    crop_pixels = pixels if crop_tolerant else None  # hashes only: no crop check, also not in the grouping
    scene_pixels = pixels if verify_scenes else None
    edges = _near_edges(
        units, threshold, dhash_threshold, rotation_invariant,
        (crop_threshold, crop_window_threshold) if crop_tolerant else None, crop_pixels, jobs,
    )
    result = DupeResult()
    part_of, never = _parts_checker(units, crop_pixels), lambda u, v: _related(units, u, v)
    demoted: dict[tuple[int, int], Evidence] = {}
    verify = None
    if scene_pixels is not None:
        verify = _KeeperCheck(units, edges, scene_pixels, rotation_invariant, keeper_chain, part_of, never, result, demoted)
        verify.settle()
        if not rotation_invariant:  # rotation-invariant search already covers mirrors
            _add_mirrored(units, edges, threshold, scene_pixels)
    _add_linked(units, edges, linked)
    if verify is not None:
        clusters = verify.settle()  # mirrored and linked pairs can regroup members: check them against their new keeper
    else:
        clusters = complete_linkage_clusters(len(units), edges.distance, part_of, never)
    clustered = {i for c in clusters for i in c}
    clusters += [[i] for i, u in enumerate(units) if i not in clustered and len(u.records) > 1]

    drafts = []
    for cluster in clusters:
        files = [r for i in cluster for r in units[i].records]
        keeper, reason = choose_keeper(files, keeper_chain)
        mirrored = any((u, v) in edges.mirrored for u in cluster for v in cluster)
        turned = rotation_invariant or mirrored  # distances over the flipped hashes too
        others = sorted(
            (r for r in files if r is not keeper),
            key=lambda r: (_distance(keeper, r, turned), str(r.file.path)),
        )
        members = (DupeMember(keeper, "keeper", 0),) + tuple(
            DupeMember(r, "duplicate", _distance(keeper, r, turned)) for r in others
        )
        kind = "exact" if len(cluster) == 1 else "mirrored" if mirrored else "near"
        drafts.append((kind, reason, members, cluster))
    ids = _ids("d-", [identity_digest(d[2][0].record) for d in drafts])
    groups = [DupeGroup(gid, kind, reason, members) for gid, (kind, reason, members, _) in zip(ids, drafts, strict=True)]
    result.groups = sorted(groups, key=lambda g: g.id)
    if similar_threshold is not None:
        result.similar_sets = _similar_sets(
            units, drafts, ids, similar_threshold, demoted, scene_pixels, keeper_chain, semantic or {}
        )
    if pixels is not None:
        pixels.save()
        result.scene_checks, result.scene_seconds = pixels.scene_checks, pixels.scene_seconds
    return result


@dataclass
class _KeeperCheck:
    """Near-duplicate groups whose every member was checked on pixels against the group's keeper.

    ``settle`` groups by complete linkage, checks each member's pair with the keeper the
    chain chooses (or, for a crop the keeper is no direct match of, with the group's
    anchor, which every member matches), and drops the pairs the pixels reject: another
    moment or view (demoted to similar, with its evidence) or a hash collision. Then it
    groups again, until every member stands checked. A group of k copies costs k-1
    checks (2,369 opencv-doc images: 26,525 of 35,843 checks were pairs inside groups
    when every pair was checked). ``unknown`` keeps the hash verdict. A crop confirmed
    on pixels frames less than its original (so its verdict is ``scene``): it leaves
    only when a region changed.
    """

    units: Sequence[_Unit]
    edges: _Edges
    pixels: PixelSource
    rotation_invariant: bool
    keeper_chain: Sequence[str]
    part_of: Callable[[int, int], bool] | None
    never: Callable[[int, int], bool]
    result: DupeResult
    demoted: dict[tuple[int, int], Evidence]  # pairs demoted to similar, with why

    def settle(self) -> list[list[int]]:
        """The groups once every member's pair with its keeper passed the check."""
        while True:
            anchored = complete_linkage_with_anchors(len(self.units), self.edges.distance, self.part_of, self.never)
            to_check = sorted({key for anchor, cluster in anchored for key in self._keeper_pairs(anchor, cluster)})
            if not to_check:
                return [cluster for _, cluster in anchored]
            self._check(to_check)

    def _keeper_pairs(self, anchor: int, cluster: list[int]) -> list[tuple[int, int]]:
        """Pairs of this group still to check: each member with the keeper's unit (else the anchor)."""
        keeper, _ = choose_keeper([r for i in cluster for r in self.units[i].records], self.keeper_chain)
        lead = next(i for i in cluster if any(r is keeper for r in self.units[i].records))
        pairs = []
        for i in cluster:
            if i == lead:
                continue
            key = (min(i, lead), max(i, lead))
            if key not in self.edges.distance:
                key = (min(i, anchor), max(i, anchor))
            if key not in self.edges.settled:
                pairs.append(key)
        return pairs

    def _check(self, keys: list[tuple[int, int]]) -> None:
        units, pixels, edges = self.units, self.pixels, self.edges
        pixels.prefetch_scenes([(units[i].rep, units[j].rep) for i, j in keys])
        if self.rotation_invariant:
            pixels.prefetch_scenes([(units[i].rep, units[j].rep) for i, j in keys], mirrored=True)
        for key in keys:
            match = scene_of(pixels, units[key[0]].rep, units[key[1]].rep, mirrored_too=self.rotation_invariant)
            if match.verdict in ("same", "unknown") or (key in edges.on_pixels and not match.region_changed):
                edges.settled.add(key)
                continue
            distance = edges.distance.pop(key)
            if match.verdict == "different":
                self.result.collisions += 1
            else:
                self.result.moments += 1
                self.demoted[key] = Evidence(distance, match)


MIRROR = 4  # index of the left-right mirror in Features.phash_variants (analyse.hashes.DIHEDRAL)


def _add_mirrored(units: Sequence[_Unit], edges: _Edges, threshold: int, pixels: PixelSource) -> None:
    """Left-right mirrored copies: one picture's mirrored pHash near the other's, then, on
    pixels, the first flipped must be the ``same`` picture as the second (group kind "mirrored")."""
    idx = [i for i, u in enumerate(units) if u.informative]
    if len(idx) < 2:
        return
    feats = [units[i].rep.features for i in idx]
    flipped = np.array([f.phash_variants[MIRROR] for f in feats], dtype=np.uint64)  # type: ignore[union-attr]
    plain = np.array([f.phash for f in feats], dtype=np.uint64)  # type: ignore[union-attr]
    found = radius_pairs_between(flipped, plain, threshold)
    candidates: dict[tuple[int, int], int] = {}
    for a, b, d in zip(found.left.tolist(), found.right.tolist(), found.distance.tolist(), strict=True):
        i, j = idx[a], idx[b]
        key = (min(i, j), max(i, j))
        if i != j and key not in edges.distance and not _related(units, i, j):
            candidates[key] = min(d, candidates.get(key, 99))
    pairs = sorted(candidates.items())
    pixels.prefetch_scenes([(units[i].rep, units[j].rep) for (i, j), _ in pairs], mirrored=True)
    for (i, j), d in pairs:
        if pixels.scene(units[i].rep, units[j].rep, mirrored=True).verdict == "same":
            edges.add(i, j, d)
            edges.mirrored.add((i, j))
            edges.settled.add((i, j))


def _similar_sets(
    units: Sequence[_Unit],
    drafts: Sequence[tuple],
    ids: Sequence[str],
    similar_threshold: int,
    demoted: dict[tuple[int, int], Evidence],
    pixels: PixelSource | None,
    keeper_chain: Sequence[str],
    semantic: dict[tuple[Path, Path], float],
) -> list[SimilarSet]:
    """Keepers and singletons within the looser threshold (or demoted from a group), checked, clustered without chaining."""
    leaders: list[tuple[Candidate, _Unit]] = []
    leader_of: dict[int, int] = {}  # unit index -> index in leaders, for units that lead
    group_leader: dict[int, int] = {}  # unit index -> the leader of its group (or its own)
    grouped: set[int] = set()
    for (_kind, _reason, members, cluster), gid in zip(drafts, ids, strict=True):
        keeper = members[0].record
        lead = next(i for i in cluster if any(r is keeper for r in units[i].records))
        leaders.append((Candidate(keeper, gid), units[lead]))
        leader_of[lead] = len(leaders) - 1
        group_leader.update((i, len(leaders) - 1) for i in cluster)
        grouped.update(cluster)
    for i, u in enumerate(units):
        if i not in grouped:
            leaders.append((Candidate(u.rep, None), u))
            leader_of[i] = group_leader[i] = len(leaders) - 1
    # Flat pictures are alike by accident.
    keep = [n for n, (_, u) in enumerate(leaders) if u.informative]
    renumber = {old: new for new, old in enumerate(keep)}
    leaders = [leaders[n] for n in keep]
    if len(leaders) < 2:
        return []
    ph = np.array([c.record.features.phash for c, _ in leaders], dtype=np.uint64)  # type: ignore[union-attr]
    found = radius_pairs(ph, similar_threshold)
    pairs = dict(zip(zip(found.left.tolist(), found.right.tolist()), found.distance.tolist()))
    known: dict[tuple[int, int], Evidence] = {}
    for (i, j), evidence in demoted.items():
        a, b = renumber.get(leader_of.get(i, -1)), renumber.get(leader_of.get(j, -1))
        if a is not None and b is not None:
            known[(min(a, b), max(a, b))] = evidence
    cosines: dict[tuple[int, int], float] = {}
    unit_of = {r.file.path: i for i, u in enumerate(units) for r in u.records}
    for (pa, pb), cosine in semantic.items():
        a, b = (renumber.get(group_leader.get(unit_of.get(p, -1), -1)) for p in (pa, pb))
        if a is not None and b is not None and a != b:
            key = (min(a, b), max(a, b))
            cosines[key] = max(cosine, cosines.get(key, -1.0))
    never = lambda i, j: _are_companions(leaders[i][1], leaders[j][1])  # noqa: E731
    # Texture proposes what hashes cannot (another viewpoint, other light); only the pixels can confirm it.
    textures = texture_pairs([c.record.features.texture for c, _ in leaders]) if pixels is not None else {}  # type: ignore[union-attr]
    sets = similar_drafts(
        [c for c, _ in leaders], similar_threshold, pairs, known, pixels, keeper_chain, never, cosines, textures
    )
    set_ids = _ids("s-", [min(identity_digest(m.record) for m in s) for s, _ in sets])
    return sorted(
        (SimilarSet(sid, members, reason) for sid, (members, reason) in zip(set_ids, sets, strict=True)),
        key=lambda s: s.id,
    )
