"""Small filesystem helpers shared by every stage that writes: digests, durable renames.

Kept free of heavy imports (no numpy/OpenCV) because the move and report code
use it too and must start fast.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

CHUNK = 1 << 20
TEMP_PREFIX = ".xmpcull-"
TEMP_SUFFIX = ".tmp"  # holds only our own bytes: safe to remove once stale
SWAP_SUFFIX = ".swap"  # renamed so just before an exchange: may hold another program's save, never removed
# What mkstemp makes of our prefix and suffix (8 random characters), and the swap name of one.
OWN_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"[a-z0-9_]{8}(?:" + re.escape(TEMP_SUFFIX) + "|"
                           + re.escape(SWAP_SUFFIX) + ")")


def file_digest(path: Path) -> str:
    """blake2b-128 hex of the file bytes: the check before and after a move, a file's content key."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# Bytes read from each end of a file for its head-tail key. A file no longer than both
# ends together is read whole anyway, so it always gets its full digest.
END_SPAN = 64 * 1024
HEAD_TAIL_PREFIX = "ht-"


def head_tail_key(path: Path, size: int, mtime_ns: int) -> str:
    """``ht-`` + blake2b-128 of the size, the nanosecond mtime and the first and last ``END_SPAN`` bytes.

    The content key of a file whose size no other file shares: hashing every byte
    of a camera file costs a fifth of its reduced-size decode, and with no other
    file of its size nothing needs to tell its bytes apart. The mtime is part of
    the key because two different files can share size, head and tail (scans with
    the same white margins): a key of the ends alone would let one reuse the
    other's cached results. A rename or move keeps the mtime, so its key too.
    """
    digest = hashlib.blake2b(f"{size}:{mtime_ns}:".encode(), digest_size=16)
    with open(path, "rb") as handle:
        digest.update(handle.read(END_SPAN))
        handle.seek(max(END_SPAN, size - END_SPAN))
        digest.update(handle.read(END_SPAN))
    return HEAD_TAIL_PREFIX + digest.hexdigest()


def content_key(path: Path, size: int, mtime_ns: int, *, size_shared: bool) -> str:
    """The file's full digest, or its head-tail key when it is large and ``size_shared`` is False.

    As in Czkawka, sizes come first: bytes are hashed whole only where another file
    of the same size could hold the same bytes (every size-sharing file is hashed
    whole, without Czkawka's partial-hash step between: that would need a second
    pass over the workers' results).
    """
    if size_shared or size <= 2 * END_SPAN:
        return file_digest(path)
    return head_tail_key(path, size, mtime_ns)


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
    temp = _durable_temp(path, data, mode)
    try:
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    fsync_dir(path.parent)


def is_own_temp(name: str) -> bool:
    """Whether a file name is one of our temporary sidecar files (``.xmpcull-XXXXXXXX.tmp`` or ``.swap``)."""
    return OWN_TEMP_NAME.fullmatch(name) is not None


def remove_stale_temps(paths: Iterable[Path], before_ns: int) -> tuple[list[Path], list[Path]]:
    """Remove our temp files that nothing changed since ``before_ns`` (a run's start): (removed, kept).

    A writer killed mid-write leaves its temp behind. A ``.tmp`` holds nothing but
    bytes we were about to write (the next run writes them again); a live one, being
    written by another run right now, was created or changed a moment ago, and
    renaming or chmod sets its ctime, so both times must be older than this run.
    A ``.swap`` can hold the file an exchange displaced, which may be another
    program's save that exists nowhere else: it is kept and reported.
    """
    removed: list[Path] = []
    kept: list[Path] = []
    for path in paths:
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode) or max(info.st_mtime_ns, info.st_ctime_ns) >= before_ns:
            continue
        if path.name.endswith(SWAP_SUFFIX):
            kept.append(path)
            continue
        try:
            os.unlink(path)
        except OSError:
            continue
        removed.append(path)
    return removed, kept


def read_if_present(path: Path) -> bytes | None:
    """The file's bytes, or None when there is no such file."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


class Swap:
    """What ``replace_if_unchanged`` did: written, or why not."""

    WRITTEN = "written"
    CHANGED = "changed"  # the file was no longer ``base``: nothing replaced, the other version stays


def replace_if_unchanged(path: Path, data: bytes, mode: int, base: bytes | None) -> tuple[str, Path | None]:
    """Atomically put ``data`` at ``path`` only while ``path`` still holds ``base`` (None: no file).

    Another program may save the file at any moment. Checking first and then
    renaming leaves a window in which its save would be replaced unseen, so on
    Linux the new file is *exchanged* with the old one (renameat2
    RENAME_EXCHANGE): the displaced file is then still on disk and is compared
    with ``base``. Only bytes equal to ``base`` (or to our own ``data``) are ever
    deleted; a foreign save is swapped back into place. Creating a new file uses
    RENAME_NOREPLACE (or a hard link) so a file created meanwhile is never
    overwritten. Where the filesystem has neither, the check runs right before a
    plain rename (a window of microseconds).

    Returns (Swap.WRITTEN | Swap.CHANGED, kept): ``kept`` names an earlier
    foreign version kept beside the file in the one case the other program
    saves twice within the microseconds of the swap (nothing is deleted then
    either; its latest save is the one left in place).
    """
    temp = _durable_temp(path, data, mode)  # the slow part (fsync) comes before the last check
    try:
        if read_if_present(path) != base:
            temp.unlink()
            return Swap.CHANGED, None
        if base is None:
            outcome, kept = _create_exclusively(temp, path), None
        else:
            # After the exchange the temp holds the displaced file, maybe another program's
            # save: its name says so first, since a later run removes stale ``.tmp`` files only.
            swap = temp.with_name(temp.name[: -len(TEMP_SUFFIX)] + SWAP_SUFFIX)
            if _renameat2(temp, swap, RENAME_NOREPLACE):
                temp = swap
            outcome, kept = _exchange_and_verify(temp, path, data, base)
    except BaseException:
        if read_if_present(temp) == data:  # never delete what may be another program's save
            with contextlib.suppress(OSError):
                temp.unlink()
        raise
    fsync_dir(path.parent)
    return outcome, kept


def _durable_temp(path: Path, data: bytes, mode: int) -> Path:
    fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return temp


def _create_exclusively(temp: Path, path: Path) -> str:
    """Move ``temp`` to ``path`` unless a file appeared there; ``temp`` is gone afterwards."""
    try:
        if not _renameat2(temp, path, RENAME_NOREPLACE):
            try:
                os.link(temp, path)
            except FileExistsError:
                raise
            except OSError:  # no hard links here (FAT, SMB): check, then rename
                if read_if_present(path) is not None:
                    temp.unlink()
                    return Swap.CHANGED
                os.replace(temp, path)
                return Swap.WRITTEN
            temp.unlink()
    except FileExistsError:
        temp.unlink()
        return Swap.CHANGED
    return Swap.WRITTEN


def _exchange_and_verify(temp: Path, path: Path, data: bytes, base: bytes) -> tuple[str, Path | None]:
    """Exchange ``temp`` (our bytes) with ``path``; keep the swap only if what it displaced is ``base``."""
    if not _renameat2(temp, path, RENAME_EXCHANGE):
        if read_if_present(path) != base:  # no exchange on this filesystem: check, then rename
            temp.unlink()
            return Swap.CHANGED, None
        os.replace(temp, path)
        return Swap.WRITTEN, None
    # ``temp`` now holds what was at ``path`` an instant ago.
    if read_if_present(temp) == base:
        temp.unlink()
        return Swap.WRITTEN, None
    # Another program saved within the last microseconds: put its save back.
    _renameat2(temp, path, RENAME_EXCHANGE)
    if read_if_present(temp) in (data, None):
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        return Swap.CHANGED, None
    # It saved again in between, over ours: that latest save goes back in place and
    # the earlier one is kept beside it, since it may hold an edit the latest lacks.
    _renameat2(temp, path, RENAME_EXCHANGE)
    kept = path.with_name(f"{path.name}.xmpcull-conflict-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
    os.replace(temp, kept)
    return Swap.CHANGED, kept


RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM}


def _load_renameat2() -> Callable[[bytes, bytes, int], int] | None:
    """renameat2(2) as ``call(source, target, flags) -> 0 or errno``; None where libc lacks it."""
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None  # not glibc >= 2.28 (macOS, musl, Windows): the callers' portable paths
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int

    def call(source: bytes, target: bytes, flags: int) -> int:
        if function(_AT_FDCWD, source, _AT_FDCWD, target, flags) == 0:
            return 0
        return ctypes.get_errno()

    return call


# The one loader of renameat2: sidecar writes exchange with it, moves rename without clobbering.
raw_renameat2 = _load_renameat2()


def _renameat2(source: Path, target: Path, flags: int) -> bool:
    """renameat2(2); False when this system or filesystem lacks the flag (the caller falls back)."""
    if raw_renameat2 is None:
        return False
    code = raw_renameat2(os.fsencode(source), os.fsencode(target), flags)
    if code == 0:
        return True
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(target))


def real_paths(roots: Iterable[Path | str]) -> tuple[Path, ...]:
    """The roots with every symlink resolved: what "inside the roots" is measured against."""
    return tuple(Path(os.path.realpath(r)) for r in roots)


def is_inside(path: Path | str, real_roots: Iterable[Path]) -> bool:
    """Whether ``path``, every symlink of every parent resolved, lies in (or is) one of ``real_roots``."""
    try:
        real = Path(os.path.realpath(path))
    except (OSError, ValueError):
        return False
    return any(real == root or root in real.parents for root in real_roots)
