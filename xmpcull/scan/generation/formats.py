"""The JSON and text formats of InvokeAI, Fooocus, NovelAI, SwarmUI and Midjourney.

Field names are those the generators write (docs/ai-generation.md lists the
source of each): InvokeAI ``invokeai_metadata`` (3.x+) or ``sd-metadata`` /
``Dream`` (2.x); Fooocus's "fooocus" scheme; NovelAI's ``Comment`` JSON with
``Source`` naming the model; SwarmUI's ``sui_image_params``; Midjourney's
``Description`` (prompt, ``--`` parameters, ``Job ID``).
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from xmpcull.models import Generation
from xmpcull.scan.generation.values import as_float, as_int, as_size, as_text


def load_json_object(text: str | None) -> dict[str, Any] | None:
    if not text or not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


# --- InvokeAI ---------------------------------------------------------------

_INVOKE_MODES = {"inpaint": "inpaint", "outpaint": "inpaint", "img2img": "img2img", "txt2img": "txt2img"}


def _invoke_mode(mode: str | None, hires: bool) -> str:
    mode = (mode or "txt2img").lower()
    for suffix, derivation in _INVOKE_MODES.items():
        if mode.endswith(suffix):
            return "hires" if derivation == "txt2img" and hires else derivation
    return "txt2img"


def parse_invokeai(meta: dict[str, Any]) -> Generation:
    model = meta.get("model")
    model_name = as_text(model.get("name") or model.get("model_name")) if isinstance(model, dict) else as_text(model)
    model_hash = as_text(model.get("hash")) if isinstance(model, dict) else None
    init = meta.get("init_image")
    parent = as_text(init.get("image_name")) if isinstance(init, dict) else as_text(init)
    return Generation(
        generator="InvokeAI",
        generator_version=as_text(meta.get("app_version")),
        prompt=as_text(meta.get("positive_prompt")),
        negative_prompt=as_text(meta.get("negative_prompt")),
        seed=as_int(meta.get("seed")),
        steps=as_int(meta.get("steps")),
        scheduler=as_text(meta.get("scheduler")),
        cfg=as_float(meta.get("cfg_scale")),
        model=model_name,
        model_hash=model_hash,
        width=as_int(meta.get("width")),
        height=as_int(meta.get("height")),
        derivation=_invoke_mode(as_text(meta.get("generation_mode")), bool(meta.get("hrf_enabled"))),
        denoise=as_float(meta.get("strength")) if meta.get("strength") is not None else as_float(meta.get("hrf_strength")),
        parent=parent,
    )


def parse_invokeai_legacy(meta: dict[str, Any]) -> Generation:
    image = meta.get("image") if isinstance(meta.get("image"), dict) else {}
    prompts = image.get("prompt")
    prompt = None
    if isinstance(prompts, list):
        prompt = " ".join(str(p.get("prompt", "")) for p in prompts if isinstance(p, dict)).strip() or None
    elif prompts is not None:
        prompt = as_text(prompts)
    negative = None
    if prompt and "[" in prompt and prompt.endswith("]"):
        prompt, negative = prompt[: prompt.index("[")].strip() or None, prompt[prompt.index("[") + 1 : -1].strip() or None
    kind = as_text(image.get("type")) or "txt2img"
    return Generation(
        generator="InvokeAI",
        generator_version=as_text(meta.get("app_version")),
        prompt=prompt,
        negative_prompt=negative,
        seed=as_int(image.get("seed")),
        steps=as_int(image.get("steps")),
        sampler=as_text(image.get("sampler")),
        cfg=as_float(image.get("cfg_scale")),
        model=as_text(meta.get("model_weights")),
        model_hash=as_text(meta.get("model_hash")),
        width=as_int(image.get("width")),
        height=as_int(image.get("height")),
        derivation=_invoke_mode(kind, False),
        denoise=as_float(image.get("strength")) if kind != "txt2img" else None,
        parent=as_text(image.get("init_image_path")),
    )


_DREAM_FLAGS = {"-s": "steps", "-S": "seed", "-W": "width", "-H": "height", "-C": "cfg", "-A": "sampler", "-f": "strength", "-I": "init"}


def parse_dream(text: str) -> Generation | None:
    """``"a cat [ugly]" -s 50 -S 42 -W 512 -H 512 -C 7.5 -A k_lms``."""
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    if not words:
        return None
    values: dict[str, str] = {}
    for flag, value in zip(words[1:], words[2:]):
        if flag in _DREAM_FLAGS:
            values[_DREAM_FLAGS[flag]] = value
    prompt, negative = words[0], None
    match = re.match(r"^(.*?)\s*\[(.*)\]\s*$", prompt, re.S)
    if match:
        prompt, negative = match.group(1), match.group(2)
    img2img = "init" in values
    return Generation(
        generator="InvokeAI",
        prompt=prompt.strip() or None,
        negative_prompt=(negative or "").strip() or None,
        seed=as_int(values.get("seed")),
        steps=as_int(values.get("steps")),
        sampler=as_text(values.get("sampler")),
        cfg=as_float(values.get("cfg")),
        width=as_int(values.get("width")),
        height=as_int(values.get("height")),
        derivation="img2img" if img2img else "txt2img",
        denoise=as_float(values.get("strength")) if img2img else None,
        parent=as_text(values.get("init")),
    )


# --- Fooocus ----------------------------------------------------------------


def parse_fooocus(meta: dict[str, Any]) -> Generation:
    width, height = as_size(meta.get("resolution"))
    return Generation(
        generator="Fooocus",
        generator_version=as_text(meta.get("version")),
        prompt=as_text(meta.get("prompt")),
        negative_prompt=as_text(meta.get("negative_prompt")),
        seed=as_int(meta.get("seed")),
        steps=as_int(meta.get("steps")),
        sampler=as_text(meta.get("sampler")),
        scheduler=as_text(meta.get("scheduler")),
        cfg=as_float(meta.get("guidance_scale")),
        model=as_text(meta.get("base_model")),
        model_hash=as_text(meta.get("base_model_hash")),
        width=width,
        height=height,
    )


# --- NovelAI ----------------------------------------------------------------

_HEX_TAIL = re.compile(r"^(.*?)\s+([0-9A-Fa-f]{8,})$")


def parse_novelai(comment: dict[str, Any], source: str | None, description: str | None) -> Generation:
    model, model_hash = as_text(source), None
    if model:
        match = _HEX_TAIL.match(model)
        if match:
            model, model_hash = match.group(1), match.group(2)
    strength = as_float(comment.get("strength"))
    img2img = comment.get("request_type") == "Img2ImgRequest" or ("image" in comment and strength is not None)
    return Generation(
        generator="NovelAI",
        prompt=as_text(comment.get("prompt")) or as_text(description),
        negative_prompt=as_text(comment.get("uc")),
        seed=as_int(comment.get("seed")),
        steps=as_int(comment.get("steps")),
        sampler=as_text(comment.get("sampler")),
        scheduler=as_text(comment.get("noise_schedule")),
        cfg=as_float(comment.get("scale")),
        model=model,
        model_hash=model_hash,
        width=as_int(comment.get("width")),
        height=as_int(comment.get("height")),
        derivation="img2img" if img2img else "txt2img",
        denoise=strength if img2img else None,
    )


# --- SwarmUI ----------------------------------------------------------------


def parse_swarm(meta: dict[str, Any]) -> Generation:
    params = meta.get("sui_image_params") if isinstance(meta.get("sui_image_params"), dict) else {}
    extra = meta.get("sui_extra_data") if isinstance(meta.get("sui_extra_data"), dict) else {}
    models = meta.get("sui_models") if isinstance(meta.get("sui_models"), list) else []
    model_hash = next(
        (as_text(m.get("hash")) for m in models if isinstance(m, dict) and m.get("param") == "model"), None
    )
    creativity = as_float(params.get("initimagecreativity"))
    derivation = "txt2img"
    if params.get("maskimage") is not None:
        derivation = "inpaint"
    elif creativity is not None:
        derivation = "img2img"
    elif params.get("refinerupscale") is not None:
        derivation = "hires"
    return Generation(
        generator="SwarmUI",
        generator_version=as_text(params.get("swarm_version")),
        prompt=as_text(params.get("prompt")),
        negative_prompt=as_text(params.get("negativeprompt")),
        seed=as_int(params.get("seed")),
        steps=as_int(params.get("steps")),
        sampler=as_text(params.get("sampler")),
        scheduler=as_text(params.get("scheduler")),
        cfg=as_float(params.get("cfgscale")),
        model=as_text(params.get("model")),
        model_hash=model_hash,
        width=as_int(params.get("width")),
        height=as_int(params.get("height")),
        derivation=derivation,
        denoise=creativity if creativity is not None else as_float(params.get("refinercontrolpercentage")),
        parent=as_text(extra.get("initimage_filename")),
    )


# --- Midjourney -------------------------------------------------------------

_JOB_ID = re.compile(r"Job ID:\s*([0-9a-fA-F-]{36})")
_MJ_PARAM = re.compile(r"--([a-z]+)\s+([^\s-][^\s]*)")


def parse_midjourney(description: str, author: str | None) -> Generation:
    job = _JOB_ID.search(description)
    body = description[: job.start()] if job else description
    prompt, _, tail = body.partition(" --")
    params = dict(_MJ_PARAM.findall("--" + tail)) if tail else {}
    version = params.get("v") or params.get("version") or params.get("niji")
    return Generation(
        generator="Midjourney",
        generator_version=version,
        prompt=prompt.strip() or None,
        seed=as_int(params.get("seed")),
        model=f"Midjourney v{version}" if version else "Midjourney",
        job_id=job.group(1).lower() if job else None,
        prompt_writer=as_text(author),
    )
