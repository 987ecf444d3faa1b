"""Hand-written xmpcull sidecars that follow docs/xmp-schema.md.

Until the Python sidecar writer is used here, these build the two RDF shapes a
reader meets: simple properties as attributes of rdf:Description (how Adobe
and Exempi write) or as child elements; crop proposals as rdf:Seq of structs
in either parseType="Resource" or nested-rdf:Description form. The prefix is a
parameter because readers must resolve by URI.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

NS = "http://ns.xmpcull.org/xmpcull/1.0/"


def sidecar_xml(props: dict[str, object], *, prefix: str = "xmpcull", element_form: bool = False,
                struct_form: str = "resource", keywords: list[str] | None = None,
                sidecar_for: str | None = None, reasons: list[str] | None = None,
                crops: list[dict] | None = None, standard: dict[str, object] | None = None) -> str:
    """One sidecar; props are our simple properties by schema name (DupGroup=...).

    Like the engine, a RatingSet/LabelSet comes with the xmp:Rating/xmp:Label it
    records; `standard` overrides those (e.g. {"Rating": None}: the user removed it).
    """
    def value(v: object) -> str:
        if isinstance(v, bool):
            return "True" if v else "False"
        return str(v)

    attrs = []
    elements = []
    for name, v in props.items():
        if element_form:
            elements.append(f"<{prefix}:{name}>{escape(value(v))}</{prefix}:{name}>")
        else:
            attrs.append(f"{prefix}:{name}={quoteattr(value(v))}")
    xmp = {"Rating": props.get("RatingSet"), "Label": props.get("LabelSet"), **(standard or {})}
    attrs.extend(f"xmp:{name}={quoteattr(value(v))}" for name, v in xmp.items() if v is not None)
    if sidecar_for:
        attrs.append(f"photoshop:SidecarForExtension={quoteattr(sidecar_for)}")
    if keywords:
        items = "".join(f"<rdf:li>{escape(k)}</rdf:li>" for k in keywords)
        elements.append(f"<lr:hierarchicalSubject><rdf:Bag>{items}</rdf:Bag></lr:hierarchicalSubject>")
        leaves = "".join(f"<rdf:li>{escape(k.split('|')[-1])}</rdf:li>" for k in keywords)
        elements.append(f"<dc:subject><rdf:Bag>{leaves}</rdf:Bag></dc:subject>")
    if reasons:
        items = "".join(f"<rdf:li>{escape(r)}</rdf:li>" for r in reasons)
        elements.append(f"<{prefix}:ReviewReasons><rdf:Bag>{items}</rdf:Bag></{prefix}:ReviewReasons>")
    if crops:
        lis = []
        for c in crops:
            fields = "".join(f"<{prefix}:{k}>{value(v)}</{prefix}:{k}>" for k, v in c.items())
            if struct_form == "resource":
                lis.append(f'<rdf:li rdf:parseType="Resource">{fields}</rdf:li>')
            elif struct_form == "description":
                lis.append(f"<rdf:li><rdf:Description>{fields}</rdf:Description></rdf:li>")
            else:  # attributes on rdf:li
                fa = " ".join(f"{prefix}:{k}={quoteattr(value(v))}" for k, v in c.items())
                lis.append(f"<rdf:li {fa}/>")
        elements.append(f"<{prefix}:CropProposals><rdf:Seq>{''.join(lis)}</rdf:Seq></{prefix}:CropProposals>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f'  <rdf:Description rdf:about="" xmlns:{prefix}="{NS}"\n'
        '    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        '    xmlns:lr="http://ns.adobe.com/lightroom/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        f'    {" ".join(attrs)}>\n'
        f'   {"".join(elements)}\n'
        '  </rdf:Description>\n'
        ' </rdf:RDF>\n'
        '</x:xmpmeta>\n'
        '<?xpacket end="w"?>\n'
    )


def duplicate_pair(folder: Path, group: str = "d-3fa9c2e1", **kw: object) -> tuple[Path, Path]:
    """A keeper and a duplicate JPEG path with Adobe-style sidecars beside them."""
    keeper, dup = folder / f"{group}-a.jpg", folder / f"{group}-b.jpg"
    write(keeper, {"SchemaVersion": 1, "DupGroup": group, "DupKind": "near", "DupRole": "keeper",
                   "DupDistance": 0, "Decision": "keeper", "Quality": 0.81234, "RatingSet": 3,
                   "LabelSet": "Green"}, **kw)
    write(dup, {"SchemaVersion": 1, "DupGroup": group, "DupKind": "near", "DupRole": "duplicate",
                "DupDistance": 6, "Decision": "duplicate", "Quality": 0.5, "RatingSet": 1,
                "LabelSet": "Red"}, **kw)
    return keeper, dup


def write(image: Path, props: dict[str, object], *, style: str = "adobe", **kw: object) -> Path:
    """Write the sidecar for image (the image file itself is touched, empty)."""
    image.parent.mkdir(parents=True, exist_ok=True)
    image.touch()
    path = image.with_suffix(".xmp") if style == "adobe" else image.with_name(image.name + ".xmp")
    path.write_text(sidecar_xml(props, **kw), encoding="utf-8")  # type: ignore[arg-type]
    return path
