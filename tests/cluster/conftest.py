"""A photo tree, and real Dask clusters on 127.0.0.1 to analyse it on."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed (pip install -e '.[cluster]')")

# 24 files of real photos (JPEG, PNG, TIFF, HEIC, RAW+JPEG, eight orientations) plus
# a truncated JPEG that fails on whichever worker gets it: chunks of 16 give two tasks
# per copy, so a tree of three copies keeps both workers busy for a few seconds.
FOLDERS = ("camera", "photos", "orientation", "raw")


def build_tree(root: Path, copies: int = 1) -> Path:
    for n in range(copies):
        for folder in FOLDERS:
            shutil.copytree(FIXTURES / folder, root / f"{folder}{n}")
    broken = (FIXTURES / "photos" / "mongolels.jpg").read_bytes()
    (root / "broken.jpg").write_bytes(broken[: len(broken) // 3])
    (root / "empty.jpg").write_bytes(b"")
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return build_tree(tmp_path / "lib")


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[object]:
    """distributed.LocalCluster with two worker processes (nannies), one thread each."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    )
    try:
        yield cluster
    finally:
        cluster.close()


class ProcessCluster:
    """`dask scheduler` and `dask worker` started as separate programs, as on real machines."""

    def __init__(self, folder: Path, workers: int = 2) -> None:
        self.folder = folder
        self.scheduler_file = folder / "scheduler.json"
        dask = str(Path(sys.executable).with_name("dask"))
        common = ["--no-dashboard"]
        self.scheduler = self._start(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(self.scheduler_file), *common],
            "scheduler",
        )
        deadline = time.monotonic() + 60
        while not self.scheduler_file.exists():
            if time.monotonic() > deadline or self.scheduler.poll() is not None:
                self.close()
                raise RuntimeError(f"dask scheduler did not start: {self._log('scheduler')}")
            time.sleep(0.1)
        self.address = json.loads(self.scheduler_file.read_text())["address"]
        # --no-nanny: a killed worker stays dead, so its files must finish on the other one.
        self.workers = [
            self._start(
                [dask, "worker", self.address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", *common],
                f"worker{n}",
            )
            for n in range(workers)
        ]
        self.wait_for_workers(workers)

    def _start(self, argv: list[str], name: str) -> subprocess.Popen[bytes]:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def _log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-2000:]

    def wait_for_workers(self, count: int) -> None:
        with distributed.Client(self.address, timeout=30) as client:
            client.wait_for_workers(count, timeout=60)

    def close(self) -> None:
        # Each program leads its own process group (its exiftool children included):
        # end the groups this fixture started, nothing else. A graceful close takes
        # the workers tens of seconds; nothing of theirs needs keeping.
        for proc in [*getattr(self, "workers", []), self.scheduler]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def process_cluster(tmp_path: Path) -> Iterator[ProcessCluster]:
    folder = tmp_path / "dask"
    folder.mkdir()
    cluster = ProcessCluster(folder)
    try:
        yield cluster
    finally:
        cluster.close()
