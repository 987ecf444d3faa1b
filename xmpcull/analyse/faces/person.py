"""Where the people are: MediaPipe's selfie segmentation as a person mask.

The model (Apache-2.0, vendored in ``data/``, see data/NOTICE) takes the picture
stretched to 256 x 256, RGB in [0, 1], as MediaPipe's own graph feeds it (no
letterbox), and gives each pixel the probability that it shows a person. It runs
through the same runtime as the face models (LiteRT, else OpenCV). The crop
search asks for it only when faces were found, so pictures without people pay
nothing.
"""

from __future__ import annotations

import cv2
import numpy as np

from xmpcull.analyse.faces.models import Runtime, run

MODEL = "selfie_segmentation"
INPUT = 256


def person_mask(rgb: np.ndarray, runtime: Runtime | None = None) -> np.ndarray:
    """Per pixel of ``rgb`` (H x W x 3, uint8), the probability in [0, 1] that it is part of a person."""
    h, w = rgb.shape[:2]
    tensor = cv2.resize(rgb, (INPUT, INPUT), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    (out,) = run(MODEL, tensor[None], runtime)
    mask = np.clip(out.reshape(INPUT, INPUT), 0.0, 1.0).astype(np.float32)
    return cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
