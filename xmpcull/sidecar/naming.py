"""Which sidecar file belongs to an image.

Lightroom reads ``IMG_0001.xmp`` for ``IMG_0001.CR2``; darktable and digiKam
write ``IMG_0001.CR2.xmp``. We never create a second sidecar next to one that
already exists, a RAW+JPEG pair shares the raw's sidecar, and an Adobe-style
sidecar that says (photoshop:SidecarForExtension) it serves another image is
not taken over. The rules are listed in README.md next to this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from xmpcull.models import format_for_extension
from xmpcull.sidecar.fields import Naming

# photoshop:SidecarForExtension as an attribute or an element, read without a full parse:
# the file may be hostile, and we only need one short word.
_SFE = re.compile(rb"SidecarForExtension\s*(?:=\s*[\"']|>)\s*([A-Za-z0-9]{1,8})")
_SFE_SCAN_BYTES = 1024 * 1024


def adobe_path(image: Path) -> Path:
    return image.with_suffix(".xmp")


def darktable_path(image: Path) -> Path:
    return image.with_name(image.name + ".xmp")


def owner_image(image: Path, companions: Iterable[Path] = ()) -> Path:
    """The file whose sidecar this image uses: the raw of a RAW+JPEG pair, else itself."""
    if _is_raw(image):
        return image
    raws = sorted(c for c in companions if c.stem == image.stem and c.parent == image.parent and _is_raw(c))
    if raws:
        return raws[0]
    return image


def sidecar_path_for(image: Path, companions: Iterable[Path] = (), naming: Naming = "adobe") -> Path:
    """The sidecar to read and write for ``image`` (it may not exist yet)."""
    owner = owner_image(image, companions)
    adobe = _existing_variant(adobe_path(owner))
    darktable = _existing_variant(darktable_path(owner))
    adobe_is_ours = adobe is not None and _serves(adobe, owner)
    if adobe is not None and not adobe_is_ours:
        other = declared_extension(adobe)
        if other and not _is_raw(owner) and _sibling_is_raw(owner, other):
            return adobe  # X.jpg next to X.CR2: the pair shares the raw's sidecar
    if naming == "adobe":
        if adobe_is_ours:
            return adobe  # type: ignore[return-value]
        if darktable is not None:
            return darktable
        return darktable_path(owner) if adobe is not None else adobe_path(owner)
    if darktable is not None:
        return darktable
    if adobe_is_ours:
        return adobe  # type: ignore[return-value]
    return darktable_path(owner)


def own_sidecar_path(image: Path) -> Path:
    """``image``'s own darktable-style sidecar (IMG.JPG.xmp), whether or not it shares another."""
    return _existing_variant(darktable_path(image)) or darktable_path(image)


def own_sidecar_files(image: Path, companions: Iterable[Path] = (), naming: Naming = "adobe") -> list[Path]:
    """The files of a RAW+JPEG shot that need a sidecar of their own besides the one the shot shares.

    darktable and digiKam show the JPEG of a pair as a photo of its own and read IMG.JPG.xmp
    for it, so under darktable naming it gets one. Lightroom shows the pair as one photo (the
    raw) and reads IMG.xmp; for a JPEG it reads embedded XMP only, so under adobe naming the
    pair shares IMG.xmp and nothing else is written (docs/xmp-schema.md, "Which apps read what").
    """
    if naming != "darktable":
        return []
    owner = owner_image(image, companions)
    shared = sidecar_path_for(image, companions, naming)
    shot = dict.fromkeys((image, *companions))
    return [
        f for f in shot
        if f != owner and f.parent == owner.parent and f.stem == owner.stem and not _is_raw(f)
        and own_sidecar_path(f) != shared
    ]


def declared_extension(sidecar: Path) -> str | None:
    """photoshop:SidecarForExtension of a sidecar, upper-case, or None."""
    try:
        with open(sidecar, "rb") as handle:
            head = handle.read(_SFE_SCAN_BYTES)
    except OSError:
        return None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="replace").encode("utf-8", errors="replace")
    match = _SFE.search(head)
    return match.group(1).decode("ascii").upper() if match else None


def _serves(sidecar: Path, image: Path) -> bool:
    declared = declared_extension(sidecar)
    return declared is None or declared == image.suffix.lstrip(".").upper()


def _existing_variant(path: Path) -> Path | None:
    """``path`` or its upper-case-extension twin (IMG_1.XMP) when it exists."""
    for candidate in (path, path.with_name(path.name[: -len(".xmp")] + ".XMP")):
        if candidate.is_file():
            return candidate
    return None


def _sibling_is_raw(image: Path, extension: str) -> bool:
    if format_for_extension(extension) != "raw":
        return False
    return any(image.with_suffix(f".{ext}").is_file() for ext in (extension, extension.lower()))


def _is_raw(path: Path) -> bool:
    return format_for_extension(path.suffix) == "raw"
