"""Walk photo roots and list the images we can analyse.

Why a hand-written walk: we must skip our own folders (``_review_dupes``, the
cache), hidden folders and AppleDouble files, count a hard-linked file once,
and keep going when a folder cannot be read.

Symbolic links (docs/cli.md, "Symbolic links"): a link whose target lies inside
one of the roots is not followed, because the target is listed at its real
place (so a sidecar is written there, once, and a move renames the real file).
A link leading outside every root is not followed either, unless the caller
asks (``follow_links``): then what it reaches is listed with ``via_link`` set,
is never chosen as keeper over a real file, and is never moved. Following a
folder at most once keeps a symlink loop from hanging the scan.
"""

from __future__ import annotations

import os
import stat
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from xmpcull.errors import FileFailure, ScanError
from xmpcull.fsutil import is_inside, is_own_temp, real_paths
from xmpcull.models import ImageFile, format_for_extension
from xmpcull.scan.filter import ScanFilter

REVIEW_DIR_NAME = "_review_dupes"
SKIPPED_DIR_NAMES = frozenset({REVIEW_DIR_NAME, "@eaDir", "__MACOSX", "$RECYCLE.BIN"})


@dataclass
class ScanResult:
    files: list[ImageFile] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)
    skipped_links: int = 0  # second paths to a file already listed (hard links, symlinks into a root)
    outside_links: list[Path] = field(default_factory=list)  # links leading outside the roots, not followed
    leftover_temps: list[Path] = field(default_factory=list)  # our temp sidecar files (fsutil.is_own_temp)


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def scan_roots(
    roots: Iterable[Path | str], *, extra_skip: Iterable[str] = (), only: ScanFilter = ScanFilter(),
    follow_links: bool = False,
) -> ScanResult:
    """List every image under ``roots`` that ``only`` keeps, sorted by path, RAW+JPEG pairs linked as companions.

    ``follow_links``: also list what symbolic links leading outside every root point to.
    """
    result = ScanResult()
    roots = [Path(os.path.abspath(r)) for r in roots]
    walk = _Walk(result, SKIPPED_DIR_NAMES | frozenset(extra_skip), real_paths(roots), follow_links)
    for root in roots:
        try:
            st = root.stat()
        except OSError as exc:
            raise ScanError(f"cannot read root ({exc.strerror})", [root]) from exc
        if not stat.S_ISDIR(st.st_mode):
            # A single file given as root: analyse just that file.
            _add_file(root.parent, root, st, result, walk.seen_files, via_link=False)
            continue
        walk.folder(root)
    # Every path under a root starts with "root/", so its string sorts like its relpath
    # (without 5,000 Path.relative_to calls on a re-run of 5,000 files).
    if only.active:
        result.files = [f for f in result.files if only.keeps(f.path.relative_to(f.root))]
    result.files.sort(key=lambda f: (str(f.root), str(f.path)))
    result.files = _link_companions(result.files)
    return result


@dataclass
class _Walk:
    result: ScanResult
    skip_names: frozenset[str]
    real_roots: tuple[Path, ...]
    follow_links: bool
    # (device, inode) of folders and files seen: stops symlink loops, lists a file once.
    seen_dirs: set[tuple[int, int]] = field(default_factory=set)
    seen_files: set[tuple[int, int]] = field(default_factory=set)

    def _link_is_followed(self, path: Path) -> bool:
        """Whether a symlink entry is followed: only outside links, and only when asked."""
        if is_inside(path, self.real_roots):
            return False  # its target is listed at its own place inside a root
        if not self.follow_links:
            self.result.outside_links.append(path)
            return False
        return True

    def folder(self, root: Path) -> None:
        # Iterative depth-first walk; each stack entry says whether a link led there.
        result = self.result
        stack = [(root, False)]
        while stack:
            current, via_link = stack.pop()
            try:
                st = current.stat()
            except OSError as exc:
                result.failures.append(FileFailure(str(current), "scan", f"cannot read folder: {exc.strerror}"))
                continue
            key = (st.st_dev, st.st_ino)
            if key in self.seen_dirs:
                continue
            self.seen_dirs.add(key)
            try:
                with os.scandir(current) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                result.failures.append(FileFailure(str(current), "scan", f"cannot list folder: {exc.strerror}"))
                continue
            subdirs = []
            xmp_names = {e.name.lower(): e.name for e in entries if e.name.lower().endswith(".xmp")}
            for entry in entries:
                name = entry.name
                if _is_hidden(name):
                    if is_own_temp(name):
                        result.leftover_temps.append(Path(entry.path))
                    continue
                # Names, not Paths, until an entry is kept: a Path per entry was a fifth of a re-run.
                dot = name.rfind(".")  # os.path.splitext's extension for a name with no leading dot
                fmt = format_for_extension(name[dot:]) if dot > 0 else None
                try:
                    entry_st = entry.stat(follow_symlinks=True)
                except OSError as exc:
                    # Dangling symlink or permission problem: only worth a report if it looks like an image.
                    if fmt:
                        result.failures.append(FileFailure(entry.path, "scan", f"cannot stat: {exc.strerror}"))
                    continue
                is_dir, is_file = stat.S_ISDIR(entry_st.st_mode), stat.S_ISREG(entry_st.st_mode)
                linked = entry.is_symlink()
                wanted = is_dir and name not in self.skip_names or is_file and fmt
                if not wanted:
                    continue
                path = child(current, name)
                if linked and not self._link_is_followed(path):
                    result.skipped_links += is_file
                    continue
                if is_dir:
                    subdirs.append((path, via_link or linked))
                else:
                    # Each image's sidecars are recorded now, while the listing is at hand: later
                    # stages then need no stat calls to find them (a re-run stays near-instant).
                    _add_file(root, path, entry_st, result, self.seen_files, via_link=via_link or linked,
                              sidecars=_sidecars_named_after(path, name, xmp_names), fmt=fmt)
            stack.extend(reversed(subdirs))


def _add_file(
    root: Path, path: Path, st: os.stat_result, result: ScanResult, seen_files: set[tuple[int, int]], *, via_link: bool,
    sidecars: tuple[Path, ...] | None = None, fmt: str | None = None,
) -> None:
    fmt = fmt or format_for_extension(path.suffix)
    if fmt is None:
        return
    key = (st.st_dev, st.st_ino)
    if key in seen_files:
        result.skipped_links += 1
        return
    seen_files.add(key)
    result.files.append(ImageFile(path=path, root=root, format=fmt, size=st.st_size, mtime_ns=st.st_mtime_ns,
                                  via_link=via_link, sidecars=sidecars))


def child(folder: Path, name: str) -> Path:
    """``folder / name`` for a name just listed in ``folder``: a name holds no separator, so the
    path needs no parsing (``Path(entry.path)`` parses every part again: 10 µs a file, half a
    re-run's scan of 100,000 files)."""
    return _make_child(folder, name) if _make_child is not None else folder / name


# CPython's own shortcut for a listed name (pathlib's glob and iterdir use it); looked up,
# not assumed, so a Python without it gets the ordinary join.
_make_child = getattr(Path, "_make_child_relpath", None)


def _sidecars_named_after(image: Path, name: str, xmp_names: dict[str, str]) -> tuple[Path, ...]:
    """``xmp_names``: the folder's .xmp files, lower-cased name -> real name (one lookup per candidate)."""
    if not xmp_names:
        return ()
    lower = name.lower()
    wanted = (f"{os.path.splitext(lower)[0]}.xmp", f"{lower}.xmp")
    return tuple(image.with_name(xmp_names[n]) for n in sorted(set(wanted)) if n in xmp_names)


def _link_companions(files: list[ImageFile]) -> list[ImageFile]:
    """Files in one folder with the same stem (IMG_1.CR2 + IMG_1.JPG) are one shot."""
    # Every listed image has an extension and no leading dot, so its path up to the last
    # dot is its folder and stem; only stems seen twice need the lists.
    stems = [str(image.path).rpartition(".")[0] for image in files]
    counts = Counter(stems)
    by_stem: dict[str, list[int]] = defaultdict(list)
    for index, stem in enumerate(stems):
        if counts[stem] > 1:
            by_stem[stem].append(index)
    linked = list(files)
    for indices in by_stem.values():
        paths = [files[i].path for i in indices]
        for i in indices:
            linked[i] = replace(files[i], companions=tuple(p for p in paths if p != files[i].path))
    return linked
