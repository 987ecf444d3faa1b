"""Replace a sidecar so that a crash leaves either the old or the new bytes, never half,
and so that another program's save made meanwhile is never replaced unseen.

Temp file in the same folder (same filesystem, so the rename is atomic), fsync
the data, exchange it with the old file only while that is still the version we
merged (xmpcull/fsutil.py: replace_if_unchanged), fsync the folder so the rename
itself survives a power cut. The old file's permission bits are kept.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from xmpcull.errors import SidecarError
from xmpcull.fsutil import Swap, replace_atomically, replace_if_unchanged

ANY = object()  # ``base`` for a file nobody else edits (e.g. a preview cache): replace whatever is there

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once at import: os.umask can only be read by setting it


def atomic_write(path: Path, data: bytes, base: bytes | None | object = ANY) -> tuple[bool, Path | None]:
    """Write ``data`` to ``path`` atomically while ``path`` still holds ``base`` (None: no file yet).

    Returns (written, kept): written is False when the file changed since it was
    read (the caller re-reads and merges again); kept names another program's
    version saved beside it in the rare double-save case. On any failure the
    old file is untouched.
    """
    folder = path.parent
    mode = _mode_for(path)
    if path.exists() and is_read_only(path):
        raise SidecarError("sidecar is read-only", [path])
    if is_read_only(folder):
        raise SidecarError("folder is read-only, cannot create a file in the folder", [folder])
    try:
        if base is ANY:
            replace_atomically(path, data, mode)
            return True, None
        assert base is None or isinstance(base, bytes)
        outcome, kept = replace_if_unchanged(path, data, mode, base)
    except OSError as exc:
        raise SidecarError(f"cannot write sidecar ({exc.strerror or exc})", [path]) from exc
    return outcome == Swap.WRITTEN, kept


def is_read_only(path: Path) -> bool:
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
