"""A counting re-run (`xmpcull analyze` on a cached tree) of more files than one cache query
holds: every unchanged file is a hit, every changed one is analysed again, and the command
loads none of the analysis libraries when nothing needs analysing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from xmpcull.analyse import worker
from xmpcull.analyse.cache import _LOOKUP_BATCH, METADATA_VERSION, AnalysisCache
from xmpcull.analyse.pipeline import analyse_roots
from xmpcull.scan import scan_roots

COPIES = _LOOKUP_BATCH + 120  # the lookups cross a batch boundary


@pytest.fixture
def cached_tree(tmp_path: Path) -> tuple[Path, Path]:
    """COPIES byte copies (mtimes kept) of two real photos in three folders, and a cache
    holding for each copy the row its original's real analysis stored (as a cold run would)."""
    seed, root, cache = tmp_path / "seed", tmp_path / "lib", tmp_path / "cache.sqlite"
    seed.mkdir()
    shutil.copy2(FIXTURES / "photos/mongolels.jpg", seed / "dunes.jpg")
    shutil.copy2(FIXTURES / "orientation/Portrait_6.jpg", seed / "portrait.jpg")
    analysed = {r.file.path.name: r for r in analyse_roots([seed], cache_path=cache, jobs=1).records}
    rows = []
    for k in range(COPIES):
        name = ("dunes.jpg", "portrait.jpg")[k % 2]
        copy = root / f"d{k % 3}" / f"{k:04d}-{name}"
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(seed / name, copy)
        st = copy.stat()
        record = analysed[name]
        rows.append((copy, st.st_size, st.st_mtime_ns, None, record.metadata, record.features, None, None))
    with AnalysisCache(cache) as db:
        db.store(rows)
    return root, cache


def _decodes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real_decode = worker.decode
    monkeypatch.setattr(worker, "decode", lambda job, **kw: calls.append(job.path) or real_decode(job, **kw))
    return calls


def test_every_unchanged_file_is_a_hit_and_each_changed_one_is_analysed(
    cached_tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, cache = cached_tree
    calls = _decodes(monkeypatch)
    summary = analyse_roots([root], cache_path=cache, jobs=1, summary_only=True)
    assert (summary.cache_hits, summary.analysed, len(summary.records)) == (COPIES, COPIES, COPIES)
    assert calls == [] and summary.failures == []

    files = sorted(root.rglob("*.jpg"))
    resized = files[7]  # another size
    resized.write_bytes((FIXTURES / "photos/hubble_deep_field.jpg").read_bytes())
    touched = files[_LOOKUP_BATCH + 3]  # same bytes and size, a newer mtime: an edit in place
    st = touched.stat()
    os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    again = analyse_roots([root], cache_path=cache, jobs=1, summary_only=True)
    assert (again.cache_hits, again.analysed, len(again.records)) == (COPIES - 2, COPIES, COPIES)
    # Both are read again; the touched one's bytes are those of cached copies, so its
    # features come from them (by content digest), without a decode.
    assert calls == [resized]
    with AnalysisCache(cache) as db:
        for changed in (resized, touched):
            st = changed.stat()
            entry = db.lookup(changed, st.st_size, st.st_mtime_ns)
            assert entry is not None and entry.has_metadata and entry.features is not None

    calls.clear()
    assert analyse_roots([root], cache_path=cache, jobs=1, summary_only=True).cache_hits == COPIES
    assert calls == []


def test_metadata_of_another_version_is_read_again_on_a_counting_rerun(
    cached_tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, cache = cached_tree
    monkeypatch.setattr("xmpcull.analyse.cache.METADATA_VERSION", METADATA_VERSION + 1)
    calls = _decodes(monkeypatch)
    summary = analyse_roots([root], cache_path=cache, jobs=1, summary_only=True)
    assert summary.cache_hits == 0 and summary.analysed == COPIES
    assert calls == []  # the metadata is read again; the features come from the cache


def test_a_counting_rerun_loads_no_analysis_library(cached_tree: tuple[Path, Path]) -> None:
    root, cache = cached_tree
    heavy = ("cv2", "numpy", "PIL", "lxml", "libxmp", "faiss", "onnxruntime")
    script = (
        "import atexit, sys\n"
        f"atexit.register(lambda: print(sorted(m for m in {heavy!r} if m in sys.modules)))\n"
        "from xmpcull.cli.main import main\n"
        f"sys.argv = ['xmpcull', 'analyze', {str(root)!r}, '--cache', {str(cache)!r}, '--quiet']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert f"{COPIES} images" in done.stdout and f"{COPIES} from cache" in done.stdout


def test_the_scan_lists_each_file_under_the_path_it_was_found_at(cached_tree: tuple[Path, Path]) -> None:
    root, _ = cached_tree
    listed = scan_roots([root]).files
    assert [str(f.path) for f in listed] == sorted(str(p) for p in root.rglob("*.jpg"))
    assert all(f.path == Path(os.path.join(f.path.parent, f.path.name)) and f.path.is_file() for f in listed)
