"""Which files under a root a command looks at: --include / --exclude globs and --ext.

A pattern without "/" is matched against the file name (``*-Edit.*``), one with
"/" against the path below the root (``exports/*``, ``2024-*/raw/*``); "*" also
crosses "/" (fnmatch), matching is case-sensitive like the file system. A file is
kept when it matches an include pattern (or there are none), matches no exclude
pattern, and its extension is listed (or none are).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import PurePath


@dataclass(frozen=True)
class ScanFilter:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()  # lower case, without the dot

    @property
    def active(self) -> bool:
        return bool(self.include or self.exclude or self.extensions)

    def keeps(self, relative: PurePath) -> bool:
        """Whether the file at ``relative`` (its path below the root) is scanned."""
        if self.extensions and relative.suffix.lstrip(".").lower() not in self.extensions:
            return False
        if self.include and not any(_matches(relative, p) for p in self.include):
            return False
        return not any(_matches(relative, p) for p in self.exclude)


def _matches(relative: PurePath, pattern: str) -> bool:
    if "/" in pattern:
        return fnmatchcase(relative.as_posix(), pattern.strip("/"))
    return fnmatchcase(relative.name, pattern)
