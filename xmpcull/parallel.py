"""Run work over a process pool with a bounded number of tasks in flight.

``Executor.map`` submits every task at once, which on a tree of 100,000 files
holds all their arguments and futures in memory. ``bounded_map`` keeps a few
tasks per worker queued and yields each result with its task as it completes,
so memory stays flat however large the tree.
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TypeVar

import cv2

T = TypeVar("T")
R = TypeVar("R")

IN_FLIGHT_PER_WORKER = 4


def fork_pool(workers: int, initializer: Callable[[], None] | None = None) -> ProcessPoolExecutor:
    # fork: workers start at once and share the parent's imported modules (numpy, OpenCV).
    # OpenCV's thread pool does not survive fork: once the parent has run a threaded
    # OpenCV call (the duplicate stage's pixel check does), a forked worker's first
    # OpenCV call waits forever on a lock of a thread that is not there. One thread in
    # the parent tears that pool down; workers run one image per core anyway.
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
