"""ExifTool behind one small class: one long-lived ``-stay_open`` process, batched calls.

Starting exiftool costs ~0.2 s of Perl start-up; reading a file through the open
process costs a few milliseconds, so every metadata read in a run goes through
one ``ExifTool`` instance.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import exiftool as pyexiftool

from xmpcull.errors import MetadataError, ToolMissingError

BATCH_SIZE = 200  # files per exiftool call: large enough to amortise, small enough to show progress


def exiftool_executable() -> str:
    found = shutil.which("exiftool")
    if not found:
        raise ToolMissingError(
            "exiftool is not installed (Debian: apt-get install libimage-exiftool-perl; macOS: brew install exiftool)"
        )
    return found


def _argfile_safe(path: str) -> bool:
    # The -stay_open protocol passes one argument per line, so a name with a newline
    # (or bytes that are not UTF-8) cannot go through it.
    if "\n" in path or "\r" in path:
        return False
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class ExifTool:
    """A running exiftool process. Use as a context manager."""

    def __init__(self, config: Path | None = None) -> None:
        self.executable = exiftool_executable()
        self.config = config
        self._helper: pyexiftool.ExifToolHelper | None = None

    def __enter__(self) -> ExifTool:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        if self._helper is None:
            self._helper = pyexiftool.ExifToolHelper(
                executable=self.executable,
                config_file=str(self.config) if self.config else None,
                check_execute=False,
            )
            self._helper.run()

    def close(self) -> None:
        if self._helper is not None:
            try:
                self._helper.terminate()
            finally:
                self._helper = None

    def read_tags(self, paths: Sequence[Path], tags: Sequence[str], params: Sequence[str] = ()) -> list[dict[str, Any]]:
        """One dict per path, in order; a file exiftool could not read gets ``{"ExifTool:Error": reason}``."""
        out: list[dict[str, Any]] = []
        for start in range(0, len(paths), BATCH_SIZE):
            out.extend(self._read_batch(paths[start : start + BATCH_SIZE], tags, params))
        return out

    def _read_batch(self, paths: Sequence[Path], tags: Sequence[str], params: Sequence[str]) -> list[dict[str, Any]]:
        tag_args = [f"-{t}" for t in tags]
        safe = [str(p) for p in paths if _argfile_safe(str(p))]
        by_source: dict[str, dict[str, Any]] = {}
        if safe:
            self.start()
            assert self._helper is not None
            raw = self._helper.execute("-j", "-G", *params, *tag_args, *safe)
            by_source.update(_parse_json(raw))
        for path in paths:
            if not _argfile_safe(str(path)):
                by_source.update(self._read_one_off(path, tag_args, params))
        return [by_source.get(str(p), {"ExifTool:Error": "exiftool returned no data"}) for p in paths]

    def _read_one_off(self, path: Path, tag_args: list[str], params: Sequence[str]) -> dict[str, dict[str, Any]]:
        cmd = [self.executable]
        if self.config:
            cmd += ["-config", str(self.config)]
        cmd += ["-j", "-G", *params, *tag_args, "--", str(path)]
        proc = subprocess.run(cmd, capture_output=True, check=False)
        parsed = _parse_json(proc.stdout.decode("utf-8", "surrogateescape"))
        # exiftool echoes the name it was given; map it back to our exact path string.
        return {str(path): next(iter(parsed.values()))} if parsed else {}

    def execute(self, *args: str) -> str:
        """Run one exiftool command in the open process and return its stdout."""
        self.start()
        assert self._helper is not None
        return self._helper.execute(*args)

    def execute_bytes(self, *args: str) -> bytes:
        """Like ``execute`` for binary output (``-b``), e.g. an embedded preview."""
        self.start()
        assert self._helper is not None
        return self._helper.execute(*args, raw_bytes=True)


def _parse_json(raw: str) -> dict[str, dict[str, Any]]:
    if not raw.strip():
        return {}
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise MetadataError(f"exiftool printed unreadable JSON ({exc.msg})") from exc
    return {str(item.get("SourceFile")): item for item in items}
