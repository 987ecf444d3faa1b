"""XMP inside image files, through exiftool: read it (to seed a new sidecar) or, in
the opt-in embed mode, write it.

ExifTool runs in its own process, so a hostile image cannot crash us; the
packet it returns is vetted like any sidecar before Exempi parses it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from xmpcull.errors import SidecarError, ToolMissingError
from xmpcull.sidecar.config import exiftool_config_path

BATCH = 200  # paths per exiftool call: keeps argument lists well under OS limits
TIMEOUT_S = 120


def exiftool_binary() -> str:
    found = shutil.which("exiftool")
    if not found:
        raise ToolMissingError("exiftool is not installed (needed for embedded XMP)")
    return found


def read_embedded_xmp(paths: Sequence[Path]) -> dict[Path, bytes | None]:
    """The raw XMP packet embedded in each file (None when it has none or cannot be read)."""
    result: dict[Path, bytes | None] = {Path(p): None for p in paths}
    if not paths:
        return result
    binary = exiftool_binary()
    for start in range(0, len(paths), BATCH):
        chunk = [str(Path(p).absolute()) for p in paths[start : start + BATCH]]
        completed = subprocess.run(
            [binary, "-j", "-b", "-XMP", "-charset", "filename=utf8", *chunk],
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        try:
            rows = json.loads(completed.stdout or b"[]")
        except json.JSONDecodeError:
            continue  # exiftool failed for the whole chunk: treat as "no embedded XMP"
        by_abs = {str(Path(p).absolute()): Path(p) for p in paths[start : start + BATCH]}
        for row in rows:
            original = by_abs.get(row.get("SourceFile", ""))
            value = row.get("XMP")
            if original is None or not isinstance(value, str):
                continue
            result[original] = _decode_value(value)
    return result


def write_embedded_xmp(image: Path, packet: bytes) -> None:
    """Replace the image's XMP block with ``packet``; exiftool keeps ``<image>_original``."""
    binary = exiftool_binary()
    fd, temp_name = tempfile.mkstemp(prefix=".xmpcull-", suffix=".xmp", dir=image.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(packet)
        completed = subprocess.run(
            [binary, "-config", str(exiftool_config_path()), f"-XMP<={temp_name}", str(image.absolute())],
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except OSError as exc:
        raise SidecarError(f"cannot embed XMP ({exc.strerror or exc})", [image]) from exc
    finally:
        Path(temp_name).unlink(missing_ok=True)
    output = (completed.stdout + completed.stderr).decode("utf-8", errors="replace")
    if completed.returncode != 0 or "1 image files updated" not in output:
        reason = " ".join(line.strip() for line in output.splitlines() if line.strip()) or "unknown error"
        raise SidecarError(f"exiftool could not embed XMP: {reason}", [image])


def _decode_value(value: str) -> bytes:
    if value.startswith("base64:"):
        return base64.b64decode(value[len("base64:") :])
    return value.encode("utf-8")
