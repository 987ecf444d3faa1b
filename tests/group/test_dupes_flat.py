"""Flat pictures (a blown-out frame, a grey stub) carry no picture in their hashes: exact duplicates only."""

from __future__ import annotations

import shutil
from pathlib import Path

from xmpcull.analyse.hashes import is_informative
from xmpcull.analyse.pipeline import analyse_roots
from xmpcull.group.dupes import find_duplicates

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
WHITE_DNG = FIXTURES / "raw" / "nikon_z_9_high_efficiency_compressed_dx_cropped_max_overexposed.dng"
GREY_STUB = FIXTURES / "camera" / "stub_exiftool_Google.jpg"  # 8x8 grey pixels


def test_two_different_flat_images_never_group_but_identical_bytes_do(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy2(WHITE_DNG, tmp_path / "a" / "white.dng")
    shutil.copy2(GREY_STUB, tmp_path / "a" / "grey.jpg")
    shutil.copy2(GREY_STUB, tmp_path / "b" / "grey_copy.jpg")
    shutil.copy2(FIXTURES / "photos" / "portrait.jpg", tmp_path / "a" / "portrait.jpg")
    result = analyse_roots([tmp_path], jobs=1)
    assert not result.failures
    by_name = {r.file.path.name: r for r in result.records}
    for name in ("white.dng", "grey.jpg"):
        f = by_name[name].features
        assert not is_informative(f.phash, f.dhash), name  # the premise: degenerate hashes
    assert is_informative(by_name["portrait.jpg"].features.phash, by_name["portrait.jpg"].features.dhash)

    for crop_tolerant in (False, True):
        dupes = find_duplicates(result.records, rotation_invariant=True, crop_tolerant=crop_tolerant)
        groups = [{m.record.file.path.name for m in g.members} for g in dupes.groups]
        assert groups == [{"grey.jpg", "grey_copy.jpg"}]
        assert dupes.groups[0].kind == "exact"
        assert not any("white.dng" in {m.record.file.path.name for m in s.members} for s in dupes.similar_sets)


def test_a_flat_hash_is_not_informative_and_a_photo_hash_is() -> None:
    assert not is_informative(1 << 63, 0)  # a uniform image: DC bit only, no gradient
    assert is_informative(0xF0F0_F0F0_F0F0_F0F0, 0x1234_5678_9ABC_DEF0)
