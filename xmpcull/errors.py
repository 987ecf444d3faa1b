"""One error family for the whole library.

Every error carries a human ``reason`` and the ``paths`` involved; the CLI turns
it into one line and an exit code (see ``ExitCode``). Per-file problems during a
run are not raised to the top: they become ``FileFailure`` records so the run
goes on.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class ExitCode(enum.IntEnum):
    OK = 0
    SOME_FILES_FAILED = 1  # the run finished, but some files were reported and skipped
    USAGE = 2  # bad command line or config (click also uses 2)
    CANNOT_RUN = 3  # nothing useful could be done: missing tool, unreadable root, ...


class XmpcullError(Exception):
    """Base of every error xmpcull raises on purpose."""

    exit_code = ExitCode.CANNOT_RUN

    def __init__(self, reason: str, paths: Iterable[Path | str] = ()) -> None:
        self.reason = reason
        self.paths = tuple(Path(p) for p in paths)
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if not self.paths:
            return self.reason
        return f"{self.reason}: " + ", ".join(repr(str(p)) for p in self.paths)


class ConfigError(XmpcullError):
    exit_code = ExitCode.USAGE


class ToolMissingError(XmpcullError):
    """An external tool or library (exiftool, Exempi) is not installed."""


class ScanError(XmpcullError):
    """A root cannot be walked at all."""


class DecodeError(XmpcullError):
    """One image cannot be decoded (truncated, corrupt, not an image, too large)."""


class MetadataError(XmpcullError):
    """exiftool failed or returned nonsense for one file."""


class SidecarError(XmpcullError):
    """A sidecar cannot be read safely or written atomically; it is left untouched."""


class ReportError(XmpcullError):
    """A report file is missing, malformed or of an unknown version."""


class MoveError(XmpcullError):
    """A move or undo step failed; the journal says where things are."""


@dataclass(frozen=True)
class FileFailure:
    """A per-file problem recorded during a run: the run went on without this file."""

    path: str
    stage: str  # "scan", "metadata", "decode", "sidecar", "move", ...
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "stage": self.stage, "reason": self.reason}


READ_ONLY_STAGE = "read-only"  # a folder xmpcull may not write into: said once per folder, not a failed file
READ_ONLY_HINT = "use --no-write or --report-dir"


def split_read_only(failures: Iterable[FileFailure]) -> tuple[list[FileFailure], dict[str, int]]:
    """The failed files, and the read-only folders (folder -> images that got no sidecar there).

    A read-only folder is the user's choice (an archive, a mounted card), not a broken file:
    it is reported once with a hint and does not make the run fail.
    """
    files: list[FileFailure] = []
    folders: dict[str, int] = {}
    for failure in failures:
        if failure.stage == READ_ONLY_STAGE:
            folder = str(Path(failure.path).parent)
            folders[folder] = folders.get(folder, 0) + 1
        else:
            files.append(failure)
    return files, folders


def read_only_line(folder: str, images: int) -> str:
    return f"read-only: {folder} ({images} image{'s' if images != 1 else ''} got no sidecar): {READ_ONLY_HINT}"

