"""Where parallel work runs: this machine's process pool, or a Dask cluster.

``Executor.map`` submits every task at once, which on a tree of 100,000 files
holds all their arguments and futures in memory. ``bounded_map`` keeps a few
tasks per worker queued and yields each result with its task as it completes,
so memory stays flat however large the tree.

``TaskRunner`` is the one interface the analysis stage drives: ``LocalRunner``
here (forked processes) or ``xmpcull.cluster.runner.DaskRunner`` (a cluster's
workers). Both yield (task, result) pairs in completion order, so the caller
stores each result as it arrives.
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

IN_FLIGHT_PER_WORKER = 4


def fork_pool(workers: int, initializer: Callable[[], None] | None = None) -> ProcessPoolExecutor:
    # fork: workers start at once and share the parent's imported modules (numpy, OpenCV).
    # OpenCV's thread pool does not survive fork: once the parent has run a threaded
    # OpenCV call (the duplicate stage's pixel check does), a forked worker's first
    # OpenCV call waits forever on a lock of a thread that is not there. One thread in
    # the parent tears that pool down; workers run one image per core anyway.
    import cv2  # here, not at the top: a command that needs no pool never loads OpenCV

    cv2.setNumThreads(1)
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=initializer)


def bounded_map(
    pool: ProcessPoolExecutor, function: Callable[[T], R], tasks: Iterable[T], workers: int
) -> Iterator[tuple[T, R]]:
    """(task, result) pairs in completion order; at most ``workers * IN_FLIGHT_PER_WORKER`` queued."""
    pending = iter(tasks)
    running: dict[Future[R], T] = {}
    for task in itertools.islice(pending, workers * IN_FLIGHT_PER_WORKER):
        running[pool.submit(function, task)] = task
    while running:
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            task = running.pop(future)
            following = next(pending, None)
            if following is not None:
                running[pool.submit(function, following)] = following
            yield task, future.result()


class TaskRunner(Protocol):
    """Runs ``function`` over ``tasks`` somewhere, yielding (task, result) as each finishes.

    ``function`` must never raise for a bad input (it returns the failure as data).
    A task the runner itself could not get done (its workers kept dying) comes back
    as ``lost(task, reason)``, so one bad file never ends the run.
    """

    def map_unordered(
        self, function: Callable[[T], R], tasks: Iterable[T], lost: Callable[[T, str], R]
    ) -> Iterator[tuple[T, R]]: ...

    def close(self) -> None: ...


class LocalRunner:
    """This machine's cores: ``workers`` forked processes, or the calling process when 1."""

    def __init__(self, workers: int, initializer: Callable[[], None] | None = None) -> None:
        self.workers = workers
        self._pool = fork_pool(workers, initializer) if workers > 1 else None

    def map_unordered(
        self, function: Callable[[T], R], tasks: Iterable[T], lost: Callable[[T, str], R]
    ) -> Iterator[tuple[T, R]]:
        if self._pool is None:
            return ((task, function(task)) for task in tasks)
        return bounded_map(self._pool, function, tasks, self.workers)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
