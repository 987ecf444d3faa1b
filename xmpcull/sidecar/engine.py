"""Read and write one image's XMP: the entry points every command uses.

A write is read (sidecar, else the image's embedded XMP as a seed) -> merge ->
compare -> atomic replace. Nothing is written when our merge changes nothing,
which is what makes a second run byte-identical.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from xmpcull import __version__
from xmpcull.errors import READ_ONLY_STAGE, FileFailure, SidecarError, XmpcullError
from xmpcull.models import format_for_extension
from xmpcull.scan.generation.containers import read_container
from xmpcull.sidecar import packet
from xmpcull.sidecar.atomic import atomic_write, is_read_only
from xmpcull.sidecar.embedded import read_embedded_xmp, write_embedded_xmp
from xmpcull.sidecar.fields import (
    CropFields,
    DecisionFields,
    FileStamp,
    Naming,
    SidecarState,
    SidecarUpdate,
    WriteOptions,
    WriteResult,
)
from xmpcull.sidecar.merge import apply_update, stamp_engine
from xmpcull.sidecar.naming import own_sidecar_files, own_sidecar_path, owner_image, sidecar_path_for
from xmpcull.sidecar.packet import NS_PHOTOSHOP, XMPMeta
from xmpcull.sidecar.safety import load_packet, read_limited
from xmpcull.sidecar.state import canonical, state_from_meta

Clock = Callable[[], dt.datetime]
_NOT_FETCHED = object()


@dataclass(frozen=True)
class SidecarItem:
    """One write in a batch: the image, what to write, and its RAW+JPEG companions."""

    image: Path
    update: SidecarUpdate
    companions: tuple[Path, ...] = ()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def read_sidecar(
    image: Path, companions: Iterable[Path] = (), naming: Naming = "adobe", *, include_embedded: bool = True
) -> SidecarState:
    """What the image's sidecar says (or its embedded XMP when there is no sidecar)."""
    image = Path(image)
    path = sidecar_path_for(image, tuple(companions), naming)
    if path.exists():
        return state_from_meta(_load_sidecar(path), str(path), "sidecar")
    if include_embedded:
        embedded = read_embedded_xmp([image]).get(image)
        if embedded:
            return state_from_meta(_load_embedded(embedded, image), None, "embedded")
    return SidecarState(path=None, source="none")


def write_sidecar(
    image: Path,
    update: SidecarUpdate,
    options: WriteOptions = WriteOptions(),
    *,
    companions: Iterable[Path] = (),
    clock: Clock = _utc_now,
    engine_version: str = __version__,
    embedded_xmp: object = _NOT_FETCHED,
    companion_xmp: Mapping[Path, object] | None = None,
) -> WriteResult:
    """Merge ``update`` into the image's XMP; raise SidecarError and leave files alone on failure.

    ``embedded_xmp`` lets a batch pass the packet it already fetched (bytes or None), and
    ``companion_xmp`` those of the companions that get a sidecar of their own.
    Under darktable naming the JPEG of a RAW+JPEG pair is a photo of its own in darktable
    and digiKam, which read ``IMG.JPG.xmp``: it gets the shot's update there too.
    """
    image = Path(image)
    companions = tuple(companions)
    path = sidecar_path_for(image, companions, options.naming)
    result = _write_file(image, update, options, path, owner_image(image, companions), clock, engine_version, embedded_xmp)
    for other in own_sidecar_files(image, companions, options.naming):
        try:
            extra = _write_file(other, update, options, own_sidecar_path(other), other, clock, engine_version,
                                (companion_xmp or {}).get(other, _NOT_FETCHED))
        except SidecarError as exc:
            raise SidecarError(f"{result.path} is written, not the sidecar of {other.name} ({exc.reason})", exc.paths) from exc
        result = _joined(result, extra)
    return result


def _joined(shared: WriteResult, own: WriteResult) -> WriteResult:
    """One result for a shot whose files have two sidecars: the shared one's path, both files' changes."""
    return replace(
        shared,
        changed=shared.changed or own.changed,
        kept_user_values=shared.kept_user_values + tuple(f"{own.path}: {v}" for v in own.kept_user_values),
        changes=shared.changes + tuple(f"{own.path}: {c}" for c in own.changes),
        warnings=shared.warnings + tuple(f"{own.path}: {w}" for w in own.warnings),
    )


def _write_file(
    image: Path,
    update: SidecarUpdate,
    options: WriteOptions,
    path: Path,
    owner: Path,
    clock: Clock,
    engine_version: str,
    embedded_xmp: object,
) -> WriteResult:
    """Merge ``update`` into ``path``, the sidecar of ``image`` that serves ``owner`` (or into the image itself)."""
    require_image(image)
    refusals: tuple[str, ...] = ()
    if options.embed and _can_embed(image):
        if options.embed_over_c2pa or not has_c2pa_manifest(image):
            return _write_embedded(image, update, options, clock, engine_version, embedded_xmp)
        refusals = (C2PA_REFUSAL,)
    owner_ext = owner.suffix.lstrip(".").upper()

    def finish(target: XMPMeta) -> None:
        if packet.get(target, NS_PHOTOSHOP, "SidecarForExtension") is None:
            target.set_property(NS_PHOTOSHOP, "SidecarForExtension", owner_ext)

    notes: list[str] = []
    for _ in range(WRITE_ATTEMPTS):
        base = _read_base(path)
        meta, merged_update, seed_warnings = _starting_point(base, path, image, update, embedded_xmp)
        warnings = refusals + seed_warnings
        result, data = _merge(meta, merged_update, options, clock, engine_version, path, finish, packet.serialize)
        if data is None:
            return _with_warnings(result, warnings + tuple(notes))
        require_image(image)  # again just before the write: the merge took time
        written, kept = atomic_write(path, data, base)
        if kept is not None:
            notes.append(f"another application saved it twice while we wrote; its other version is kept as {kept.name}")
        if written:
            return _with_warnings(result, warnings + tuple(notes))
    raise SidecarError(
        f"another application saved it during each of {WRITE_ATTEMPTS} attempts to merge; left as that "
        "application saved it (run again to add xmpcull's fields)" + "".join(f"; {n}" for n in (*refusals, *notes)),
        [path],
    )


WRITE_ATTEMPTS = 5  # re-read and re-merge this often when another program saves the sidecar meanwhile
SKIPPED = "skipped, no sidecar written"


def require_image(image: Path) -> None:
    """The image must still be a file: one deleted, or replaced by a folder, since the scan gets no
    sidecar (an orphan X.xmp would outlive it and claim facts about a file that is not there)."""
    try:
        mode = os.stat(image).st_mode
    except FileNotFoundError:
        raise SidecarError(f"the image was deleted during the run; {SKIPPED}", [image]) from None
    except OSError as exc:
        raise SidecarError(f"the image cannot be checked ({exc.strerror}); {SKIPPED}", [image]) from exc
    if stat.S_ISDIR(mode):
        raise SidecarError(f"the image was replaced by a folder during the run; {SKIPPED}", [image])
    if not stat.S_ISREG(mode):
        raise SidecarError(f"the image is no longer a regular file; {SKIPPED}", [image])


def _read_base(path: Path) -> bytes | None:
    """The sidecar's bytes as they are now (None: no sidecar); the merge starts from exactly these."""
    if not path.exists():
        return None
    try:
        return read_limited(path)
    except SidecarError:
        if not path.exists():  # removed between the check and the read
            return None
        raise


def _starting_point(
    base: bytes | None, path: Path, image: Path, update: SidecarUpdate, embedded_xmp: object
) -> tuple[XMPMeta, SidecarUpdate, tuple[str, ...]]:
    """The tree to merge into (the sidecar, else the image's XMP) and the update that may go in."""
    if base is not None:
        return packet.parse(load_packet(base, path), path), update, ()
    try:
        return _seed_from_image(image, embedded_xmp), update, ()
    except SidecarError as exc:
        # The image's own XMP is broken (old editors write some Exempi refuses). The image
        # is never touched here, so a new sidecar can still carry what we found; but the
        # user's rating, label or crop may sit in that unreadable XMP, so we propose none.
        warning = f"{exc.reason}: sidecar written without a proposed rating, label or crop"
        return packet.new_meta(), _without_user_decisions(update), (warning,)


def _with_warnings(result: WriteResult, warnings: tuple[str, ...]) -> WriteResult:
    return replace(result, warnings=warnings) if warnings else result


def _without_user_decisions(update: SidecarUpdate) -> SidecarUpdate:
    """``update`` minus what would stand in for the user's own rating, label and crop."""
    decision = update.decision
    if isinstance(decision, DecisionFields):
        decision = replace(decision, rating=None, label=None)
    crop = update.crop
    if isinstance(crop, CropFields) and crop.applied is not None:
        crop = CropFields(crop.proposals, None)
    return replace(update, decision=decision, crop=crop)


def write_each(
    items: Iterable[SidecarItem | tuple[Path, SidecarUpdate]],
    options: WriteOptions = WriteOptions(),
    *,
    clock: Clock = _utc_now,
    engine_version: str = __version__,
) -> list[WriteResult | FileFailure]:
    """Write many sidecars; one entry per item, in order: its result, or the failure that left it untouched."""
    work = [item if isinstance(item, SidecarItem) else SidecarItem(Path(item[0]), item[1]) for item in items]
    read_only: dict[Path, bool] = {}  # folder -> whether we may not write there, checked once per folder
    for item in work:
        folder = item.image.parent
        if folder not in read_only:
            read_only[folder] = is_read_only(folder)
    embedded = _prefetch_embedded([item for item in work if not read_only[item.image.parent]], options)
    out: list[WriteResult | FileFailure] = []
    for item in work:
        if read_only[item.image.parent]:
            # The whole folder is (an archive, a mounted card): one line per folder at the CLI, not a failed file.
            out.append(FileFailure(str(item.image), READ_ONLY_STAGE, "folder is read-only, no sidecar written"))
            continue
        try:
            out.append(
                write_sidecar(
                    item.image,
                    item.update,
                    options,
                    companions=item.companions,
                    clock=clock,
                    engine_version=engine_version,
                    embedded_xmp=embedded.get(item.image, _NOT_FETCHED),
                    companion_xmp=embedded,
                )
            )
        except XmpcullError as exc:
            out.append(FileFailure(str(item.image), "sidecar", str(exc)))
        except (OSError, ValueError) as exc:  # unexpected, but one file must not stop the run
            out.append(FileFailure(str(item.image), "sidecar", f"{type(exc).__name__}: {exc}"))
    return out


def write_sidecars(
    items: Iterable[SidecarItem | tuple[Path, SidecarUpdate]],
    options: WriteOptions = WriteOptions(),
    *,
    clock: Clock = _utc_now,
    engine_version: str = __version__,
) -> tuple[list[WriteResult], list[FileFailure]]:
    """Write many sidecars; a bad file becomes a FileFailure and the batch goes on."""
    outcomes = write_each(items, options, clock=clock, engine_version=engine_version)
    return (
        [o for o in outcomes if isinstance(o, WriteResult)],
        [o for o in outcomes if isinstance(o, FileFailure)],
    )


# --- internals ------------------------------------------------------------------


def _merge(
    meta: XMPMeta,
    update: SidecarUpdate,
    options: WriteOptions,
    clock: Clock,
    engine_version: str,
    target: Path,
    finish: Callable[[XMPMeta], None],
    serializer: Callable[[XMPMeta], bytes],
) -> tuple[WriteResult, bytes | None]:
    """Apply the update; return the result and the bytes to write (None: nothing to write)."""
    before = packet.snapshot(meta)
    try:
        outcome = apply_update(meta, update, options)
    except packet.XMPError as exc:
        raise SidecarError(f"Exempi refused the merge ({exc})", [target]) from exc
    kept = tuple(outcome.kept_user_values)
    if canonical(packet.snapshot(meta)) == canonical(before):
        return WriteResult(str(target), False, kept, ()), None
    finish(meta)
    stamp_engine(meta, engine_version, clock())
    changes = packet.diff_lines(before, packet.snapshot(meta))
    result = WriteResult(str(target), True, kept, changes)
    return result, None if options.dry_run else serializer(meta)


def _write_embedded(
    image: Path,
    update: SidecarUpdate,
    options: WriteOptions,
    clock: Clock,
    engine_version: str,
    embedded_xmp: object,
) -> WriteResult:
    meta = _seed_from_image(image, embedded_xmp)
    result, data = _merge(meta, update, options, clock, engine_version, image, lambda _: None, packet.serialize_packet)
    if data is not None:
        before = _stamp(image)
        write_embedded_xmp(image, data)
        result = replace(result, embedded_over=(before, _stamp(image)))
    return result


def _stamp(image: Path) -> FileStamp:
    info = os.stat(image)
    return info.st_size, info.st_mtime_ns


C2PA_REFUSAL = (
    "not embedded: the file carries a C2PA manifest (Content Credentials) whose signature covers its bytes, "
    "so writing XMP into it would make the manifest invalid; wrote the sidecar instead (--embed-over-c2pa to embed anyway)"
)


def has_c2pa_manifest(image: Path) -> bool:
    fmt = format_for_extension(image.suffix)
    return fmt is not None and read_container(image, fmt).c2pa


def _can_embed(image: Path) -> bool:
    # Proprietary raws get sidecars even in embed mode (Lightroom reads theirs from the
    # sidecar); DNG carries its XMP inside like JPEG/TIFF.
    return format_for_extension(image.suffix) != "raw" or image.suffix.upper() == ".DNG"


def _load_sidecar(path: Path) -> XMPMeta:
    text = load_packet(read_limited(path), path)
    return packet.parse(text, path)


def _load_embedded(data: bytes, image: Path) -> XMPMeta:
    origin = f"{image} (embedded XMP)"
    return packet.parse(load_packet(data, origin), origin)


def _seed_from_image(image: Path, embedded_xmp: object) -> XMPMeta:
    """A new sidecar starts as a copy of the image's own XMP, so its rating/label/crop count as the user's."""
    data = read_embedded_xmp([image]).get(image) if embedded_xmp is _NOT_FETCHED else embedded_xmp
    if not data:
        return packet.new_meta()
    assert isinstance(data, bytes)
    return _load_embedded(data, image)


def _prefetch_embedded(work: list[SidecarItem], options: WriteOptions) -> dict[Path, object]:
    """One exiftool call for every image that has no sidecar yet (or is embedded into)."""
    needed = []
    for item in work:
        try:
            needed += [other for other in own_sidecar_files(item.image, item.companions, options.naming)
                       if (options.embed and _can_embed(other)) or not own_sidecar_path(other).exists()]
        except OSError:
            pass
        if options.embed and _can_embed(item.image):
            needed.append(item.image)
            continue
        try:
            if not sidecar_path_for(item.image, item.companions, options.naming).exists():
                needed.append(item.image)
        except OSError:
            continue
    if not needed:
        return {}
    try:
        return dict(read_embedded_xmp(needed))
    except XmpcullError:
        return {}  # each write will fetch (and report) on its own
