"""Analysis on a Dask cluster: settings, path mapping, and the way to connect.

Only the per-image analysis (metadata, decode, features, the crop search run on
the decoded picture) goes to the workers: that is where the time goes. Grouping,
decisions, sidecar writes and the report stay on the client, because they need
every record at once (grouping), the user's current sidecars (decisions), and
one writer per file (sidecars are merged atomically against other apps; two
hosts writing over a network share would weaken that guarantee for no gain: a
sidecar write costs a few milliseconds, a decode tens to hundreds).

This module imports nothing from ``distributed``: a run without a cluster never
loads it. See docs/scaling.md for setting up workers and shared storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from xmpcull.errors import ConfigError, XmpcullError
from xmpcull.models import ImageFile


class ClusterError(XmpcullError):
    """The cluster cannot be used at all (unreachable, workers without xmpcull or exiftool)."""


@dataclass(frozen=True)
class PathMap:
    """How a path on this machine is spelled on the workers ("/Volumes/photos" -> "/mnt/photos").

    Pairs are (client prefix, worker prefix); the longest matching client prefix
    wins and only whole path components match ("/photos" never maps "/photos2").
    """

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, entries: Sequence[str], source: str = "[cluster] path_map") -> PathMap:
        pairs = []
        for entry in entries:
            # Taken as written: a folder name may end in a space, so none is stripped.
            client, sep, worker = entry.partition("=")
            if not sep or not client.startswith("/") or not worker.startswith("/"):
                raise ConfigError(
                    f"path_map entries are CLIENT_PREFIX=WORKER_PREFIX, two absolute paths, no spaces around '=', got {entry!r}",
                    [source],
                )
            pairs.append((_trim(client), _trim(worker)))
        return cls(tuple(sorted(pairs, key=lambda p: len(p[0]), reverse=True)))

    def to_worker(self, path: Path) -> Path:
        text = str(path)
        for client, worker in self.pairs:
            if text == client or text.startswith(client + "/") or client == "/":
                rest = text[len(client) :] if client != "/" else text
                return Path(worker + rest) if worker != "/" else Path(rest or "/")
        return path

    def image_to_worker(self, image: ImageFile) -> ImageFile:
        if not self.pairs:
            return image
        sidecars = tuple(self.to_worker(s) for s in image.sidecars) if image.sidecars is not None else None
        return replace(
            image,
            path=self.to_worker(image.path),
            root=self.to_worker(image.root),
            companions=tuple(self.to_worker(c) for c in image.companions),
            sidecars=sidecars,
        )


def _trim(prefix: str) -> str:
    return prefix.rstrip("/") or "/"


@dataclass(frozen=True)
class ClusterSettings:
    """``[cluster]`` in the config, or ``--cluster ADDRESS``."""

    address: str
    path_map: PathMap = PathMap()
    connect_timeout: float = 20.0  # seconds to reach the scheduler


def open_runner(settings: ClusterSettings):  # -> xmpcull.cluster.runner.DaskRunner
    """Connect to the cluster (imports ``distributed`` only now)."""
    try:
        from xmpcull.cluster.runner import DaskRunner
    except ImportError as exc:
        raise ClusterError(f"--cluster needs Dask's distributed package: pip install 'xmpcull[cluster]' ({exc})") from exc
    return DaskRunner(settings.address, connect_timeout=settings.connect_timeout)


def worker_facts() -> dict[str, object]:
    """Run on each worker before any file is sent: what it would analyse with."""
    from xmpcull import __version__
    from xmpcull.analyse.cache import FEATURE_VERSION
    from xmpcull.scan.exiftool import exiftool_executable

    try:
        exiftool: str | None = exiftool_executable()
    except XmpcullError:
        exiftool = None
    return {"xmpcull": __version__, "feature_version": FEATURE_VERSION, "exiftool": exiftool}
