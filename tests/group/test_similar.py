"""Scene verification wired into grouping, on real video frames and real photos.

The frames (fixtures/video, from OpenCV's sample videos) are what the hashes get
wrong: a static camera with people walking past hashes like one picture.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from xmpcull.analyse.pipeline import analyse_roots
from xmpcull.group.dupes import find_duplicates
from xmpcull.group.pixels import PixelSource
from xmpcull.group.similar import Candidate, similar_drafts
from xmpcull.models import ImageRecord

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FRAMES = ("vtest_0000.jpg", "vtest_0020.jpg", "vtest_0040.jpg")


def _shown(src: Path) -> Image.Image:
    with Image.open(src) as im:
        return ImageOps.exif_transpose(im).convert("RGB")


def _analyse(root: Path) -> list[ImageRecord]:
    result = analyse_roots([root], jobs=1)
    assert not result.failures
    return result.records


def _names(members) -> frozenset[str]:
    return frozenset(m.record.file.path.name for m in members)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> list[ImageRecord]:
    """Static-camera frames, a tree with and without a hand, real copies of one frame and of a photo."""
    root = tmp_path_factory.mktemp("similar")
    for name in (*FRAMES, "tree_0000.jpg", "tree_0060.jpg"):
        shutil.copy2(FIXTURES / "video" / name, root / name)
    frame = _shown(FIXTURES / "video" / "vtest_0000.jpg")
    frame.resize((frame.width // 2, frame.height // 2), Image.Resampling.LANCZOS).save(root / "vtest_0000_small.jpg", quality=70)
    dunes = _shown(FIXTURES / "photos" / "mongolels.jpg")
    dunes.save(root / "dunes.jpg", quality=92)
    ImageEnhance.Brightness(dunes).enhance(1.2).save(root / "dunes_bright.jpg", quality=85)
    dunes.resize((dunes.width // 3, dunes.height // 3), Image.Resampling.LANCZOS).save(root / "dunes_small.png")
    shutil.copy2(FIXTURES / "camera" / "canon_hdr_NO.jpg", root / "lamp1.jpg")
    shutil.copy2(FIXTURES / "camera" / "canon_hdr_YES.jpg", root / "lamp2.jpg")
    return _analyse(root)


def test_hashes_alone_merge_the_static_camera_frames(library) -> None:
    # What verification is for: without it the three moments are "duplicates" and `move` would take two away.
    groups = [_names(g.members) for g in find_duplicates(library).groups]
    assert any(len(g & set(FRAMES)) >= 2 for g in groups)


def test_other_moments_become_a_similar_set_and_real_copies_stay_duplicates(library) -> None:
    result = find_duplicates(library, verify_scenes=True, pixels=PixelSource())
    groups = [_names(g.members) for g in result.groups]
    for g in groups:
        assert len(g & set(FRAMES)) <= 1, g  # no two moments in one duplicate group
    assert frozenset({"vtest_0000.jpg", "vtest_0000_small.jpg"}) in groups  # a resized copy is still a copy
    assert frozenset({"dunes.jpg", "dunes_bright.jpg", "dunes_small.png"}) in groups  # edits are still copies
    sets = {_names(s.members): s for s in result.similar_sets}
    frames = sets[frozenset(FRAMES)]
    assert frames.reason.startswith("same scene, another moment")
    assert frames.members[0].role == "best" and {m.role for m in frames.members[1:]} == {"member"}
    for member in frames.members[1:]:
        assert member.evidence is not None and member.evidence.match is not None
        assert member.evidence.match.verdict == "moment" and member.evidence.match.inliers >= 50
        assert "inliers" in member.why and "changed" in member.why
    # The frame that has a copy leads its duplicate group inside the set.
    assert any(m.group_id is not None for m in frames.members)
    assert frozenset({"tree_0000.jpg", "tree_0060.jpg"}) in sets  # a hand came into the frame
    assert frozenset({"lamp1.jpg", "lamp2.jpg"}) in sets  # 26 s later, the same street lamp
    assert result.moments >= 1 and result.scene_checks > 0


def test_verdicts_are_cached_by_content_and_a_rerun_decodes_nothing(library, tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite"
    first = find_duplicates(library, verify_scenes=True, pixels=PixelSource(cache_path=cache))
    assert first.scene_checks > 0

    def must_not_decode(record: ImageRecord) -> np.ndarray:
        raise AssertionError(f"decoded {record.file.path} again")

    again = find_duplicates(library, verify_scenes=True, pixels=PixelSource(loader=must_not_decode, cache_path=cache))
    assert again.scene_checks == 0
    assert [(g.id, _names(g.members)) for g in again.groups] == [(g.id, _names(g.members)) for g in first.groups]
    assert [(s.id, _names(s.members), s.reason) for s in again.similar_sets] == [
        (s.id, _names(s.members), s.reason) for s in first.similar_sets
    ]


def test_a_hash_collision_is_rejected_on_pixels(library) -> None:
    by_name = {r.file.path.name: r for r in library}
    unrelated = [Candidate(by_name["dunes.jpg"], None), Candidate(by_name["tree_0000.jpg"], None)]
    pairs = {(0, 1): 14}  # as if their hashes had collided within the similar threshold
    assert similar_drafts(unrelated, 18, pairs, {}, None)  # hashes alone: a "similar set"
    assert similar_drafts(unrelated, 18, pairs, {}, PixelSource()) == []  # the pixels disagree


def test_a_picture_that_cannot_be_decoded_any_more_keeps_the_hash_verdict(library) -> None:
    # Pixels that cannot be read say nothing ("unknown"): the hashes decide, as without verification.
    def gone(record: ImageRecord) -> np.ndarray:
        raise OSError("moved away")

    result = find_duplicates(library, verify_scenes=True, pixels=PixelSource(loader=gone))
    plain = find_duplicates(library)
    assert [_names(g.members) for g in result.groups] == [_names(g.members) for g in plain.groups]


def test_a_mirrored_copy_is_a_duplicate_of_kind_mirrored(tmp_path: Path) -> None:
    dunes = _shown(FIXTURES / "photos" / "mongolels.jpg")
    dunes.save(tmp_path / "dunes.jpg", quality=92)
    ImageOps.mirror(dunes).resize((dunes.width // 2, dunes.height // 2)).save(tmp_path / "dunes_flipped.jpg", quality=80)
    frame = _shown(FIXTURES / "video" / "vtest_0000.jpg")
    ImageOps.mirror(frame).save(tmp_path / "vtest_flipped.jpg", quality=85)
    shutil.copy2(FIXTURES / "video" / "vtest_0020.jpg", tmp_path / "vtest_0020.jpg")  # another moment, not flipped
    shutil.copy2(FIXTURES / "photos" / "astronaut.png", tmp_path / "astronaut.png")
    records = _analyse(tmp_path)
    assert not find_duplicates(records).groups  # hashes alone never see a mirror
    result = find_duplicates(records, verify_scenes=True, pixels=PixelSource())
    groups = {_names(g.members): g for g in result.groups}
    dunes_group = groups[frozenset({"dunes.jpg", "dunes_flipped.jpg"})]
    assert dunes_group.kind == "mirrored" and dunes_group.keeper.file.path.name == "dunes.jpg"
    assert dunes_group.members[1].distance <= 10  # measured on the mirrored hash
    # The mirrored frame is not a copy of another moment of the same scene.
    assert all("vtest_0020.jpg" not in names for names in groups)


def test_another_viewpoint_far_in_phash_is_proposed_by_texture_and_confirmed_on_pixels(tmp_path: Path) -> None:
    import cv2

    photo = np.asarray(_shown(FIXTURES / "photos" / "codingsprint2009-02.jpg"))
    h, w = photo.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[0.3 * w, 0.15 * h], [1.1 * w, -0.05 * h], [1.1 * w, 1.05 * h], [0.3 * w, 0.85 * h]])  # from the left, closer
    side = cv2.warpPerspective(photo, cv2.getPerspectiveTransform(src, dst), (w, h), borderMode=cv2.BORDER_REFLECT)
    Image.fromarray(photo).save(tmp_path / "room.jpg", quality=92)
    Image.fromarray(np.clip(side * 0.7, 0, 255).astype(np.uint8)).save(tmp_path / "room_side.jpg", quality=90)
    for name in ("mongolels.jpg", "portrait.jpg", "astronaut.png", "nikon-e2100.jpg", "hubble_deep_field.jpg"):
        shutil.copy2(FIXTURES / "photos" / name, tmp_path / name)
    records = _analyse(tmp_path)
    by_name = {r.file.path.name: r for r in records}
    from xmpcull.analyse.hashes import hamming

    assert hamming(by_name["room.jpg"].features.phash, by_name["room_side.jpg"].features.phash) > 18  # hashes never see it
    assert not any({"room.jpg", "room_side.jpg"} <= _names(s.members) for s in find_duplicates(records).similar_sets)
    result = find_duplicates(records, verify_scenes=True, pixels=PixelSource())
    (room,) = [s for s in result.similar_sets if {"room.jpg", "room_side.jpg"} <= _names(s.members)]
    assert _names(room.members) == {"room.jpg", "room_side.jpg"}  # and nothing else joined
    member = room.members[1]
    assert member.evidence is not None and member.evidence.texture is not None and "texture" in member.why
    assert member.evidence.match is not None and member.evidence.match.verdict in ("scene", "moment")
    from xmpcull.report.dupes import _similar_member_dict

    assert _similar_member_dict(member)["texture"] == round(member.evidence.texture, 4)


def test_a_group_of_k_copies_costs_k_minus_one_pixel_checks_whatever_the_order(tmp_path: Path) -> None:
    # Each copy is checked against the keeper only: k-1 checks, not one per pair (k(k-1)/2 = 15 here).
    dunes = _shown(FIXTURES / "photos" / "mongolels.jpg")
    w, h = dunes.size
    dunes.save(tmp_path / "dunes.jpg", quality=92)
    ImageEnhance.Brightness(dunes).enhance(1.2).save(tmp_path / "dunes_bright.jpg", quality=85)
    ImageEnhance.Contrast(dunes).enhance(1.15).save(tmp_path / "dunes_contrast.jpg", quality=80)
    dunes.resize((w // 2, h // 2), Image.Resampling.LANCZOS).save(tmp_path / "dunes_half.jpg", quality=70)
    dunes.resize((w // 3, h // 3), Image.Resampling.LANCZOS).save(tmp_path / "dunes_small.png")
    dunes.save(tmp_path / "dunes_q50.jpg", quality=50)
    records = _analyse(tmp_path)
    outcomes = []
    for order in (records, records[::-1]):
        pixels = PixelSource()
        result = find_duplicates(order, similar_threshold=None, verify_scenes=True, pixels=pixels)
        (group,) = result.groups
        assert len(group.members) == 6
        assert result.scene_checks == pixels.scene_checks <= 5
        outcomes.append((group.id, group.keeper.file.path.name, _names(group.members), pixels.scene_checks))
    assert outcomes[0] == outcomes[1]
