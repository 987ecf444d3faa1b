"""Generation metadata read back from files written like each generator writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import aigen_writers as w
from xmpcull.models import COMPOSITE_WITH_TRAINED, TRAINED_ALGORITHMIC_MEDIA
from xmpcull.scan.exiftool import ExifTool
from xmpcull.scan.generation import parse_texts, read_generation
from xmpcull.scan.generation.a1111 import split_infotext
from xmpcull.scan.metadata import read_metadata
from xmpcull.scan.walk import scan_roots

PROMPT = 'a lighthouse at dusk, (dramatic sky:1.2), "quoted"\nsecond line, ünïcode'
NEGATIVE = "blurry, lowres"


def picture(size=(96, 96)):
    return w.render(PROMPT, 1, size)


def generation_of(path: Path):
    """Through the real metadata step: exiftool's tags plus the container walk."""
    files = scan_roots([path.parent]).files
    image = next(f for f in files if f.path == path)
    with ExifTool() as et:
        meta = read_metadata([image], et)[0]
    assert not isinstance(meta, str)
    return meta.generation


@pytest.mark.parametrize("after_idat", [False, True])
@pytest.mark.parametrize("kind", ["tEXt", "iTXt"])
def test_a1111_png_before_or_after_the_image_data(tmp_path, after_idat, kind):
    text = w.a1111_infotext(PROMPT, NEGATIVE, 1234, extra=", Denoising strength: 0.45, Hires upscale: 2, Hires upscaler: Latent")
    path = w.write_png(tmp_path / "a.png", picture(), {"parameters": text}, after_idat=after_idat, kind=kind)
    g = generation_of(path)
    assert (g.generator, g.prompt, g.negative_prompt, g.seed, g.steps) == ("A1111", PROMPT, NEGATIVE, 1234, 20)
    assert (g.sampler, g.scheduler, g.cfg, g.model, g.model_hash) == ("DPM++ 2M", "Karras", 7.0, "sd_xl_base_1.0", "31e35c80fc")
    assert (g.width, g.height, g.derivation, g.denoise) == (512, 512, "hires", 0.45)
    assert g.iptc_source_type == TRAINED_ALGORITHMIC_MEDIA


@pytest.mark.parametrize("byte_order", [">", "<"])
@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_a1111_jpeg_and_webp_user_comment_in_either_byte_order(tmp_path, fmt, byte_order):
    text = w.a1111_infotext(PROMPT, NEGATIVE, 99, version="f2.0.1v1.10.1-previous-1-g1234")
    exif = w.exif_bytes(user_comment=text, byte_order=byte_order)
    writer = w.write_jpeg if fmt == "jpeg" else w.write_webp
    g = generation_of(writer(tmp_path / f"a.{'jpg' if fmt == 'jpeg' else 'webp'}", picture(), exif))
    assert (g.generator, g.prompt, g.negative_prompt, g.seed) == ("Forge", PROMPT, NEGATIVE, 99)


def test_extras_upscale_keeps_the_generation_and_says_upscale(tmp_path):
    texts = {"parameters": w.a1111_infotext(PROMPT, NEGATIVE, 7),
             "postprocessing": "Postprocess upscale by: 2, Postprocess upscaler: R-ESRGAN 4x+"}
    g = generation_of(w.write_png(tmp_path / "up.png", picture(), texts))
    assert (g.seed, g.derivation) == (7, "upscale")


def test_comfyui_graph(tmp_path):
    graph = w.comfy_graph(PROMPT, NEGATIVE, 2**63 + 5, hires=True)
    g = generation_of(w.write_png(tmp_path / "c.png", picture(), w.comfy_texts(graph)))
    assert (g.generator, g.prompt, g.negative_prompt, g.seed, g.steps, g.cfg) == ("ComfyUI", PROMPT, NEGATIVE, 2**63 + 5, 25, 6.5)
    assert (g.model, g.width, g.height, g.derivation, g.denoise) == ("flux1-dev.safetensors", 512, 512, "hires", 0.5)


def test_comfyui_img2img_names_its_source(tmp_path):
    graph = w.comfy_graph(PROMPT, NEGATIVE, 3, init_image="portrait.png", denoise=0.6)
    g = generation_of(w.write_png(tmp_path / "c.png", picture(), w.comfy_texts(graph)))
    assert (g.derivation, g.denoise, g.parent) == ("img2img", 0.6, "portrait.png")


def test_comfyui_webp_exif_prompt(tmp_path):
    graph = w.comfy_graph(PROMPT, NEGATIVE, 11)
    exif = w.exif_bytes(Model="prompt:" + json.dumps(graph), Make="workflow:{}")
    g = generation_of(w.write_webp(tmp_path / "c.webp", picture(), exif))
    assert (g.generator, g.seed, g.prompt) == ("ComfyUI", 11, PROMPT)


def test_invokeai_inpaint_and_legacy(tmp_path):
    texts = w.invokeai_metadata(PROMPT, NEGATIVE, 5, mode="sdxl_inpaint", init_image="base.png", strength=0.8)
    g = generation_of(w.write_png(tmp_path / "i.png", picture(), texts))
    assert (g.generator, g.prompt, g.seed, g.model, g.derivation, g.denoise, g.parent) == (
        "InvokeAI", PROMPT, 5, "juggernautXL_v9", "inpaint", 0.8, "base.png")
    assert g.iptc_source_type == COMPOSITE_WITH_TRAINED
    legacy = generation_of(w.write_png(tmp_path / "l.png", picture(), w.invokeai_legacy("a red fox", 77)))
    assert (legacy.generator, legacy.prompt, legacy.seed, legacy.model_hash) == ("InvokeAI", "a red fox", 77, "cc6cb27103")
    dream = parse_texts({"Dream": '"a red fox [ugly, bad]" -s 50 -S 77 -W 512 -H 640 -C 7.5 -A k_lms'})
    assert (dream.prompt, dream.negative_prompt, dream.seed, dream.height) == ("a red fox", "ugly, bad", 77, 640)


def test_fooocus_png_and_jpeg(tmp_path):
    params = w.fooocus_parameters(PROMPT, NEGATIVE, 424242)
    g = generation_of(w.write_png(tmp_path / "f.png", picture(), {"parameters": params, "fooocus_scheme": "fooocus"}))
    assert (g.generator, g.seed, g.cfg, g.width, g.height, g.model_hash) == ("Fooocus", 424242, 4.0, 1152, 896, "aeb7e9e689")
    exif = w.exif_bytes(user_comment=params, Software="Fooocus v2.5.5")
    j = generation_of(w.write_jpeg(tmp_path / "f.jpg", picture(), exif))
    assert (j.generator, j.prompt, j.seed) == ("Fooocus", PROMPT, 424242)


def test_novelai_png_and_webp(tmp_path):
    texts = w.novelai_texts(PROMPT, NEGATIVE, 31337)
    g = generation_of(w.write_png(tmp_path / "n.png", picture(), texts))
    assert (g.generator, g.prompt, g.negative_prompt, g.seed, g.model, g.model_hash, g.cfg) == (
        "NovelAI", PROMPT, NEGATIVE, 31337, "Stable Diffusion XL", "C1E1DE52", 5.0)
    exif = w.exif_bytes(user_comment=texts["Comment"], ascii_comment=True, ImageDescription=PROMPT.replace("\n", " "),
                        Software="NovelAI", Model="Stable Diffusion XL C1E1DE52")
    webp = generation_of(w.write_webp(tmp_path / "n.webp", picture(), exif))
    assert (webp.generator, webp.seed, webp.prompt, webp.model, webp.model_hash) == ("NovelAI", 31337, PROMPT, "Stable Diffusion XL", "C1E1DE52")


def test_swarmui_img2img(tmp_path):
    params = w.swarm_parameters(PROMPT, NEGATIVE, 8, init_image="sketch.png")
    g = generation_of(w.write_png(tmp_path / "s.png", picture(), {"parameters": params}))
    assert (g.generator, g.seed, g.cfg, g.model_hash, g.derivation, g.denoise, g.parent) == (
        "SwarmUI", 8, 7.0, "0x31e35c80fc4829d1", "img2img", 0.6, "sketch.png")


def test_midjourney(tmp_path):
    job = "0f3c1c2e-6a0b-4f59-9d5e-3b1f7a2c9d11"
    g = generation_of(w.write_png(tmp_path / "m.png", picture(), w.midjourney_texts("a koi pond, ink", job)))
    assert (g.generator, g.prompt, g.job_id, g.prompt_writer, g.model) == ("Midjourney", "a koi pond, ink", job, "ada", "Midjourney v6.1")


def test_camera_photo_and_broken_payloads_give_no_generation(tmp_path):
    assert generation_of(w.write_jpeg(tmp_path / "photo.jpg", picture())) is None
    broken = {"prompt": "{not json", "invokeai_metadata": "[1, 2]", "parameters": "just a caption"}
    assert generation_of(w.write_png(tmp_path / "b.png", picture(), broken)) is None


def test_xmp_digital_source_type_alone_is_kept(tmp_path):
    path = w.write_jpeg(tmp_path / "flagged.jpg", picture())
    import subprocess

    subprocess.run(["exiftool", "-q", "-overwrite_original",
                    "-XMP-iptcExt:DigitalSourceType=https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
                    str(path)], check=True)
    g = generation_of(path)
    assert g.generator is None and g.source_type == TRAINED_ALGORITHMIC_MEDIA  # https normalised to http


def test_truncated_png_keeps_what_came_before(tmp_path):
    path = w.write_png(tmp_path / "t.png", picture(), {"parameters": w.a1111_infotext(PROMPT, NEGATIVE, 1)})
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"IDAT") + 20])
    assert read_generation(path, "png").seed == 1


def test_a_compressed_bomb_is_not_inflated(tmp_path):
    import zlib

    bomb = w._chunk(b"zTXt", b"parameters\0\0" + zlib.compress(b"A" * (64 * 1024 * 1024)))
    path = w.write_png(tmp_path / "bomb.png", picture(), {}, extra_chunks=bomb)
    assert read_generation(path, "png") is None


_words = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60).map(str.strip).filter(
    lambda t: t and not t.startswith("Negative prompt:") and "Steps:" not in t)


@settings(max_examples=200, deadline=None)
@given(prompt=_words, negative=_words, seed=st.integers(0, 2**32 - 1))
def test_infotext_round_trip(prompt, negative, seed):
    text = w.a1111_infotext(prompt, negative, seed)
    got_prompt, got_negative, params = split_infotext(text)
    assert (got_prompt, got_negative, int(params["Seed"])) == (prompt, negative, seed)
    assert params["Lora hashes"] == "detail: 1a2b3c4d, style: 5e6f7a8b"


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_c2pa_manifest_state_and_source_type(tmp_path, suffix):
    source = tmp_path / f"plain{suffix}"
    picture().save(source)
    signed = w.write_c2pa_signed(source, tmp_path / f"signed{suffix}", agent="Image Model X")
    g = generation_of(signed)
    assert (g.generator, g.c2pa, g.c2pa_generator, g.source_type) == ("C2PA", "Valid", "Image Model X", TRAINED_ALGORITHMIC_MEDIA)
    # Any change to the bytes breaks the signature: the state says so.
    import subprocess

    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP-dc:Title=edited", str(signed)], check=True)
    assert generation_of(signed).c2pa == "Invalid"
