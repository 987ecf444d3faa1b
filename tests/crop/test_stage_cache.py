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
