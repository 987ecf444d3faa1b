"""The semantic tier on a tiny real ONNX image encoder made here (CLIP's input and output shapes),
real onnxruntime and real FAISS; real photos and video frames."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageEnhance

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("faiss")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from tests.cli.helpers import run_json  # noqa: E402
from xmpcull.analyse.pipeline import analyse_roots  # noqa: E402
from xmpcull.group import semantic  # noqa: E402
from xmpcull.group.dupes import find_duplicates  # noqa: E402
from xmpcull.group.identity import identity_digest  # noqa: E402
from xmpcull.group.pixels import PixelSource  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def tiny_clip(path: Path, dim: int = 512, side: int = 224) -> Path:
    """An ONNX graph with CLIP's vision shapes: (N, 3, 224, 224) -> (N, 512); a 4 x 4 colour layout, projected."""
    rng = np.random.default_rng(7)
    cell = side // 4
    nodes = [
        helper.make_node("AveragePool", ["pixel_values"], ["grid"], kernel_shape=[cell, cell], strides=[cell, cell]),
        helper.make_node("Flatten", ["grid"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "projection"], ["image_embeds"]),
    ]
    projection = numpy_helper.from_array(rng.normal(size=(48, dim)).astype(np.float32), "projection")
    graph = helper.make_graph(
        nodes, "tiny_clip_vision",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3, side, side])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["batch", dim])],
        [projection],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_clip(tmp_path_factory.mktemp("model") / "tiny-clip-vision.onnx")


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("photos")
    for name in ("vtest_0000.jpg", "vtest_0020.jpg", "tree_0000.jpg"):
        shutil.copy2(FIXTURES / "video" / name, root / name)
    with Image.open(FIXTURES / "photos" / "mongolels.jpg") as im:
        im.save(root / "dunes.jpg", quality=90)
        ImageEnhance.Contrast(ImageEnhance.Brightness(im).enhance(1.4)).enhance(1.5).save(root / "dunes_bright.jpg", quality=90)
    return [r for r in analyse_roots([root], jobs=1).records if r.ok]


def test_the_encoder_embeds_real_photos_and_the_cache_keeps_them(model: Path, photos, tmp_path: Path) -> None:
    encoder = semantic.ImageEncoder(model)
    assert encoder.side == (224, 224)
    keys = [identity_digest(r) for r in photos]
    cache = tmp_path / "c.sqlite"
    vectors, encoded = semantic.embeddings(keys, lambda i: semantic._load(photos[i]), encoder, cache)
    assert encoded == len(photos) and all(v.shape == (512,) for v in vectors.values())
    assert all(abs(float(np.linalg.norm(v)) - 1) < 1e-5 for v in vectors.values())
    by_name = {r.file.path.name: vectors[i] for i, r in enumerate(photos)}
    same_scene = float(by_name["vtest_0000.jpg"] @ by_name["vtest_0020.jpg"])
    unrelated = float(by_name["vtest_0000.jpg"] @ by_name["tree_0000.jpg"])
    assert same_scene > unrelated

    def never(i: int) -> Image.Image:
        raise AssertionError("encoded again")

    again, encoded = semantic.embeddings(keys, never, encoder, cache)
    assert encoded == 0 and all(np.array_equal(again[i], vectors[i]) for i in vectors)
    # Another model (or feature version) is another cache entry.
    other = semantic.ImageEncoder(shutil.copy(model, tmp_path / "other.onnx"))
    _, encoded = semantic.embeddings(keys, lambda i: semantic._load(photos[i]), other, cache)
    assert encoded == len(photos)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 60), seed=st.integers(0, 10_000), cut=st.floats(0.0, 0.9))
def test_exact_search_finds_every_pair_above_the_cut(n: int, seed: int, cut: float) -> None:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 16)).astype(np.float32)
    base[n // 2 :] = base[: n - n // 2] + 0.3 * rng.normal(size=(n - n // 2, 16))  # near twins
    vectors = base / np.linalg.norm(base, axis=1, keepdims=True)
    found = semantic.neighbour_pairs(vectors, cut)
    gram = vectors @ vectors.T
    expected = {(i, j) for i in range(n) for j in range(i + 1, n) if gram[i, j] >= cut + 1e-5}
    assert expected <= set(found) and all(gram[i, j] >= cut - 1e-5 for i, j in found)


def test_inverted_file_beyond_the_exact_limit_keeps_recall(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(size=(2000, 64)).astype(np.float32)
    twins = base + 0.15 * rng.normal(size=base.shape).astype(np.float32)
    vectors = np.concatenate([base, twins])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact = semantic.neighbour_pairs(vectors, 0.92)
    monkeypatch.setattr(semantic, "EXACT_UP_TO", 100)  # the large-library path, on a small library
    approximate = semantic.neighbour_pairs(vectors, 0.92)
    assert len(exact) >= 1900 and len(set(approximate) & set(exact)) / len(exact) >= 0.98


def test_proposed_pairs_join_similar_sets_after_the_pixel_check(model: Path, photos) -> None:
    found = semantic.semantic_candidates(photos, model, 0.5)
    assert found.note is None and found.model == model.name and found.pairs
    result = find_duplicates(photos, verify_scenes=True, pixels=PixelSource(), semantic=found.pairs)
    with_cosine = [m for s in result.similar_sets for m in s.members if m.evidence and m.evidence.cosine is not None]
    assert with_cosine and all("cosine" in m.why for m in with_cosine)
    # A proposed pair whose pixels disagree is dropped: the tree never joins the street.
    for s in result.similar_sets:
        names = {m.record.file.path.name for m in s.members}
        assert not ({"tree_0000.jpg"} & names and {"vtest_0000.jpg", "vtest_0020.jpg"} & names)


def test_without_the_extra_or_a_model_the_tier_says_so_in_one_line(photos, tmp_path: Path, monkeypatch) -> None:
    assert semantic.semantic_candidates(photos, None, 0.92).note.startswith("semantic tier off: no model configured")
    missing = semantic.semantic_candidates(photos, tmp_path / "nope.onnx", 0.92)
    assert missing.note.startswith("semantic tier off: no model file") and not missing.pairs
    monkeypatch.setitem(sys.modules, "faiss", None)  # as if faiss-cpu were not installed
    note = semantic.semantic_candidates(photos, tmp_path / "nope.onnx", 0.92).note
    assert note == "semantic tier off: faiss is not installed (pip install 'xmpcull[semantic]')"


def test_run_uses_a_model_from_the_config(model: Path, tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    root.mkdir()
    for name in ("vtest_0000.jpg", "vtest_0020.jpg", "tree_0000.jpg"):
        shutil.copy2(FIXTURES / "video" / name, root / name)
    config = tmp_path / "config.toml"
    config.write_text(f'[semantic]\nmodel = "{model}"\nmin_cosine = 0.5\n')
    code, summary = run_json("run", root, "--config", config, "--cache", tmp_path / "c.sqlite")
    assert code == 0, summary
    assert summary["semantic"]["model"] == model.name and summary["semantic"]["encoded"] == 3
    code, again = run_json("run", root, "--config", config, "--cache", tmp_path / "c.sqlite")
    assert again["semantic"]["encoded"] == 0 and again["sidecars_changed"] == 0
