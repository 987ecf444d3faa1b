"""Crop proposals are cached by content, so a re-run on unchanged files decodes nothing."""

import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from xmpcull.analyse.pipeline import analyse_roots
from xmpcull.crop import stage


def test_second_pass_comes_from_the_cache_with_the_same_proposals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "p"
    root.mkdir()
    shutil.copy(FIXTURES / "photos/astronaut.png", root / "face.png")
    shutil.copy(FIXTURES / "orientation/Landscape_6.jpg", root / "turned.jpg")
    cache = tmp_path / "cache.sqlite"
    records = analyse_roots([root], jobs=1, cache_path=cache).records
    first = stage.propose_for_records(records, ["4:5", "16:9"], jobs=1, cache_path=cache, apply_threshold=0.5)
    assert all(o.ok for o in first)
    assert first[0].faces and first[0].face_sharpness is not None  # the astronaut's face was measured

    def no_decoding(jobs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(stage, "_propose_chunk", no_decoding)
    second = stage.propose_for_records(records, ["4:5", "16:9"], jobs=1, cache_path=cache, apply_threshold=0.5)
    assert second == first
    # Another threshold is applied to the cached proposals without decoding either.
    strict = stage.propose_for_records(records, ["4:5", "16:9"], jobs=1, cache_path=cache, apply_threshold=1.0)
    assert all(o.applied is None for o in strict)
    # Other aspects are other work.
    with pytest.raises(AssertionError, match="decoded again"):
        stage.propose_for_records(records, ["1:1"], jobs=1, cache_path=cache)


def test_the_crop_search_sees_the_picture_in_colour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Analysis decodes grey; the crop stage must decode colour (skin and colour cues need it),
    # and see the same pixels the crop tools and bench see.
    import numpy as np

    from xmpcull.crop.io import load_analysis_rgb

    root = tmp_path / "p"
    root.mkdir()
    shutil.copy(FIXTURES / "photos/astronaut.png", root / "face.png")
    records = analyse_roots([root], jobs=1, cache_path=None).records
    seen: list[np.ndarray] = []
    real = stage.compute_cues

    def spy(rgb: np.ndarray, **kwargs: object):
        seen.append(rgb)
        return real(rgb, **kwargs)

    monkeypatch.setattr(stage, "compute_cues", spy)
    assert all(o.ok for o in stage.propose_for_records(records, ["4:5"], jobs=1, cache_path=None))
    expected, _ = load_analysis_rgb(root / "face.png")
    assert len(seen) == 1 and np.array_equal(seen[0], expected)
    assert int(np.abs(seen[0][..., 0].astype(int) - seen[0][..., 2]).max()) > 50  # not grey


def test_proposals_made_while_analysis_decodes_are_the_stage_s_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run decodes each image once: analysis hands its colour decode to the crop search,
    and the crop stage then reads exactly the proposals it would have made itself."""
    root = tmp_path / "p"
    root.mkdir()
    shutil.copy(FIXTURES / "photos/astronaut.png", root / "face.png")
    shutil.copy(FIXTURES / "orientation/Landscape_6.jpg", root / "turned.jpg")
    shutil.copy(FIXTURES / "raw/Canon-R6-pruned.CR3", root / "raw.CR3")
    aspects = ["4:5", "16:9"]
    own_cache, fused_cache = tmp_path / "own.sqlite", tmp_path / "fused.sqlite"
    own_records = analyse_roots([root], jobs=1, cache_path=own_cache).records
    own = stage.propose_for_records(own_records, aspects, jobs=1, cache_path=own_cache, apply_threshold=0.5)
    fused_records = analyse_roots(
        [root], jobs=1, cache_path=fused_cache, also=stage.ProposeWhileDecoded(stage.canonical_aspects(aspects))
    ).records

    def no_decoding(jobs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(stage, "_propose_chunk", no_decoding)
    fused = stage.propose_for_records(fused_records, aspects, jobs=1, cache_path=fused_cache, apply_threshold=0.5)
    assert len(fused) == 3 and all(o.ok for o in fused)
    for a, b in zip(fused, own, strict=True):
        assert (a.path, a.orientation, a.display_size, a.faces) == (b.path, b.orientation, b.display_size, b.faces)
        assert [(p.aspect, p.box, p.applied) for p in a.proposals] == [(p.aspect, p.box, p.applied) for p in b.proposals]
        # OpenCV's threaded sums may differ in the last bits between two computations.
        assert [p.confidence for p in a.proposals] == pytest.approx([p.confidence for p in b.proposals], abs=1e-6)


def test_the_jpeg_of_a_raw_pair_keeps_analysis_s_cheaper_grey_decode(tmp_path: Path) -> None:
    from xmpcull.scan.walk import scan_roots

    root = tmp_path / "p"
    root.mkdir()
    shutil.copy(FIXTURES / "raw/Canon-R6-pruned.CR3", root / "IMG_1.CR3")
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "IMG_1.JPG")
    shutil.copy(FIXTURES / "photos/portrait.jpg", root / "alone.jpg")
    wants = stage.ProposeWhileDecoded(("4:5",)).wants
    assert {f.path.name: wants(f) for f in scan_roots([root]).files} == {
        "IMG_1.CR3": True,  # the RAW leads the pair: its crop is the one that counts
        "IMG_1.JPG": False,
        "alone.jpg": True,
    }


def test_the_crop_search_keeps_the_faces_analysis_found_and_does_not_look_again(tmp_path: Path) -> None:
    from dataclasses import replace

    from xmpcull.analyse.faces import available

    if not available():
        pytest.skip("face models not installed")
    root = tmp_path / "p"
    root.mkdir()
    shutil.copy(FIXTURES / "photos/astronaut.png", root / "face.png")
    shutil.copy(FIXTURES / "camera/issue-fast-exif-2.jpg", root / "two.jpg")
    records = analyse_roots([root], jobs=1, cache_path=None).records
    with_faces = stage.propose_for_records(records, ["4:5"], jobs=1)
    # Heads around analysis's faces: as many as analysis found (none overlap here).
    assert [len(o.faces) for o in with_faces] == [len(r.features.faces or ()) for r in records]
    astronaut = next(r for r in records if r.file.path.name == "face.png")
    # Analysis says "no faces here": the crop search believes it, so the detector did not run again.
    told_none = replace(astronaut, features=replace(astronaut.features, faces=()))
    assert stage.propose_for_records([told_none], ["4:5"], jobs=1)[0].faces == ()
    # Faces not looked for (no face models when analysed): the crop search looks itself.
    not_looked = replace(astronaut, features=replace(astronaut.features, faces=None))
    assert len(stage.propose_for_records([not_looked], ["4:5"], jobs=1)[0].faces) == 1
