"""The generation section: an AI image's record in our namespace, plus IPTC's standard AI properties.

Our ``Gen*`` properties are replaced whole like every section. The IPTC
properties (``Iptc4xmpExt:DigitalSourceType``, ``AISystemUsed``,
``AISystemVersionUsed``, ``AIPromptInformation``, ``AIPromptWriterName``) and,
only with ``caption_from_prompt``, an empty ``dc:description``, are standard
properties a user or another tool may have set: we write one only when it is
absent or still holds the value we wrote (the caption only while the opt-in is on), which ``xmpcull:GenIptcSet`` records
as ``Name=<digest of the value>``. A value someone else wrote is never changed;
one the user removed after we wrote it is not written again.
"""

from __future__ import annotations

import hashlib

from xmpcull.sidecar import packet
from xmpcull.sidecar.fields import CLEAR, Clear, GenerationFields, WriteOptions, format_real
from xmpcull.sidecar.packet import NS_DC, NS_IPTC_EXT, NS_XMPCULL, XMPMeta

PROPS = (
    "GenGenerator", "GenGeneratorVersion", "GenModel", "GenModelHash", "GenPrompt", "GenNegativePrompt",
    "GenSeed", "GenSteps", "GenSampler", "GenCFG", "GenWidth", "GenHeight", "GenDerivation", "GenDenoise",
    "GenParent", "GenBatch", "GenBatchIndex", "GenBatchSize", "GenSourceType", "GenC2PA", "GenPromptWriter",
)
RECORD = "GenIptcSet"
IPTC_PROPS = ("DigitalSourceType", "AISystemUsed", "AISystemVersionUsed", "AIPromptInformation", "AIPromptWriterName")
CAPTION = "dc:description"
BATCH_KEYWORD_ROOT = "xmpcull|ai-batch|"
_FIELD_OF = {
    "GenGenerator": "generator", "GenGeneratorVersion": "generator_version", "GenModel": "model",
    "GenModelHash": "model_hash", "GenPrompt": "prompt", "GenNegativePrompt": "negative_prompt", "GenSeed": "seed",
    "GenSteps": "steps", "GenSampler": "sampler", "GenCFG": "cfg", "GenWidth": "width", "GenHeight": "height",
    "GenDerivation": "derivation", "GenDenoise": "denoise", "GenParent": "parent", "GenBatch": "batch",
    "GenBatchIndex": "batch_index", "GenBatchSize": "batch_size", "GenSourceType": "source_type",
    "GenC2PA": "c2pa", "GenPromptWriter": "prompt_writer",
}
_INTS = {"seed", "steps", "width", "height", "batch_index", "batch_size"}
_FLOATS = {"cfg", "denoise"}


def prompt_information(fields: GenerationFields) -> str | None:
    """IPTC AI Prompt Information: the prompt, and the negative prompt ("excludes") after it."""
    if not fields.prompt:
        return None
    if fields.negative_prompt:
        return f"{fields.prompt}\nNegative prompt: {fields.negative_prompt}"
    return fields.prompt


def _value_digest(value: str) -> str:
    return hashlib.blake2b(value.encode("utf-8"), digest_size=6).hexdigest()


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return format_real(value)
    return str(value)


def write_generation(meta: XMPMeta, fields: GenerationFields | Clear, options: WriteOptions) -> list[str]:
    """Apply the section; returns notes on standard values kept because they are not ours."""
    values = {} if fields is CLEAR else {p: _as_text(getattr(fields, _FIELD_OF[p])) for p in PROPS}
    for prop in PROPS:
        value = values.get(prop)
        if value is None:
            if meta.does_property_exist(NS_XMPCULL, prop):
                meta.delete_property(NS_XMPCULL, prop)
        elif packet.get(meta, NS_XMPCULL, prop) != value:
            meta.set_property(NS_XMPCULL, prop, value)
    # Without the opt-in the caption is not ours to touch at all: one filled on an
    # earlier run stays (the user may have kept it in Lightroom), and its record too.
    proposals: dict[str, str | None] = dict.fromkeys((*IPTC_PROPS, CAPTION) if options.caption_from_prompt else IPTC_PROPS)
    if isinstance(fields, GenerationFields):
        proposals.update(
            DigitalSourceType=fields.source_type,
            AISystemUsed=fields.generator if fields.generator != "C2PA" else None,
            AISystemVersionUsed=fields.generator_version,
            AIPromptInformation=prompt_information(fields),
            AIPromptWriterName=fields.prompt_writer,
        )
        if options.caption_from_prompt:
            proposals[CAPTION] = fields.prompt
    records = _records(meta)
    notes = []
    for name, proposal in proposals.items():
        note = _merge_standard(meta, name, proposal, records)
        if note:
            notes.append(note)
    _write_records(meta, records)
    return notes


def batch_keywords(fields: GenerationFields | Clear) -> tuple[str, ...]:
    """The hierarchical keyword of the image's batch (a collection per batch in Lightroom)."""
    batch = None if fields is CLEAR else fields.batch  # type: ignore[union-attr]
    return (BATCH_KEYWORD_ROOT + batch,) if batch else ()


def _records(meta: XMPMeta) -> dict[str, str]:
    out = {}
    for item in packet.array_items(meta, NS_XMPCULL, RECORD):
        name, _, digest = item.partition("=")
        out[name] = digest
    return out


def _write_records(meta: XMPMeta, records: dict[str, str]) -> None:
    wanted = [f"{name}={digest}" for name, digest in sorted(records.items())]
    if sorted(packet.array_items(meta, NS_XMPCULL, RECORD)) == wanted:
        return
    if meta.does_property_exist(NS_XMPCULL, RECORD):
        meta.delete_property(NS_XMPCULL, RECORD)
    for item in wanted:
        meta.append_array_item(NS_XMPCULL, RECORD, item, array_options={"prop_array_is_unordered": True})


def _get(meta: XMPMeta, name: str) -> str | None:
    if name == CAPTION:
        if not meta.does_property_exist(NS_DC, "description"):
            return None
        try:
            return meta.get_localized_text(NS_DC, "description", "", "x-default")
        except Exception:  # noqa: BLE001 - a description in a shape we do not read is the user's
            return "(unreadable)"
    return packet.get(meta, NS_IPTC_EXT, name)


def _set(meta: XMPMeta, name: str, value: str | None) -> None:
    if name == CAPTION:
        if value is None:
            meta.delete_property(NS_DC, "description")
        else:
            meta.set_localized_text(NS_DC, "description", "", "x-default", value)
        return
    if value is None:
        meta.delete_property(NS_IPTC_EXT, name)
    else:
        meta.set_property(NS_IPTC_EXT, name, value)


def _merge_standard(meta: XMPMeta, name: str, proposal: str | None, records: dict[str, str]) -> str | None:
    current = _get(meta, name)
    recorded = records.get(name)
    ours = current is not None and recorded is not None and _value_digest(current) == recorded
    if proposal is None:
        if ours:
            _set(meta, name, None)
        records.pop(name, None)
        return None
    if current is None and recorded is not None and recorded == _value_digest(proposal):
        return f"{name} removed by the user after xmpcull wrote it; not written again"
    if current is None or ours:
        if current != proposal:
            _set(meta, name, proposal)
        records[name] = _value_digest(proposal)
        return None
    records.pop(name, None)
    if current != proposal:
        return f"{name} kept as it was (not written by xmpcull)"
    return None


def read_generation_fields(meta: XMPMeta) -> GenerationFields | None:
    values = {p: packet.get(meta, NS_XMPCULL, p) for p in PROPS}
    if all(v is None for v in values.values()):
        return None
    kwargs: dict[str, object] = {}
    for prop, text in values.items():
        name = _FIELD_OF[prop]
        if text is None:
            continue
        try:
            kwargs[name] = int(text) if name in _INTS else float(text) if name in _FLOATS else text
        except ValueError:
            continue
    try:
        return GenerationFields(**kwargs)  # type: ignore[arg-type]
    except ValueError:
        return None
