"""Small, forgiving conversions shared by the parsers: generator metadata is hand-edited text."""

from __future__ import annotations

import re
from typing import Any

_SIZE = re.compile(r"^\s*\(?\s*(\d+)\s*[x×,]\s*(\d+)\s*\)?\s*$")


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        text = str(value).strip()
        return int(float(text)) if "." in text or "e" in text.lower() else int(text)
    except (TypeError, ValueError, OverflowError):
        return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def as_text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def as_size(value: Any) -> tuple[int | None, int | None]:
    """'512x768', '(768, 1280)' -> (512, 768)."""
    match = _SIZE.match(str(value or ""))
    return (int(match.group(1)), int(match.group(2))) if match else (None, None)
