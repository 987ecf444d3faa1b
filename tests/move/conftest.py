"""Move tests: fsync is a no-op here (durability cannot be observed in-process, and real fsyncs
make the crash-at-every-step tests I/O bound); the subprocess kill -9 test keeps the real one."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def fast_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    def fsync(fd: int) -> None:
        os.fstat(fd)  # still fails on a bad descriptor, as the real call would

    monkeypatch.setattr(os, "fsync", fsync)
