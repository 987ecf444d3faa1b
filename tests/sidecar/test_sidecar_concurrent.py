"""Another application saving a sidecar while xmpcull merges it: its edit is never lost.

Lightroom, darktable, digiKam and exiftool save sidecars at any moment. The
writer here is real exiftool (``-overwrite_original``: temp file, then rename),
started at the worst moments of xmpcull's write: after the read, and after the
last check before the swap.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.sidecar.sidecar_helpers import clock, place_sidecar, tree
from xmpcull import fsutil
from xmpcull.errors import SidecarError
from xmpcull.sidecar import DecisionFields, DupeFields, SidecarUpdate, engine, read_sidecar, write_sidecar
from xmpcull.sidecar.packet import NS_DC

pytestmark = pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")

UPDATE = SidecarUpdate(
    dupes=DupeFields("d-3fa9c2e1", "near", "duplicate", 4, "lower sharpness"),
    decision=DecisionFields("duplicate", (), rating=1, label="Red"),
)


def add_keyword(sidecar: Path, keyword: str) -> None:
    completed = subprocess.run(
        ["exiftool", "-q", "-overwrite_original", f"-XMP-dc:Subject+={keyword}", str(sidecar)],
        capture_output=True, text=True, check=True,
    )
    assert completed.returncode == 0


def keywords(sidecar: Path) -> set[str]:
    return {n[2] for n in tree(sidecar) if n[0] == NS_DC and n[1] == "dc:subject[*]"}


def _save_during(monkeypatch: pytest.MonkeyPatch, target: object, name: str, sidecar: Path, times: int) -> list[str]:
    """Make exiftool save ``sidecar`` each time ``target.name`` is called (up to ``times``)."""
    original = getattr(target, name)
    saved: list[str] = []

    def with_a_save(*args: object, **kwargs: object) -> object:
        out = original(*args, **kwargs)
        if len(saved) < times:
            keyword = f"edit-{len(saved)}"
            add_keyword(sidecar, keyword)
            saved.append(keyword)
        return out

    monkeypatch.setattr(target, name, with_a_save)
    return saved


def test_a_save_between_read_and_write_is_merged_not_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image, sidecar = place_sidecar(tmp_path, "lightroom/IMG_5910.xmp")
    # The save lands after xmpcull serialised its merge, i.e. while it writes the temp file.
    saved = _save_during(monkeypatch, engine.packet, "serialize", sidecar, times=1)
    result = write_sidecar(image, UPDATE, clock=clock)
    assert result.changed and saved == ["edit-0"]
    assert "edit-0" in keywords(sidecar)
    state = read_sidecar(image)
    assert state.dupes is not None and state.dupes.group == "d-3fa9c2e1"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([image.name, sidecar.name])  # no temp left


def _save_after_reads(monkeypatch: pytest.MonkeyPatch, sidecar: Path, calls: set[int]) -> list[str]:
    """exiftool saves ``sidecar`` right after the given calls (1-based) of the swap's own reads."""
    original = fsutil.read_if_present
    count, saved = [0], []

    def read_then_save(path: Path) -> bytes | None:
        out = original(path)
        count[0] += 1
        if count[0] in calls:
            keyword = f"edit-{len(saved)}"
            add_keyword(sidecar, keyword)
            saved.append(keyword)
        return out

    monkeypatch.setattr(fsutil, "read_if_present", read_then_save)
    return saved


def test_a_save_after_the_last_check_is_swapped_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A check right before the rename is not enough: a save just after it is caught by the exchange."""
    image, sidecar = place_sidecar(tmp_path, "lightroom/IMG_5910.xmp")
    saved = _save_after_reads(monkeypatch, sidecar, {1})  # after the last check, before the exchange
    result = write_sidecar(image, UPDATE, clock=clock)
    assert result.changed and saved == ["edit-0"] and not result.warnings
    assert "edit-0" in keywords(sidecar)
    assert read_sidecar(image).decision is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([image.name, sidecar.name])


def test_two_saves_within_the_swap_keep_both_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second save was made over ours, so it may lack the first's edit: the first is kept beside it."""
    image, sidecar = place_sidecar(tmp_path, "lightroom/IMG_5910.xmp")
    saved = _save_after_reads(monkeypatch, sidecar, {1, 2})
    result = write_sidecar(image, UPDATE, clock=clock)
    assert saved == ["edit-0", "edit-1"]
    kept = [p for p in tmp_path.iterdir() if ".xmpcull-conflict-" in p.name]
    assert len(kept) == 1 and "edit-0" in keywords(kept[0])
    assert "edit-1" in keywords(sidecar)  # the latest save stays in place, merged with ours
    assert read_sidecar(image).dupes is not None
    assert any(kept[0].name in w for w in result.warnings)


def test_a_sidecar_created_meanwhile_is_not_overwritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = tmp_path / "IMG_0001.CR2"
    image.write_bytes(b"")
    sidecar = tmp_path / "IMG_0001.xmp"
    original = fsutil._durable_temp

    def create_meanwhile(path: Path, data: bytes, mode: int) -> Path:
        out = original(path, data, mode)
        if not sidecar.exists():  # exiftool creates a new XMP file when the target does not exist
            subprocess.run(["exiftool", "-q", "-XMP-dc:Subject=theirs", str(sidecar)], check=True)
        return out

    monkeypatch.setattr(fsutil, "_durable_temp", create_meanwhile)
    write_sidecar(image, UPDATE, clock=clock, embedded_xmp=None)
    assert "theirs" in keywords(sidecar)
    assert read_sidecar(image).dupes is not None


def test_a_sidecar_saved_on_every_attempt_is_skipped_with_its_content_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image, sidecar = place_sidecar(tmp_path, "lightroom/IMG_5910.xmp")
    saved = _save_during(monkeypatch, engine.packet, "serialize", sidecar, times=100)
    with pytest.raises(SidecarError, match="another application saved it during each of"):
        write_sidecar(image, UPDATE, clock=clock)
    assert len(saved) == engine.WRITE_ATTEMPTS
    assert set(saved) <= keywords(sidecar)
    assert read_sidecar(image).dupes is None  # nothing of ours replaced the other program's save
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([image.name, sidecar.name])


def test_stress_real_writers_against_real_runs_lose_no_edit(tmp_path: Path) -> None:
    """bench/concurrency_bench.py in small: 2 exiftool writers keep saving while 2 `xmpcull run`s rewrite."""
    from bench.concurrency_bench import stress

    result = stress(tmp_path, images=6, writers=2, runs=2)
    assert result.edits_made > 50
    assert result.lost == []
    assert result.edits_kept + result.kept_aside == result.edits_made
    assert result.sidecars_with_our_fields == 6  # a run without writers leaves every sidecar complete


def test_only_our_own_stale_temp_files_are_removed(tmp_path: Path) -> None:
    names = [".xmpcull-ab_12xyz.tmp", ".xmpcull-ab_12xyz.swap", ".xmpcull-tmp-m1", ".xmpcull-short.tmp",
             ".xmpcull-ABCDEFGH.tmp", "x.xmpcull-abcdefgh.tmp"]
    assert [n for n in names if fsutil.is_own_temp(n)] == names[:2]
    old = [tmp_path / names[0], tmp_path / names[1]]
    for path in old:
        path.write_bytes(b"left by a killed run")
    started = time.time_ns()
    time.sleep(0.05)  # file times come from a coarse clock, a few ms behind time.time_ns()
    fresh = tmp_path / ".xmpcull-fresh123.tmp"  # being written by another run right now
    fresh.write_bytes(b"live")
    removed, kept = fsutil.remove_stale_temps([*old, fresh], started)
    assert removed == [old[0]] and kept == [old[1]]
    assert not old[0].exists() and old[1].exists() and fresh.exists()
