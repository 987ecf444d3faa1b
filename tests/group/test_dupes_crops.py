"""Small crops: the pixel check (geometry) and crop-tolerant grouping, on real fixture photos."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageEnhance, ImageOps

from xmpcull.analyse.pipeline import analyse_roots
from xmpcull.group.dupes import complete_linkage_clusters, find_duplicates
from xmpcull.group.geometry import fit_crop, keypoints_of
from xmpcull.group.pixels import PixelSource
from xmpcull.models import ImageRecord

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _shown(src: Path) -> Image.Image:
    with Image.open(src) as im:
        return ImageOps.exif_transpose(im).convert("RGB")


def _grey(image: Image.Image, long_side: int = 640) -> Image.Image:
    image = image.convert("L")
    image.thumbnail((long_side, long_side))
    return image


def _cut(image: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = image.size
    return image.crop((round(w * left), round(h * top), round(w * (1 - right)), round(h * (1 - bottom))))


@pytest.fixture(scope="module")
def street() -> Image.Image:
    return _grey(_shown(FIXTURES / "photos" / "codingsprint2009-02.jpg"))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.tuples(*[st.floats(0.0, 0.10)] * 4), st.sampled_from([1.0, 0.6]))
def test_any_small_crop_maps_inside_its_original(street: Image.Image, sides: tuple[float, ...], resize: float) -> None:
    crop = _cut(street, *sides)
    crop = crop.resize((max(1, round(crop.width * resize)), max(1, round(crop.height * resize))), Image.Resampling.LANCZOS)
    original = keypoints_of(np.asarray(street))
    fit = fit_crop(keypoints_of(np.asarray(crop)), original)
    assert fit is not None and fit.is_crop and fit.inner == "a"
    # The fit knows where the crop sits: its share of the original is the width or height kept.
    kept = min(1 - sides[0] - sides[2], 1 - sides[1] - sides[3])
    assert fit.share == pytest.approx(kept, abs=0.03)


def test_a_frame_turned_by_a_degree_and_a_half_is_not_a_crop(street: Image.Image) -> None:
    # A hand-held re-shot frame turns a little; a crop never does.
    turned = _cut(street.rotate(1.5, resample=Image.Resampling.BICUBIC), 0.05, 0.05, 0.05, 0.05)
    fit = fit_crop(keypoints_of(np.asarray(turned)), keypoints_of(np.asarray(street)))
    assert fit is not None and fit.inliers >= 12  # the pictures match well...
    assert not fit.is_crop  # ...but not as a crop


def test_overlapping_pans_and_a_large_detail_are_not_crops(street: Image.Image) -> None:
    left, right = _cut(street, 0.0, 0.0, 0.15, 0.0), _cut(street, 0.15, 0.0, 0.0, 0.0)
    fit = fit_crop(keypoints_of(np.asarray(left)), keypoints_of(np.asarray(right)))
    assert fit is None or (fit.inner == "" and not fit.is_crop)  # each shows a strip the other lacks
    detail = _cut(street, 0.2, 0.2, 0.2, 0.2)  # 60 % of each side: a detail, not a small crop
    fit = fit_crop(keypoints_of(np.asarray(detail)), keypoints_of(np.asarray(street)))
    assert fit is None or not fit.is_crop


def _analyse(root: Path) -> list[ImageRecord]:
    result = analyse_roots([root], jobs=1)
    assert not result.failures
    return result.records


def _names(group) -> set[str]:
    return {m.record.file.path.name for m in group.members}


def test_crops_on_all_sides_group_with_their_original_and_each_other(tmp_path: Path) -> None:
    shown = _shown(FIXTURES / "photos" / "mongolels.jpg")
    shown.save(tmp_path / "dunes.jpg", quality=90)
    ImageOps.contain(shown, (640, 640)).save(tmp_path / "dunes_640.jpg", quality=80)
    _cut(shown, 0.08, 0.03, 0.02, 0.07).save(tmp_path / "dunes_crop_a.jpg", quality=90)
    _cut(shown, 0.01, 0.09, 0.07, 0.02).save(tmp_path / "dunes_crop_b.jpg", quality=90)
    ImageEnhance.Contrast(_cut(shown, 0.0, 0.0, 0.1, 0.06)).enhance(1.3).save(tmp_path / "dunes_crop_c.jpg", quality=90)
    shutil.copy2(FIXTURES / "photos" / "portrait.jpg", tmp_path / "portrait.jpg")
    shutil.copy2(FIXTURES / "photos" / "hubble_deep_field.jpg", tmp_path / "hubble.jpg")
    records = _analyse(tmp_path)
    pixels = PixelSource()
    groups = find_duplicates(records, crop_tolerant=True, pixels=pixels).groups
    assert [_names(g) for g in groups] == [{"dunes.jpg", "dunes_640.jpg", "dunes_crop_a.jpg", "dunes_crop_b.jpg", "dunes_crop_c.jpg"}]
    assert groups[0].keeper.file.path.name == "dunes.jpg"
    # The two crops are not crops of each other (each keeps a strip the other lost): they are
    # together because each was checked on pixels against the uncropped picture.
    by_name = {r.file.path.name: r for r in records}
    fit = pixels.fit(by_name["dunes_crop_a.jpg"], by_name["dunes_crop_b.jpg"])
    assert fit is None or not fit.is_crop
    # Unrelated photos were never decoded: only crop candidates cost a decode.
    assert pixels.decoded <= 5


def test_two_exposures_that_are_both_parts_of_one_picture_stay_apart(tmp_path: Path) -> None:
    """Two frames of one body, 0.1 s apart, each a window of a bigger export without EXIF.

    Each frame is a crop of the export on pixels, so each may join its group; but the
    camera recorded them as two exposures, so they are never in one group together.
    """
    shown = _shown(FIXTURES / "photos" / "mongolels.jpg")
    shown.save(tmp_path / "stitched.jpg", quality=90)
    for k, sides in enumerate(((0.06, 0.02, 0.0, 0.04), (0.0, 0.03, 0.07, 0.02))):
        frame = tmp_path / f"frame_{k}.jpg"
        _cut(shown, *sides).save(frame, quality=90)
        subprocess.run(
            ["exiftool", "-q", "-q", "-overwrite_original", "-Make=Canon", "-Model=Canon EOS R6", "-SerialNumber=42",
             "-DateTimeOriginal=2024:06:12 14:35:01", f"-SubSecTimeOriginal={100 + 100 * k}", str(frame)],
            check=True,
        )
    records = _analyse(tmp_path)
    groups = find_duplicates(records, crop_tolerant=True).groups
    assert groups and all(not {"frame_0.jpg", "frame_1.jpg"} <= _names(g) for g in groups), [_names(g) for g in groups]
    assert any({"stitched.jpg", "frame_0.jpg"} <= _names(g) or {"stitched.jpg", "frame_1.jpg"} <= _names(g) for g in groups)


def test_canon_reshot_frame_stays_apart_on_pixels_alone(tmp_path: Path) -> None:
    """The Canon HDR pair, EXIF stripped (no capture times to tell two shots), with crops of each."""
    for name in ("canon_hdr_NO", "canon_hdr_YES"):
        path = tmp_path / f"{name}.jpg"
        shutil.copy2(FIXTURES / "camera" / f"{name}.jpg", path)
        subprocess.run(["exiftool", "-q", "-q", "-overwrite_original", "-all=", str(path)], check=True)
        shown = _shown(path)
        _cut(shown, 0.05, 0.0, 0.0, 0.0).save(tmp_path / f"{name}_crop5.jpg", quality=90)
        _cut(shown, 0.025, 0.025, 0.025, 0.025).save(tmp_path / f"{name}_centre.jpg", quality=90)
    records = _analyse(tmp_path)
    assert all(r.metadata.capture_time is None for r in records)
    groups = find_duplicates(records, crop_tolerant=True).groups
    for g in groups:
        assert len({m.record.file.path.name.split("_hdr_")[1][:2] for m in g.members}) == 1, _names(g)
    assert {"canon_hdr_NO.jpg", "canon_hdr_NO_crop5.jpg", "canon_hdr_NO_centre.jpg"} in [_names(g) for g in groups]


def test_a_candidate_that_cannot_be_decoded_any_more_confirms_nothing(tmp_path: Path) -> None:
    shown = _shown(FIXTURES / "photos" / "mongolels.jpg")
    shown.save(tmp_path / "dunes.jpg", quality=90)
    _cut(shown, 0.08, 0.03, 0.02, 0.07).save(tmp_path / "dunes_crop.jpg", quality=90)
    records = _analyse(tmp_path)
    (tmp_path / "dunes_crop.jpg").write_bytes(b"")  # truncated after analysis
    assert find_duplicates(records, crop_tolerant=True).groups == []


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 19), st.integers(0, 19), st.integers(0, 12)), max_size=60),
    st.sets(st.tuples(st.integers(0, 19), st.integers(0, 19)), max_size=40),
    st.sets(st.tuples(st.integers(0, 19), st.integers(0, 19)), max_size=20),
)
def test_crop_clusters_never_chain(edge_list, parts, never_pairs) -> None:
    """Every member matches the anchor; two members without a match of their own are both parts of it."""
    edges = {(min(i, j), max(i, j)): d for i, j, d in edge_list if i != j}
    part = {(min(i, j), max(i, j)) for i, j in parts} & edges.keys()  # pixels only check matched pairs

    def part_of(anchor: int, x: int) -> bool:
        return (min(anchor, x), max(anchor, x)) in part

    def linked(x: int, y: int) -> bool:
        return (min(x, y), max(x, y)) in edges

    def never(x: int, y: int) -> bool:  # two exposures: only a direct match may put them together
        return (min(x, y), max(x, y)) in {(min(i, j), max(i, j)) for i, j in never_pairs}

    seen: set[int] = set()
    for cluster in complete_linkage_clusters(20, edges, part_of, never):
        assert len(cluster) >= 2 and not seen & set(cluster)
        seen.update(cluster)
        assert any(
            all(x == a or linked(a, x) for x in cluster)
            and all(
                linked(x, y) or (part_of(a, x) and part_of(a, y) and not never(x, y))
                for x in cluster
                for y in cluster
                if a not in (x, y) and x < y
            )
            for a in cluster
        ), cluster


def test_pixel_verdicts_are_kept_so_a_rerun_decodes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    shown = _shown(FIXTURES / "photos" / "mongolels.jpg")
    shown.save(root / "dunes.jpg", quality=90)
    _cut(shown, 0.08, 0.03, 0.02, 0.07).save(root / "dunes_crop_a.jpg", quality=90)
    _cut(shown, 0.01, 0.09, 0.07, 0.02).save(root / "dunes_crop_b.jpg", quality=90)
    shutil.copy2(FIXTURES / "photos" / "portrait.jpg", root / "portrait.jpg")
    cache = tmp_path / "cache.sqlite"
    records = analyse_roots([root], jobs=1, cache_path=cache).records
    first = PixelSource(cache_path=cache)
    groups = [_names(g) for g in find_duplicates(records, crop_tolerant=True, pixels=first).groups]
    assert groups == [{"dunes.jpg", "dunes_crop_a.jpg", "dunes_crop_b.jpg"}] and first.decoded >= 3
    again = PixelSource(cache_path=cache)
    assert [_names(g) for g in find_duplicates(records, crop_tolerant=True, pixels=again).groups] == groups
    assert again.decoded == 0
    # Without a cache nothing is kept: the same work again.
    fresh = PixelSource()
    find_duplicates(records, crop_tolerant=True, pixels=fresh)
    assert fresh.decoded >= 3


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 15), st.integers(0, 15), st.integers(0, 14)), max_size=80).map(
        lambda ps: list({(min(i, j), max(i, j)): (min(i, j), max(i, j), d) for i, j, d in ps if i != j}.values())
    ),
    st.integers(1, 6),
)
def test_each_picture_keeps_its_nearest_crop_candidates(pairs, k) -> None:
    from xmpcull.group.linkage import nearest_per_picture

    kept = nearest_per_picture(pairs, k)
    assert set(kept) <= set(pairs) and kept == [p for p in pairs if p in set(kept)]  # a subset, order kept
    for picture in {x for i, j, _ in pairs for x in (i, j)}:
        own = sorted(d for i, j, d in pairs if picture in (i, j))
        mine = sorted(d for i, j, d in kept if picture in (i, j))
        # at least its k nearest distances survive (ties may keep more)
        assert len(mine) >= min(k, len(own)) and mine[: min(k, len(own))] == own[: min(k, len(own))]


def test_without_the_crop_search_nothing_is_decoded_even_when_a_pixel_source_is_given(tmp_path: Path) -> None:
    shown = _shown(FIXTURES / "photos" / "mongolels.jpg")
    shown.save(tmp_path / "dunes.jpg", quality=90)
    _cut(shown, 0.08, 0.03, 0.02, 0.07).save(tmp_path / "dunes_crop_a.jpg", quality=90)
    _cut(shown, 0.01, 0.09, 0.07, 0.02).save(tmp_path / "dunes_crop_b.jpg", quality=90)
    pixels = PixelSource()
    find_duplicates(_analyse(tmp_path), crop_tolerant=False, pixels=pixels)
    assert pixels.decoded == 0


def test_an_unusable_verdict_cache_costs_speed_not_the_result(tmp_path: Path) -> None:
    shown = _shown(FIXTURES / "photos" / "mongolels.jpg")
    shown.save(tmp_path / "dunes.jpg", quality=90)
    _cut(shown, 0.08, 0.03, 0.02, 0.07).save(tmp_path / "dunes_crop_a.jpg", quality=90)
    records = _analyse(tmp_path)
    broken = tmp_path / "cache.sqlite"
    broken.write_bytes(b"this is not a database" * 100)
    groups = find_duplicates(records, crop_tolerant=True, pixels=PixelSource(cache_path=broken)).groups
    assert [_names(g) for g in groups] == [{"dunes.jpg", "dunes_crop_a.jpg"}]
