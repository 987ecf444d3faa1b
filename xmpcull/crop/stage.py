"""The crop stage of a run: proposals for many analysed images, in parallel, ready for sidecars.

In ``xmpcull run`` the analysis worker runs the search on its own (colour)
decode (``ProposeWhileDecoded``) and this stage reads the cache; otherwise
each image is decoded again, small and in displayed orientation, with the same
decoder analysis uses (RAW files through their embedded preview), because the
analysis cache keeps features, not pixels. The orientation is the one Lightroom
will apply: the sidecar's ``tiff:Orientation`` when it has one, else EXIF
(``Metadata.orientation`` already prefers the sidecar's); the crs edges are
converted with it, and the pixels searched are oriented with it too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from xmpcull.analyse.cache import AnalysisCache
from xmpcull.analyse.decode import ORIENTATION_TRANSPOSE, Decoded, apply_orientation
from xmpcull.analyse.decode import decoder_orientation as decoder_orientation_of
from xmpcull.analyse.worker import DerivedRow, Job, decode
from xmpcull.crop.cues import compute_cues
from xmpcull.crop.geometry import Box, display_box_to_crs, parse_aspect
from xmpcull.crop.preview import write_preview
from xmpcull.crop.proposer import propose_crops
from xmpcull.decide.quality import face_sharpness
from xmpcull.errors import XmpcullError
from xmpcull.models import CropEdges, ImageFile, ImageRecord, format_for_extension
from xmpcull.parallel import bounded_map, fork_pool
from xmpcull.progress import NullProgress, Progress
from xmpcull.sidecar.fields import CropFields, WriteResult
from xmpcull.sidecar.fields import CropProposal as SidecarProposal

CHUNK = 4  # images per worker task: a task is ~50 ms, enough to amortise the pickling

# Why a proposal is not the applied crop (report values).
NOT_APPLY_ASPECT = "not the apply aspect"
BELOW_THRESHOLD = "below threshold"
USER_CROP_KEPT = "user crop kept"
NOT_WRITTEN = "not written (--no-write)"
SIDECAR_NOT_WRITTEN = "sidecar not written"

# Inverse of each stored -> displayed transposition (rotations by 90 degrees swap, the rest are involutions).
_UNDO_TRANSPOSE = {
    o: {Image.Transpose.ROTATE_270: Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_90: Image.Transpose.ROTATE_270}.get(t, t)
    for o, t in ORIENTATION_TRANSPOSE.items()
}


@dataclass(frozen=True)
class ProposalOutcome:
    """One aspect's proposal for one image, on the full displayed image."""

    aspect: str
    box: Box  # displayed full-resolution pixels
    crs: CropEdges  # Camera Raw edges of the stored frame
    confidence: float
    applied: bool = False
    not_applied_reason: str | None = None  # set when applied is False

    def to_dict(self) -> dict[str, object]:
        return {
            "aspect": self.aspect,
            "box": self.box.to_list(),
            "crs": {"left": self.crs.left, "top": self.crs.top, "right": self.crs.right, "bottom": self.crs.bottom},
            "confidence": round(self.confidence, 4),
            "applied": self.applied,
            "not_applied_reason": self.not_applied_reason,
        }


@dataclass(frozen=True)
class CropOutcome:
    """Everything the crop stage found for one image, or why it could not."""

    path: Path
    orientation: int = 1  # the orientation the crs edges were computed for
    display_size: tuple[int, int] | None = None  # (w, h) of the full displayed image
    proposals: tuple[ProposalOutcome, ...] = ()
    faces: tuple[Box, ...] = ()  # head boxes, displayed full-resolution pixels
    face_sharpness: float | None = None  # 0..1, of the sharpest face (xmpcull.decide.quality.face_sharpness)
    preview: Path | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def face_count(self) -> int:
        return len(self.faces)

    @property
    def applied(self) -> ProposalOutcome | None:
        return next((p for p in self.proposals if p.applied), None)

    @property
    def confidence(self) -> float | None:
        """Confidence of the applied proposal, else of the first one."""
        chosen = self.applied or (self.proposals[0] if self.proposals else None)
        return chosen.confidence if chosen else None

    def with_applied_withdrawn(self, reason: str) -> CropOutcome:
        """The same outcome with the applied proposal marked as not applied for ``reason``."""
        return replace(
            self,
            proposals=tuple(
                replace(p, applied=False, not_applied_reason=reason) if p.applied else p for p in self.proposals
            ),
        )


@dataclass(frozen=True)
class _CropJob:
    """What a worker needs for one image (picklable)."""

    decode_job: Job
    orientation: int  # Lightroom's: the sidecar's tiff:Orientation, else EXIF
    stored_size: tuple[int, int] | None  # from metadata, before orientation
    aspects: tuple[str, ...]
    apply_aspect: str
    apply_threshold: float
    preview: Path | None
    # Analysis's face boxes ([0, 1] of the decoder's displayed frame); None: not looked for.
    faces: tuple[tuple[float, float, float, float], ...] | None = None
    detect: bool = True  # faces are a cue ([analysis] faces); False: no detector, no person mask


def choose_applied(
    proposals: Sequence[ProposalOutcome], apply_aspect: str, apply_threshold: float
) -> tuple[ProposalOutcome, ...]:
    """Mark the proposal of ``apply_aspect`` applied when its confidence reaches the threshold (pure)."""
    out = []
    for p in proposals:
        if p.aspect != apply_aspect:
            out.append(replace(p, applied=False, not_applied_reason=NOT_APPLY_ASPECT))
        elif p.confidence < apply_threshold:
            out.append(replace(p, applied=False, not_applied_reason=BELOW_THRESHOLD))
        else:
            out.append(replace(p, applied=True, not_applied_reason=None))
    return tuple(out)


def _reorient(image: Image.Image, applied_by_decoder: int, wanted: int) -> Image.Image:
    """Turn an image oriented by ``applied_by_decoder`` into one oriented by ``wanted``."""
    if applied_by_decoder == wanted:
        return image
    undo = _UNDO_TRANSPOSE.get(applied_by_decoder)
    stored = image.transpose(undo) if undo is not None else image
    return apply_orientation(stored, wanted)


def _display_size(job: _CropJob, decoded_full: tuple[int, int], decoder_orientation: int) -> tuple[int, int]:
    """Full displayed (w, h) under Lightroom's orientation."""
    if job.stored_size is not None:
        sw, sh = job.stored_size
    else:  # undo the decoder's swap to get the stored size back
        sw, sh = decoded_full[::-1] if decoder_orientation in (5, 6, 7, 8) else decoded_full
    return (sh, sw) if job.orientation in (5, 6, 7, 8) else (sw, sh)


def _scale_box(box: Box, sx: float, sy: float, w: int, h: int) -> Box:
    return Box(round(box.x0 * sx), round(box.y0 * sy), round(box.x1 * sx), round(box.y1 * sy)).clip(w, h)


def _known_faces(job: _CropJob, decoder_orientation: int, shape: tuple[int, ...]) -> list[Box] | None:
    """Analysis's faces in the pixels of ``rgb``, when they were found in the same frame.

    Analysis looked on this decoder's picture; after a turn to Lightroom's orientation
    (a sidecar that overrides EXIF) its boxes no longer fit, and the detector runs again.
    """
    if job.faces is None or decoder_orientation != job.orientation:
        return None
    h, w = shape[:2]
    return [Box(round(x0 * w), round(y0 * h), round(x1 * w), round(y1 * h)).clip(w, h) for x0, y0, x1, y1 in job.faces]


def propose_one(job: _CropJob, decoded: Decoded | None = None) -> CropOutcome:
    """Proposals for one image; never raises (the error becomes ``CropOutcome.error``).

    ``decoded``: the picture already decoded for ``job.decode_job`` in colour (analysis
    hands it over, see ``ProposeWhileDecoded``); else it is decoded here.
    """
    path = job.decode_job.path
    try:
        if decoded is None:
            decoded = decode(job.decode_job, mode="RGB")
        # RAW previews are oriented with job.orientation already; rendered files by their EXIF.
        decoder_orientation = decoder_orientation_of(path, job.decode_job.format, job.orientation)
        image = _reorient(decoded.image, decoder_orientation, job.orientation)
        rgb = np.asarray(image.convert("RGB"))
        display_w, display_h = _display_size(job, (decoded.full_width, decoded.full_height), decoder_orientation)
        known = _known_faces(job, decoder_orientation, rgb.shape) if job.detect else None
        cues = compute_cues(rgb, detect=job.detect, known_faces=known)
        raw_proposals = propose_crops(rgb, job.aspects, cues=cues)
        proposals = []
        for p in raw_proposals:
            box = p.to_display(display_w, display_h)
            crs = display_box_to_crs(box, display_w, display_h, job.orientation)
            proposals.append(ProposalOutcome(p.aspect, box, crs, p.confidence))
        sx, sy = display_w / rgb.shape[1], display_h / rgb.shape[0]
        faces = tuple(_scale_box(f, sx, sy, display_w, display_h) for f in cues.faces)
        # Measured here, on the pixels already decoded, so the quality stage needs no second decode.
        sharp_face = face_sharpness(rgb, cues.face_boxes) if cues.face_boxes else None
        preview = write_preview(rgb, raw_proposals, job.preview) if job.preview is not None else None
        return CropOutcome(
            path=path,
            orientation=job.orientation,
            display_size=(display_w, display_h),
            proposals=choose_applied(proposals, job.apply_aspect, job.apply_threshold),
            faces=faces,
            face_sharpness=sharp_face,
            preview=preview,
        )
    except XmpcullError as exc:
        return CropOutcome(path=path, orientation=job.orientation, error=exc.reason)
    except OSError as exc:
        return CropOutcome(path=path, orientation=job.orientation, error=f"cannot read file: {exc.strerror or exc}")
    except Exception as exc:  # noqa: BLE001 - one bad file must not end the run
        return CropOutcome(path=path, orientation=job.orientation, error=f"unexpected {type(exc).__name__}: {exc}")


def _init_worker() -> None:
    # Images already run in parallel, one per process: OpenCV's own threads would only
    # oversubscribe the cores.
    cv2.setNumThreads(1)


def _propose_chunk(jobs: list[_CropJob]) -> list[CropOutcome]:
    return [propose_one(job) for job in jobs]


def _propose_indexed(item: tuple[list[int], list[_CropJob]]) -> list[CropOutcome]:
    return _propose_chunk(item[1])


def _job_for(
    record: ImageRecord, aspects: tuple[str, ...], apply_aspect: str, apply_threshold: float, preview: Path | None,
    faces: bool = True,
) -> _CropJob:
    meta = record.metadata
    stored = (meta.stored_width, meta.stored_height) if meta.stored_width and meta.stored_height else None
    return _CropJob(
        decode_job=Job(path=record.file.path, format=record.file.format, orientation=meta.orientation, full_size=meta.display_size),
        orientation=meta.orientation,
        stored_size=stored,
        aspects=aspects,
        apply_aspect=apply_aspect,
        apply_threshold=apply_threshold,
        preview=preview,
        faces=None if record.features is None or record.features.faces is None
        else tuple(f.box for f in record.features.faces),
        detect=faces,
    )


def preview_paths(records: Sequence[ImageRecord], preview_dir: Path) -> list[Path]:
    """One preview JPEG per record under ``preview_dir``, mirroring the root-relative path, never two alike."""
    used: set[Path] = set()
    out = []
    for record in records:
        base = preview_dir / f"{record.file.relpath}.jpg"
        candidate, n = base, 1
        while candidate in used:  # the same relative path under two roots
            n += 1
            candidate = base.with_name(f"{base.stem}-{n}.jpg")
        used.add(candidate)
        out.append(candidate)
    return out


def propose_for_records(
    records: Sequence[ImageRecord],
    aspects: Sequence[str],
    *,
    apply_aspect: str | None = None,
    apply_threshold: float = 0.8,
    jobs: int | None = None,
    progress: Progress | None = None,
    preview_dir: Path | None = None,
    cache_path: Path | None = None,
    faces: bool = True,
) -> list[CropOutcome]:
    """One ``CropOutcome`` per record, in order; records that failed analysis come back as errors.

    ``apply_aspect`` defaults to the first aspect; it must be one of ``aspects``.
    With ``cache_path``, proposals are kept in the analysis cache by content digest,
    orientation and aspects, so a re-run on unchanged files decodes nothing
    (previews still need the pixels, so ``preview_dir`` bypasses the cache).
    ``faces=False`` ([analysis] faces): faces are no cue (no detector, no person mask).
    """
    canonical = canonical_aspects(aspects)
    apply = str(parse_aspect(apply_aspect)) if apply_aspect else canonical[0]
    if apply not in canonical:
        raise ValueError(f"apply aspect {apply} is not one of the aspects {', '.join(canonical)}")
    if not 0.0 <= apply_threshold <= 1.0:
        raise ValueError("apply_threshold must be within 0..1")
    progress = progress or NullProgress()
    previews: list[Path | None] = list(preview_paths(records, preview_dir)) if preview_dir else [None] * len(records)
    outcomes: list[CropOutcome | None] = [None] * len(records)
    keys = [_cache_key(r, canonical, faces) for r in records]
    use_cache = cache_path is not None and preview_dir is None
    cached = _load_cached(cache_path, [k for k in keys if k]) if use_cache else {}
    todo: list[int] = []
    for i, record in enumerate(records):
        if not record.ok:
            outcomes[i] = CropOutcome(path=record.file.path, orientation=record.metadata.orientation, error=record.error or "not analysed")
        elif keys[i] in cached:
            outcomes[i] = _outcome_from_cache(record, cached[keys[i]], apply, apply_threshold)
        else:
            todo.append(i)
    progress.start(len(records), "Proposing crops")
    progress.advance(len(records) - len(todo))
    chunks = [todo[c : c + CHUNK] for c in range(0, len(todo), CHUNK)]
    job_chunks = [[_job_for(records[i], canonical, apply, apply_threshold, previews[i], faces) for i in chunk] for chunk in chunks]
    workers = max(1, min(jobs or os.cpu_count() or 1, len(chunks)))
    if workers == 1:
        # One OpenCV thread here too, as in the pool: its threaded reductions round differently,
        # and a crop confidence must not depend on how many files this run had to do.
        cv2.setNumThreads(1)
        for chunk, job_list in zip(chunks, job_chunks):
            _place(outcomes, chunk, _propose_chunk(job_list), progress)
    else:
        with fork_pool(workers, _init_worker) as pool:
            for (chunk, _), result in bounded_map(pool, _propose_indexed, zip(chunks, job_chunks), workers):
                _place(outcomes, chunk, result, progress)
    progress.finish()
    if use_cache and todo:
        _save_cached(cache_path, [(keys[i], outcomes[i]) for i in todo])
    return [o for o in outcomes if o is not None]


CROP_CACHE_KIND = "crop-proposals-7"  # bump when proposals change (7: the person mask joined the cues)


def canonical_aspects(aspects: Sequence[str]) -> tuple[str, ...]:
    """The aspects as the cache keys them: parsed, written one way, duplicates dropped."""
    if not aspects:
        raise ValueError("at least one aspect is needed")
    return tuple(dict.fromkeys(str(parse_aspect(a)) for a in aspects))


@dataclass(frozen=True)
class ProposeWhileDecoded:
    """The crop search run by the analysis worker on the picture it just decoded (in colour).

    A run then decodes each image once: the crop stage finds these proposals in the
    cache under the key it would have used. The applied choice is not made here: the
    cache keeps proposals, and the stage applies its threshold when reading them.
    """

    aspects: tuple[str, ...]
    faces: bool = True  # see propose_for_records
    mode: str = "RGB"

    def wants(self, image: ImageFile) -> bool:
        # The JPEG of a RAW+JPEG pair: the RAW's crop is the one that counts.
        return image.format == "raw" or not any(format_for_extension(c.suffix) == "raw" for c in image.companions)

    def __call__(self, record: ImageRecord, decoded: Decoded) -> list[DerivedRow]:
        key = _cache_key(record, self.aspects, self.faces)
        outcome = propose_one(_job_for(record, self.aspects, self.aspects[0], 1.0, None, self.faces), decoded)
        return [(CROP_CACHE_KIND, key, _outcome_to_cache(outcome))] if key and outcome.ok else []


def _cache_key(record: ImageRecord, aspects: tuple[str, ...], faces: bool = True) -> str | None:
    if record.features is None:
        return None
    meta = record.metadata
    key = f"{record.features.digest}|o{meta.orientation}|{meta.stored_width}x{meta.stored_height}|{','.join(aspects)}"
    return key if faces else key + "|no-faces"  # proposals made without faces as a cue are others


def _load_cached(cache_path: Path | None, keys: list[str]) -> dict[str, dict[str, object]]:
    if cache_path is None or not cache_path.exists():
        return {}
    try:
        with AnalysisCache(cache_path) as cache:
            return cache.get_derived(CROP_CACHE_KIND, keys)
    except XmpcullError:
        return {}  # a cache problem costs time, never results


def _save_cached(cache_path: Path | None, items: list[tuple[str | None, CropOutcome | None]]) -> None:
    rows = [(key, _outcome_to_cache(o)) for key, o in items if key and o is not None and o.ok]
    if cache_path is None or not rows:
        return
    try:
        with AnalysisCache(cache_path) as cache:
            cache.put_derived(CROP_CACHE_KIND, rows)
    except XmpcullError:
        pass


def _outcome_to_cache(outcome: CropOutcome) -> dict[str, object]:
    return {
        "orientation": outcome.orientation,
        "display_size": list(outcome.display_size) if outcome.display_size else None,
        "proposals": [
            {"aspect": p.aspect, "box": p.box.to_list(), "crs": [p.crs.left, p.crs.top, p.crs.right, p.crs.bottom], "confidence": p.confidence}
            for p in outcome.proposals
        ],
        "faces": [f.to_list() for f in outcome.faces],
        "face_sharpness": outcome.face_sharpness,
    }


def _outcome_from_cache(record: ImageRecord, data: dict[str, object], apply_aspect: str, apply_threshold: float) -> CropOutcome:
    proposals = tuple(
        ProposalOutcome(p["aspect"], Box(*p["box"]), CropEdges(*p["crs"]), p["confidence"])  # type: ignore[index]
        for p in data["proposals"]  # type: ignore[union-attr]
    )
    size = data["display_size"]
    return CropOutcome(
        path=record.file.path,
        orientation=int(data["orientation"]),  # type: ignore[arg-type]
        display_size=(int(size[0]), int(size[1])) if size else None,  # type: ignore[index]
        proposals=choose_applied(proposals, apply_aspect, apply_threshold),
        faces=tuple(Box(*f) for f in data["faces"]),  # type: ignore[union-attr]
        face_sharpness=data["face_sharpness"],  # type: ignore[arg-type]
    )


def _place(outcomes: list[CropOutcome | None], chunk: list[int], results: list[CropOutcome], progress: Progress) -> None:
    for i, outcome in zip(chunk, results):
        outcomes[i] = outcome
    progress.advance(len(chunk))


def crop_fields(outcome: CropOutcome) -> CropFields | None:
    """The sidecar's crop section for one outcome (None for a failed image: leave its sidecar alone)."""
    if not outcome.ok or not outcome.proposals:
        return None
    applied = outcome.applied
    return CropFields(
        proposals=tuple(
            SidecarProposal(p.aspect, p.crs.left, p.crs.top, p.crs.right, p.crs.bottom, p.confidence)
            for p in outcome.proposals
        ),
        applied=applied.crs if applied else None,
    )


def settle(outcome: CropOutcome, result: WriteResult | None, written: bool) -> CropOutcome:
    """The outcome as it ended up in the sidecar: an applied crop the user's own crop kept out is not applied."""
    if outcome.applied is None:
        return outcome
    if not written:
        return outcome.with_applied_withdrawn(NOT_WRITTEN)
    if result is None:  # the write failed, or the pair's RAW carries the shared sidecar
        return outcome.with_applied_withdrawn(SIDECAR_NOT_WRITTEN)
    if any(v.startswith("crs:Crop=") for v in result.kept_user_values):
        return outcome.with_applied_withdrawn(USER_CROP_KEPT)
    return outcome
