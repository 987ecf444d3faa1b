"""Replace a file so that a crash leaves either the old or the new bytes, never half.

Temp file in the same folder (same filesystem, so the rename is atomic), fsync
the data, os.replace, fsync the folder so the rename itself survives a power
cut. The old file's permission bits are kept.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from xmpcull.errors import SidecarError
from xmpcull.fsutil import replace_atomically

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once at import: os.umask can only be read by setting it


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; on any failure the old file is untouched."""
    folder = path.parent
    mode = _mode_for(path)
    if path.exists() and _read_only(path):
        raise SidecarError("sidecar is read-only", [path])
    if _read_only(folder):
        raise SidecarError("folder is read-only, cannot create a file in the folder", [folder])
    try:
        replace_atomically(path, data, mode)
    except OSError as exc:
        raise SidecarError(f"cannot write sidecar ({exc.strerror or exc})", [path]) from exc


def _read_only(path: Path) -> bool:
    # The mode bits count even for root: a user who made a file read-only means "hands off",
    # and a rename would otherwise replace it without asking.
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not os.access(path, os.W_OK) or not mode & 0o222


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_UMASK
