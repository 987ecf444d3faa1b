"""ComfyUI: the executed graph (PNG text ``prompt``: node id -> {class_type, inputs}).

Values come from ``prompt``, never from the UI ``workflow`` (its seed widget may
already hold the next seed). An input is a value or a link ``[node_id, slot]``.
The initial sampler is the one whose latent comes from an empty latent; its
seed, steps, CFG and size describe the generation. A second sampler fed by an
upscaled latent or image is a hires pass; ``LoadImage`` feeding ``VAEEncode``
is img2img, an inpaint encoder or noise mask is inpaint. Custom nodes may hide
values: then the field stays empty rather than guessed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from xmpcull.models import Generation
from xmpcull.scan.generation.values import as_float, as_int, as_text

Graph = dict[str, dict[str, Any]]
MAX_DEPTH = 24  # links followed from one input; graphs are shallow, loops must end
SEED_KEYS = ("seed", "noise_seed")
TEXT_KEYS = ("text", "text_g", "prompt", "positive_prompt")
MODEL_KEYS = ("ckpt_name", "unet_name", "model_name")
EMPTY_LATENTS = ("EmptyLatentImage", "EmptySD3LatentImage", "EmptyHunyuanLatentVideo", "EmptyFluxLatentImage")
INPAINT_NODES = ("VAEEncodeForInpaint", "SetLatentNoiseMask", "InpaintModelConditioning", "LoadImageMask", "ImagePadForOutpaint")
UPSCALE_NODES = ("LatentUpscale", "LatentUpscaleBy", "ImageScale", "ImageScaleBy", "ImageUpscaleWithModel", "UpscaleModelLoader")


def load_graph(text: str) -> Graph | None:
    try:
        graph = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(graph, dict) or not graph:
        return None
    if not all(isinstance(n, dict) and "class_type" in n for n in graph.values()):
        return None
    return graph


def _link(value: Any) -> str | None:
    if isinstance(value, list) and len(value) == 2 and isinstance(value[1], int):
        return str(value[0])
    return None


def _inputs(graph: Graph, node_id: str) -> dict[str, Any]:
    inputs = graph.get(node_id, {}).get("inputs", {})
    return inputs if isinstance(inputs, dict) else {}


def _walk(graph: Graph, start: str) -> Iterator[str]:
    """Node ids reachable upstream from ``start`` (itself first), breadth first, each once."""
    seen, queue = {start}, [start]
    depth = 0
    while queue and depth < MAX_DEPTH:
        following = []
        for node_id in queue:
            yield node_id
            for value in _inputs(graph, node_id).values():
                target = _link(value)
                if target is not None and target in graph and target not in seen:
                    seen.add(target)
                    following.append(target)
        queue, depth = following, depth + 1


def _find(graph: Graph, start: str | None, keys: tuple[str, ...]) -> Any:
    """The first plain value named one of ``keys`` upstream of ``start``."""
    if start is None:
        return None
    for node_id in _walk(graph, start):
        inputs = _inputs(graph, node_id)
        for key in keys:
            if key in inputs and _link(inputs[key]) is None and not isinstance(inputs[key], (dict, list)):
                return inputs[key]
    return None


def _upstream(graph: Graph, node_id: str, name: str) -> str | None:
    return _link(_inputs(graph, node_id).get(name))


def _samplers(graph: Graph) -> list[str]:
    out = []
    for node_id, node in graph.items():
        inputs = _inputs(graph, node_id)
        kind = str(node.get("class_type", ""))
        if kind.startswith("KSampler") or kind.startswith("SamplerCustom") or {"steps", "sampler_name"} <= inputs.keys():
            out.append(node_id)
    return sorted(out, key=lambda n: (len(list(_walk(graph, n))), n))


def _latent_source(graph: Graph, sampler: str) -> str | None:
    return _upstream(graph, sampler, "latent_image") or _upstream(graph, sampler, "latent")


def _classes(graph: Graph, node_ids: Iterator[str] | list[str]) -> set[str]:
    return {str(graph[n].get("class_type", "")) for n in node_ids}


def parse_comfy(prompt_text: str) -> Generation | None:
    graph = load_graph(prompt_text)
    if graph is None:
        return None
    samplers = _samplers(graph)
    if not samplers:
        return Generation(generator="ComfyUI", warnings=("no sampler node found in the graph",))
    initial = next((s for s in samplers if _classes(graph, list(_walk(graph, _latent_source(graph, s) or s))) & set(EMPTY_LATENTS)), samplers[0])
    guider = _upstream(graph, initial, "guider")
    positive = _upstream(graph, initial, "positive") or (_upstream(graph, guider, "positive") if guider else None)
    positive = positive or (_upstream(graph, guider, "conditioning") if guider else None)
    negative = _upstream(graph, initial, "negative") or (_upstream(graph, guider, "negative") if guider else None)
    latent = _latent_source(graph, initial)
    all_classes = _classes(graph, list(graph))
    last = samplers[-1]
    derivation, denoise = _derivation(graph, initial, last, latent, all_classes)
    parent = None
    if derivation in ("img2img", "inpaint"):
        parent = as_text(_find(graph, latent, ("image",)))
    return Generation(
        generator="ComfyUI",
        prompt=as_text(_find(graph, positive, TEXT_KEYS)),
        negative_prompt=as_text(_find(graph, negative, TEXT_KEYS)),
        seed=as_int(_find(graph, initial, SEED_KEYS)),
        steps=as_int(_find(graph, initial, ("steps",))),
        sampler=as_text(_find(graph, initial, ("sampler_name",))),
        scheduler=as_text(_find(graph, initial, ("scheduler",))),
        cfg=as_float(_find(graph, initial, ("cfg", "guidance"))),
        model=as_text(_find(graph, _upstream(graph, initial, "model") or guider or initial, MODEL_KEYS)),
        width=as_int(_find(graph, latent, ("width",))),
        height=as_int(_find(graph, latent, ("height",))),
        derivation=derivation,
        denoise=denoise,
        parent=parent,
    )


def _derivation(graph: Graph, initial: str, last: str, latent: str | None, classes: set[str]) -> tuple[str, float | None]:
    denoise = as_float(_inputs(graph, last).get("denoise"))
    upstream_of_initial = _classes(graph, list(_walk(graph, latent))) if latent else set()
    if upstream_of_initial & set(INPAINT_NODES):
        return "inpaint", as_float(_inputs(graph, initial).get("denoise"))
    if "LoadImage" in upstream_of_initial and not upstream_of_initial & set(EMPTY_LATENTS):
        return "img2img", as_float(_inputs(graph, initial).get("denoise"))
    if last != initial:
        return "hires", denoise
    if classes & set(UPSCALE_NODES):
        return "upscale", None
    return "txt2img", None
