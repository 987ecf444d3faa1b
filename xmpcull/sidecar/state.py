"""An XMP packet read back into records, and the order-free form that tells whether a merge changed it.

A value whose text is not valid (a hand-edited or foreign sidecar) reads as
absent rather than failing the read: the next write sets it again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from xmpcull.sidecar import packet
from xmpcull.sidecar.fields import (
    BurstFields,
    CropFields,
    DecisionFields,
    DupeFields,
    QualityFields,
    ReviewFields,
    SidecarState,
    SimilarFields,
)
from xmpcull.sidecar.generation import read_generation_fields
from xmpcull.sidecar.merge import parse_edges, parse_review_crop, read_crs_crop, read_proposals
from xmpcull.sidecar.packet import NS_DC, NS_LR, NS_XMP, NS_XMPCULL, Node, XMPMeta
from xmpcull.sidecar.regions import read_face_regions

T = TypeVar("T")


def state_from_meta(meta: XMPMeta, path: str | None, source: str) -> SidecarState:
    """Parse the standard values and our sections back into records."""
    get = lambda name: packet.get(meta, NS_XMPCULL, name)  # noqa: E731
    rating = _attempt(lambda: float(packet.get(meta, NS_XMP, "Rating") or "x"))
    proposals = read_proposals(meta)
    applied = parse_edges(get("CropApplied"))
    crop_fields = None
    if proposals or applied is not None:
        crop_fields = _attempt(lambda: CropFields(proposals or (), applied))
    return SidecarState(
        path=path,
        source=source,
        rating=rating,
        label=packet.get(meta, NS_XMP, "Label"),
        crop=read_crs_crop(meta),
        keywords=tuple(packet.array_items(meta, NS_DC, "subject")),
        hierarchical_keywords=tuple(packet.array_items(meta, NS_LR, "hierarchicalSubject")),
        schema_version=_attempt(lambda: int(get("SchemaVersion") or "x")),
        engine_version=get("EngineVersion"),
        analysis_date=get("AnalysisDate"),
        dupes=_attempt(
            lambda: DupeFields(
                group=get("DupGroup") or "",
                kind=get("DupKind") or "",
                role=get("DupRole") or "",
                distance=int(get("DupDistance") or 0),
                keeper_reason=get("KeeperReason"),
                members=tuple(packet.array_items(meta, NS_XMPCULL, "DupMembers")),
            )
        )
        if get("DupGroup") is not None
        else None,
        similar=_attempt(
            lambda: SimilarFields(
                set_id=get("SimilarSet") or "",
                role=get("SimilarRole") or "",
                size=int(get("SimilarSize") or "x"),
                reason=get("SimilarReason"),
                members=tuple(packet.array_items(meta, NS_XMPCULL, "SimilarMembers")),
            )
        )
        if get("SimilarSet") is not None
        else None,
        burst=_attempt(
            lambda: BurstFields(
                burst_id=get("BurstID") or "",
                index=int(get("BurstIndex") or "x"),
                size=int(get("BurstSize") or "x"),
                best=(get("BurstBest") or "").lower() == "true",
                best_reason=get("BurstBestReason"),
                members=tuple(packet.array_items(meta, NS_XMPCULL, "BurstMembers")),
            )
        )
        if get("BurstID") is not None
        else None,
        quality=_attempt(
            lambda: QualityFields(
                quality=float(get("Quality") or "x"),
                sharpness=float(get("Sharpness") or "x"),
                exposure=float(get("Exposure") or "x"),
                face_sharpness=None if get("FaceSharpness") is None else float(get("FaceSharpness") or "x"),
                face_count=None if get("FaceCount") is None else int(get("FaceCount") or "x"),
                eyes=get("Eyes"),
                eyes_closed_faces=None if get("EyesClosedFaces") is None else int(get("EyesClosedFaces") or "x"),
                face_eyes=tuple(packet.array_items(meta, packet.NS_XMPCULL, "FaceEyes")),
            )
        )
        if get("Quality") is not None
        else None,
        crop_fields=crop_fields,
        generation=read_generation_fields(meta),
        face_regions=read_face_regions(meta),
        decision=_attempt(
            lambda: DecisionFields(
                decision=get("Decision") or "",
                review_reasons=tuple(packet.array_items(meta, NS_XMPCULL, "ReviewReasons")),
                rating=None if get("RatingSet") is None else int(get("RatingSet") or "x"),
                label=get("LabelSet"),
            )
        )
        if get("Decision") is not None
        else None,
        review=_attempt(
            lambda: ReviewFields(
                reviewed=get("ReviewDate") or "",
                keep=get("ReviewKeep"),
                flag=get("ReviewFlag"),
                rating=None if get("ReviewRating") is None else int(float(get("ReviewRating") or "x")),
                label=get("ReviewLabel"),
                crop=parse_review_crop(get("ReviewCrop")),  # type: ignore[arg-type]
            )
        )
        if get("ReviewDate") is not None
        else None,
    )


def canonical(nodes: Sequence[Node]) -> tuple[tuple[str, str, str, str], ...]:
    """Order-free form of a snapshot: bag items compared as a multiset, properties by path."""
    bags = {n.path for n in nodes if n.kind == "bag"}
    keyed = []
    for node in nodes:
        path = node.path
        head, bracket, rest = path.rpartition("[")
        if bracket and head in bags and rest.endswith("]") and rest[:-1].isdigit():
            path = f"{head}[*]"
        keyed.append((node.schema, path, node.value, node.kind))
    return tuple(sorted(keyed))


def _attempt(build: Callable[[], T]) -> T | None:
    """A record parsed from file text, or None when the text is not a valid value."""
    try:
        return build()
    except (ValueError, TypeError):
        return None
