"""Find generator text and C2PA manifests in the file's container, without decoding pixels.

PNG: walk the chunks to IEND, seeking over IDAT (text chunks may come after the
image data, where Pillow's lazy ``info`` does not look and ``text`` would decode
every pixel). JPEG: walk the segments up to the start of scan. WebP: walk the
RIFF chunks. Each read is bounded so a hostile file cannot make us allocate
much: a text chunk over ``MAX_TEXT_BYTES`` is skipped, zTXt/iTXt inflate at most
``MAX_TEXT_BYTES``.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

MAX_TEXT_BYTES = 8 * 1024 * 1024  # ComfyUI graphs are tens of KB; 8 MB is far beyond any real one
MAX_CHUNKS = 100_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# PNG chunks from which exiftool reads nothing that xmpcull asks it for (EXIF, XMP, capture
# time; see scan/metadata.py): a PNG made only of these needs no exiftool call.
PLAIN_PNG_CHUNKS = frozenset(
    {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD", b"pHYs", b"tIME",
     b"tEXt", b"zTXt", b"iTXt"}
)  # not iCCP: exiftool parses the profile and warns about a bad one
# Text keys exiftool turns into XMP, EXIF, IPTC or the capture time (PNG.pm TextualData).
_METADATA_KEYS = frozenset({"xml:com.adobe.xmp", "creation time"})
# exiftool's own warning for text after the image data, so both readers report the same.
TEXT_AFTER_IDAT = "[minor] Text/EXIF chunk(s) found after PNG IDAT (may be ignored by some readers)"


@dataclass
class ContainerInfo:
    """What the container holds that the generation parsers read."""

    texts: dict[str, str] = field(default_factory=dict)  # PNG text keyword -> text (first wins)
    c2pa: bool = False  # a C2PA/JUMBF manifest store is embedded
    warnings: list[str] = field(default_factory=list)
    # PNG only: IHDR's size, and whether the walk reached IEND (at the end of the file) seeing
    # only PLAIN_PNG_CHUNKS and no metadata text: then exiftool would add nothing.
    size: tuple[int, int] | None = None
    plain_png: bool = False
    text_after_idat: bool = False


def _is_metadata_key(key: str) -> bool:
    folded = key.lower()
    return folded in _METADATA_KEYS or folded.startswith("raw profile type")


def read_container(path: Path, fmt: str) -> ContainerInfo:
    """Text chunks (PNG) and C2PA presence (PNG, JPEG, WebP); an unreadable file gives an empty record."""
    info = ContainerInfo()
    try:
        with open(path, "rb") as handle:
            if fmt == "png":
                _walk_png(handle, info)
            elif fmt == "jpeg":
                _walk_jpeg(handle, info)
            elif fmt == "webp":
                _walk_webp(handle, info)
    except OSError as exc:
        info.warnings.append(f"cannot read the container: {exc.strerror or exc}")
    return info


def _inflate(data: bytes) -> bytes | None:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_TEXT_BYTES)
    except zlib.error:
        return None
    return None if inflater.unconsumed_tail else out  # larger than the limit: a bomb, not a prompt


def _text(data: bytes, encoding: str) -> str:
    return data.decode(encoding, errors="replace")


def parse_text_chunk(kind: bytes, data: bytes) -> tuple[str, str] | None:
    """(keyword, text) of a tEXt, zTXt or iTXt chunk; None when it is malformed."""
    keyword, sep, rest = data.partition(b"\0")
    if not sep or not keyword:
        return None
    key = _text(keyword, "latin-1")
    if kind == b"tEXt":
        # The PNG spec says Latin-1; generators (A1111 through Pillow, ComfyUI) write UTF-8 there.
        try:
            return key, rest.decode("utf-8")
        except UnicodeDecodeError:
            return key, _text(rest, "latin-1")
    if kind == b"zTXt":
        inflated = _inflate(rest[1:]) if rest[:1] == b"\0" else None
        return None if inflated is None else (key, _text(inflated, "latin-1"))
    # iTXt: compression flag, method, language\0, translated keyword\0, UTF-8 text
    if len(rest) < 2:
        return None
    compressed, body = rest[0], rest[2:]
    _lang, _, body = body.partition(b"\0")
    _translated, _, body = body.partition(b"\0")
    if compressed:
        inflated = _inflate(body)
        if inflated is None:
            return None
        body = inflated
    return key, _text(body, "utf-8")


def _walk_png(handle: BinaryIO, info: ContainerInfo) -> None:
    if handle.read(8) != PNG_SIGNATURE:
        return
    plain, seen_idat = True, False
    for _ in range(MAX_CHUNKS):
        header = handle.read(8)
        if len(header) < 8:
            return  # truncated: keep what was found (and let exiftool say what it makes of it)
        length, kind = struct.unpack(">I4s", header)
        plain = plain and kind in PLAIN_PNG_CHUNKS
        if kind == b"IHDR" and length >= 8:
            head = handle.read(8)
            if len(head) < 8:
                return
            info.size = struct.unpack(">II", head)
            handle.seek(length - 8 + 4, 1)
            continue
        if kind == b"IDAT":
            seen_idat = True
        if kind in (b"tEXt", b"zTXt", b"iTXt") and length > MAX_TEXT_BYTES:
            plain = False  # not read: what it holds is exiftool's to say
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            info.text_after_idat = info.text_after_idat or seen_idat
            data = handle.read(length)
            handle.seek(4, 1)
            parsed = parse_text_chunk(kind, data) if len(data) == length else None
            plain = plain and parsed is not None and not _is_metadata_key(parsed[0])
            if parsed is not None:
                info.texts.setdefault(*parsed)
            continue
        if kind == b"caBX":
            info.c2pa = True
        if kind == b"IEND":
            handle.seek(length + 4, 1)
            # Bytes after IEND are a trailer exiftool would report on.
            info.plain_png = plain and info.size is not None and not handle.read(1)
            return
        handle.seek(length + 4, 1)


def _walk_jpeg(handle: BinaryIO, info: ContainerInfo) -> None:
    if handle.read(2) != b"\xff\xd8":
        return
    for _ in range(MAX_CHUNKS):
        marker = handle.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return
        if marker[1] in (0xD8, 0x01) or 0xD0 <= marker[1] <= 0xD7:
            continue
        if marker[1] in (0xDA, 0xD9):  # start of scan / end: no metadata segments follow that we read
            return
        size = handle.read(2)
        if len(size) < 2:
            return
        length = struct.unpack(">H", size)[0]
        if marker[1] == 0xEB:  # APP11: JPEG XT boxes, where C2PA puts its JUMBF store
            head = handle.read(min(length - 2, 16))
            if head[:2] == b"JP" and b"jumb" in head:
                info.c2pa = True
            handle.seek(length - 2 - len(head), 1)
            continue
        handle.seek(length - 2, 1)


def _walk_webp(handle: BinaryIO, info: ContainerInfo) -> None:
    header = handle.read(12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        return
    for _ in range(MAX_CHUNKS):
        chunk = handle.read(8)
        if len(chunk) < 8:
            return
        kind, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if kind == b"C2PA":
            info.c2pa = True
        handle.seek(length + (length & 1), 1)
