"""The person mask on real photos, and the crop cues it joins: only where faces are, bodies kept whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xmpcull.analyse.faces import available
from xmpcull.analyse.faces.models import installed
from xmpcull.analyse.faces.person import person_mask
from xmpcull.crop.cues import PERSON_LEVEL, bodies_of, compute_cues
from xmpcull.crop.geometry import Box
from xmpcull.crop.io import load_analysis_rgb
from xmpcull.crop.proposer import propose_crops

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
needs_models = pytest.mark.skipif(not available(), reason="face models not installed (scripts/setup.sh)")


def _rgb(name: str) -> np.ndarray:
    return load_analysis_rgb(FIXTURES / name)[0]


@needs_models
def test_the_mask_covers_the_astronaut_and_not_the_sky_behind_the_dunes() -> None:
    astronaut = person_mask(_rgb("photos/astronaut.png"))
    assert astronaut.shape == (512, 512) and 0.0 <= astronaut.min() and astronaut.max() <= 1.0
    # Her face (by eye: 190..270 x 80..170) and her suit below it are person; the flag's corner is not.
    assert astronaut[80:170, 190:270].mean() > 0.9
    assert astronaut[300:420, 100:300].mean() > 0.9
    assert astronaut[0:60, 0:40].mean() < 0.1
    assert (person_mask(_rgb("photos/mongolels.jpg")) >= PERSON_LEVEL).mean() < 0.01


@pytest.mark.skipif(not (available() and installed("litert") and installed("opencv")), reason="needs both runtimes")
def test_litert_and_opencv_give_the_same_mask() -> None:
    rgb = _rgb("photos/portrait.jpg")
    assert float(np.abs(person_mask(rgb, "litert") - person_mask(rgb, "opencv")).max()) < 1e-3


@needs_models
def test_without_a_face_the_mask_is_not_run() -> None:
    cues = compute_cues(_rgb("photos/mongolels.jpg"))
    assert cues.faces == () and cues.people is None and cues.bodies == () and "people" not in cues.weights


@needs_models
def test_each_found_head_brings_its_body() -> None:
    rgb = _rgb("photos/portrait.jpg")  # Marie and Pierre Curie, standing apart, down to the waist
    cues = compute_cues(rgb)
    assert len(cues.faces) == 2 and cues.people is not None and cues.weights["people"] > 0
    assert len(cues.bodies) == 2
    for head in cues.faces:
        body = next(b for b in cues.bodies if b.intersection(head) > 0)
        assert body.height > 2 * head.height  # the body, not the face again
        assert body.y0 <= head.y0 + head.height // 2 and body.y1 >= rgb.shape[0] - 10  # head down to the frame's foot
    without = compute_cues(rgb, people=False)
    assert without.people is None and without.bodies == ()


def test_a_blob_no_head_touches_is_not_a_person() -> None:
    mask = np.zeros((100, 100), np.float32)
    mask[10:90, 5:30] = 0.9  # a person under a head
    mask[10:90, 60:95] = 0.9  # a statue: no head found on it
    assert bodies_of(mask, [Box(8, 10, 25, 30)]) == (Box(5, 10, 30, 90),)
    assert bodies_of(mask, []) == ()


@needs_models
def test_the_crop_keeps_the_people_whole_where_a_window_can() -> None:
    rgb = _rgb("photos/portrait.jpg")
    cues = compute_cues(rgb)
    body = Box(min(b.x0 for b in cues.bodies), min(b.y0 for b in cues.bodies),
               max(b.x1 for b in cues.bodies), max(b.y1 for b in cues.bodies))
    (crop,) = propose_crops(rgb, ["1:1"], cues=cues)
    if body.width <= crop.box.width:
        assert crop.box.x0 <= body.x0 and body.x1 <= crop.box.x1, (crop.box, body)
    assert crop.faces_whole
