"""The faces as MWG regions (``mwg-rs:Regions``), written only where the file has no regions of the user's.

Face regions are people's work: names typed in digiKam, Lightroom or Picasa. So
xmpcull writes its own only into a file with no region data at all (no
``mwg-rs:Regions``, no Microsoft ``MP:RegionInfo``, no IPTC ``ImageRegion``), and
records what it wrote in ``xmpcull:FaceRegions``. The regions are xmpcull's only
while they are exactly that record: a region named, moved or added by a person
makes the whole structure the user's, and no later run touches it. Regions the
user deleted are not written again unless the faces found change (the record
stays as a tombstone), like a removed rating (README.md here).
"""

from __future__ import annotations

from xmpcull.sidecar import packet
from xmpcull.sidecar.fields import CLEAR, Clear, FaceRegion, FaceRegionFields, format_real
from xmpcull.sidecar.packet import NS_IPTC_EXT, NS_MP, NS_MWG_RS, NS_XMPCULL, Node, XMPMeta

RECORD = "FaceRegions"
REGIONS = "Regions"
_LIST = "Regions/mwg-rs:RegionList"
_DIMS = "Regions/mwg-rs:AppliedToDimensions"
_BAG = {"prop_array_is_unordered": True}
# Region data of other schemas: a person tagged faces with another program.
_OTHER_REGIONS = ((NS_MP, "RegionInfo", "MP:RegionInfo"), (NS_IPTC_EXT, "ImageRegion", "Iptc4xmpExt:ImageRegion"))


def format_record(fields: FaceRegionFields) -> str:
    """'600x450 0.5,0.4,0.12,0.16 ...': the stored size, then each region's centre and size."""
    areas = (",".join(format_real(v) for v in (r.x, r.y, r.w, r.h)) for r in fields.regions)
    return " ".join((f"{fields.width}x{fields.height}", *areas))


def parse_record(text: str | None) -> FaceRegionFields | None:
    """The record back as fields; None when absent or not ours to read (edited by hand)."""
    if not text:
        return None
    size, *areas = text.split()
    try:
        width, height = (int(v) for v in size.split("x"))
        regions = tuple(FaceRegion(*(float(v) for v in area.split(","))) for area in areas)
        return FaceRegionFields(width, height, regions)
    except (ValueError, TypeError):
        return None


def write_regions(meta: XMPMeta, wanted: FaceRegionFields | Clear) -> list[str]:
    """Bring our regions to ``wanted`` where they are ours to change; returns notes on what was left alone."""
    record_text = packet.get(meta, NS_XMPCULL, RECORD)
    recorded = parse_record(record_text)
    present = meta.does_property_exist(NS_MWG_RS, REGIONS)
    ours = present and recorded is not None and _regions_nodes(meta) == _regions_nodes(_tree_with(recorded))
    if present and not ours:
        # The user's regions (or ours, since edited by a person): never touched.
        _delete(meta, NS_XMPCULL, RECORD)
        return [] if wanted is CLEAR else ["mwg-rs:Regions (the file's own face regions, kept; xmpcull's not written)"]
    others = [name for schema, prop, name in _OTHER_REGIONS if meta.does_property_exist(schema, prop)]
    target = None if wanted is CLEAR or others else wanted
    assert target is None or isinstance(target, FaceRegionFields)
    if target is None:
        if ours:
            _delete(meta, NS_MWG_RS, REGIONS)
        _delete(meta, NS_XMPCULL, RECORD)
        return [] if wanted is CLEAR else [f"{n} (the file's own face regions, kept; xmpcull's not written)" for n in others]
    if recorded == target:
        return []  # ours and unchanged, or we wrote exactly these and a person deleted them: not again
    if ours:
        _delete(meta, NS_MWG_RS, REGIONS)
    _write(meta, target)
    meta.set_property(NS_XMPCULL, RECORD, format_record(target))
    return []


def read_face_regions(meta: XMPMeta) -> FaceRegionFields | None:
    """The regions xmpcull wrote, while the file still holds exactly those (None otherwise)."""
    recorded = parse_record(packet.get(meta, NS_XMPCULL, RECORD))
    if recorded is None or not meta.does_property_exist(NS_MWG_RS, REGIONS):
        return None
    return recorded if _regions_nodes(meta) == _regions_nodes(_tree_with(recorded)) else None


def _write(meta: XMPMeta, fields: FaceRegionFields) -> None:
    meta.set_property(NS_MWG_RS, f"{_DIMS}/stDim:w", str(fields.width))
    meta.set_property(NS_MWG_RS, f"{_DIMS}/stDim:h", str(fields.height))
    meta.set_property(NS_MWG_RS, f"{_DIMS}/stDim:unit", "pixel")
    for index, region in enumerate(fields.regions, start=1):
        meta.append_array_item(NS_MWG_RS, _LIST, None, array_options=_BAG, prop_value_is_struct=True)
        item = f"{_LIST}[{index}]"
        meta.set_property(NS_MWG_RS, f"{item}/mwg-rs:Type", "Face")
        for name, value in (("x", region.x), ("y", region.y), ("w", region.w), ("h", region.h)):
            meta.set_property(NS_MWG_RS, f"{item}/mwg-rs:Area/stArea:{name}", format_real(value))
        meta.set_property(NS_MWG_RS, f"{item}/mwg-rs:Area/stArea:unit", "normalized")


def _tree_with(fields: FaceRegionFields) -> XMPMeta:
    meta = packet.new_meta()
    _write(meta, fields)
    return meta


def _regions_nodes(meta: XMPMeta) -> tuple[Node, ...]:
    """Every node of ``mwg-rs:Regions``, in order: any field a person added or changed makes them differ."""
    return tuple(n for n in packet.snapshot(meta) if n.schema == NS_MWG_RS and n.top == "mwg-rs:Regions")


def _delete(meta: XMPMeta, schema: str, name: str) -> None:
    if meta.does_property_exist(schema, name):
        meta.delete_property(schema, name)
