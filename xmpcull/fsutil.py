"""Small filesystem helpers shared by every stage that writes: digests, durable renames.

Kept free of heavy imports (no numpy/OpenCV) because the move and report code
use it too and must start fast.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

CHUNK = 1 << 20
TEMP_PREFIX = ".xmpcull-"
TEMP_SUFFIX = ".tmp"


def file_digest(path: Path) -> str:
    """blake2b-128 hex of the file bytes: exact duplicates, and the check before a move."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_dir(folder: Path) -> None:
    """Make a rename/unlink/create inside ``folder`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_atomically(path: Path, data: bytes, mode: int) -> None:
    """Temp file beside ``path``, fsync, chmod, rename over it, fsync the folder.

    A crash leaves the old bytes or the new ones, never half. Raises OSError; on
    failure the temp file is gone and ``path`` is untouched.
    """
    fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    fsync_dir(path.parent)
