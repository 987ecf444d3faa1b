import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from xmpcull.analyse import worker
from xmpcull.analyse.cache import AnalysisCache
from xmpcull.analyse.pipeline import analyse_roots


def _by_name(result):
    return {r.file.path.name: r for r in result.records}


def test_bad_files_are_reported_and_the_run_goes_on(photo_tree: Path) -> None:
    (photo_tree / "zero.jpg").write_bytes(b"")
    (photo_tree / "notes.jpg").write_text("not an image")
    data = (FIXTURES / "photos/mongolels.jpg").read_bytes()
    (photo_tree / "cut.jpg").write_bytes(data[:20000])
    result = analyse_roots([photo_tree], jobs=2)
    assert len(result.ok_records) == 4
    failed = {Path(f.path).name: f for f in result.failures}
    assert set(failed) == {"zero.jpg", "notes.jpg", "cut.jpg"}
    assert failed["zero.jpg"].stage == "metadata"
    assert failed["notes.jpg"].stage == "decode"


def test_parallel_and_serial_runs_agree(photo_tree: Path) -> None:
    serial = _by_name(analyse_roots([photo_tree], jobs=1))
    parallel = _by_name(analyse_roots([photo_tree], jobs=2))
    assert serial.keys() == parallel.keys()
    for name in serial:
        assert serial[name].features == parallel[name].features
        assert serial[name].metadata == parallel[name].metadata


def test_rerun_is_served_from_cache_and_invalidated_by_changes(photo_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache.sqlite"
    first = analyse_roots([photo_tree], cache_path=cache, jobs=1)
    assert first.cache_hits == 0
    calls: list[Path] = []
    real_decode = worker.decode
    monkeypatch.setattr(worker, "decode", lambda job, **kw: calls.append(job.path) or real_decode(job, **kw))

    second = analyse_roots([photo_tree], cache_path=cache, jobs=1)
    assert second.cache_hits == 4 and calls == []
    assert _by_name(second)["jet.jpg"].features == _by_name(first)["jet.jpg"].features

    # A changed image is analysed again.
    jet = photo_tree / "day1/jet.jpg"
    shutil.copy(FIXTURES / "photos/hubble_deep_field.jpg", jet)
    third = analyse_roots([photo_tree], cache_path=cache, jobs=1)
    assert calls == [jet] and third.cache_hits == 3
    assert _by_name(third)["jet.jpg"].features != _by_name(first)["jet.jpg"].features

    # A renamed file keeps its features without a decode (found by content digest).
    calls.clear()
    os.rename(photo_tree / "day1/dunes.jpg", photo_tree / "day2/dunes-renamed.jpg")
    fourth = analyse_roots([photo_tree], cache_path=cache, jobs=1)
    assert calls == []
    assert _by_name(fourth)["dunes-renamed.jpg"].features == _by_name(first)["dunes.jpg"].features


def test_sidecar_edit_refreshes_metadata_but_not_features(photo_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache.sqlite"
    analyse_roots([photo_tree], cache_path=cache, jobs=1)
    calls: list[Path] = []
    monkeypatch.setattr(worker, "decode", lambda job, **kw: calls.append(job.path))
    sidecar = photo_tree / "day1/jet.xmp"
    subprocess.run(["exiftool", "-q", "-o", str(sidecar), "-XMP:Rating=4", "-XMP:Label=Green", str(photo_tree / "day1/jet.jpg")], check=True)
    result = _by_name(analyse_roots([photo_tree], cache_path=cache, jobs=1))
    assert result["jet.jpg"].metadata.rating == 4 and result["jet.jpg"].metadata.label == "Green"
    assert calls == []


def test_a_summary_only_rerun_counts_as_a_full_one_and_keeps_features(
    photo_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache.sqlite"
    (photo_tree / "notes.jpg").write_text("not an image")
    analyse_roots([photo_tree], cache_path=cache, jobs=1)
    sidecar = photo_tree / "day1/jet.xmp"  # a sidecar edited since: its metadata is read again
    subprocess.run(["exiftool", "-q", "-o", str(sidecar), "-XMP:Rating=4", str(photo_tree / "day1/jet.jpg")], check=True)
    twin = tmp_path / "twin.sqlite"  # the same cache, for a full run from the same state
    for suffix in ("", "-wal"):
        if Path(f"{cache}{suffix}").exists():
            shutil.copy(f"{cache}{suffix}", f"{twin}{suffix}")
    calls: list[Path] = []
    monkeypatch.setattr(worker, "decode", lambda job, **kw: calls.append(job.path))
    summary = analyse_roots([photo_tree], cache_path=cache, jobs=1, summary_only=True)
    assert calls == []  # the edited file's features came from the cache, not from a decode
    full = analyse_roots([photo_tree], cache_path=twin, jobs=1)
    assert (summary.analysed, summary.cache_hits, len(summary.records)) == (full.analysed, full.cache_hits, len(full.records)) == (4, 4, 5)
    assert [(f.path, f.stage, f.reason) for f in summary.failures] == [(f.path, f.stage, f.reason) for f in full.failures]
    assert summary.counts_by_format() == full.counts_by_format()
    assert _by_name(full)["jet.jpg"].metadata.rating == 4 and _by_name(full)["jet.jpg"].features is not None


def test_feature_version_bump_invalidates(photo_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache.sqlite"
    analyse_roots([photo_tree], cache_path=cache, jobs=1)
    monkeypatch.setattr("xmpcull.analyse.cache.FEATURE_VERSION", 999)
    assert analyse_roots([photo_tree], cache_path=cache, jobs=1).cache_hits == 0


def test_read_only_root_works_with_cache_elsewhere(photo_tree: Path, tmp_path: Path) -> None:
    os.chmod(photo_tree / "day1", 0o555)
    try:
        result = analyse_roots([photo_tree], cache_path=tmp_path / "c.sqlite", jobs=1)
    finally:
        os.chmod(photo_tree / "day1", 0o755)
    assert len(result.ok_records) == 4


def test_cache_round_trips_records(photo_tree: Path, tmp_path: Path) -> None:
    record = analyse_roots([photo_tree / "day2/portrait.jpg"], jobs=1).records[0]
    with AnalysisCache(tmp_path / "c.sqlite") as cache:
        cache.store([(record.file.path, record.file.size, record.file.mtime_ns, None, record.metadata, record.features, None, None)])
        entry = cache.lookup(record.file.path, record.file.size, record.file.mtime_ns)
        assert entry.metadata == record.metadata and entry.features == record.features
        assert cache.lookup(record.file.path, record.file.size + 1, record.file.mtime_ns) is None
