"""Similar sets: one scene, another moment or another view, for review and never for moving.

Why a stage of its own: hashes only say "these look alike". A static camera's
frames of people walking past hash as close as two exports of one frame, and
unrelated pictures collide (a guitar with a wisteria). So every candidate pair
is checked on pixels (``group.scene``: SIFT, RANSAC, aligned-pixel change):

* near-duplicate pairs found by hashes whose aligned pixels differ in a region
  (``moment``) or that are one scene from another view (``scene``) leave the
  duplicate group and become similar-set candidates: ``move`` must never take
  away another moment;
* a pair whose keypoints disagree (``different``) is a hash collision: it is
  neither a duplicate nor similar;
* ``unknown`` (too few keypoints: flat or tiny pictures) keeps what the hashes say.

Similar-set candidates are the keepers of duplicate groups and the pictures in
no group, within ``similar_threshold`` pHash bits of each other (plus the pairs
demoted above). Each picture's ``CANDIDATES_PER_PICTURE`` nearest candidates are
checked, and, with pixels, each picture's nearest by texture
(``group.texture_search``: another viewpoint or other light, which the hashes
cannot see). Sets are clustered around an anchor without chaining
(``linkage.anchored_clusters``): every member is a confirmed match of the anchor
on pixels (pairs the search did not propose are checked when a series needs
them), or, on hashes alone, of every other member. The best member is chosen by
the keeper chain, as a duplicate group's keeper is; each member's evidence is
against the best (at most ``BEST_CHECKS_PER_SET`` more checks per set, nearest
first), else against the anchor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xmpcull.analyse.hashes import hamming
from xmpcull.decide.keeper import DEFAULT_CHAIN, choose_keeper
from xmpcull.group.linkage import anchored_clusters, complete_linkage_clusters, nearest_per_picture
from xmpcull.group.pixels import PixelSource
from xmpcull.group.scene import SceneMatch
from xmpcull.models import ImageRecord

# Pixel checks per picture among similar-set candidates: its nearest by hash distance.
# Pictures of one look (diagrams, one venue) otherwise make dense clusters (2,369 OpenCV
# documentation images: tens of thousands of pairs within 18 bits).
CANDIDATES_PER_PICTURE = 8
# Pixel checks per set of members against a best picture that is not the anchor (the why
# a sidecar shows); beyond them, a member's evidence against the anchor stands.
BEST_CHECKS_PER_SET = 48
SAME_SCENE = ("same", "moment", "scene")  # verdicts that confirm a similar pair
ROLES = ("best", "member")


@dataclass(frozen=True)
class Evidence:
    """Why two pictures belong together: their hash distance, and what the pixels said."""

    distance: int  # pHash bits
    match: SceneMatch | None = None  # None: not checked on pixels (verification off)
    cosine: float | None = None  # embedding similarity (semantic tier), when it proposed the pair
    texture: float | None = None  # texture coefficient (group.texture_search), when it proposed the pair

    def describe(self) -> str:
        """E.g. 'pHash 12 bits; 212 inliers (homography), 4.1 % changed'."""
        parts = [f"pHash {self.distance} bits"]
        if self.cosine is not None:
            parts.append(f"cosine {self.cosine:.3f}")
        if self.texture is not None:
            parts.append(f"texture {self.texture:.3f}")
        if self.match is not None:
            parts.append("too few keypoints to check" if self.match.verdict == "unknown" else self.match.describe())
        return "; ".join(parts)


def on_pixels(evidence: Evidence) -> bool:
    """Whether the pixels themselves confirmed the pair (not the hashes or embeddings alone)."""
    return evidence.match is not None and evidence.match.verdict in SAME_SCENE


def confirms(evidence: Evidence, threshold: int) -> bool:
    """Whether the evidence makes the pair similar (``threshold``: pHash bits when pixels cannot say)."""
    match = evidence.match
    if match is None or match.verdict == "unknown":  # the pixels cannot say: hashes or embeddings decide
        return evidence.distance <= threshold or evidence.cosine is not None
    return match.verdict in SAME_SCENE


def scene_of(pixels: PixelSource, a: ImageRecord, b: ImageRecord, mirrored_too: bool = False) -> SceneMatch:
    """The scene verdict of a pair; ``mirrored_too``: a pair whose pixels disagree is tried mirrored as well."""
    match = pixels.scene(a, b)
    if mirrored_too and match.verdict == "different":
        flipped = pixels.scene(a, b, mirrored=True)
        if flipped.verdict == "same":
            return flipped
    return match


@dataclass(frozen=True)
class SimilarMember:
    record: ImageRecord
    distance: int  # pHash distance to the set's best picture (0 for the best itself)
    group_id: str | None  # the duplicate group this picture keeps, if any
    role: str = "member"  # "best" | "member"
    evidence: Evidence | None = None  # against the best picture; None for the best itself

    @property
    def why(self) -> str:
        return "best of the set" if self.evidence is None else self.evidence.describe()


@dataclass(frozen=True)
class SimilarSet:
    id: str
    members: tuple[SimilarMember, ...]  # best first, then by distance and path
    best_reason: str = ""

    @property
    def best(self) -> ImageRecord:
        return self.members[0].record

    @property
    def reason(self) -> str:
        """What kind of set this is, from the verdicts of its members against the best."""
        verdicts = {m.evidence.match.verdict for m in self.members[1:] if m.evidence and m.evidence.match}
        if "moment" in verdicts:
            return "same scene, another moment (checked on pixels)"
        if "scene" in verdicts:
            return "same scene, another view (checked on pixels)"
        if verdicts & {"same"}:
            return "same picture, changed more than a duplicate (checked on pixels)"
        return "alike by hashes (pixels not checked)"


@dataclass(frozen=True)
class Candidate:
    """A picture that may join a similar set: a group's keeper, or a picture in no group."""

    record: ImageRecord
    group_id: str | None


def similar_drafts(
    candidates: Sequence[Candidate],
    threshold: int,
    pairs: dict[tuple[int, int], int],
    known: dict[tuple[int, int], Evidence],
    pixels: PixelSource | None,
    keeper_chain: Sequence[str] = DEFAULT_CHAIN,
    never: Callable[[int, int], bool] | None = None,
    cosines: dict[tuple[int, int], float] | None = None,
    textures: dict[tuple[int, int], float] | None = None,
) -> list[tuple[tuple[SimilarMember, ...], str]]:
    """Similar sets (members, best reason) among ``candidates``; IDs are the caller's.

    ``pairs``: (i, j) -> pHash distance within ``threshold``; ``known``: pairs already
    checked on pixels (demoted near duplicates). With ``pixels`` every other pair is
    checked too (the nearest ``CANDIDATES_PER_PICTURE`` of each picture); without, the
    hashes decide alone. ``cosines``: pairs the semantic tier proposed (all checked);
    ``textures``: pairs the texture search proposed (checked; ignored without pixels,
    a texture alone says too little).
    """
    cosines = cosines or {}
    textures = textures or {}

    def evidence_of(key: tuple[int, int], distance: int, match: SceneMatch | None) -> Evidence:
        return Evidence(distance, match, cosines.get(key), textures.get(key))

    def skipped(key: tuple[int, int]) -> bool:
        return key in evidence or bool(never and never(*key))

    evidence = {k: evidence_of(k, e.distance, e.match) for k, e in known.items()}
    unchecked = sorted((d, key) for key, d in pairs.items() if not skipped(key))
    proposed = sorted(k for k in cosines if k not in pairs and not skipped(k))
    if pixels is None:
        evidence.update((key, evidence_of(key, d, None)) for d, key in unchecked)
        evidence.update((key, evidence_of(key, _distance(candidates, key), None)) for key in proposed)
        edges = {key: e.distance for key, e in evidence.items() if confirms(e, threshold)}
        clusters = [(c[0], c) for c in complete_linkage_clusters(len(candidates), edges)]
    else:
        chosen = {(i, j): d for i, j, d in nearest_per_picture([(i, j, d) for d, (i, j) in unchecked], CANDIDATES_PER_PICTURE)}
        for key in [*proposed, *sorted(textures)]:
            if key not in chosen and not skipped(key):
                chosen[key] = pairs.get(key, _distance(candidates, key))
        pixels.prefetch_scenes([(candidates[i].record, candidates[j].record) for i, j in chosen])
        for key, d in chosen.items():
            evidence[key] = evidence_of(key, d, scene_of(pixels, candidates[key[0]].record, candidates[key[1]].record))

        def check(a: int, b: int) -> bool:
            key = (min(a, b), max(a, b))
            if key not in evidence:
                if never and never(*key):
                    return False
                match = scene_of(pixels, candidates[key[0]].record, candidates[key[1]].record)
                evidence[key] = evidence_of(key, _distance(candidates, key), match)
            return on_pixels(evidence[key])

        edges = {key: e.distance for key, e in evidence.items() if confirms(e, threshold)}
        clusters = anchored_clusters(len(candidates), edges, {k for k in edges if on_pixels(evidence[k])}, check)
    drafts = []
    for anchor, cluster in clusters:
        records = [candidates[i].record for i in cluster]
        best, reason = choose_keeper(records, keeper_chain)
        b = cluster[next(n for n, r in enumerate(records) if r is best)]
        members = [SimilarMember(best, 0, candidates[b].group_id, "best")]
        others = sorted((i for i in cluster if i != b), key=lambda i: (_phash_distance(best, candidates[i].record),
                                                                       str(candidates[i].record.file.path)))
        checks = 0
        for i in others:
            if pixels is not None and (min(i, b), max(i, b)) not in evidence and checks < BEST_CHECKS_PER_SET:
                checks += 1
                check(i, b)  # evidence against the best, when the set's search did not pair them
            record = candidates[i].record
            members.append(SimilarMember(record, _phash_distance(best, record), candidates[i].group_id, "member",
                                         _against_best(evidence, i, b, anchor, threshold)))
        drafts.append((tuple(members), reason))
    return drafts


def _against_best(
    evidence: dict[tuple[int, int], Evidence], i: int, best: int, anchor: int, threshold: int
) -> Evidence:
    """What says ``i`` belongs: its evidence against the best picture, or, when those two do not
    match (a set grown around another anchor: both match the anchor, not each other), against the anchor."""
    key = (min(i, best), max(i, best))
    if key in evidence and confirms(evidence[key], threshold):
        return evidence[key]
    return evidence[(min(i, anchor), max(i, anchor))]


def _distance(candidates: Sequence[Candidate], key: tuple[int, int]) -> int:
    return _phash_distance(candidates[key[0]].record, candidates[key[1]].record)


def _phash_distance(a: ImageRecord, b: ImageRecord) -> int:
    assert a.features is not None and b.features is not None
    return hamming(a.features.phash, b.features.phash)
