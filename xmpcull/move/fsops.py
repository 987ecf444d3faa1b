"""Filesystem primitives the mover is built from: no-clobber rename, verified copy, digests, fsync.

Why a module of its own: each primitive has one safety property (never
overwrite, never trust an unverified copy, make a step durable before the next
one) that the journal's crash analysis relies on, and tests replace exactly
these functions to simulate EXDEV, ENOSPC or a missing ``renameat2``.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from xmpcull import fsutil
from xmpcull.fsutil import CHUNK, file_digest, fsync_dir  # noqa: F401 - part of this module's API

TEMP_PREFIX = ".xmpcull-tmp-"

StepHook = Callable[[str], None]


def _noreplace(src: bytes, dst: bytes) -> int:
    assert fsutil.raw_renameat2 is not None
    return fsutil.raw_renameat2(src, dst, fsutil.RENAME_NOREPLACE)


# Linux's renameat2(RENAME_NOREPLACE) is one atomic, non-clobbering rename: (src, dst) -> 0 or errno.
# Tests set this to None to exercise the portable fallback, or wrap it to simulate EXDEV.
renameat2: Callable[[bytes, bytes], int] | None = _noreplace if fsutil.raw_renameat2 is not None else None


def _reserve_then_rename(src: Path, dst: Path, hook: StepHook) -> None:
    """Portable no-clobber rename: claim the name with O_EXCL, then rename over our own empty claim.

    O_EXCL makes the claim atomic, so nobody else's file can be at ``dst`` when the
    rename replaces it. A crash between the two leaves an empty placeholder next to an
    intact source; recovery removes it (see docs/move.md).
    """
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    hook("reserved")
    try:
        os.rename(src, dst)
    except BaseException:
        remove_placeholder(dst)
        raise


def remove_placeholder(path: Path) -> bool:
    """Remove ``path`` only if it is an empty regular file (our O_EXCL claim); True when removed."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISREG(info.st_mode) and info.st_size == 0:
        os.unlink(path)
        return True
    return False


def rename_noreplace(src: Path, dst: Path, hook: StepHook) -> None:
    """Rename ``src`` to ``dst`` atomically; FileExistsError if ``dst`` exists, OSError(EXDEV) across devices."""
    if renameat2 is not None:
        code = renameat2(os.fsencode(src), os.fsencode(dst))
        if code == 0:
            return
        # EINVAL/ENOSYS: this filesystem or kernel does not know the flag; fall back.
        if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise OSError(code, os.strerror(code), str(src), None, str(dst))
    if sys.platform == "win32":  # os.rename never replaces on Windows
        os.rename(src, dst)
        return
    _reserve_then_rename(src, dst, hook)


def write_copy(src: Path, tmp: Path) -> str:
    """Copy bytes, mode and mtime of ``src`` into a new file ``tmp`` (O_EXCL), fsynced; returns the digest read."""
    digest = hashlib.blake2b(digest_size=16)
    info = os.stat(src)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with open(src, "rb") as source, os.fdopen(fd, "wb", closefd=False) as target:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                target.write(chunk)
            target.flush()
        # Through the open descriptor, so a read-only mode cannot lock us out of the fsync.
        os.fchmod(fd, stat.S_IMODE(info.st_mode))
        os.utime(fd, ns=(info.st_atime_ns, info.st_mtime_ns))
        os.fsync(fd)
    finally:
        os.close(fd)
    return digest.hexdigest()


def temp_name(dst: Path, op_id: str) -> Path:
    """The temporary copy's name: in the destination folder (same device as the final rename), hidden."""
    return dst.parent / f"{TEMP_PREFIX}{op_id.replace(':', '-')}"  # no ':' in names Windows/SMB can hold
