"""AUTOMATIC1111 / Forge "infotext": the prompt, ``Negative prompt: …``, then one ``Key: value, …`` line.

The key list follows ``modules/processing.py`` (``create_infotext``) and the
hires/img2img code of stable-diffusion-webui (docs/ai-generation.md). Values
containing commas are quoted (``Hashes: "{…}"``), so the last line is split with
a quote-aware pattern, not on every comma. A batch gets seeds seed, seed+1, …
"""

from __future__ import annotations

import json
import re

from xmpcull.models import Generation
from xmpcull.scan.generation.values import as_float, as_int, as_size, as_text

_PARAM = re.compile(r'\s*([A-Za-z][\w \-/().]*?):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')
NEGATIVE = "Negative prompt:"


def split_params(line: str) -> dict[str, str]:
    """'Steps: 20, Hashes: "{"a": 1}"' -> {'Steps': '20', 'Hashes': '{"a": 1}'}."""
    params: dict[str, str] = {}
    for match in _PARAM.finditer(line):
        key, value = match.group(1).strip(), match.group(2).strip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                value = value[1:-1]
        params.setdefault(key, str(value))
    return params


def looks_like_infotext(text: str) -> bool:
    last = text.strip().rsplit("\n", 1)[-1]
    return "Steps:" in last and ("Seed:" in last or "Sampler:" in last)


def split_infotext(text: str) -> tuple[str, str | None, dict[str, str]]:
    """(prompt, negative prompt, parameters)."""
    lines = text.strip().split("\n")
    params: dict[str, str] = {}
    if lines and looks_like_infotext(lines[-1]):
        params = split_params(lines.pop())
    prompt_lines: list[str] = []
    negative_lines: list[str] | None = None
    for line in lines:
        if negative_lines is None and line.startswith(NEGATIVE):
            negative_lines = [line[len(NEGATIVE):].strip()]
        elif negative_lines is not None:
            negative_lines.append(line)
        else:
            prompt_lines.append(line)
    negative = "\n".join(negative_lines).strip() if negative_lines is not None else None
    return "\n".join(prompt_lines).strip(), negative or None, params


def parse_infotext(text: str, postprocessing: str | None = None) -> Generation:
    """A Generation from infotext; ``postprocessing`` is the Extras tab's own text, if any."""
    prompt, negative, params = split_infotext(text)
    width, height = as_size(params.get("Size"))
    version = as_text(params.get("Version"))
    generator = "A1111"
    if version and re.match(r"^f\d", version):
        generator = "Forge"  # Forge versions read "f2.0.1v1.10.1-…"
    elif version and "fooocus" in version.lower():
        generator = "Fooocus"
    derivation, denoise = _derivation(params, postprocessing)
    return Generation(
        generator=generator,
        generator_version=version,
        prompt=prompt or None,
        negative_prompt=negative,
        seed=as_int(params.get("Seed")),
        steps=as_int(params.get("Steps")),
        sampler=as_text(params.get("Sampler")),
        scheduler=as_text(params.get("Schedule type")),
        cfg=as_float(params.get("CFG scale")),
        model=as_text(params.get("Model")),
        model_hash=as_text(params.get("Model hash")),
        width=width,
        height=height,
        derivation=derivation,
        denoise=denoise,
        parent=as_text(params.get("Init image hash")),
        variation_seed=as_int(params.get("Variation seed")),
        variation_strength=as_float(params.get("Variation seed strength")),
    )


def _derivation(params: dict[str, str], postprocessing: str | None) -> tuple[str, float | None]:
    denoise = as_float(params.get("Denoising strength"))
    if postprocessing or any(k.startswith("Postprocess upscale") for k in params):
        return "upscale", denoise
    if "Hires upscale" in params or "Hires resize" in params or "Hires upscaler" in params:
        return "hires", denoise
    if any(k in params for k in ("Mask blur", "Inpaint area", "Masked area padding", "Mask mode")):
        return "inpaint", denoise
    if denoise is not None:
        return "img2img", denoise
    return "txt2img", None

