"""The semantic tier: image embeddings (a CLIP-class encoder) and their nearest neighbours.

Why: perceptual hashes miss what looks alike to a person but not pixel by pixel:
an exposure pair, a viewpoint change, a subject that moved across the frame.
An image encoder puts such pictures close together; pairs at cosine
``min_cosine`` (0.92) or more become similar-set candidates, then are checked
on pixels like every other candidate (``group.similar``).

Optional: ``pip install 'xmpcull[semantic]'`` (onnxruntime, faiss-cpu) and a
local ONNX image encoder (``[semantic] model``, docs/similar.md says how to get
CLIP's). Without either, ``semantic_pairs`` is not called and the run says so
in one line. No weights are ever downloaded by xmpcull.

* Encoder: any ONNX graph with one image input ``(batch, 3, H, W)`` and one
  ``(batch, D)`` output (CLIP's vision tower as exported by open_clip or
  Qdrant/fastembed). Pictures are resized (shorter side to H, bicubic),
  centre-cropped and normalised with CLIP's mean and std.
* Cache: one vector per picture identity (pixels, not bytes), under the kind
  ``embedding:<model file name>:<FEATURE_VERSION>``; a re-run encodes nothing.
* Index (FAISS, inner product on unit vectors = cosine): exact search
  (``IndexFlatIP``, range search) up to ``EXACT_UP_TO`` pictures; above, an
  inverted file (``IndexIVFFlat``: about sqrt(n) lists trained on a sample,
  ``IVF_PROBE`` lists searched per picture, its ``NEIGHBOURS`` nearest, then the
  cosine cut). Not HNSW: on 2 cores its build of 1,000,000 pictures did not
  finish in 10 minutes, an inverted file's takes about a minute (bench/RESULTS.md).
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from xmpcull.analyse.cache import AnalysisCache
from xmpcull.errors import XmpcullError
from xmpcull.group.identity import identity_digest
from xmpcull.models import ImageRecord

FEATURE_VERSION = 1  # bump when the preprocessing changes
DEFAULT_MIN_COSINE = 0.92
EXACT_UP_TO = 100_000  # exact inner-product search below, an inverted file above (bench/RESULTS.md)
NEIGHBOURS = 16  # per picture, inverted file
IVF_PROBE = 32  # lists searched per picture (of about sqrt(n)): 0.996 recall at 1,000,000 (bench/RESULTS.md)
IVF_TRAIN_PER_LIST = 40  # k-means sample: FAISS asks for at least 39 points per list
BATCH = 16
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], np.float32)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], np.float32)


class SemanticUnavailable(XmpcullError):
    """The semantic tier cannot run here (extra not installed, or no model): said once, the run goes on."""


def missing_dependency() -> str | None:
    """The one line a run prints when the extra is not installed, else None."""
    for module in ("onnxruntime", "faiss"):
        try:
            __import__(module)
        except ImportError:
            return f"semantic tier off: {module} is not installed (pip install 'xmpcull[semantic]')"
    return None


@dataclass
class ImageEncoder:
    """An ONNX image encoder on the CPU (onnxruntime)."""

    path: Path

    def __post_init__(self) -> None:
        import onnxruntime

        if not self.path.is_file():
            raise SemanticUnavailable(f"semantic tier off: no model file at {self.path} ([semantic] model)", [self.path])
        try:
            self._session = onnxruntime.InferenceSession(str(self.path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for a bad graph
            raise SemanticUnavailable(f"semantic tier off: cannot load {self.path.name} ({exc})", [self.path]) from exc
        (image_input,) = self._session.get_inputs()
        shape = image_input.shape
        if len(shape) != 4 or shape[1] != 3 or not all(isinstance(s, int) for s in shape[2:]):
            raise SemanticUnavailable(f"semantic tier off: {self.path.name} does not take (batch, 3, H, W) images", [self.path])
        self._input = image_input.name
        self.side = (int(shape[2]), int(shape[3]))

    @property
    def name(self) -> str:
        return self.path.name

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """CLIP's preprocessing: shorter side to the input size, centre crop, mean/std (3, H, W)."""
        h, w = self.side
        rgb = image.convert("RGB")
        scale = max(w / rgb.width, h / rgb.height)
        size = (max(w, round(rgb.width * scale)), max(h, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.BICUBIC)
        left, top = (size[0] - w) // 2, (size[1] - h) // 2
        array = np.asarray(rgb.crop((left, top, left + w, top + h)), np.float32) / 255.0
        return ((array - CLIP_MEAN) / CLIP_STD).transpose(2, 0, 1)

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Unit-length embeddings, one row per image (float32)."""
        out = []
        for start in range(0, len(images), BATCH):
            batch = np.stack([self.preprocess(im) for im in images[start : start + BATCH]])
            (vectors,) = self._session.run(None, {self._input: batch})[:1]
            out.append(np.asarray(vectors, np.float32).reshape(len(batch), -1))
        vectors = np.concatenate(out) if out else np.zeros((0, 0), np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


def cache_kind(model_name: str) -> str:
    return f"embedding:{model_name}:{FEATURE_VERSION}"


def _encode(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, "<f4").tobytes()).decode("ascii")


def _decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), "<f4").copy()


def embeddings(
    keys: Sequence[str],
    load: Callable[[int], Image.Image | None],
    encoder: ImageEncoder,
    cache_path: Path | None = None,
) -> tuple[dict[int, np.ndarray], int]:
    """Embedding of each picture (index -> unit vector; pictures that cannot be read are left out),
    and how many were encoded now (the rest came from the cache). ``keys``: picture identities."""
    kind = cache_kind(encoder.name)
    known: dict[str, str] = {}
    if cache_path is not None and cache_path.exists():
        try:
            with AnalysisCache(cache_path, readonly=True) as cache:
                known = cache.get_derived(kind, list(keys))
        except (XmpcullError, sqlite3.Error, OSError):
            known = {}
    out = {i: _decode(known[k]) for i, k in enumerate(keys) if k in known}
    todo, images = [], []
    for i in range(len(keys)):
        if i in out:
            continue
        image = load(i)
        if image is not None:
            todo.append(i)
            images.append(image)
    if images:
        vectors = encoder.embed(images)
        fresh = {i: vectors[n] for n, i in enumerate(todo)}
        out.update(fresh)
        if cache_path is not None:
            try:
                with AnalysisCache(cache_path) as cache:
                    cache.put_derived(kind, [(keys[i], _encode(v)) for i, v in fresh.items()])
            except (XmpcullError, sqlite3.Error, OSError):
                pass  # a speed-up only: the next run encodes these again
    return out, len(images)


def neighbour_pairs(vectors: np.ndarray, min_cosine: float = DEFAULT_MIN_COSINE) -> dict[tuple[int, int], float]:
    """(i, j) with i < j -> cosine, for every pair at ``min_cosine`` or more (an inverted file above
    ``EXACT_UP_TO``: each picture's ``NEIGHBOURS`` nearest in its ``IVF_PROBE`` nearest lists only)."""
    import faiss

    data = np.ascontiguousarray(vectors, np.float32)
    n = len(data)
    out: dict[tuple[int, int], float] = {}
    if n < 2:
        return out
    if n <= EXACT_UP_TO:
        index = faiss.IndexFlatIP(data.shape[1])
        index.add(data)
        limits, distances, labels = index.range_search(data, float(min_cosine))
        for i in range(n):
            for j, cosine in zip(labels[limits[i] : limits[i + 1]].tolist(), distances[limits[i] : limits[i + 1]].tolist()):
                if i < j:
                    out[(i, j)] = max(out.get((i, j), -1.0), float(cosine))
        return out
    index = ivf_index(data)
    distances, labels = index.search(data, NEIGHBOURS + 1)
    for i in range(n):
        for j, cosine in zip(labels[i].tolist(), distances[i].tolist()):
            if j >= 0 and j != i and cosine >= min_cosine:
                key = (min(i, j), max(i, j))
                out[key] = max(out.get(key, -1.0), float(cosine))
    return out


def ivf_index(data: np.ndarray, probe: int = IVF_PROBE, seed: int = 1):  # noqa: ANN201 - a faiss index
    """An inverted file over ``data`` (unit rows): about sqrt(n) lists, k-means trained on a fixed
    sample (the same lists on every run), ``probe`` lists searched per query."""
    import faiss

    n, dim = data.shape
    lists = max(1, round(n**0.5))
    sample = min(n, IVF_TRAIN_PER_LIST * lists)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, lists, faiss.METRIC_INNER_PRODUCT)
    chosen = np.sort(np.random.default_rng(seed).choice(n, sample, replace=False))
    index.cp.seed = seed
    index.train(data[chosen])
    index.add(data)
    index.nprobe = min(probe, lists)
    return index  # (faiss's Python wrapper keeps the quantizer alive with the index)


@dataclass
class SemanticResult:
    """What the tier proposed, or why it did not run (one line for the summary)."""

    pairs: dict[tuple[Path, Path], float]
    note: str | None = None  # set when the tier is off
    encoded: int = 0  # pictures encoded in this run (the rest came from the cache)
    model: str | None = None


def _load(record: ImageRecord) -> Image.Image | None:
    from PIL import ImageOps

    try:
        with Image.open(record.file.path) as im:
            im.draft("RGB", (448, 448))  # JPEG: decode at 1/2..1/8 scale, plenty for a 224 px encoder
            return ImageOps.exif_transpose(im).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def semantic_candidates(
    records: Sequence[ImageRecord], model: Path | None, min_cosine: float, cache_path: Path | None = None
) -> SemanticResult:
    """Pairs of paths at ``min_cosine`` or more, one per pair of pictures; or a note why the tier is off."""
    if model is None:
        return SemanticResult({}, "semantic tier off: no model configured ([semantic] model, docs/similar.md)")
    missing = missing_dependency()
    if missing:
        return SemanticResult({}, missing)
    try:
        encoder = ImageEncoder(model)
    except SemanticUnavailable as exc:
        return SemanticResult({}, exc.reason)
    pictures = [r for r in records if r.ok and r.features is not None]
    keys = [identity_digest(r) for r in pictures]
    vectors, encoded = embeddings(keys, lambda i: _load(pictures[i]), encoder, cache_path)
    order = sorted(vectors)
    if len(order) < 2:
        return SemanticResult({}, None, encoded, encoder.name)
    found = neighbour_pairs(np.stack([vectors[i] for i in order]), min_cosine)
    pairs = {(pictures[order[a]].file.path, pictures[order[b]].file.path): c for (a, b), c in found.items()}
    return SemanticResult(pairs, None, encoded, encoder.name)
