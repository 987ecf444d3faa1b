"""``TaskRunner`` on a Dask distributed cluster (see xmpcull/parallel.py for the interface).

Results are gathered one by one as they finish and released at once, so the
client holds only the tasks in flight, and a result already delivered is safe
in the caller's cache whatever happens to the worker afterwards. A worker that
dies takes only its unfinished tasks with it: the scheduler runs them again on
another worker (up to ``distributed.scheduler.allowed-failures`` times; a task
that keeps killing workers, e.g. a file that crashes the decoder, then comes
back through ``lost``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from distributed import Client, as_completed
from distributed.client import Future

from xmpcull import __version__
from xmpcull.analyse.cache import FEATURE_VERSION
from xmpcull.cluster import ClusterError, worker_facts
from xmpcull.parallel import IN_FLIGHT_PER_WORKER

T = TypeVar("T")
R = TypeVar("R")

RETRIES = 2  # a task that raised (it should not: analysis returns failures) is tried again elsewhere


class DaskRunner:
    def __init__(self, address: str, *, connect_timeout: float = 20.0) -> None:
        self.address = address
        try:
            self._client = Client(address, timeout=connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address} ({exc})") from exc
        try:
            self._check_workers()
        except BaseException:
            self._client.close()
            raise

    def _check_workers(self) -> None:
        try:
            facts = self._client.run(worker_facts)
        except Exception as exc:  # a worker that cannot even import xmpcull
            raise ClusterError(
                f"a worker of {self.address} cannot run xmpcull ({type(exc).__name__}: {exc}); "
                f"install xmpcull {__version__} with the cluster extra on every worker"
            ) from exc
        for worker, fact in facts.items():
            if fact["xmpcull"] != __version__ or fact["feature_version"] != FEATURE_VERSION:
                raise ClusterError(
                    f"worker {worker} runs xmpcull {fact['xmpcull']} (features v{fact['feature_version']}), "
                    f"this machine {__version__} (v{FEATURE_VERSION}): install the same version everywhere"
                )
            if not fact["exiftool"]:
                raise ClusterError(f"worker {worker} has no exiftool on its PATH")

    def threads(self) -> int:
        return max(1, sum(self._client.nthreads().values()))

    def map_unordered(
        self, function: Callable[[T], R], tasks: Iterable[T], lost: Callable[[T, str], R]
    ) -> Iterator[tuple[T, R]]:
        pending = iter(tasks)
        running: dict[Future, T] = {}
        finished = as_completed(loop=self._client.loop)

        def submit(task: T) -> None:
            future = self._client.submit(function, task, pure=False, retries=RETRIES)
            running[future] = task
            finished.add(future)

        # Workers may join later; a few tasks per thread now keeps every one busy.
        for task in itertools.islice(pending, max(2, self.threads()) * IN_FLIGHT_PER_WORKER):
            submit(task)
        for future in finished:
            task = running.pop(future)
            try:
                result = future.result()
            except Exception as exc:  # KilledWorker, or a task that raised on every try
                result = lost(task, f"{type(exc).__name__}: {exc}")
            future.release()
            following = next(pending, None)
            if following is not None:
                submit(following)
            yield task, result

    def close(self) -> None:
        self._client.close()
