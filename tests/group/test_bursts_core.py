"""Burst clustering, IDs, best frame and report on hand-made shots (no files)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from xmpcull.errors import ConfigError
from xmpcull.group.bursts import (
    NO_TIME_REASON,
    SINGLE_FRAME_REASON,
    Shot,
    burst_report,
    choose_best,
    cluster_bursts,
    csv_rows,
    frame_number,
    parse_clock_offset,
    parse_clock_offsets,
    parse_duration,
    short_camera_name,
    shot_from_record,
    shots_from_records,
)
from xmpcull.models import CaptureTime, Features, ImageFile, ImageRecord, Metadata

R5 = dict(body="Canon EOS R5#031", model="Canon EOS R5", serial="031")
R5_B = dict(body="Canon EOS R5#777", model="Canon EOS R5", serial="777")
Z9 = dict(body="NIKON Z 9#3020326", model="NIKON Z 9", serial="3020326")


def at(local: dt.datetime, offset_minutes: int | None = None) -> CaptureTime:
    return CaptureTime(local, offset_minutes, "EXIF:DateTimeOriginal")


def shot(name: str, capture: CaptureTime | None, camera: dict = R5, **features: object) -> Shot:
    return Shot(
        path=f"/photos/{name}",
        timestamp=capture.timestamp() if capture else None,
        local_time=capture.local if capture else None,
        utc_offset_minutes=capture.offset_minutes if capture else None,
        capture_iso=capture.isoformat() if capture else None,
        **camera,
        **features,  # type: ignore[arg-type]
    )


BASE = dt.datetime(2024, 6, 12, 14, 35, 1)


def frames(count: int, step: float, start: dt.datetime = BASE, first_number: int = 7, camera: dict = R5, prefix: str = "IMG_") -> list[Shot]:
    return [
        shot(f"{prefix}{first_number + i:04d}.CR3", at(start + dt.timedelta(seconds=i * step)), camera)
        for i in range(count)
    ]


def multi(bursts):
    return [b for b in bursts if b.is_burst]


def names(burst) -> list[str]:
    return [s.name for s in burst.shots]


def test_thirty_fps_burst_orders_by_subsecond_whatever_the_input_order():
    shots = frames(30, 1 / 30)
    shuffled = shots[:]
    random.Random(4).shuffle(shuffled)
    (burst,) = cluster_bursts(shuffled)
    assert burst.size == 30
    assert names(burst) == [s.name for s in shots]
    assert burst.burst_id == "20240612-143501-R5-0007"


def test_gap_of_exactly_the_threshold_stays_in_the_burst_and_a_microsecond_more_splits():
    # Sub-second epoch floats: 0.3 + 2.0 is not exact in binary, yet must count as 2.0 s.
    t0 = BASE + dt.timedelta(microseconds=300_000)
    exact = [shot("A_0001.JPG", at(t0)), shot("A_0002.JPG", at(t0 + dt.timedelta(seconds=2)))]
    assert [b.size for b in cluster_bursts(exact, gap_seconds=2.0)] == [2]
    longer = [exact[0], shot("A_0002.JPG", at(t0 + dt.timedelta(seconds=2, microseconds=1)))]
    assert [b.size for b in cluster_bursts(longer, gap_seconds=2.0)] == [1, 1]
    half = [shot("A_0001.JPG", at(t0)), shot("A_0002.JPG", at(t0 + dt.timedelta(milliseconds=500)))]
    assert [b.size for b in cluster_bursts(half, gap_seconds=0.5)] == [2]


def test_interleaved_cameras_never_share_a_burst():
    r5 = frames(6, 0.5, camera=R5)
    z9 = frames(6, 0.5, start=BASE + dt.timedelta(milliseconds=250), camera=Z9, prefix="DSC_")
    bursts = cluster_bursts(r5 + z9)
    assert sorted((b.body, b.size) for b in bursts) == sorted([(R5["body"], 6), (Z9["body"], 6)])
    assert {b.burst_id for b in bursts} == {"20240612-143501-R5-0007", "20240612-143501-Z9-0007"}


def test_two_bodies_of_one_model_in_the_same_second_get_distinct_ids():
    a = frames(3, 0.2, camera=R5)
    b = [shot(f"second/{s.name}", at(s.local_time), R5_B) for s in frames(3, 0.2)]
    ids = sorted(burst.burst_id for burst in cluster_bursts(a + b))
    # Same second, camera and frame number: the body sorting later gets a suffix.
    assert ids == ["20240612-143501-R5-0007", "20240612-143501-R5-0007-2"]
    assert [b.body for b in cluster_bursts(a + b)] == [R5["body"], R5_B["body"]]


def test_single_frames_and_files_without_time_are_singletons_without_ids():
    lone = shot("IMG_0100.CR3", at(BASE + dt.timedelta(minutes=5)))
    timeless = shot("scan.tif", None, camera=dict(body=None, model=None, serial=None))
    bursts = cluster_bursts(frames(3, 1.0) + [lone, timeless])
    by_name = {b.shots[0].name: b for b in bursts}
    assert by_name["IMG_0100.CR3"].burst_id is None and by_name["IMG_0100.CR3"].reason == SINGLE_FRAME_REASON
    assert by_name["scan.tif"].burst_id is None and by_name["scan.tif"].reason == NO_TIME_REASON
    assert bursts[-1].shots[0].name == "scan.tif"  # timeless ones come last
    report = burst_report(bursts, ["/photos"], 2.0)
    assert report["no_time"] == ["/photos/scan.tif"]
    assert [entry["size"] for entry in report["bursts"]] == [3]


def test_equal_times_are_ordered_by_file_name():
    same = [shot(name, at(BASE)) for name in ("IMG_0003.CR3", "IMG_0001.CR3", "IMG_0002.CR3")]
    (burst,) = cluster_bursts(same)
    assert names(burst) == ["IMG_0001.CR3", "IMG_0002.CR3", "IMG_0003.CR3"]


@pytest.mark.parametrize(
    ("first", "offsets"),
    [
        (dt.datetime(2024, 6, 12, 14, 59, 59, 500_000), (None, None)),  # minute and hour
        (dt.datetime(2024, 6, 12, 23, 59, 59, 500_000), (None, None)),  # midnight
        (dt.datetime(2023, 12, 31, 23, 59, 59, 500_000), (None, None)),  # new year
        (dt.datetime(2024, 2, 28, 23, 59, 59, 500_000), (60, 60)),  # leap day, with offset
        (dt.datetime(2024, 10, 27, 2, 59, 59, 500_000), (120, 60)),  # DST ends: wall clock goes back 1 h
        (dt.datetime(2024, 3, 31, 1, 59, 59, 500_000), (60, 120)),  # DST starts: wall clock jumps 1 h
    ],
)
def test_boundaries_keep_a_one_second_burst_together(first, offsets):
    wall_jump = dt.timedelta(minutes=(offsets[1] or 0) - (offsets[0] or 0))
    second = first + dt.timedelta(seconds=1) + wall_jump
    bursts = cluster_bursts([shot("IMG_0001.JPG", at(first, offsets[0])), shot("IMG_0002.JPG", at(second, offsets[1]))])
    assert [b.size for b in bursts] == [2]
    assert bursts[0].burst_id == f"{first:%Y%m%d-%H%M%S}-R5-0001"  # the ID is the start's local wall clock


def test_same_instant_in_different_offsets_is_the_same_moment():
    # A traveller re-set the camera's zone mid-burst: 12:00:00+02:00 and 11:00:01+01:00 are 1 s apart.
    shots = [shot("IMG_0001.JPG", at(dt.datetime(2024, 6, 12, 12, 0, 0), 120)), shot("IMG_0002.JPG", at(dt.datetime(2024, 6, 12, 11, 0, 1), 60))]
    assert [b.size for b in cluster_bursts(shots)] == [2]


def test_clock_offset_shifts_one_body_only():
    r5 = frames(3, 0.5, camera=R5)
    z9 = frames(3, 0.5, camera=Z9, prefix="DSC_")
    bursts = cluster_bursts(r5 + z9, clock_offsets=parse_clock_offsets(["NIKON Z 9=+00:00:07"]))
    by_body = {b.body: b for b in bursts}
    assert by_body[Z9["body"]].start == pytest.approx(by_body[R5["body"]].start + 7)
    assert by_body[Z9["body"]].burst_id == "20240612-143508-Z9-0007"
    assert by_body[R5["body"]].burst_id == "20240612-143501-R5-0007"


def test_clock_offset_by_serial_picks_one_of_two_identical_bodies():
    a, b = frames(2, 0.5, camera=R5), frames(2, 0.5, camera=R5_B, prefix="B_")
    offsets = parse_clock_offsets(["r5#777=-00:00:01.5"])
    by_body = {x.body: x for x in cluster_bursts(a + b, clock_offsets=offsets)}
    assert by_body[R5_B["body"]].start == pytest.approx(by_body[R5["body"]].start - 1.5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Canon EOS R5=+00:00:07", ("Canon EOS R5", 7.0)),
        ("Canon EOS R5#031=-00:01:02.25", ("Canon EOS R5#031", -62.25)),
        ("Z9=+01:00:00", ("Z9", 3600.0)),
        ("iPhone 6=-1.5", ("iPhone 6", -1.5)),
        ("X-T4=00:30", ("X-T4", 30.0)),
    ],
)
def test_parse_clock_offset(text, expected):
    assert parse_clock_offset(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["R5", "=+00:00:07", "R5=7s", "R5=+00:00:xx", "R5=--1"])
def test_parse_clock_offset_rejects_nonsense(text):
    with pytest.raises(ConfigError):
        parse_clock_offset(text)


def test_scene_change_split_cuts_where_phash_jumps():
    base = 0x0F0F_0F0F_0F0F_0F0F
    cut = base ^ ((1 << 30) - 1)  # 30 bits away
    hashes = [base, base ^ 0b111, base ^ 0b1, cut, cut ^ 0b11]
    shots = [shot(f"IMG_{i + 1:04d}.JPG", at(BASE + dt.timedelta(seconds=i * 0.1)), phash=h) for i, h in enumerate(hashes)]
    assert [b.size for b in cluster_bursts(shots)] == [5]
    split = cluster_bursts(shots, scene_split_threshold=22)
    assert [names(b) for b in split] == [["IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG"], ["IMG_0004.JPG", "IMG_0005.JPG"]]
    # Frames without a hash never cause a cut.
    no_hash = [shot(s.name, at(s.local_time)) for s in shots]
    assert [b.size for b in cluster_bursts(no_hash, scene_split_threshold=22)] == [5]


def test_ids_are_stable_when_files_are_added_elsewhere():
    day = frames(4, 0.3) + frames(3, 0.3, start=BASE + dt.timedelta(minutes=2), first_number=40)
    before = {b.burst_id: names(b) for b in multi(cluster_bursts(day))}
    extra = (
        frames(5, 0.3, start=BASE - dt.timedelta(hours=1), first_number=1)  # an earlier burst, same body
        + frames(2, 0.3, start=BASE + dt.timedelta(minutes=1), first_number=20)  # one in between
        + frames(3, 0.3, camera=Z9, prefix="DSC_")  # another body, same second
        + [shot("IMG_0900.CR3", at(BASE + dt.timedelta(hours=3)))]
    )
    after = {b.burst_id: names(b) for b in multi(cluster_bursts(extra + day))}
    assert before.items() <= after.items()


def test_same_body_same_second_without_frame_numbers_gets_a_suffix():
    shots = [shot(name, at(BASE + dt.timedelta(seconds=t))) for name, t in [("a.jpg", 0.0), ("b.jpg", 0.1), ("c.jpg", 0.8), ("d.jpg", 0.9)]]
    ids = [b.burst_id for b in cluster_bursts(shots, gap_seconds=0.5)]
    assert ids == ["20240612-143501-R5-0000", "20240612-143501-R5-0000-2"]


@pytest.mark.parametrize(
    ("model", "short"),
    [("Canon EOS R5", "R5"), ("NIKON Z 9", "Z9"), ("iPhone 6", "iPhone6"), ("Canon EOS 5D Mark IV", "5DMkIV"), ("ILCE-7M3", "ILCE7M3"), ("Pixel 8 Pro", "Pixel8Pro"), (None, "Cam")],
)
def test_short_camera_name(model, short):
    assert short_camera_name(model) == short


@pytest.mark.parametrize(
    ("path", "number"),
    [("/x/IMG_0007.CR3", "0007"), ("/x/DSC_12345.NEF", "2345"), ("/x/_27A1417.CR2", "1417"), ("/x/P5.JPG", "0005"), ("/x/portrait.jpg", "0000")],
)
def test_frame_number(path, number):
    assert frame_number(path) == number


def test_best_frame_is_the_sharpest_with_its_reason():
    shots = [shot(f"IMG_{i:04d}.JPG", at(BASE), sharpness=s) for i, s in enumerate([640.0, 812.0, 300.0])]
    assert choose_best(shots) == (1, "sharpest (Laplacian var 812 vs next 640)")


def test_between_equally_sharp_frames_exposure_decides():
    good = shot("IMG_0001.JPG", at(BASE), sharpness=800.0, mean_luma=0.48, clip_high=0.002, clip_low=0.0)
    blown = shot("IMG_0002.JPG", at(BASE), sharpness=812.0, mean_luma=0.70, clip_high=0.08, clip_low=0.0)
    best, reason = choose_best([blown, good])
    assert best == 1
    assert "best exposure" in reason and "812" in reason


def test_best_frame_without_features_is_the_first():
    assert choose_best([shot("a.jpg", at(BASE)), shot("b.jpg", at(BASE))]) == (0, "no quality features; first frame")


def test_report_and_csv_have_one_row_per_member():
    shots = [shot(f"IMG_{i + 7:04d}.CR3", at(BASE + dt.timedelta(seconds=i * 0.25)), sharpness=100.0 + i) for i in range(3)]
    report = burst_report(cluster_bursts(shots), ["/photos"], 2.0)
    (entry,) = report["bursts"]
    assert entry["id"] == "20240612-143501-R5-0007"
    assert entry["best"] == "/photos/IMG_0009.CR3"
    assert entry["start"] == "2024-06-12T14:35:01" and entry["end"] == "2024-06-12T14:35:01.500000"
    assert [m["index"] for m in entry["members"]] == [1, 2, 3]
    rows = csv_rows(report)
    assert [r["best"] for r in rows] == [False, False, True]
    assert rows[2]["best_reason"].startswith("sharpest")


def _record(path: Path, capture: CaptureTime | None, mtime_ns: int) -> ImageRecord:
    file = ImageFile(path=path, root=path.parent, format="jpeg", size=1, mtime_ns=mtime_ns)
    features = Features("d", 1, 2, (1,) * 8, 10, 10, 55.0, 0.5, 0.0, 0.0, "full")
    return ImageRecord(file=file, metadata=Metadata(capture_time=capture, make="Apple", model="iPhone 6"), features=features)


def test_mtime_is_used_only_when_asked():
    mtime_ns = 1_718_202_901_250_000_000
    record = _record(Path("/photos/IMG_0001.JPG"), None, mtime_ns)
    assert shot_from_record(record).timestamp is None
    fallback = shot_from_record(record, time_fallback="mtime")
    assert fallback.timestamp == pytest.approx(mtime_ns / 1e9)
    assert fallback.time_source == "File:mtime"
    # A tag time always wins over the file time.
    tagged = shot_from_record(_record(Path("/p/a.jpg"), at(BASE), mtime_ns), time_fallback="mtime")
    assert tagged.local_time == BASE and tagged.sharpness == 55.0 and tagged.relpath == "a.jpg"
    with pytest.raises(ConfigError):
        shot_from_record(record, time_fallback="ctime")


@pytest.mark.parametrize(("text", "seconds"), [("2s", 2.0), ("500ms", 0.5), ("1.5", 1.5), (" 0.75 s", 0.75), ("5", 5.0)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "2 minutes", "-1s", "1,5", "s"])
def test_parse_duration_rejects_nonsense(text):
    with pytest.raises(ConfigError):
        parse_duration(text)


def test_report_times_carry_the_recorded_offset_and_the_clock_offset():
    shots = [shot(f"IMG_{i + 1:04d}.JPG", at(BASE + dt.timedelta(seconds=i), 120)) for i in range(2)]
    (entry,) = burst_report(cluster_bursts(shots, clock_offsets={"R5": -1.0}), ["/photos"], 2.0)["bursts"]
    assert (entry["start"], entry["end"]) == ("2024-06-12T14:35:00+02:00", "2024-06-12T14:35:01+02:00")
    assert entry["members"][0]["capture_time"] == "2024-06-12T14:35:01+02:00"  # as recorded
    assert entry["id"] == "20240612-143500-R5-0001"


def test_raw_jpeg_pair_is_one_shot_led_by_the_raw():
    raw, jpeg = Path("/p/IMG_0002.CR3"), Path("/p/IMG_0002.JPG")
    meta = Metadata(capture_time=at(BASE), make="Canon", model="Canon EOS R5", serial="031")
    features = Features("d", 1, 2, (1,) * 8, 10, 10, 321.0, 0.5, 0.0, 0.0, "full")
    records = [
        ImageRecord(ImageFile(raw, Path("/p"), "raw", 1, 0, companions=(jpeg,)), meta, None, "no preview"),
        ImageRecord(ImageFile(jpeg, Path("/p"), "jpeg", 1, 0, companions=(raw,)), meta, features),
        _record(Path("/p/IMG_0001.JPG"), at(BASE), 0),
    ]
    shots = shots_from_records(records)
    assert [s.path for s in shots] == ["/p/IMG_0002.CR3", "/p/IMG_0001.JPG"]
    assert shots[0].companions == ("/p/IMG_0002.JPG",) and shots[0].sharpness == 321.0


def test_a_frame_with_every_judged_face_open_beats_a_sharper_blink():
    blink = shot("IMG_0001.JPG", at(BASE), sharpness=900.0, closed_faces=1, face_variance=300.0)
    open_ = shot("IMG_0002.JPG", at(BASE), sharpness=700.0, closed_faces=0, face_variance=250.0)
    best, reason = choose_best([blink, open_])
    assert best == 1
    assert reason.startswith("eyes open on every judged face (other frames: closed on up to 1)")


def test_among_open_eyed_frames_the_sharper_face_decides_before_the_frame():
    soft_face = shot("IMG_0001.JPG", at(BASE), sharpness=900.0, closed_faces=0, face_variance=120.0)
    sharp_face = shot("IMG_0002.JPG", at(BASE), sharpness=700.0, closed_faces=0, face_variance=300.0)
    assert choose_best([soft_face, sharp_face]) == (1, "sharpest face (Laplacian var 300 vs next 120)")


def test_faces_alike_in_every_frame_leave_the_choice_to_the_frame():
    a = shot("IMG_0001.JPG", at(BASE), sharpness=640.0, closed_faces=0, face_variance=200.0)
    b = shot("IMG_0002.JPG", at(BASE), sharpness=812.0, closed_faces=0, face_variance=205.0)
    assert choose_best([a, b]) == (1, "sharpest (Laplacian var 812 vs next 640)")
    c = shot("IMG_0003.JPG", at(BASE), sharpness=640.0)  # no face judged
    assert choose_best([c, b])[0] == 1
