"""Preview JPEGs for the review pages: made on first request by a worker pool, kept in the cache folder.

Decoding is what costs, so a preview decodes no more than it shows: libjpeg's DCT
scaling for JPEGs (through ``decode_rendered``), the embedded JPEG preview for RAW
files (one exiftool process), pillow-heif for HEIC; always in displayed
orientation. Files are cached under the cache folder by path, size, mtime and
preview size, never beside the photos. A request for a preview that is being made
waits for the same job instead of starting a second decode.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from xmpcull.analyse.decode import RAW_PREVIEW_TAGS, apply_orientation, decode_rendered, largest_preview_tag
from xmpcull.errors import DecodeError, XmpcullError
from xmpcull.models import format_for_extension
from xmpcull.scan.exiftool import ExifTool
from xmpcull.sidecar.atomic import atomic_write

SIZES = {"thumb": 360, "big": 1600}
JPEG_QUALITY = 82
CACHE_VERSION = 1


class PreviewMaker:
    """Makes and caches previews; ``get`` returns the JPEG bytes (DecodeError for an undecodable file)."""

    def __init__(self, cache_dir: Path, workers: int | None = None) -> None:
        self.cache_dir = Path(cache_dir)
        self._pool = ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2, thread_name_prefix="xmpcull-preview")
        self._pending: dict[Path, Future[bytes]] = {}
        self._lock = threading.Lock()
        self._exiftool: ExifTool | None = None
        self._exiftool_lock = threading.Lock()

    def cache_file(self, image: Path, size: str) -> Path:
        st = image.stat()
        key = f"{CACHE_VERSION}|{os.fsencode(image).hex()}|{st.st_size}|{st.st_mtime_ns}|{SIZES[size]}"
        digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.jpg"

    def submit(self, image: Path, size: str) -> Future[bytes]:
        """The preview as a future: done at once when cached, else made by the pool (one job per file)."""
        target = self.cache_file(image, size)
        try:
            data = target.read_bytes()
            done: Future[bytes] = Future()
            done.set_result(data)
            return done
        except OSError:
            pass
        with self._lock:
            pending = self._pending.get(target)
            if pending is None:
                pending = self._pool.submit(self._make, image, size, target)
                self._pending[target] = pending
                pending.add_done_callback(lambda _f: self._forget(target))
            return pending

    def warm_up(self) -> None:
        """Start the exiftool process in the background, so the first RAW on a page does not wait ~1 s for it."""

        def start() -> None:
            with self._exiftool_lock:
                if self._exiftool is None:
                    self._exiftool = ExifTool()
                try:
                    self._exiftool.start()
                except XmpcullError:
                    pass  # reported when a RAW preview is asked for

        self._pool.submit(start)

    def get(self, image: Path, size: str) -> bytes:
        return self.submit(image, size).result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._exiftool is not None:
            self._exiftool.close()

    def _forget(self, target: Path) -> None:
        with self._lock:
            self._pending.pop(target, None)

    def _make(self, image: Path, size: str, target: Path) -> bytes:
        picture = self._decode(image, SIZES[size])
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=False)
        data = out.getvalue()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, data)
        except (OSError, XmpcullError):
            pass  # an unwritable cache only costs the decode next time
        return data

    def _decode(self, image: Path, long_side: int) -> Image.Image:
        if format_for_extension(image.suffix) != "raw":
            return decode_rendered(image, size=long_side, mode="RGB").image
        data, orientation = self._raw_preview(image)
        try:
            with Image.open(io.BytesIO(data)) as im:
                im.draft("RGB", (long_side, long_side))
                im.load()
                shown = apply_orientation(im.convert("RGB"), orientation)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise DecodeError(f"embedded preview cannot be decoded: {exc}", [image]) from exc
        shown.thumbnail((long_side, long_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
        return shown

    def _raw_preview(self, image: Path) -> tuple[bytes, int]:
        with self._exiftool_lock:
            if self._exiftool is None:
                self._exiftool = ExifTool()
            tags = [f"-{t}" for t in RAW_PREVIEW_TAGS]
            listing = json.loads(self._exiftool.execute("-j", "-a", "-G", "-n", "-Orientation", *tags, str(image)) or "[]")
            entry = listing[0] if listing else {}
            tag = largest_preview_tag(entry)
            if tag is None:
                raise DecodeError("RAW file has no embedded preview", [image])
            data = self._exiftool.execute_bytes("-b", "-a", f"-{tag}", str(image))
        return data, _orientation_in(entry)

    def orientation(self, image: Path) -> int:
        """The EXIF orientation (1..8; 1 when there is none or it cannot be read), to draw crops on the preview."""
        if format_for_extension(image.suffix) == "raw":
            with self._exiftool_lock:
                if self._exiftool is None:
                    self._exiftool = ExifTool()
                try:
                    listing = json.loads(self._exiftool.execute("-j", "-n", "-Orientation", str(image)) or "[]")
                except (XmpcullError, ValueError):
                    return 1
            return _orientation_in(listing[0] if listing else {})
        try:
            with Image.open(image) as im:
                value = im.getexif().get(0x0112, 1)
        except (OSError, SyntaxError, ValueError):
            return 1
        return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _orientation_in(entry: dict[str, object]) -> int:
    value = next((v for k, v in entry.items() if k == "Orientation" or k.endswith(":Orientation")), 1)
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else 1
