"""Analysis on real Dask clusters on 127.0.0.1 gives what this machine's pool gives.

Two kinds of cluster: distributed.LocalCluster (worker processes under nannies) and
a scheduler plus two workers started as separate programs (`dask scheduler`,
`dask worker`). Each run is compared with the local run: the same records, the
same failures, the same sidecar bytes, also when a worker is killed mid-run.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster.conftest import ProcessCluster, build_tree, distributed
from tests.conftest import FIXTURES
from xmpcull.analyse.cache import AnalysisCache
from xmpcull.analyse.pipeline import AnalysisResult, analyse_roots
from xmpcull.cluster import ClusterError, ClusterSettings, PathMap

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tree(tmp_path_factory.mktemp("cluster") / "lib", copies=3)


@pytest.fixture(scope="module")
def local_result(big_tree: Path) -> AnalysisResult:
    return analyse_roots([big_tree], jobs=2)


def assert_same(result: AnalysisResult, local: AnalysisResult) -> None:
    assert len(result.records) == len(local.records) > 60
    assert result.records == local.records
    assert sorted(result.failures, key=str) == sorted(local.failures, key=str)
    assert {"broken.jpg", "empty.jpg"} <= {Path(f.path).name for f in local.failures}


class KillABusyWorker:
    """Progress that, when the first results arrive, SIGKILLs a worker that is busy with a file."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.killed: str | None = None

    def start(self, total: int, description: str) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        if self.killed is not None or count == 0:
            return
        with distributed.Client(self.address, timeout=30) as client:
            pids = client.run(os.getpid)
            busy = [worker for worker, keys in client.processing().items() if keys]
            assert busy, "no worker was busy: the tree is too small to kill one mid-run"
            self.killed = busy[0]
            os.kill(pids[self.killed], signal.SIGKILL)

    def finish(self) -> None:
        pass


def test_local_cluster_gives_the_local_records_and_streams_them_into_the_cache(
    local_cluster, big_tree: Path, local_result: AnalysisResult, tmp_path: Path
) -> None:
    cache = tmp_path / "cache.sqlite"
    result = analyse_roots([big_tree], cache_path=cache, cluster=ClusterSettings(local_cluster.scheduler_address))
    assert_same(result, local_result)
    with AnalysisCache(cache) as stored:
        entries = stored.lookup_many([(r.file.path, r.file.size, r.file.mtime_ns) for r in result.records])
    assert all(e is not None for e in entries)
    # A file that failed on a worker is a per-file failure, cached like a local one.
    failed = {str(r.file.path): r.error for r in result.records if r.error}
    assert failed and all(e.error == failed.get(str(r.file.path)) for e, r in zip(entries, result.records) if e)
    again = analyse_roots([big_tree], cache_path=cache, cluster=ClusterSettings(local_cluster.scheduler_address))
    assert again.cache_hits == len(result.records) and again.records == result.records


def test_a_worker_killed_mid_run_loses_nothing(local_cluster, big_tree: Path, local_result: AnalysisResult) -> None:
    killer = KillABusyWorker(local_cluster.scheduler_address)
    result = analyse_roots([big_tree], cluster=ClusterSettings(local_cluster.scheduler_address), progress=killer)
    assert killer.killed is not None
    assert_same(result, local_result)


def _xmpcull(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xmpcull.cli.main", *args], capture_output=True, text=True, timeout=600
    )


def _sidecars(root: Path) -> dict[str, bytes]:
    """Every sidecar's bytes, the write's own clock (xmpcull:AnalysisDate) blanked: two runs differ there."""
    return {
        p.relative_to(root).as_posix(): re.sub(rb'xmpcull:AnalysisDate="[^"]*"', b'xmpcull:AnalysisDate=""', p.read_bytes())
        for p in sorted(root.rglob("*.xmp"))
        if ".xmpcull" not in p.parts
    }


def _run_both_ways(tmp_path: Path, address: str) -> None:
    """`xmpcull run` here and with --cluster on two copies of one tree: the same sidecar bytes."""
    here = build_tree(tmp_path / "here")
    there = tmp_path / "there"
    shutil.copytree(here, there)
    before = _sidecars(here)
    local = _xmpcull("run", str(here), "--cache", str(tmp_path / "here.sqlite"), "--jobs", "2", "--json")
    remote = _xmpcull("run", str(there), "--cache", str(tmp_path / "there.sqlite"), "--cluster", address, "--json")
    assert local.returncode == remote.returncode == 1, (local.stderr, remote.stderr)  # 1: the broken files
    written = _sidecars(here)
    assert len(written) > len(before)
    assert _sidecars(there) == written


def test_run_on_a_local_cluster_writes_the_same_sidecars(local_cluster, tmp_path: Path) -> None:
    _run_both_ways(tmp_path, local_cluster.scheduler_address)


def test_separate_dask_processes_give_the_local_sidecars_and_records_also_with_a_worker_killed(
    process_cluster: ProcessCluster, big_tree: Path, local_result: AnalysisResult, tmp_path: Path
) -> None:
    _run_both_ways(tmp_path, process_cluster.address)
    killer = KillABusyWorker(process_cluster.address)
    result = analyse_roots([big_tree], cluster=ClusterSettings(process_cluster.address), progress=killer)
    assert killer.killed is not None
    assert sum(w.poll() is not None for w in process_cluster.workers) == 1  # no nanny: it stayed dead
    assert_same(result, local_result)


def test_workers_read_the_files_under_the_mapped_path(local_cluster, tmp_path: Path) -> None:
    real = build_tree(tmp_path / "photos")
    (tmp_path / "mnt").mkdir()
    (tmp_path / "mnt" / "share").symlink_to(real)
    local = analyse_roots([real], jobs=1)
    mapped = PathMap.parse([f"{real}={tmp_path / 'mnt' / 'share'}"])
    result = analyse_roots([real], cluster=ClusterSettings(local_cluster.scheduler_address, mapped))
    assert result.records == local.records  # records keep this machine's paths
    # Mapped to where nothing is mounted: every file fails on the workers, one by one, and the run ends.
    nowhere = PathMap.parse([f"{real}={tmp_path / 'not-mounted'}"])
    missing = analyse_roots([real], cluster=ClusterSettings(local_cluster.scheduler_address, nowhere))
    assert len(missing.records) == len(local.records)
    assert not missing.ok_records and len(missing.failures) >= len(local.records)


def test_an_unreachable_scheduler_is_one_clear_error(tree: Path) -> None:
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        analyse_roots([tree], cluster=ClusterSettings("tcp://127.0.0.1:9", connect_timeout=2))


def test_without_a_cluster_distributed_is_never_imported(photo_tree: Path, tmp_path: Path) -> None:
    code = (
        "import sys; from xmpcull.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('distributed' in sys.modules, 'dask' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "run", str(photo_tree), "--cache", str(tmp_path / "c.sqlite"), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.stdout.strip().endswith("False False"), proc.stderr


def test_cluster_results_go_through_the_cache_with_undecodable_names_and_a_damaged_file(
    local_cluster, tmp_path: Path
) -> None:
    """The stream from the workers is stored by the same cache: names that are not UTF-8 keep their
    bytes, and a damaged cache file is set aside and rebuilt before the results arrive."""
    root = tmp_path / "shoot"
    root.mkdir()
    bad_name = os.fsdecode(b"bad\xff\xfe name.jpg")
    for name in ("dunes.jpg", bad_name):
        shutil.copy(FIXTURES / "photos" / "mongolels.jpg", root / name)
    shutil.copy(FIXTURES / "photos" / "T-45A_Goshawk_03_1600px.jpg", root / "jet.jpg")
    cache = tmp_path / "cache.sqlite"
    cache.write_bytes(b"this is not a database\n" * 500)
    local = analyse_roots([root], jobs=1)
    settings = ClusterSettings(local_cluster.scheduler_address)
    result = analyse_roots([root], cache_path=cache, cluster=settings)
    assert result.records == local.records and not result.failures
    assert len(list(tmp_path.glob("cache.sqlite.corrupt-*"))) == 1
    again = analyse_roots([root], cache_path=cache, cluster=settings)
    assert again.cache_hits == 3 and again.records == local.records
    assert os.fsencode(root / bad_name) in {os.fsencode(r.file.path) for r in again.records}


def test_workers_analyse_with_one_opencv_thread_as_the_local_pool_does(local_cluster, tree: Path) -> None:
    """OpenCV's threaded reductions round differently with another thread count: a crop
    confidence came out 1e-6 apart on 3 of 2,369 sample images until workers used one."""
    with distributed.Client(local_cluster.scheduler_address, timeout=30) as client:
        client.run(lambda: __import__("cv2").setNumThreads(4))
        analyse_roots([tree], cluster=ClusterSettings(local_cluster.scheduler_address))
        assert set(client.run(lambda: __import__("cv2").getNumThreads()).values()) == {1}
