"""Read duplicate reports (JSON, and the hand-editable CSV) without importing the analysis stack.

``xmpcull move`` and ``undo`` start fast because they need only this and the
standard library, not numpy or OpenCV.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from xmpcull.errors import ReportError

REPORT_VERSION = 1


def load_report_json(json_path: Path) -> dict[str, Any]:
    """The raw JSON of a version-1 report; ReportError when it is unreadable or foreign."""
    try:
        data = json.loads(Path(json_path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"cannot read the duplicate report ({exc})", [json_path]) from exc
    if not isinstance(data, dict) or data.get("version") != REPORT_VERSION:
        raise ReportError(f"not a version {REPORT_VERSION} duplicate report", [json_path])
    if not isinstance(data.get("groups"), list) or not isinstance(data.get("roots"), list):
        raise ReportError("duplicate report has no 'roots'/'groups' lists", [json_path])
    return data


def read_csv_roles(csv_path: Path) -> dict[Path, str]:
    """Path -> role from a (possibly hand-edited) duplicate CSV; rows the user deleted are absent."""
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as handle:  # -sig: spreadsheets add a BOM
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"path", "role"} <= set(reader.fieldnames):
                raise ReportError("duplicate CSV needs 'path' and 'role' columns", [csv_path])
            return {Path(row["path"]): (row["role"] or "").strip().lower() for row in reader if row.get("path")}
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReportError(f"cannot read the duplicate CSV ({exc})", [csv_path]) from exc
