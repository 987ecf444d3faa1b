"""Readable burst IDs (``YYYYMMDD-HHMMSS-<camera>-<frame>``) and per-camera clock offsets. Pure."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace

from xmpcull.errors import ConfigError
from xmpcull.group.burst_frames import UNKNOWN_BODY, Burst, Shot

_OFFSET_RE = re.compile(r"^(?P<sign>[+-])?(?:(?:(?P<h>\d+):)?(?P<m>\d+):)?(?P<s>\d+(?:\.\d*)?|\.\d+)$")


def parse_clock_offset(text: str) -> tuple[str, float]:
    """``"MODEL[#SERIAL]=+HH:MM:SS[.fff]"`` -> (camera key, seconds to add to that camera's times).

    The value may also be ``MM:SS`` or plain seconds (``-1.5``). The key is matched
    case-insensitively against the body's ``Model#Serial`` (model as written or its
    short name, "R5#123"), then ``Model`` (or "R5"), then the full body key
    (``Make Model#Serial``).
    """
    camera, sep, value = text.rpartition("=")
    camera, value = camera.strip(), value.strip()
    match = _OFFSET_RE.match(value)
    if not sep or not camera or not match:
        raise ConfigError(f"clock offset must look like MODEL[#SERIAL]=+00:00:07, got {text!r}")
    seconds = float(match["s"]) + 60 * int(match["m"] or 0) + 3600 * int(match["h"] or 0)
    return camera, -seconds if match["sign"] == "-" else seconds


def parse_clock_offsets(texts: Sequence[str]) -> dict[str, float]:
    offsets: dict[str, float] = {}
    for text in texts:
        camera, seconds = parse_clock_offset(text)
        if camera.casefold() in {key.casefold() for key in offsets}:
            raise ConfigError(f"clock offset given twice for {camera!r}")
        offsets[camera] = seconds
    return offsets


def offset_key_for(shot: Shot, offsets: Mapping[str, float]) -> str | None:
    """Which key of ``offsets`` applies to ``shot`` (most specific first), if any."""
    folded = {key.casefold(): key for key in offsets}
    candidates = []
    if shot.model:
        short = short_camera_name(shot.model)
        if shot.serial:
            candidates += [f"{shot.model}#{shot.serial}", f"{short}#{shot.serial}"]
        candidates += [shot.model, short]
    if shot.body:
        candidates.append(shot.body)
    for candidate in candidates:
        if candidate.casefold() in folded:
            return folded[candidate.casefold()]
    return None


# --- readable IDs ------------------------------------------------------------

# Brand and product-line words that say nothing once the model number is there.
_BRAND_WORDS = frozenset(
    """canon eos powershot ixus nikon corporation coolpix sony fujifilm fuji olympus
    om digital solutions panasonic lumix pentax ricoh leica hasselblad samsung
    apple google sigma dji imaging co ltd inc""".split()
)


def short_camera_name(model: str | None, make: str | None = None) -> str:
    """A short, ID-safe camera name: "Canon EOS R5" -> "R5", "NIKON Z 9" -> "Z9", "iPhone 6" -> "iPhone6"."""
    if not model:
        return "Cam"
    drop = _BRAND_WORDS | {w.casefold() for w in (make or "").split()}
    words = [w for w in re.split(r"[\s_]+", model) if w and w.casefold() not in drop]
    joined = "".join(words) or model
    joined = re.sub(r"Mark", "Mk", joined)
    name = re.sub(r"[^A-Za-z0-9]", "", joined)
    return name[:12] or "Cam"


_DIGIT_RUN = re.compile(r"\d+")


def frame_number(path: str) -> str:
    """The camera's file counter: the last four digits of the last digit run in the name (IMG_0007.CR3 -> "0007")."""
    stem = path.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    runs = _DIGIT_RUN.findall(stem)
    return runs[-1][-4:].rjust(4, "0") if runs else "0000"


def base_burst_id(start_local: dt.datetime, camera: str, first_path: str) -> str:
    """``YYYYMMDD-HHMMSS-<camera>-<frame number of the first frame>``."""
    return f"{start_local:%Y%m%d-%H%M%S}-{camera}-{frame_number(first_path)}"


def wall_clock(shot: Shot, offset: float = 0.0) -> dt.datetime | None:
    """The camera's local time of ``shot``, corrected by a clock ``offset`` in seconds."""
    shift = dt.timedelta(seconds=offset)
    if shot.local_time is not None:
        return shot.local_time + shift
    if shot.timestamp is None:
        return None
    return dt.datetime.fromtimestamp(shot.timestamp, dt.timezone.utc).replace(tzinfo=None) + shift


def wall_clock_iso(shot: Shot, offset: float = 0.0) -> str | None:
    """ISO 8601 local time, with its UTC offset when the file recorded one."""
    local = wall_clock(shot, offset)
    if local is None:
        return None
    if shot.utc_offset_minutes is None:
        return local.isoformat()
    return local.replace(tzinfo=dt.timezone(dt.timedelta(minutes=shot.utc_offset_minutes))).isoformat()


def _start_local(burst: Burst) -> dt.datetime:
    local = wall_clock(burst.shots[0], burst.time_offset)
    assert local is not None
    return local


def assign_ids(bursts: Sequence[Burst]) -> list[Burst]:
    """Give every multi-frame burst its ID; a clash (same second, camera and frame number) gets ``-2``, ``-3``...

    Clashes are ordered by (start, body, first path), so adding files elsewhere
    never renames a burst.
    """
    base_of: dict[int, str] = {}
    clashes: dict[str, list[int]] = defaultdict(list)
    for i, burst in enumerate(bursts):
        if burst.size > 1 and burst.start is not None:
            base = base_burst_id(_start_local(burst), burst.camera, burst.shots[0].path)
            base_of[i] = base
            clashes[base].append(i)
    final: dict[int, str] = {}
    for base, members in clashes.items():
        members.sort(key=lambda i: (bursts[i].start, bursts[i].body or UNKNOWN_BODY, bursts[i].shots[0].path))
        for rank, i in enumerate(members):
            final[i] = base if rank == 0 else f"{base}-{rank + 1}"
    return [
        replace(burst, burst_id=final[i]) if i in final else burst for i, burst in enumerate(bursts)
    ]
