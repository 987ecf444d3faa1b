"""Merge one SidecarUpdate into a parsed XMP tree.

Precedence (see README.md here): the user's rating/label/crop beat ours unless
an overwrite option says otherwise; a value still equal to what we recorded
(RatingSet, LabelSet, CropApplied) is ours and may be replaced or removed;
every property we do not own is left exactly as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from xmpcull.models import CropEdges
from xmpcull.sidecar import generation, packet, regions
from xmpcull.sidecar.fields import (
    CLEAR,
    NO_CROP,
    BurstFields,
    Clear,
    CropFields,
    CropProposal,
    DecisionFields,
    DupeFields,
    QualityFields,
    ReviewFields,
    SidecarUpdate,
    SimilarFields,
    WriteOptions,
    format_real,
)
from xmpcull.sidecar.packet import NS_CRS, NS_DC, NS_LR, NS_XMP, NS_XMPCULL, XMPMeta

SCHEMA_VERSION = 1
ENGINE_PROPS = ("SchemaVersion", "EngineVersion", "AnalysisDate")
SECTION_PROPS: dict[str, tuple[str, ...]] = {
    "dupes": ("DupGroup", "DupKind", "DupRole", "DupDistance", "KeeperReason", "DupMembers"),
    "similar": ("SimilarSet", "SimilarRole", "SimilarSize", "SimilarReason", "SimilarMembers"),
    "burst": ("BurstID", "BurstIndex", "BurstSize", "BurstBest", "BurstBestReason", "BurstMembers"),
    "quality": ("Quality", "Sharpness", "Exposure", "FaceSharpness", "FaceCount", "Eyes", "EyesClosedFaces", "FaceEyes"),
    "crop": ("CropProposals", "CropApplied"),
    "decision": ("Decision", "ReviewReasons", "RatingSet", "LabelSet"),
    "review": ("ReviewDate", "ReviewKeep", "ReviewFlag", "ReviewRating", "ReviewLabel", "ReviewCrop"),
    "generation": (*generation.PROPS, generation.RECORD),
    "regions": (regions.RECORD,),
}
NO_CROP_TEXT = "none"
KEYWORD_ROOT = "xmpcull"
REVIEW_KEYWORD = "xmpcull|review"
CROP_EDGE_PROPS = ("CropLeft", "CropTop", "CropRight", "CropBottom")
_BAG = {"prop_array_is_unordered": True}
_SEQ = {"prop_array_is_ordered": True}


@dataclass
class MergeOutcome:
    kept_user_values: list[str] = field(default_factory=list)


def apply_update(meta: XMPMeta, update: SidecarUpdate, options: WriteOptions) -> MergeOutcome:
    """Replace the sections ``update`` names; leave everything else alone."""
    outcome = MergeOutcome()
    if update.review is not None:  # first: what the person decided is what the proposals below yield to
        _write_review(meta, update.review)
    if update.dupes is not None:
        _write_dupes(meta, update.dupes)
    if update.similar is not None:
        _write_similar(meta, update.similar)
    if update.burst is not None:
        _write_burst(meta, update.burst)
    if update.quality is not None:
        _write_quality(meta, update.quality)
    if update.crop is not None:
        _write_crop(meta, update.crop, options, outcome)
    if update.decision is not None:
        _write_decision(meta, update.decision, options, outcome)
    if update.generation is not None:
        outcome.kept_user_values.extend(generation.write_generation(meta, update.generation, options))
        owned = lambda k: k.startswith(generation.BATCH_KEYWORD_ROOT)  # noqa: E731
        replace_keywords(meta, owned, generation.batch_keywords(update.generation))
    if update.regions is not None:
        outcome.kept_user_values.extend(regions.write_regions(meta, update.regions))
    return outcome


def stamp_engine(meta: XMPMeta, engine_version: str, now: dt.datetime) -> None:
    """Record who wrote our sections and when; drop the stamp when no section is left."""
    if not any(meta.does_property_exist(NS_XMPCULL, p) for props in SECTION_PROPS.values() for p in props):
        for prop in ENGINE_PROPS:
            _delete(meta, NS_XMPCULL, prop)
        return
    meta.set_property(NS_XMPCULL, "SchemaVersion", str(SCHEMA_VERSION))
    meta.set_property(NS_XMPCULL, "EngineVersion", engine_version)
    meta.set_property(NS_XMPCULL, "AnalysisDate", now.replace(microsecond=0).isoformat())


# --- sections -----------------------------------------------------------------


def _write_dupes(meta: XMPMeta, dupes: DupeFields | Clear) -> None:
    values = None if dupes is CLEAR else _dupe_values(dupes)  # type: ignore[arg-type]
    _replace_simple(meta, "dupes", values)
    _replace_array(meta, "DupMembers", () if dupes is CLEAR else dupes.members, _BAG)  # type: ignore[union-attr]
    wanted = () if dupes is CLEAR else (f"{KEYWORD_ROOT}|dupes|{dupes.group}",)  # type: ignore[union-attr]
    replace_keywords(meta, lambda k: k.startswith(f"{KEYWORD_ROOT}|dupes|"), wanted)


def _write_similar(meta: XMPMeta, similar: SimilarFields | Clear) -> None:
    values = None
    if isinstance(similar, SimilarFields):
        values = {"SimilarSet": similar.set_id, "SimilarRole": similar.role, "SimilarSize": str(similar.size),
                  "SimilarReason": similar.reason}
    _replace_simple(meta, "similar", values)
    _replace_array(meta, "SimilarMembers", similar.members if isinstance(similar, SimilarFields) else (), _BAG)
    wanted = (f"{KEYWORD_ROOT}|similar|{similar.set_id}",) if isinstance(similar, SimilarFields) else ()
    replace_keywords(meta, lambda k: k.startswith(f"{KEYWORD_ROOT}|similar|"), wanted)


def _write_burst(meta: XMPMeta, burst: BurstFields | Clear) -> None:
    values = None if burst is CLEAR else _burst_values(burst)  # type: ignore[arg-type]
    _replace_simple(meta, "burst", values)
    _replace_array(meta, "BurstMembers", () if burst is CLEAR else burst.members, _BAG)  # type: ignore[union-attr]
    wanted = () if burst is CLEAR else (f"{KEYWORD_ROOT}|burst|{burst.burst_id}",)  # type: ignore[union-attr]
    replace_keywords(meta, lambda k: k.startswith(f"{KEYWORD_ROOT}|burst|"), wanted)


def _write_quality(meta: XMPMeta, quality: QualityFields | Clear) -> None:
    if quality is CLEAR:
        _replace_simple(meta, "quality", None)
        _replace_array(meta, "FaceEyes", (), _SEQ)
        return
    assert isinstance(quality, QualityFields)
    _replace_array(meta, "FaceEyes", quality.face_eyes, _SEQ)
    _replace_simple(
        meta,
        "quality",
        {
            "FaceCount": None if quality.face_count is None else str(quality.face_count),
            "Eyes": quality.eyes,
            "EyesClosedFaces": None if quality.eyes_closed_faces is None else str(quality.eyes_closed_faces),
            "Quality": format_real(quality.quality),
            "Sharpness": format_real(quality.sharpness),
            "Exposure": format_real(quality.exposure),
            "FaceSharpness": None if quality.face_sharpness is None else format_real(quality.face_sharpness),
        },
    )


def _write_crop(meta: XMPMeta, crop: CropFields | Clear, options: WriteOptions, outcome: MergeOutcome) -> None:
    applied = None if crop is CLEAR else crop.applied  # type: ignore[union-attr]
    if _person_decided(meta, "ReviewCrop"):
        applied = None  # the person's crop (or their "no crop") stands
    recorded = _merge_crop(meta, applied, options.overwrite_crops, outcome)
    _set_or_delete(meta, "CropApplied", None if recorded is None else format_edges(recorded))
    proposals = () if crop is CLEAR else crop.proposals  # type: ignore[union-attr]
    if not _same_proposals(read_proposals(meta), proposals):
        _delete(meta, NS_XMPCULL, "CropProposals")
        for index, proposal in enumerate(proposals, start=1):
            meta.append_array_item(NS_XMPCULL, "CropProposals", None, array_options=_SEQ, prop_value_is_struct=True)
            for name, value in _proposal_values(proposal).items():
                meta.set_property(NS_XMPCULL, f"CropProposals[{index}]/xmpcull:{name}", value)


def _write_decision(
    meta: XMPMeta, decision: DecisionFields | Clear, options: WriteOptions, outcome: MergeOutcome
) -> None:
    fields = None if decision is CLEAR else decision
    assert fields is None or isinstance(fields, DecisionFields)
    rating = _merge_owned(
        meta, NS_XMP, "Rating", "RatingSet",
        None if fields is None or fields.rating is None or _person_decided(meta, "ReviewRating") else str(fields.rating),
        options.overwrite_ratings, _same_rating, _rating_is_empty, outcome,
    )
    label = _merge_owned(
        meta, NS_XMP, "Label", "LabelSet",
        None if fields is None or _person_decided(meta, "ReviewLabel") else fields.label,
        options.overwrite_labels, str.__eq__, lambda v: not v.strip(), outcome,
    )
    values = None
    if fields is not None:
        values = {"Decision": fields.decision, "RatingSet": rating, "LabelSet": label}
    _replace_simple(meta, "decision", values)
    _replace_array(meta, "ReviewReasons", () if fields is None else fields.review_reasons, _BAG)
    wanted = (REVIEW_KEYWORD,) if fields is not None and fields.decision == "needs-review" else ()
    replace_keywords(meta, lambda k: k == REVIEW_KEYWORD or k.startswith(REVIEW_KEYWORD + "|"), wanted)


def _write_review(meta: XMPMeta, review: ReviewFields | Clear) -> None:
    """The person's decisions; their rating, label and crop become the image's own (not ours)."""
    if review is CLEAR:
        _replace_simple(meta, "review", None)
        return
    assert isinstance(review, ReviewFields)
    crop_text = None
    if review.crop is NO_CROP:
        crop_text = NO_CROP_TEXT
    elif isinstance(review.crop, CropEdges):
        crop_text = format_edges(review.crop)
    _replace_simple(meta, "review", {
        "ReviewDate": review.reviewed,
        "ReviewKeep": review.keep,
        "ReviewFlag": review.flag,
        "ReviewRating": None if review.rating is None else str(review.rating),
        "ReviewLabel": review.label,
        "ReviewCrop": crop_text,
    })
    if review.rating is not None:
        _set_users(meta, NS_XMP, "Rating", str(review.rating), "RatingSet", _same_rating)
    if review.label is not None:
        _set_users(meta, NS_XMP, "Label", review.label or None, "LabelSet", str.__eq__)
    if isinstance(review.crop, CropEdges):
        current = read_crs_crop(meta)
        if current is None or not _same_edges(current, review.crop):
            _write_crs_crop(meta, review.crop)
        _delete(meta, NS_XMPCULL, "CropApplied")
    elif review.crop is NO_CROP:
        if read_crs_crop(meta) is not None:
            meta.set_property(NS_CRS, "HasCrop", "False")
        _delete(meta, NS_XMPCULL, "CropApplied")


def _set_users(
    meta: XMPMeta, schema: str, name: str, value: str | None, record_name: str, same: Callable[[str, str], bool]
) -> None:
    """Set a standard value as the user's: our record of it goes, so no later proposal replaces it."""
    current = packet.get(meta, schema, name)
    if value is None:
        _delete(meta, schema, name)
    elif current is None or not same(current, value):
        meta.set_property(schema, name, value)
    _delete(meta, NS_XMPCULL, record_name)


def _person_decided(meta: XMPMeta, prop: str) -> bool:
    return packet.get(meta, NS_XMPCULL, prop) is not None


def parse_review_crop(text: str | None) -> CropEdges | object | None:
    """ReviewCrop text back to edges, NO_CROP, or None (absent or unreadable)."""
    if text is None:
        return None
    return NO_CROP if text.strip() == NO_CROP_TEXT else parse_edges(text)


# --- ownership of standard properties ---------------------------------------


def _merge_owned(
    meta: XMPMeta,
    schema: str,
    name: str,
    record_name: str,
    proposal: str | None,
    overwrite: bool,
    same: Callable[[str, str], bool],
    is_empty: Callable[[str], bool],
    outcome: MergeOutcome,
) -> str | None:
    """Apply a proposed standard value; return what to record as ours (or None)."""
    current = packet.get(meta, schema, name)
    recorded = packet.get(meta, NS_XMPCULL, record_name)
    ours = current is not None and recorded is not None and same(current, recorded)
    empty = current is None or is_empty(current)
    # We set a value and it is gone: the user removed it. The record stays as a
    # tombstone so the same proposal is not made again on the next run.
    cleared = recorded is not None and empty and not ours
    prefix = packet.XMPMeta.get_prefix_for_namespace(schema).rstrip(":")
    if proposal is None:
        if ours:
            _delete(meta, schema, name)  # our old value is stale; the user's would have differed
        return recorded if cleared else None
    if cleared and not overwrite and same(proposal, recorded):
        outcome.kept_user_values.append(f"{prefix}:{name} removed by the user (xmpcull had set {recorded}); not set again")
        return recorded
    if empty or ours or overwrite:
        if current is None or not same(current, proposal):
            meta.set_property(schema, name, proposal)
        return proposal
    if not same(current, proposal):
        outcome.kept_user_values.append(f"{prefix}:{name}={current} (the user's, kept; proposed {proposal})")
    return None


def _merge_crop(
    meta: XMPMeta, applied: CropEdges | None, overwrite: bool, outcome: MergeOutcome
) -> CropEdges | None:
    current = read_crs_crop(meta)
    recorded = parse_edges(packet.get(meta, NS_XMPCULL, "CropApplied"))
    ours = current is not None and recorded is not None and _same_edges(current, recorded)
    if applied is None:
        if ours:
            meta.set_property(NS_CRS, "HasCrop", "False")
            for prop in (*CROP_EDGE_PROPS, "CropAngle"):
                _delete(meta, NS_CRS, prop)
        return None
    if current is None or ours or overwrite:
        if current is None or not _same_edges(current, applied):
            _write_crs_crop(meta, applied)
        return applied
    if not _same_edges(current, applied):
        outcome.kept_user_values.append(
            f"crs:Crop={format_edges(current)} (the user's, kept; proposed {format_edges(applied)})"
        )
    return None


def _write_crs_crop(meta: XMPMeta, edges: CropEdges) -> None:
    # The set Adobe-written packets carry with a crop (facts §7); the process
    # version is left to Lightroom because a wrong one changes the rendering.
    for name, value in zip(CROP_EDGE_PROPS, (edges.left, edges.top, edges.right, edges.bottom)):
        meta.set_property(NS_CRS, name, format_real(value))
    meta.set_property(NS_CRS, "CropAngle", "0")
    meta.set_property(NS_CRS, "HasCrop", "True")
    for name, default in (("CropConstrainToWarp", "0"), ("HasSettings", "True")):
        if packet.get(meta, NS_CRS, name) is None:
            meta.set_property(NS_CRS, name, default)


def read_crs_crop(meta: XMPMeta) -> CropEdges | None:
    """The crop in force: HasCrop is authoritative, stale edges without it mean nothing."""
    if (packet.get(meta, NS_CRS, "HasCrop") or "").strip().lower() != "true":
        return None
    try:
        edges = [float(packet.get(meta, NS_CRS, name) or "nan") for name in CROP_EDGE_PROPS]
        angle = float(packet.get(meta, NS_CRS, "CropAngle") or 0)
    except ValueError:
        return None
    if any(v != v for v in edges):  # NaN: an edge is missing
        return None
    return CropEdges(*edges, angle=angle)


def format_edges(edges: CropEdges) -> str:
    return ",".join(format_real(v) for v in (edges.left, edges.top, edges.right, edges.bottom))


def parse_edges(text: str | None) -> CropEdges | None:
    if not text:
        return None
    try:
        left, top, right, bottom = (float(part) for part in text.split(","))
    except ValueError:
        return None
    return CropEdges(left, top, right, bottom)


def _same_edges(a: CropEdges, b: CropEdges) -> bool:
    return format_edges(a) == format_edges(b) and abs(a.angle - b.angle) < 1e-9


def _same_rating(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return a.strip() == b.strip()


def _rating_is_empty(value: str) -> bool:
    # 0 means "unrated" (cameras write it); it is not a user's choice to protect.
    return not value.strip() or _same_rating(value, "0")


# --- our simple properties, keywords, proposals ------------------------------


def _replace_array(meta: XMPMeta, prop: str, values: tuple[str, ...], array_options: dict[str, bool]) -> None:
    """An array of text (Seq or Bag), rewritten only when it differs (a re-run writes no byte)."""
    current = tuple(packet.array_items(meta, NS_XMPCULL, prop))
    if current == values:
        return
    _delete(meta, NS_XMPCULL, prop)
    for value in values:
        meta.append_array_item(NS_XMPCULL, prop, value, array_options=array_options)


ARRAY_PROPS = ("FaceEyes", "DupMembers", "SimilarMembers", "BurstMembers", "ReviewReasons")  # written by _replace_array


def _replace_simple(meta: XMPMeta, section: str, values: dict[str, str | None] | None) -> None:
    """Set the section's simple properties in place; delete those not given."""
    values = values or {}
    for prop in SECTION_PROPS[section]:
        if prop in ARRAY_PROPS:
            continue
        _set_or_delete(meta, prop, values.get(prop))


def _set_or_delete(meta: XMPMeta, prop: str, value: str | None) -> None:
    if value is None:
        _delete(meta, NS_XMPCULL, prop)
        return
    current = packet.get(meta, NS_XMPCULL, prop)
    if current != value and not (prop in MEASURED_PROPS and _within_noise(current, value)):
        meta.set_property(NS_XMPCULL, prop, value)


# Our measured values (Real 0..1): a new value this close to the one written is the same
# measure, and the file keeps its text. Numbers written by an older version (whose crop
# cues rounded with the memory alignment of their arrays: 0.7599367 and 0.7599363 for one
# crop, a run apart) or on a CPU with other vector instructions may differ in the last
# bits, which would flip the sixth written decimal and rewrite the file with nothing new.
MEASURE_NOISE = 1e-5
MEASURED_PROPS = frozenset({"Quality", "Sharpness", "Exposure", "FaceSharpness"})


def _within_noise(current: str | None, value: str) -> bool:
    try:
        return current is not None and abs(float(current) - float(value)) <= MEASURE_NOISE
    except ValueError:
        return False


def _same_proposals(current: tuple[CropProposal, ...] | None, wanted: tuple[CropProposal, ...]) -> bool:
    """The same crops (aspect and edges exactly) with confidences within ``MEASURE_NOISE``."""
    return current is not None and len(current) == len(wanted) and all(
        (c.aspect, c.left, c.top, c.right, c.bottom) == (w.aspect, w.left, w.top, w.right, w.bottom)
        and abs(c.confidence - w.confidence) <= MEASURE_NOISE
        for c, w in zip(current, wanted)
    )


def _delete(meta: XMPMeta, schema: str, name: str) -> None:
    if meta.does_property_exist(schema, name):
        meta.delete_property(schema, name)


def replace_keywords(meta: XMPMeta, owned: Callable[[str], bool], wanted: tuple[str, ...]) -> None:
    """Set-merge: drop our old keywords of one section, add the wanted ones, keep the user's."""
    paths = packet.array_items(meta, NS_LR, "hierarchicalSubject")
    stale = [p for p in paths if owned(p) and p not in wanted]
    for path in stale:
        _remove_item(meta, NS_LR, "hierarchicalSubject", path)
    remaining_leaves = {leaf(p) for p in packet.array_items(meta, NS_LR, "hierarchicalSubject")}
    for stale_leaf in {leaf(p) for p in stale} - remaining_leaves - {leaf(w) for w in wanted}:
        _remove_item(meta, NS_DC, "subject", stale_leaf)
    for path in wanted:
        if path not in packet.array_items(meta, NS_LR, "hierarchicalSubject"):
            meta.append_array_item(NS_LR, "hierarchicalSubject", path, array_options=_BAG)
        if leaf(path) not in packet.array_items(meta, NS_DC, "subject"):
            meta.append_array_item(NS_DC, "subject", leaf(path), array_options=_BAG)


def leaf(path: str) -> str:
    return path.rsplit("|", 1)[-1]


def _remove_item(meta: XMPMeta, schema: str, array: str, value: str) -> None:
    items = packet.array_items(meta, schema, array)
    for index in range(len(items), 0, -1):
        if items[index - 1] == value:
            meta.delete_property(schema, f"{array}[{index}]")
    if not packet.array_items(meta, schema, array):
        _delete(meta, schema, array)  # an empty keyword array means the same as none


def _dupe_values(dupes: DupeFields) -> dict[str, str | None]:
    return {
        "DupGroup": dupes.group,
        "DupKind": dupes.kind,
        "DupRole": dupes.role,
        "DupDistance": str(dupes.distance),
        "KeeperReason": dupes.keeper_reason,
    }


def _burst_values(burst: BurstFields) -> dict[str, str | None]:
    return {
        "BurstID": burst.burst_id,
        "BurstIndex": str(burst.index),
        "BurstSize": str(burst.size),
        "BurstBest": "True" if burst.best else "False",
        "BurstBestReason": burst.best_reason,
    }


def _proposal_values(proposal: CropProposal) -> dict[str, str]:
    return {
        "Aspect": proposal.aspect,
        "CropLeft": format_real(proposal.left),
        "CropTop": format_real(proposal.top),
        "CropRight": format_real(proposal.right),
        "CropBottom": format_real(proposal.bottom),
        "Confidence": format_real(proposal.confidence),
    }


def read_proposals(meta: XMPMeta) -> tuple[CropProposal, ...] | None:
    """Our proposals as records; None when they are present but not readable as ours."""
    count = meta.count_array_items(NS_XMPCULL, "CropProposals") if meta.does_property_exist(
        NS_XMPCULL, "CropProposals") else 0
    proposals = []
    for index in range(1, count + 1):
        values = {
            name: packet.get(meta, NS_XMPCULL, f"CropProposals[{index}]/xmpcull:{name}")
            for name in ("Aspect", "CropLeft", "CropTop", "CropRight", "CropBottom", "Confidence")
        }
        try:
            proposals.append(
                CropProposal(
                    aspect=values["Aspect"] or "",
                    left=float(values["CropLeft"] or "x"),
                    top=float(values["CropTop"] or "x"),
                    right=float(values["CropRight"] or "x"),
                    bottom=float(values["CropBottom"] or "x"),
                    confidence=float(values["Confidence"] or "x"),
                )
            )
        except ValueError:
            return None
    return tuple(proposals)

