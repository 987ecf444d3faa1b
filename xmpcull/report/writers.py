"""Small report writers every command can share: atomic JSON, CSV, and a no-op for dry runs.

Why atomic: a report is what a later ``move`` trusts. A crash half-way
through writing must leave the previous report (or none), never half a file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from xmpcull.errors import ReportError
from xmpcull.fsutil import replace_atomically


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Temp file beside ``path``, fsync, rename over it; raises ReportError and leaves the old file."""
    path = Path(path)
    try:
        replace_atomically(path, data, 0o644)
    except OSError as exc:
        raise ReportError(f"cannot write the report ({exc.strerror or exc})", [path]) from exc


def report_bytes(text: str) -> bytes:
    """UTF-8, with each byte of a file name that is not UTF-8 written as ``\\udcXX``.

    Python holds such a byte 0xXX as the lone surrogate U+DCXX (PEP 383). In JSON
    ``\\udcXX`` is that character's own escape, so any JSON reader gets the name
    back exactly (Python: ``os.fsencode(name)`` gives the bytes). CSV has no
    escapes; xmpcull's CSV readers turn ``\\udcXX`` back (docs/cli.md, "File names").
    """
    return text.encode("utf-8", "backslashreplace")


def write_json(path: Path, obj: Any) -> None:
    """Pretty, UTF-8, key order kept, written atomically."""
    text = json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
    write_bytes_atomic(path, report_bytes(text))


class ReportWriter(Protocol):
    """One interface for report formats; ``NullWriter`` makes dry runs take the same path."""

    def write(self, path: Path, rows: Iterable[Mapping[str, Any]]) -> None: ...


class CsvWriter:
    """Rows with fixed columns; missing values are empty cells, extra keys are an error."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)

    def render(self, rows: Iterable[Mapping[str, Any]]) -> str:
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=self.columns, extrasaction="raise", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        return buffer.getvalue()

    def write(self, path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
        write_bytes_atomic(path, report_bytes(self.render(rows)))


class JsonWriter:
    def write(self, path: Path, rows: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> None:
        write_json(path, rows if isinstance(rows, Mapping) else list(rows))


class NullWriter:
    """Accepts everything, writes nothing (``--no-write`` / dry runs)."""

    def write(self, path: Path, rows: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> None:
        return None
