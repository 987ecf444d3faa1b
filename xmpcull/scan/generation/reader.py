"""Which generator wrote the file, and what it recorded: one ``Generation`` per image.

Order (cheap first, after sd-prompt-reader's and Infinite Image Browsing's):
PNG text keys, or for JPEG/WebP the EXIF fields exiftool already read
(``UserComment`` is UTF-16 in the file's byte order: exiftool decodes it), then
the C2PA manifest, then the XMP ``Iptc4xmpExt:DigitalSourceType``.

PNG keys: ``parameters`` (A1111/Forge text; JSON: Fooocus, or SwarmUI with
``sui_image_params``), ``prompt`` (ComfyUI graph; ``parameters`` beside it comes
from an A1111-compatible saver, which then wins), ``invokeai_metadata`` /
``sd-metadata`` / ``Dream`` (InvokeAI), ``Software`` = NovelAI with ``Comment``
JSON, ``Description`` with ``Job ID:`` (Midjourney). ``postprocessing`` or
``extras`` (A1111 Extras tab) mark an upscaled copy.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from xmpcull.models import Generation
from xmpcull.scan.generation import a1111, comfy, formats
from xmpcull.scan.generation.c2pa_manifest import normalise_source_type, read_manifest
from xmpcull.scan.generation.containers import ContainerInfo, read_container

GENERATION_FORMATS = ("png", "jpeg", "webp")
# exiftool tag -> the PNG text key the same generators use for it
_EXIF_AS_TEXT = {
    "EXIF:UserComment": "parameters",
    "EXIF:ImageDescription": "Description",
    "EXIF:Software": "Software",
    "EXIF:Artist": "Author",
}


def _digest(*parts: str | None) -> str:
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        h.update((part or "").encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def texts_from_exif(tags: dict[str, Any]) -> dict[str, str]:
    """The JPEG/WebP EXIF fields generators write, under the PNG keys they mirror."""
    texts: dict[str, str] = {}
    for tag, key in _EXIF_AS_TEXT.items():
        value = tags.get(tag)
        if isinstance(value, str) and value.strip():
            texts[key] = value
    # ComfyUI's WebP saver: Model = "prompt:{json}", Make = "workflow:{json}".
    for tag in ("EXIF:Model", "EXIF:Make"):
        value = tags.get(tag)
        if isinstance(value, str) and ":" in value[:12]:
            key, _, body = value.partition(":")
            if key in ("prompt", "workflow") and body.lstrip().startswith("{"):
                texts[key] = body
    if texts.get("Software") == "NovelAI":
        if "parameters" in texts:
            texts["Comment"] = texts.pop("parameters")  # NovelAI's WebP keeps its JSON in UserComment
        model = tags.get("EXIF:Model")
        if isinstance(model, str) and model.strip():
            texts["Source"] = model  # the model name and hash, like the PNG's Source
    return texts


def parse_texts(texts: dict[str, str]) -> Generation | None:
    """A Generation from generator text fields; None when none is recognised."""
    parameters = texts.get("parameters")
    payload = None
    generation: Generation | None = None
    if parameters is not None:
        data = formats.load_json_object(parameters)
        if data is not None and "sui_image_params" in data:
            generation = formats.parse_swarm(data)
        elif data is not None and ("prompt" in data or "base_model" in data):
            generation = formats.parse_fooocus(data)
        elif a1111.looks_like_infotext(parameters) or "Negative prompt:" in parameters:
            generation = a1111.parse_infotext(parameters, texts.get("postprocessing") or texts.get("extras"))
        payload = parameters
    if generation is None and "prompt" in texts:
        generation, payload = comfy.parse_comfy(texts["prompt"]), texts["prompt"]
    if generation is None and "invokeai_metadata" in texts:
        data = formats.load_json_object(texts["invokeai_metadata"])
        generation = formats.parse_invokeai(data) if data is not None else None
        payload = texts["invokeai_metadata"]
    if generation is None and "sd-metadata" in texts:
        data = formats.load_json_object(texts["sd-metadata"])
        generation = formats.parse_invokeai_legacy(data) if data is not None else None
        payload = texts["sd-metadata"]
    if generation is None and "Dream" in texts:
        generation, payload = formats.parse_dream(texts["Dream"]), texts["Dream"]
    if generation is None and texts.get("Software", "").startswith("NovelAI"):
        comment = formats.load_json_object(texts.get("Comment")) or {}
        generation = formats.parse_novelai(comment, texts.get("Source"), texts.get("Description"))
        payload = texts.get("Comment")
    if generation is None and "Job ID:" in texts.get("Description", ""):
        generation = formats.parse_midjourney(texts["Description"], texts.get("Author"))
        payload = texts["Description"]
    if generation is None:
        return None
    if generation.generator == "A1111" and texts.get("fooocus_scheme"):
        generation = replace(generation, generator="Fooocus")
    if generation.generator == "Fooocus" and texts.get("Software", "").startswith("Fooocus"):
        generation = replace(generation, generator_version=generation.generator_version or texts["Software"])
    return replace(generation, payload_digest=_digest(payload))


def read_generation(
    path: Path, fmt: str, tags: dict[str, Any] | None = None, container: ContainerInfo | None = None
) -> Generation | None:
    """What the file says about how it was generated; None for an ordinary photo.

    ``tags`` is exiftool's ``-G`` output for the file (EXIF and XMP groups), which
    the metadata step has already read; ``container`` the walk of its chunks, when
    that step made it already.
    """
    if fmt not in GENERATION_FORMATS:
        return None
    tags = tags or {}
    container = container if container is not None else read_container(path, fmt)
    texts = container.texts if fmt == "png" else texts_from_exif(tags)
    generation = parse_texts(texts)
    sources = tuple(f"{fmt}:{k}" for k in sorted(texts) if k in _KNOWN_KEYS) if generation else ()
    source_type = normalise_source_type(tags.get("XMP:DigitalSourceType"))
    if container.c2pa:
        manifest = read_manifest(path)
        generation = generation or Generation(generator="C2PA")
        source_type = source_type or manifest.source_type
        generation = replace(generation, c2pa=manifest.state, c2pa_generator=manifest.generator)
        sources += (f"{fmt}:c2pa",)
    if source_type and generation is None:
        generation = Generation()  # only the IPTC flag: an AI (or other) source, no generator record
    if generation is None:
        return None
    warnings = generation.warnings + tuple(container.warnings)
    return replace(generation, source_type=source_type, sources=sources, warnings=warnings)


_KNOWN_KEYS = frozenset(
    {"parameters", "prompt", "workflow", "invokeai_metadata", "invokeai_graph", "sd-metadata", "Dream", "Comment",
     "Description", "Software", "Source", "postprocessing", "extras", "fooocus_scheme", "Author"}
)
