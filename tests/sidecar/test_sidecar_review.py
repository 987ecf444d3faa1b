"""The review section: a person's decisions become the image's own values and outrank every later run."""

from __future__ import annotations

from pathlib import Path

from tests.sidecar.sidecar_helpers import clock, exiftool_json, place_sidecar, tree
from xmpcull.models import CropEdges
from xmpcull.sidecar import (
    CLEAR,
    NO_CROP,
    CropFields,
    DecisionFields,
    ReviewFields,
    SidecarUpdate,
    WriteOptions,
    read_sidecar,
    write_sidecar,
)

WHEN = "2024-06-12T15:00:00+00:00"


def _raw(tmp_path: Path) -> Path:
    image = tmp_path / "IMG_0001.CR2"
    image.write_bytes(b"")
    return image


def _run_update(rating: int = 2, label: str = "Red", crop: CropEdges | None = None) -> SidecarUpdate:
    return SidecarUpdate(
        decision=DecisionFields("keeper", rating=rating, label=label),
        crop=CropFields((), crop) if crop else None,
    )


def test_a_person_rating_label_and_crop_survive_a_later_run_even_with_overwrite(tmp_path: Path) -> None:
    image = _raw(tmp_path)
    write_sidecar(image, _run_update(), clock=clock)
    person_crop = CropEdges(0.1, 0.1, 0.9, 0.8)
    write_sidecar(image, SidecarUpdate(review=ReviewFields(WHEN, rating=5, label="Green", crop=person_crop)), clock=clock)
    state = read_sidecar(image)
    assert (state.rating, state.label, state.crop) == (5, "Green", person_crop)
    assert state.decision is not None and state.decision.rating is None and state.decision.label is None

    everything = WriteOptions(overwrite_ratings=True, overwrite_labels=True, overwrite_crops=True)
    write_sidecar(image, _run_update(rating=1, label="Red", crop=CropEdges(0, 0, 0.5, 0.5)), everything, clock=clock)
    state = read_sidecar(image)
    assert (state.rating, state.label, state.crop) == (5, "Green", person_crop)
    assert state.review == ReviewFields(WHEN, rating=5, label="Green", crop=person_crop)


def test_rating_zero_and_no_label_and_no_crop_are_decisions_too(tmp_path: Path) -> None:
    image = _raw(tmp_path)
    write_sidecar(image, _run_update(crop=CropEdges(0, 0, 0.5, 0.5)), clock=clock)
    assert read_sidecar(image).crop is not None
    write_sidecar(image, SidecarUpdate(review=ReviewFields(WHEN, rating=0, label="", crop=NO_CROP)), clock=clock)
    write_sidecar(image, _run_update(crop=CropEdges(0, 0, 0.5, 0.5)), clock=clock)
    state = read_sidecar(image)
    assert state.rating == 0 and state.label is None and state.crop is None
    assert state.review is not None and state.review.crop is NO_CROP and state.review.label == ""


def test_keep_choice_round_trips_and_is_readable_by_exiftool(tmp_path: Path) -> None:
    image = _raw(tmp_path)
    write_sidecar(image, SidecarUpdate(review=ReviewFields(WHEN, keep="keeper", flag="pick")), clock=clock)
    assert read_sidecar(image).review == ReviewFields(WHEN, keep="keeper", flag="pick")
    tags = exiftool_json(tmp_path / "IMG_0001.xmp", "-XMP-xmpcull:all")
    assert tags["XMP-xmpcull:ReviewKeep"] == "keeper" and tags["XMP-xmpcull:ReviewFlag"] == "pick"
    assert tags["XMP-xmpcull:ReviewDate"].startswith("2024:06:12 15:00:00")


def test_clearing_the_review_leaves_the_values_and_every_foreign_property(tmp_path: Path) -> None:
    image, sidecar = place_sidecar(tmp_path, "lightroom/IMG_5910.xmp")
    before = tree(sidecar)
    write_sidecar(image, SidecarUpdate(review=ReviewFields(WHEN, keep="keep")), clock=clock)
    write_sidecar(image, SidecarUpdate(review=CLEAR), clock=clock)
    added = {n for n in tree(sidecar) - before if n[1] != "photoshop:SidecarForExtension"}  # added when missing
    assert added == set() and before <= tree(sidecar)  # the engine stamp goes with the last section
