"""Duplicate groups on real photos analysed by the real pipeline (exiftool, Pillow)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance, ImageOps

from xmpcull.analyse.pipeline import analyse_roots
from xmpcull.group.dupes import find_duplicates
from xmpcull.models import ImageRecord

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _shown(src: Path) -> Image.Image:
    with Image.open(src) as im:
        return ImageOps.exif_transpose(im).convert("RGB")


def _analyse(root: Path) -> list[ImageRecord]:
    result = analyse_roots([root], jobs=1)
    assert not result.failures
    return result.records


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ImageRecord]]:
    """Two folders: copies, edits and a rotated copy of real photos, plus unrelated photos."""
    root = tmp_path_factory.mktemp("lib") / "photos"
    a, b = root / "2015", root / "backup" / "old"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    dunes = FIXTURES / "photos" / "mongolels.jpg"
    shutil.copy2(dunes, a / "dunes.jpg")
    shutil.copy2(dunes, b / "IMG_0001.jpg")  # exact copy, other folder, other name
    shown = _shown(dunes)
    shown.resize((shown.width // 2, shown.height // 2), Image.Resampling.LANCZOS).save(b / "dunes_small.jpg", quality=60)
    shown.save(b / "dunes.png")
    ImageEnhance.Brightness(shown).enhance(1.2).save(b / "dunes_bright.jpg", quality=85)
    shown.transpose(Image.Transpose.ROTATE_270).save(b / "dunes_rot90.jpg", quality=90)  # pixels turned, no tag
    jet = _shown(FIXTURES / "photos" / "T-45A_Goshawk_03_1600px.jpg")
    jet.transpose(Image.Transpose.ROTATE_270).save(a / "jet_tagged.jpg", quality=90)
    subprocess.run(["exiftool", "-q", "-q", "-overwrite_original", "-n", "-Orientation=8", str(a / "jet_tagged.jpg")], check=True)
    shutil.copy2(FIXTURES / "photos" / "T-45A_Goshawk_03_1600px.jpg", b / "jet.jpg")
    # Hard negative: the same street lamp 26 s later (a different photo of the same scene).
    shutil.copy2(FIXTURES / "camera" / "canon_hdr_NO.jpg", a / "lamp1.jpg")
    shutil.copy2(FIXTURES / "camera" / "canon_hdr_YES.jpg", a / "lamp2.jpg")
    for name in ("astronaut.png", "portrait.jpg", "hubble_deep_field.jpg"):
        shutil.copy2(FIXTURES / "photos" / name, a / name)
    return root, _analyse(root)


def _names(group) -> set[str]:
    return {m.record.file.path.name for m in group.members}


def test_edited_copies_group_with_the_original_and_unrelated_photos_stay_out(library) -> None:
    _, records = library
    result = find_duplicates(records)
    groups = {frozenset(_names(g)) for g in result.groups}
    assert frozenset({"dunes.jpg", "IMG_0001.jpg", "dunes_small.jpg", "dunes.png", "dunes_bright.jpg"}) in groups
    assert frozenset({"jet_tagged.jpg", "jet.jpg"}) in groups  # rotated pixels + Orientation tag = same picture
    grouped = set().union(*groups)
    assert not grouped & {"astronaut.png", "portrait.jpg", "hubble_deep_field.jpg", "lamp1.jpg", "lamp2.jpg"}
    assert "dunes_rot90.jpg" not in grouped  # turned pixels without a tag need --rotation-invariant


def test_rotation_invariant_option_finds_turned_pixels(library) -> None:
    _, records = library
    result = find_duplicates(records, rotation_invariant=True)
    dunes = next(g for g in result.groups if "dunes.jpg" in _names(g))
    assert "dunes_rot90.jpg" in _names(dunes)
    assert {"lamp1.jpg", "lamp2.jpg"}.isdisjoint(set().union(*(_names(g) for g in result.groups)))


def test_group_kind_keeper_and_distances(library) -> None:
    _, records = library
    result = find_duplicates(records)
    dunes = next(g for g in result.groups if "dunes.jpg" in _names(g))
    assert dunes.kind == "near"
    assert dunes.members[0].role == "keeper" and all(m.role == "duplicate" for m in dunes.members[1:])
    # Full-size copies tie on pixels; the PNG (a rendered copy, same size) or a JPEG wins on a later rule.
    assert dunes.keeper.features.pixels == max(m.record.features.pixels for m in dunes.members)
    by_name = {m.record.file.path.name: m for m in dunes.members}
    assert by_name["dunes_small.jpg"].distance <= 10
    if dunes.keeper.features.digest == by_name["IMG_0001.jpg"].record.features.digest:
        assert by_name["IMG_0001.jpg"].distance == 0 or by_name["IMG_0001.jpg"].role == "keeper"


def test_exact_copies_alone_form_an_exact_group(tmp_path: Path) -> None:
    for folder in ("a", "b/c"):
        (tmp_path / folder).mkdir(parents=True)
        shutil.copy2(FIXTURES / "photos" / "portrait.jpg", tmp_path / folder / "p.jpg")
    shutil.copy2(FIXTURES / "photos" / "astronaut.png", tmp_path / "a" / "astro.png")
    result = find_duplicates(_analyse(tmp_path))
    assert len(result.groups) == 1
    group = result.groups[0]
    assert group.kind == "exact" and {m.distance for m in group.members} == {0}
    assert group.keeper_reason.startswith("shortest path")  # identical bytes: the shorter path wins


def test_hard_negative_lands_in_a_similar_set_not_a_group(library) -> None:
    _, records = library
    result = find_duplicates(records)
    lamp_sets = [s for s in result.similar_sets if {m.record.file.path.name for m in s.members} >= {"lamp1.jpg", "lamp2.jpg"}]
    assert len(lamp_sets) == 1
    assert lamp_sets[0].id.startswith("s-")


def test_group_ids_are_stable_across_runs_order_and_added_copies(library, tmp_path: Path) -> None:
    _, records = library
    first = {g.id: _names(g) for g in find_duplicates(records).groups}
    again = {g.id: _names(g) for g in find_duplicates(list(reversed(records))).groups}
    assert first == again
    # Adding one more small copy to the dunes group keeps every ID.
    extra = tmp_path / "extra"
    extra.mkdir()
    shown = _shown(FIXTURES / "photos" / "mongolels.jpg")
    shown.resize((300, 200)).save(extra / "thumb.jpg", quality=70)
    more = records + _analyse(extra)
    later = {g.id: _names(g) for g in find_duplicates(more).groups}
    assert set(later) == set(first)
    dunes_id = next(i for i, names in first.items() if "dunes.jpg" in names)
    assert later[dunes_id] == first[dunes_id] | {"thumb.jpg"}
    assert all(len(i) == len("d-") + 8 for i in first)


def test_raw_and_jpeg_companions_are_one_shot_not_duplicates(tmp_path: Path) -> None:
    # The CR3's embedded preview is the same picture as its JPEG rendering.
    shutil.copy2(FIXTURES / "raw" / "Canon-R6-pruned.CR3", tmp_path / "IMG_1.CR3")
    records = _analyse(tmp_path)
    raw = next(r for r in records if r.file.is_raw)
    preview = tmp_path / "IMG_1.JPG"
    subprocess.run(["exiftool", "-q", "-q", "-b", "-PreviewImage", "-w", "%0f" + str(preview), str(raw.file.path)], check=False)
    if not preview.exists():
        pytest.skip("no preview could be extracted")
    records = _analyse(tmp_path)
    assert any(r.file.companions for r in records), "the scanner should pair IMG_1.CR3 and IMG_1.JPG"
    assert find_duplicates(records).groups == []
    # The same JPEG elsewhere (not a companion) is a duplicate of the RAW.
    other = tmp_path / "export"
    other.mkdir()
    shutil.copy2(preview, other / "copy.jpg")
    groups = find_duplicates(_analyse(tmp_path)).groups
    assert any("copy.jpg" in _names(g) for g in groups)
    assert not any({"IMG_1.CR3", "IMG_1.JPG"} <= _names(g) for g in groups)


def test_crop_tolerant_option_finds_a_copy_cropped_on_two_sides(tmp_path: Path) -> None:
    shown = _shown(FIXTURES / "photos" / "mongolels.jpg")
    w, h = shown.size
    shown.save(tmp_path / "dunes.jpg", quality=90)
    shown.crop((int(w * 0.06), 0, w, int(h * 0.95))).save(tmp_path / "dunes_cropped.jpg", quality=85)
    shutil.copy2(FIXTURES / "photos" / "portrait.jpg", tmp_path / "portrait.jpg")
    records = _analyse(tmp_path)
    assert find_duplicates(records).groups == []  # plain pHash loses this crop
    groups = find_duplicates(records, crop_tolerant=True).groups
    assert [_names(g) for g in groups] == [{"dunes.jpg", "dunes_cropped.jpg"}]
    assert groups[0].keeper.file.path.name == "dunes.jpg"  # more pixels
    assert groups[0].members[1].distance <= 10  # measured against the matching window, not the full hash
