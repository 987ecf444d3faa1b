"""Read duplicate reports (JSON, and the hand-editable CSV) without importing the analysis stack.

``xmpcull move`` and ``undo`` start fast because they need only this and the
standard library, not numpy or OpenCV.
"""

from __future__ import annotations

import csv
import json
import os
import re
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


_ESCAPED_BYTE = re.compile(r"\\udc([89a-f][0-9a-f])")


def path_from_csv(text: str) -> Path:
    """A path as xmpcull's CSVs write it: ``\\udcXX`` stands for the name byte 0xXX that is not UTF-8.

    A file that really has such characters in its name is found as it is first.
    """
    if "\\udc" not in text or os.path.lexists(text):
        return Path(text)
    return Path(_ESCAPED_BYTE.sub(lambda m: chr(0xDC00 + int(m.group(1), 16)), text))


# The role of a row: `role` in the CSV of `xmpcull dupes`, `dupe_role` in `xmpcull run`'s report.csv.
ROLE_COLUMNS = ("role", "dupe_role")


def _cell(row: dict[str, str | None], column: str) -> str:
    return (row.get(column) or "").strip().lower()


def read_csv_roles(csv_path: Path) -> dict[Path, str]:
    """Path -> role from a (possibly hand-edited) CSV that xmpcull wrote; rows the user deleted are absent.

    In run's report.csv the ``decision`` column can veto a move too: a person who changes a
    row's decision from "duplicate" to anything else means "keep this one" (moving less is the
    safe side of an ambiguous edit; docs/move.md).
    """
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as handle:  # -sig: spreadsheets add a BOM
            reader = csv.DictReader(handle)
            columns = set(reader.fieldnames or ())
            role_column = next((c for c in ROLE_COLUMNS if c in columns), None)
            if "path" not in columns or role_column is None:
                raise ReportError(
                    "CSV needs a 'path' column and a 'role' (xmpcull dupes --csv) or 'dupe_role' "
                    "(xmpcull run's report.csv) column", [csv_path],
                )
            roles: dict[Path, str] = {}
            for row in reader:
                if not row.get("path"):
                    continue
                role = _cell(row, role_column)
                decision = _cell(row, "decision") if "decision" in columns else ""
                if role == "duplicate" and decision not in ("", "duplicate"):
                    role = decision
                roles[path_from_csv(row["path"] or "")] = role
            return roles
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReportError(f"cannot read the duplicate CSV ({exc})", [csv_path]) from exc


def find_run_report(image: Path) -> Path | None:
    """The nearest ``.xmpcull/report.json`` in the image's folder or a parent: the run that covered it."""
    for folder in Path(image).absolute().parents:
        candidate = folder / ".xmpcull" / "report.json"
        if candidate.is_file():
            return candidate
    return None


def decision_from_report(report_path: Path, image: Path) -> dict[str, Any] | None:
    """What that run decided about ``image``: decision, reason, review reasons, group and its keeper."""
    try:
        data = load_report_json(report_path)
    except ReportError:
        return None
    wanted = str(Path(image).absolute())
    row = next((r for r in data.get("images", []) if isinstance(r, dict) and r.get("path") == wanted), None)
    group = next(
        (g for g in data["groups"] if isinstance(g, dict) and any(m.get("path") == wanted for m in g.get("members", []))),
        None,
    )
    if row is None and group is None:
        return None
    return {
        "report": str(report_path),
        "decision": row.get("decision") if row else None,
        "reason": row.get("reason") if row else None,
        "review_reasons": row.get("review_reasons", []) if row else [],
        "dupe_group": group.get("id") if group else None,
        "keeper": group.get("keeper") if group else None,
        "keeper_reason": group.get("keeper_reason") if group else None,
    }
