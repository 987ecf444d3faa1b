"""Content keys: full digests only where sizes collide, head-tail keys elsewhere, and
a cache that never hands a changed file the features of what it replaced."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from tests.conftest import FIXTURES
from xmpcull.analyse import worker
from xmpcull.analyse.pipeline import analyse_roots
from xmpcull.cli.dupes import dupes
from xmpcull.fsutil import END_SPAN, HEAD_TAIL_PREFIX, content_key, file_digest, head_tail_key
from xmpcull.move import move_from_report, undo_moves

LARGE = FIXTURES / "photos/mongolels.jpg"  # larger than both ends together
SMALL = FIXTURES / "orientation/Portrait_6.jpg"


def _by_name(result):
    return {r.file.path.name: r for r in result.records}


def _spy_decodes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real_decode = worker.decode
    monkeypatch.setattr(worker, "decode", lambda job, **kw: calls.append(job.path) or real_decode(job, **kw))
    return calls


def _margined_scan(path: Path, middle: tuple[int, int, int]) -> None:
    """An uncompressed TIFF with white margins: two of them differ only in the middle."""
    image = Image.new("RGB", (600, 400), (255, 255, 255))
    image.paste(Image.new("RGB", (400, 120), middle), (100, 140))
    image.save(path, compression=None)


def test_keys_by_size_and_sharing() -> None:
    assert LARGE.stat().st_size > 2 * END_SPAN and SMALL.stat().st_size <= 2 * END_SPAN
    st = LARGE.stat()
    alone = content_key(LARGE, st.st_size, st.st_mtime_ns, size_shared=False)
    assert alone.startswith(HEAD_TAIL_PREFIX) and alone == head_tail_key(LARGE, st.st_size, st.st_mtime_ns)
    assert content_key(LARGE, st.st_size, st.st_mtime_ns, size_shared=True) == file_digest(LARGE)
    small = SMALL.stat()
    # A small file is read whole for either key, so it always gets its full digest.
    assert content_key(SMALL, small.st_size, small.st_mtime_ns, size_shared=False) == file_digest(SMALL)


def test_head_tail_key_sees_the_ends_and_the_mtime(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    data = bytearray(LARGE.read_bytes())
    path.write_bytes(data)
    st = path.stat()
    key = head_tail_key(path, st.st_size, st.st_mtime_ns)
    for offset in (10, len(data) - 10):
        edited = bytearray(data)
        edited[offset] ^= 0xFF
        path.write_bytes(edited)
        assert head_tail_key(path, st.st_size, st.st_mtime_ns) != key
    path.write_bytes(data)
    assert head_tail_key(path, st.st_size, st.st_mtime_ns) == key
    assert head_tail_key(path, st.st_size, st.st_mtime_ns + 1) != key


def test_only_files_whose_size_is_shared_are_hashed_whole(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    shutil.copy2(LARGE, root / "a.jpg")
    shutil.copy2(LARGE, root / "a copy.jpg")  # same size: both hashed whole, equal digests
    shutil.copy2(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "jet.jpg")
    shutil.copy2(SMALL, root / "small.jpg")
    records = _by_name(analyse_roots([root], jobs=1))
    assert records["a.jpg"].features.digest == records["a copy.jpg"].features.digest == file_digest(LARGE)
    assert records["jet.jpg"].features.digest.startswith(HEAD_TAIL_PREFIX)
    assert records["small.jpg"].features.digest == file_digest(SMALL)
    # Exact copies are found by their pixels, whatever key their bytes got.
    assert records["a.jpg"].features.pixel_digest == records["a copy.jpg"].features.pixel_digest


def test_a_moved_file_keeps_its_features_and_a_changed_one_never_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, cache = tmp_path / "lib", tmp_path / "cache.sqlite"
    (root / "sub").mkdir(parents=True)
    shutil.copy2(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "jet.jpg")
    first = _by_name(analyse_roots([root], cache_path=cache, jobs=1))
    assert first["jet.jpg"].features.digest.startswith(HEAD_TAIL_PREFIX)
    calls = _spy_decodes(monkeypatch)

    os.rename(root / "jet.jpg", root / "sub" / "jet-moved.jpg")  # found by size, ends and mtime: no decode
    moved = _by_name(analyse_roots([root], cache_path=cache, jobs=1))
    assert calls == [] and moved["jet-moved.jpg"].features == first["jet.jpg"].features

    # Moved again and edited in the middle, same size: analysed again (its mtime moved on).
    path = root / "sub" / "jet-moved.jpg"
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    renamed = root / "jet-edited.jpg"
    os.rename(path, renamed)
    renamed.write_bytes(data)
    os.utime(renamed, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    edited = _by_name(analyse_roots([root], cache_path=cache, jobs=1))
    assert calls == [renamed]
    assert edited["jet-edited.jpg"].features.digest != first["jet.jpg"].features.digest


def test_a_different_file_with_the_same_size_and_ends_is_analysed_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, cache = tmp_path / "lib", tmp_path / "cache.sqlite"
    root.mkdir()
    _margined_scan(root / "scan_1.tif", (200, 30, 30))
    first = _by_name(analyse_roots([root], cache_path=cache, jobs=1))
    old = root / "scan_1.tif"
    old_bytes, old_mtime = old.read_bytes(), old.stat().st_mtime_ns
    old.unlink()
    new = root / "scan_2.tif"
    _margined_scan(new, (30, 30, 200))
    os.utime(new, ns=(old_mtime + 5_000_000_000, old_mtime + 5_000_000_000))
    new_bytes = new.read_bytes()
    # The premise: the same size, head and tail, different middle.
    assert len(new_bytes) == len(old_bytes) and new_bytes != old_bytes
    assert new_bytes[:END_SPAN] == old_bytes[:END_SPAN] and new_bytes[-END_SPAN:] == old_bytes[-END_SPAN:]
    calls = _spy_decodes(monkeypatch)
    second = _by_name(analyse_roots([root], cache_path=cache, jobs=1))
    assert calls == [new]
    assert second["scan_2.tif"].features.pixel_digest != first["scan_1.tif"].features.pixel_digest


def test_move_checks_the_head_tail_key_the_report_recorded(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    with Image.open(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg") as im:
        shown = im.convert("RGB")
    shown.save(root / "jet.jpg", quality=95)
    shown.save(root / "jet_export.jpg", quality=85)  # a near copy of another size
    report_path = root / "groups.json"  # beside the photos, where move looks for its roots
    done = CliRunner().invoke(dupes, [str(root), "--no-cache", "--report", str(report_path)])
    assert done.exit_code == 0, done.output
    report = json.loads(report_path.read_text())
    members = {Path(m["path"]).name: m for g in report["groups"] for m in g["members"]}
    assert set(members) == {"jet.jpg", "jet_export.jpg"}
    duplicate = next(root / name for name, m in members.items() if m["role"] != "keeper")
    assert members[duplicate.name]["digest"].startswith(HEAD_TAIL_PREFIX)

    unchanged = move_from_report(report_path)  # the key matches: moved, then put back
    assert [o.status for o in unchanged.outcomes if o.source == str(duplicate)] == ["moved"]
    assert undo_moves(unchanged.journals[0]).failures == [] and duplicate.exists()

    st = duplicate.stat()
    data = bytearray(duplicate.read_bytes())
    data[-3] ^= 0xFF  # same size, same mtime: only the key can tell
    duplicate.write_bytes(data)
    os.utime(duplicate, ns=(st.st_atime_ns, st.st_mtime_ns))
    result = move_from_report(report_path)
    assert [o.reason for o in result.outcomes if o.source == str(duplicate)] == [
        "changed since the report (content digest differs)"]
    assert duplicate.exists()
