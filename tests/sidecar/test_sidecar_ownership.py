"""The user's rating, label and crop win; ours are recorded so a later run can tell them apart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.sidecar.sidecar_helpers import clock, place_sidecar, tree
from xmpcull.models import CropEdges
from xmpcull.sidecar import (
    CLEAR,
    CropFields,
    DecisionFields,
    DupeFields,
    QualityFields,
    SidecarUpdate,
    SimilarFields,
    WriteOptions,
    read_sidecar,
    write_sidecar,
)
from xmpcull.sidecar.packet import NS_CRS, NS_XMP, get, parse
from xmpcull.sidecar.safety import load_packet


def _raw(tmp_path: Path, name: str = "IMG_0001.CR2") -> Path:
    image = tmp_path / name
    image.write_bytes(b"")
    return image


def _decide(rating: int | None = None, label: str | None = None) -> SidecarUpdate:
    return SidecarUpdate(decision=DecisionFields("keeper", rating=rating, label=label))


def _set_user_value(sidecar: Path, schema: str, name: str, value: str) -> None:
    """What the user does in Lightroom: change one value and save metadata."""
    meta = parse(load_packet(sidecar.read_bytes(), sidecar), sidecar)
    meta.set_property(schema, name, value)
    sidecar.write_bytes(meta.serialize_to_str().encode())


def test_second_identical_write_is_byte_identical_and_reports_no_change(tmp_path: Path) -> None:
    image = _raw(tmp_path)
    update = SidecarUpdate(dupes=DupeFields("d-1", "exact", "keeper"), decision=DecisionFields("ok", rating=3))
    assert write_sidecar(image, update, clock=clock).changed
    sidecar = tmp_path / "IMG_0001.xmp"
    first = sidecar.read_bytes()
    later = lambda: dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)  # noqa: E731
    again = write_sidecar(image, update, clock=later)
    assert not again.changed and again.changes == ()
    assert sidecar.read_bytes() == first


def test_analysis_date_changes_only_when_another_value_changes(tmp_path: Path) -> None:
    image = _raw(tmp_path)
    write_sidecar(image, SidecarUpdate(quality=QualityFields(0.5, 0.5, 0.5)), clock=clock)
    later = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    write_sidecar(image, SidecarUpdate(quality=QualityFields(0.5, 0.5, 0.5)), clock=lambda: later)
    assert read_sidecar(image).analysis_date == "2024-06-12T14:35:01+00:00"
    write_sidecar(image, SidecarUpdate(quality=QualityFields(0.6, 0.5, 0.5)), clock=lambda: later)
    assert read_sidecar(image).analysis_date == "2030-01-01T00:00:00+00:00"


def test_user_rating_is_kept_unless_overwrite(tmp_path: Path) -> None:
    image, sidecar = place_sidecar(tmp_path, "lightroom/IMG_5910.xmp")  # user's rating 3
    result = write_sidecar(image, _decide(rating=5), clock=clock)
    assert read_sidecar(image).rating == 3
    assert any("xmp:Rating=3" in line for line in result.kept_user_values)
    assert read_sidecar(image).decision.rating is None  # type: ignore[union-attr]  # not recorded as ours
    write_sidecar(image, _decide(rating=5), WriteOptions(overwrite_ratings=True), clock=clock)
    state = read_sidecar(image)
    assert state.rating == 5 and state.decision.rating == 5  # type: ignore[union-attr]


def test_user_label_verde_is_kept_unless_overwrite(tmp_path: Path) -> None:
    image, _ = place_sidecar(tmp_path, "lightroom/lrc9.1_label-Verde_extracted.xmp")
    write_sidecar(image, _decide(label="Red"), clock=clock)
    assert read_sidecar(image).label == "Verde"
    write_sidecar(image, _decide(label="Red"), WriteOptions(overwrite_labels=True), clock=clock)
    assert read_sidecar(image).label == "Red"


def test_camera_written_rating_zero_counts_as_unrated(tmp_path: Path) -> None:
    image, sidecar = place_sidecar(tmp_path, "lightroom/lrc9.1_label-Verde_extracted.xmp")  # xmp:Rating 0
    write_sidecar(image, _decide(rating=2), clock=clock)
    assert read_sidecar(image).rating == 2


def test_we_set_red_then_user_changes_to_green_it_is_kept(tmp_path: Path) -> None:
    image = _raw(tmp_path)
    sidecar = tmp_path / "IMG_0001.xmp"
    write_sidecar(image, _decide(rating=2, label="Red"), clock=clock)
    write_sidecar(image, _decide(rating=4, label="Red"), clock=clock)  # still ours: updated
    assert read_sidecar(image).rating == 4
    _set_user_value(sidecar, NS_XMP, "Label", "Green")
    result = write_sidecar(image, _decide(rating=4, label="Purple"), clock=clock)
    state = read_sidecar(image)
    assert state.label == "Green" and state.decision.label is None  # type: ignore[union-attr]
    assert any("xmp:Label=Green" in line for line in result.kept_user_values)
    # a later decision without a rating removes ours (it is stale), never the user's label
    write_sidecar(image, _decide(), clock=clock)
    state = read_sidecar(image)
    assert state.rating is None and state.label == "Green"


def test_user_crop_is_kept_unless_overwrite_and_ours_is_tracked(tmp_path: Path) -> None:
    image, sidecar = place_sidecar(tmp_path, "lightroom/IMG_5910.xmp")  # user's crop, top 0.231776
    ours = CropEdges(0.1, 0.1, 0.9, 0.9)
    result = write_sidecar(image, SidecarUpdate(crop=CropFields(applied=ours)), clock=clock)
    assert read_sidecar(image).crop == CropEdges(0, 0.231776, 0.768224, 1)
    assert result.kept_user_values and "crs:Crop" in result.kept_user_values[0]
    write_sidecar(image, SidecarUpdate(crop=CropFields(applied=ours)), WriteOptions(overwrite_crops=True), clock=clock)
    assert read_sidecar(image).crop == ours
    # ours now: a new proposal replaces it without any option
    newer = CropEdges(0.2, 0.0, 0.8, 1.0)
    write_sidecar(image, SidecarUpdate(crop=CropFields(applied=newer)), clock=clock)
    assert read_sidecar(image).crop == newer
    # clearing the section removes our crop: HasCrop False, edges gone
    write_sidecar(image, SidecarUpdate(crop=CLEAR), clock=clock)
    meta = parse(load_packet(sidecar.read_bytes(), sidecar), sidecar)
    assert get(meta, NS_CRS, "HasCrop") == "False" and get(meta, NS_CRS, "CropLeft") is None
    assert read_sidecar(image).crop is None and read_sidecar(image).crop_fields is None


def test_applied_crop_writes_what_camera_raw_reads(tmp_path: Path) -> None:
    image = _raw(tmp_path)
    write_sidecar(image, SidecarUpdate(crop=CropFields(applied=CropEdges(0.2, 0.1, 0.8, 0.9))), clock=clock)
    meta = parse(load_packet((tmp_path / "IMG_0001.xmp").read_bytes(), "x"), "x")
    assert {n: get(meta, NS_CRS, n) for n in ("HasCrop", "HasSettings", "CropLeft", "CropTop", "CropRight",
                                               "CropBottom", "CropAngle", "CropConstrainToWarp")} == {
        "HasCrop": "True", "HasSettings": "True", "CropLeft": "0.2", "CropTop": "0.1", "CropRight": "0.8",
        "CropBottom": "0.9", "CropAngle": "0", "CropConstrainToWarp": "0"}
    assert get(meta, NS_CRS, "AlreadyApplied") is None  # never claim the crop is baked into the pixels


def test_clearing_every_section_leaves_no_trace_of_us(tmp_path: Path) -> None:
    image, sidecar = place_sidecar(tmp_path, "darktable/DSC_9034.NEF.xmp")
    before = tree(sidecar)
    write_sidecar(image, SidecarUpdate(dupes=DupeFields("d-9", "near", "duplicate", 5)), clock=clock)
    write_sidecar(image, SidecarUpdate(dupes=CLEAR), clock=clock)
    after = tree(sidecar)
    assert {n for n in after if n[1] != "photoshop:SidecarForExtension"} == before


def test_dry_run_lists_changes_and_writes_nothing(tmp_path: Path) -> None:
    image, sidecar = place_sidecar(tmp_path, "lightroom/IMG_5910.xmp")
    original = sidecar.read_bytes()
    result = write_sidecar(image, SidecarUpdate(dupes=DupeFields("d-1", "near", "keeper", 2)),
                           WriteOptions(dry_run=True), clock=clock)
    assert result.changed and sidecar.read_bytes() == original
    assert "+ xmpcull:DupGroup = d-1" in result.changes
    assert any(line.startswith("~ lr:hierarchicalSubject") and "xmpcull|dupes|d-1" in line for line in result.changes)
    fresh = _raw(tmp_path, "NEW.CR2")
    assert write_sidecar(fresh, SidecarUpdate(dupes=DupeFields("d-1", "near", "keeper")),
                         WriteOptions(dry_run=True), clock=clock).changed
    assert not (tmp_path / "NEW.xmp").exists()


def test_a_section_update_replaces_old_values_and_keywords(tmp_path: Path) -> None:
    image = _raw(tmp_path)
    write_sidecar(image, SidecarUpdate(dupes=DupeFields("d-1", "near", "duplicate", 3, "blurrier"),
                                       similar=SimilarFields("s-1", "best", 2, "best of the set")), clock=clock)
    write_sidecar(image, SidecarUpdate(dupes=DupeFields("d-2", "exact", "keeper"), similar=CLEAR), clock=clock)
    state = read_sidecar(image)
    assert state.dupes == DupeFields("d-2", "exact", "keeper")  # KeeperReason gone, not kept
    assert state.similar is None  # the similar section and its keyword went with CLEAR
    assert state.hierarchical_keywords == ("xmpcull|dupes|d-2",) and state.keywords == ("d-2",)


def test_user_keyword_equal_to_our_leaf_survives_our_removal(tmp_path: Path) -> None:
    image, sidecar = place_sidecar(tmp_path, "lightroom/IMG_5910.xmp")
    meta = parse(load_packet(sidecar.read_bytes(), sidecar), sidecar)
    meta.append_array_item("http://ns.adobe.com/lightroom/1.0/", "hierarchicalSubject", "review")
    meta.append_array_item("http://purl.org/dc/elements/1.1/", "subject", "review")
    sidecar.write_bytes(meta.serialize_to_str().encode())
    write_sidecar(image, SidecarUpdate(decision=DecisionFields("needs-review")), clock=clock)
    write_sidecar(image, SidecarUpdate(decision=CLEAR), clock=clock)
    state = read_sidecar(image)
    assert "review" in state.keywords and "review" in state.hierarchical_keywords
    assert "xmpcull|review" not in state.hierarchical_keywords
