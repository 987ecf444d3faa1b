"""Quality scores on real photos, controlled degradations of them, and properties for any input."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from xmpcull.analyse.decode import ANALYSIS_SIZE, Decoded
from xmpcull.analyse.features import compute_features
from xmpcull.analyse.pipeline import analyse_roots
from xmpcull.crop.cues import find_face_boxes
from xmpcull.crop.geometry import Box
from xmpcull.decide.policy import Policy
from xmpcull.decide.quality import (
    QualityScores,
    QualitySettings,
    face_sharpness,
    percentile_ranks,
    score_quality,
)
from xmpcull.group.bursts import Burst, Shot
from xmpcull.models import Features, ImageFile, ImageRecord

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DNG = FIXTURES / "raw" / "nikon_z_9_high_efficiency_compressed_dx_cropped_max_overexposed.dng"
# Real photos of ordinary subjects (not the 8x8 metadata stub, not the plot PNG).
PHOTOS = [
    "photos/mongolels.jpg",
    "photos/T-45A_Goshawk_03_1600px.jpg",
    "photos/astronaut.png",
    "photos/portrait.jpg",
    "photos/hubble_deep_field.jpg",
    "photos/nikon-e2100.jpg",
    "photos/codingsprint2009-02.jpg",
    "camera/iphone_hdr_NO.jpg",
    "camera/Sumo_Museum.jpg",
    "camera/issue-fast-exif-2.jpg",
    "camera/IMG_20180725_163423-tiny.jpg",
    "camera/canon_hdr_NO.jpg",
]
BLUR_SIGMAS = [round(0.05 * i, 2) for i in range(81)]  # 0 .. 4 px at the analysis size
POLICY = Policy()


def record_from_rgb(rgb: np.ndarray, name: str) -> ImageRecord:
    """A record whose features come from the real feature code run on ``rgb``."""
    image = Image.fromarray(rgb)
    features = compute_features(Decoded(image, image.width, image.height, "full"), digest=name)
    path = Path("/shoot") / name
    return ImageRecord(file=ImageFile(path, Path("/shoot"), "jpeg", 1, 0), features=features)


def blurred(rgb: np.ndarray, sigma: float) -> np.ndarray:
    return rgb if sigma == 0 else cv2.GaussianBlur(rgb, (0, 0), sigma)


def libjpeg_rgb(path: Path) -> np.ndarray:
    """The photo as libjpeg's own colour decode gives it, oriented and shrunk like analysis.

    The face tests below rest on where the Haar detector puts its boxes, which moves
    with a one-level colour difference; they test face sharpness, not the decoder.
    """
    with Image.open(path) as im:
        im.draft("RGB", (ANALYSIS_SIZE, ANALYSIS_SIZE))
        shown = ImageOps.exif_transpose(im.convert("RGB"))
    shown.thumbnail((ANALYSIS_SIZE, ANALYSIS_SIZE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(shown)


@pytest.fixture(scope="module")
def photo_rgb() -> dict[str, np.ndarray]:
    return {name: libjpeg_rgb(FIXTURES / name) for name in PHOTOS}


@pytest.fixture(scope="module")
def photo_records(photo_rgb: dict[str, np.ndarray]) -> list[ImageRecord]:
    return [record_from_rgb(rgb, Path(name).name) for name, rgb in photo_rgb.items()]


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ImageRecord]:
    """The real pipeline (exiftool, RAW previews) on the overexposed DNG, a CR3 and two JPEGs."""
    root = tmp_path_factory.mktemp("shoot")
    for src in (DNG, FIXTURES / "raw" / "Canon-R6-pruned.CR3", FIXTURES / "photos" / "mongolels.jpg",
                FIXTURES / "camera" / "iphone_hdr_NO.jpg"):
        shutil.copy(src, root / src.name)
    result = analyse_roots([root], jobs=1, cache_path=None)
    assert not result.failures
    return {r.file.path.name: r for r in result.records}


# ---------------------------------------------------------------- exposure


def test_overexposed_dng_preview_scores_as_failed_exposure(analysed: dict[str, ImageRecord]) -> None:
    scores = score_quality(analysed.values())
    dng = scores[analysed[DNG.name].file.path]
    assert dng.exposure == 0.0
    assert dng.exposure < POLICY.failed_exposure
    assert dng.quality == 0.0
    # The well-exposed files of the same run are nowhere near.
    for name in ("Canon-R6-pruned.CR3", "mongolels.jpg", "iphone_hdr_NO.jpg"):
        assert scores[analysed[name].file.path].exposure > 0.9, name


def test_real_photos_are_not_failed_on_exposure(photo_records: list[ImageRecord]) -> None:
    # Includes low-key pictures (Hubble deep field, a dark Lightroom export): they may be
    # marked down, never "badly exposed".
    scores = score_quality(photo_records)
    for record in photo_records:
        assert scores[record.file.path].exposure >= 0.3, record.file.path.name


@pytest.mark.parametrize("name", ["photos/mongolels.jpg", "photos/T-45A_Goshawk_03_1600px.jpg", "camera/iphone_hdr_NO.jpg", "photos/astronaut.png"])
def test_synthetically_blown_highlights_fail(photo_rgb: dict[str, np.ndarray], name: str) -> None:
    rgb = photo_rgb[name].astype(np.float64)
    original = record_from_rgb(photo_rgb[name], "original.jpg")
    clipped = record_from_rgb(np.clip(rgb * 3.0, 0, 255).astype(np.uint8), "clipped.jpg")
    scores = score_quality([original, clipped])
    assert scores[clipped.file.path].exposure < POLICY.failed_exposure
    assert scores[original.file.path].exposure > 0.9


def test_underexposure_lowers_exposure(photo_rgb: dict[str, np.ndarray]) -> None:
    for name, rgb in photo_rgb.items():
        if name == "photos/hubble_deep_field.jpg":
            continue  # already near black: nothing left to darken
        dark = record_from_rgb((rgb.astype(np.float64) * 0.1).astype(np.uint8), "dark.jpg")
        original = record_from_rgb(rgb, "original.jpg")
        scores = score_quality([original, dark])
        assert scores[dark.file.path].exposure < 0.4, name
        assert scores[dark.file.path].exposure < scores[original.file.path].exposure, name


# ---------------------------------------------------------------- sharpness


def test_real_photos_are_sharp_and_blurred_copies_fail(photo_rgb: dict[str, np.ndarray]) -> None:
    for name, rgb in photo_rgb.items():
        sharp = record_from_rgb(rgb, "sharp.jpg")
        soft = record_from_rgb(blurred(rgb, 2.0), "soft.jpg")
        scores = score_quality([sharp, soft])
        assert scores[sharp.file.path].sharpness_absolute == 1.0, name
        assert scores[soft.file.path].sharpness_absolute < POLICY.failed_sharpness, name
        assert scores[soft.file.path].sharpness < scores[sharp.file.path].sharpness


def test_one_pixel_of_blur_needs_a_look_and_sharp_photos_do_not(photo_rgb: dict[str, np.ndarray]) -> None:
    # The calibration behind [policy] review_sharpness (docs/quality.md).
    for name, rgb in photo_rgb.items():
        sharp = record_from_rgb(rgb, "sharp.jpg")
        soft = record_from_rgb(blurred(rgb, 1.0), "soft.jpg")
        scores = score_quality([sharp, soft])
        assert scores[sharp.file.path].sharpness_absolute >= POLICY.review_sharpness, name
        assert scores[soft.file.path].sharpness_absolute < POLICY.review_sharpness, name


def test_blur_lowers_sharpness_monotonically_in_set_and_burst(photo_rgb: dict[str, np.ndarray], photo_records: list[ImageRecord]) -> None:
    rgb = photo_rgb["photos/mongolels.jpg"]
    original = record_from_rgb(rgb, "frame1.jpg")
    last: QualityScores | None = None
    for sigma in (0.0, 0.3, 0.6, 1.0, 1.5, 2.0, 3.0, 4.0):
        frame = record_from_rgb(blurred(rgb, sigma), "frame2.jpg")
        burst = make_burst([original, frame])
        scores = score_quality([*photo_records, original, frame], [burst])[frame.file.path]
        assert scores.sharpness_in_burst is not None
        if last is not None:
            assert scores.sharpness <= last.sharpness
            assert scores.sharpness_in_set <= last.sharpness_in_set
            assert scores.sharpness_in_burst <= last.sharpness_in_burst
            assert scores.quality <= last.quality
        last = scores
    assert last is not None and last.sharpness < 0.2


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(BLUR_SIGMAS), min_size=2, max_size=5, unique=True), st.sampled_from(PHOTOS[:4]))
def test_more_blur_never_scores_sharper(photo_rgb: dict[str, np.ndarray], sigmas: list[float], name: str) -> None:
    rgb = photo_rgb[name]
    records = [record_from_rgb(blurred(rgb, s), f"s{s}.jpg") for s in sorted(sigmas)]
    scores = score_quality(records, [make_burst(records)])
    values = [scores[r.file.path].sharpness for r in records]
    assert values == sorted(values, reverse=True)
    assert scores[records[0].file.path].sharpness_in_burst == 1.0  # the least blurred frame leads


# ---------------------------------------------------------------- faces


def test_face_sharpness_on_a_real_portrait_drops_with_blur(photo_rgb: dict[str, np.ndarray]) -> None:
    rgb = photo_rgb["photos/astronaut.png"]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    faces = find_face_boxes(grey)
    assert faces
    values = [face_sharpness(cv2.cvtColor(blurred(rgb, s), cv2.COLOR_RGB2GRAY), faces) for s in (0, 0.5, 1, 2, 3)]
    assert values[0] is not None and values[0] > 0.9
    assert all(v is not None for v in values)
    assert values == sorted(values, reverse=True)
    assert values[-1] < 0.2


def test_face_sharpness_takes_the_sharpest_face_and_ignores_tiny_ones(photo_rgb: dict[str, np.ndarray]) -> None:
    rgb = photo_rgb["camera/issue-fast-exif-2.jpg"]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    # The two women's faces: the detector also gives the raised fist (score 0.50, a smaller box).
    faces = sorted(sorted(find_face_boxes(grey), key=lambda b: b.area)[-2:])
    assert len(faces) == 2 and faces[0].intersection(faces[1]) == 0
    # Blur one face only: the other, sharper one decides. Measured on the detector's
    # face boxes; the grown head boxes overlap, and each took in the other's face.
    soft = grey.copy()
    f = faces[0]
    soft[f.y0:f.y1, f.x0:f.x1] = cv2.GaussianBlur(grey[f.y0:f.y1, f.x0:f.x1], (0, 0), 3)
    blurred_face, sharp_face = face_sharpness(soft, faces[:1]), face_sharpness(soft, faces[1:])
    assert blurred_face is not None and sharp_face is not None
    assert blurred_face < 0.2
    assert sharp_face > 0.8
    assert face_sharpness(soft, faces) == sharp_face
    assert face_sharpness(grey, []) is None
    assert face_sharpness(grey, [Box(10, 10, 20, 20)]) is None  # 10 px: too small to judge
    assert face_sharpness(rgb, [(f.x0, f.y0, f.x1, f.y1) for f in faces]) == face_sharpness(grey, faces)


def test_face_sharpness_enters_the_combined_quality(photo_records: list[ImageRecord]) -> None:
    record = photo_records[0]
    plain = score_quality([record])[record.file.path]
    with_blurry_face = score_quality([record], face_sharpness={record.file.path: 0.05})[record.file.path]
    assert plain.face_sharpness is None
    assert with_blurry_face.face_sharpness == 0.05
    assert with_blurry_face.quality < plain.quality
    assert with_blurry_face.to_fields().face_sharpness == 0.05


# ---------------------------------------------------------------- properties


def make_burst(records: list[ImageRecord]) -> Burst:
    shots = tuple(Shot(path=str(r.file.path), body="cam", timestamp=float(i)) for i, r in enumerate(records))
    return Burst(shots=shots, body="cam", camera="cam", burst_id=f"b-{len(records)}")


features_st = st.builds(
    Features,
    digest=st.just("d"),
    phash=st.just(0),
    dhash=st.just(0),
    phash_variants=st.just((0,) * 8),
    width=st.just(100),
    height=st.just(100),
    sharpness=st.one_of(st.floats(0, 1e7), st.sampled_from([0.0, 20.0, 200.0])),
    mean_luma=st.floats(0, 1),
    clip_high=st.floats(0, 1),
    clip_low=st.floats(0, 1),
    decoded_from=st.just("full"),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(features_st, min_size=1, max_size=12),
    st.lists(st.integers(0, 11), max_size=6),
    st.lists(st.one_of(st.none(), st.floats(0, 1)), max_size=12),
)
def test_scores_are_always_within_unit_interval(features: list[Features], burst_idx: list[int], faces: list[float | None]) -> None:
    records = [
        ImageRecord(file=ImageFile(Path(f"/r/{i}.jpg"), Path("/r"), "jpeg", 1, 0), features=f) for i, f in enumerate(features)
    ]
    members = [records[i] for i in dict.fromkeys(burst_idx) if i < len(records)]
    bursts = [make_burst(members)] if len(members) >= 2 else []
    face_map = {records[i].file.path: v for i, v in enumerate(faces) if i < len(records)}
    scores = score_quality(records, bursts, face_map)
    assert set(scores) == {r.file.path for r in records}
    for s in scores.values():
        for value in (s.quality, s.sharpness, s.exposure, s.sharpness_absolute, s.sharpness_in_set):
            assert 0.0 <= value <= 1.0
        assert s.sharpness_in_burst is None or 0.0 <= s.sharpness_in_burst <= 1.0
        s.to_fields()  # the sidecar record accepts them


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=30))
def test_percentile_ranks_order_and_bounds(values: list[float]) -> None:
    ranks = percentile_ranks(np.array(values))
    assert np.all((ranks >= 0) & (ranks <= 1))
    for a, ra in zip(values, ranks):
        for b, rb in zip(values, ranks):
            if a < b:
                assert ra < rb
            if a == b:
                assert ra == rb
    if len(set(values)) == len(values) > 1:
        assert ranks.min() == 0.0 and ranks.max() == 1.0
    if len(set(values)) == 1:
        assert np.all(ranks == 0.5)  # all tied: the middle


def test_failed_records_are_left_out(photo_records: list[ImageRecord]) -> None:
    broken = ImageRecord(file=ImageFile(Path("/shoot/broken.jpg"), Path("/shoot"), "jpeg", 1, 0), error="cannot decode")
    scores = score_quality([broken, photo_records[0]])
    assert set(scores) == {photo_records[0].file.path}
    assert score_quality([]) == {}


def test_raw_jpeg_pair_counts_as_one_burst_frame(photo_records: list[ImageRecord]) -> None:
    a, b = photo_records[0], dataclasses.replace(photo_records[1])
    jpeg_twin = dataclasses.replace(a, file=dataclasses.replace(a.file, path=Path("/shoot/twin.jpg")))
    shots = (
        Shot(path=str(a.file.path), body="cam", timestamp=0.0, companions=(str(jpeg_twin.file.path),)),
        Shot(path=str(b.file.path), body="cam", timestamp=1.0),
    )
    burst = Burst(shots=shots, body="cam", camera="cam", burst_id="b1")
    scores = score_quality([a, b, jpeg_twin], [burst])
    assert scores[jpeg_twin.file.path].sharpness_in_burst == scores[a.file.path].sharpness_in_burst


def test_weights_change_the_mix(photo_records: list[ImageRecord]) -> None:
    only_exposure = QualitySettings(sharpness_weight=0.0, exposure_weight=1.0, face_weight=0.0)
    scores = score_quality(photo_records, settings=only_exposure)
    for s in scores.values():
        assert s.quality == pytest.approx(s.exposure)
