"""Writers of each generator's metadata, for the AI dev set and the tests.

Every writer follows what the generator itself writes (docs/ai-generation.md):
the same PNG text keys, the same EXIF tags, UTF-16 UserComment in the file's
byte order. Pictures are rendered here: a layout drawn from the prompt, details
from the seed, so a batch looks alike but not the same, and one generation
rendered at two sizes is the same picture.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def _rng(*parts: object) -> np.random.Generator:
    seed = int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big")
    return np.random.default_rng(seed)


def render(prompt: str, seed: int, size: tuple[int, int], detail: float = 0.0) -> Image.Image:
    """The picture of (prompt, seed) at ``size``; ``detail`` > 0 adds the fine texture a hires pass adds."""
    width, height = size
    layout, variant = _rng("layout", prompt), _rng("seed", prompt, seed)
    top, bottom = layout.integers(0, 255, 3), layout.integers(0, 255, 3)
    ramp = np.linspace(0.0, 1.0, height)[:, None, None]
    base = (top[None, None, :] * (1 - ramp) + bottom[None, None, :] * ramp).repeat(width, axis=1)
    image = Image.fromarray(base.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for rng, count in ((layout, 6), (variant, 5)):
        for _ in range(count):
            x0, y0 = rng.uniform(-0.1, 0.9, 2)
            w, h = rng.uniform(0.1, 0.5, 2)
            box = [x0 * width, y0 * height, (x0 + w) * width, (y0 + h) * height]
            colour = tuple(int(c) for c in rng.integers(0, 255, 3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(radius=max(1.0, width / 256)))
    if detail:
        noise = _rng("detail", prompt, seed, size).normal(0, 255 * detail, (height, width, 1))
        image = Image.fromarray(np.clip(np.asarray(image, dtype=np.float32) + noise, 0, 255).astype(np.uint8), "RGB")
    return image


# --- containers --------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def text_chunk(key: str, text: str, kind: str = "tEXt") -> bytes:
    if kind == "tEXt":
        return _chunk(b"tEXt", key.encode("latin-1") + b"\0" + text.encode("utf-8"))
    if kind == "zTXt":
        return _chunk(b"zTXt", key.encode("latin-1") + b"\0\0" + zlib.compress(text.encode("latin-1", "replace")))
    return _chunk(b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + text.encode("utf-8"))


def write_png(path: Path, image: Image.Image, texts: dict[str, str], *, after_idat: bool = False, kind: str = "tEXt",
              extra_chunks: bytes = b"", compress_level: int = 1) -> Path:
    """A PNG with ``texts`` as text chunks, before the image data or (like some savers) after it."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=compress_level)
    data = buffer.getvalue()
    chunks = b"".join(text_chunk(k, v, kind) for k, v in texts.items()) + extra_chunks
    if after_idat:
        at = data.rindex(b"IEND") - 4
    else:
        at = data.index(b"IDAT") - 4
    path.write_bytes(data[:at] + chunks + data[at:])
    return path


def exif_bytes(*, user_comment: str | None = None, ascii_comment: bool = False, byte_order: str = ">",
               **tags: str) -> bytes:
    """EXIF with the IFD0 text tags generators use and a UserComment (UNICODE = UTF-16 in ``byte_order``)."""
    ids = {"ImageDescription": 0x010E, "Make": 0x010F, "Model": 0x0110, "Software": 0x0131, "Artist": 0x013B,
           "DocumentName": 0x010D}
    exif = Image.Exif()
    exif.endian = byte_order
    for name, value in tags.items():
        exif[ids[name]] = value
    if user_comment is not None:
        if ascii_comment:
            body = b"ASCII\0\0\0" + user_comment.encode("utf-8")
        else:
            body = b"UNICODE\0" + user_comment.encode("utf-16-be" if byte_order == ">" else "utf-16-le")
        exif.get_ifd(0x8769)[0x9286] = body
    return exif.tobytes()


def write_jpeg(path: Path, image: Image.Image, exif: bytes | None = None, quality: int = 90) -> Path:
    image.save(path, "JPEG", quality=quality, **({"exif": exif} if exif else {}))
    return path


def write_webp(path: Path, image: Image.Image, exif: bytes | None = None) -> Path:
    image.save(path, "WEBP", quality=90, **({"exif": exif} if exif else {}))
    return path


# --- generator payloads ------------------------------------------------------------------


def a1111_infotext(prompt: str, negative: str, seed: int, *, steps: int = 20, sampler: str = "DPM++ 2M",
                   cfg: float = 7.0, size: tuple[int, int] = (512, 512), model: str = "sd_xl_base_1.0",
                   model_hash: str = "31e35c80fc", extra: str = "", version: str = "v1.10.1") -> str:
    params = (f"Steps: {steps}, Sampler: {sampler}, Schedule type: Karras, CFG scale: {cfg:g}, Seed: {seed}, "
              f"Size: {size[0]}x{size[1]}, Model hash: {model_hash}, Model: {model}{extra}, "
              f'Lora hashes: "detail: 1a2b3c4d, style: 5e6f7a8b", Version: {version}')
    return f"{prompt}\nNegative prompt: {negative}\n{params}"


def comfy_graph(prompt: str, negative: str, seed: int, *, steps: int = 25, cfg: float = 6.5,
                size: tuple[int, int] = (512, 512), model: str = "flux1-dev.safetensors", batch: int = 1,
                hires: bool = False, init_image: str | None = None, denoise: float = 1.0) -> dict:
    graph: dict = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": model}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": prompt, "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": negative, "clip": ["4", 1]}},
        "3": {"class_type": "KSampler", "inputs": {"seed": seed, "steps": steps, "cfg": cfg, "sampler_name": "euler",
              "scheduler": "normal", "denoise": denoise, "model": ["4", 0], "positive": ["6", 0],
              "negative": ["7", 0], "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    }
    if init_image:
        graph["10"] = {"class_type": "LoadImage", "inputs": {"image": init_image, "upload": "image"}}
        graph["5"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["10", 0], "vae": ["4", 2]}}
    else:
        graph["5"] = {"class_type": "EmptyLatentImage", "inputs": {"width": size[0], "height": size[1], "batch_size": batch}}
    if hires:
        graph["11"] = {"class_type": "LatentUpscaleBy", "inputs": {"upscale_method": "nearest-exact", "scale_by": 2,
                       "samples": ["3", 0]}}
        graph["12"] = {"class_type": "KSampler", "inputs": {"seed": seed, "steps": 12, "cfg": cfg, "sampler_name": "euler",
                       "scheduler": "normal", "denoise": 0.5, "model": ["4", 0], "positive": ["6", 0],
                       "negative": ["7", 0], "latent_image": ["11", 0]}}
        graph["13"] = {"class_type": "VAEDecode", "inputs": {"samples": ["12", 0], "vae": ["4", 2]}}
        graph["14"] = {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI_hires", "images": ["13", 0]}}
    return graph


def comfy_texts(graph: dict) -> dict[str, str]:
    workflow = {"last_node_id": max(int(k) for k in graph), "nodes": [{"id": int(k), "type": v["class_type"]} for k, v in graph.items()]}
    return {"prompt": json.dumps(graph), "workflow": json.dumps(workflow)}


def invokeai_metadata(prompt: str, negative: str, seed: int, *, mode: str = "txt2img", init_image: str | None = None,
                      strength: float | None = None, size: tuple[int, int] = (768, 768)) -> dict[str, str]:
    meta = {"generation_mode": mode, "positive_prompt": prompt, "negative_prompt": negative, "width": size[0],
            "height": size[1], "seed": seed, "rand_device": "cpu", "cfg_scale": 7.5, "steps": 30,
            "scheduler": "dpmpp_2m_k", "model": {"name": "juggernautXL_v9", "hash": "blake3:8c1e2f", "base": "sdxl"},
            "app_version": "5.6.0"}
    if init_image:
        meta["init_image"] = init_image
        meta["strength"] = strength if strength is not None else 0.7
    return {"invokeai_metadata": json.dumps(meta)}


def invokeai_legacy(prompt: str, seed: int) -> dict[str, str]:
    meta = {"model": "stable diffusion", "model_weights": "stable-diffusion-1.5", "model_hash": "cc6cb27103",
            "app_id": "invoke-ai/InvokeAI", "app_version": "2.3.5",
            "image": {"prompt": [{"prompt": prompt, "weight": 1.0}], "steps": 50, "cfg_scale": 7.5, "threshold": 0,
                      "perlin": 0, "height": 512, "width": 512, "seed": seed, "seamless": False,
                      "hires_fix": False, "type": "txt2img", "postprocessing": None, "sampler": "k_lms", "variations": []}}
    return {"sd-metadata": json.dumps(meta), "Dream": f'"{prompt}" -s 50 -S {seed} -W 512 -H 512 -C 7.5 -A k_lms'}


def fooocus_parameters(prompt: str, negative: str, seed: int) -> str:
    return json.dumps({"prompt": prompt, "negative_prompt": negative, "prompt_expansion": prompt + ", intricate",
                       "styles": "['Fooocus V2', 'Fooocus Enhance']", "performance": "Speed", "steps": 30,
                       "resolution": "(1152, 896)", "guidance_scale": 4, "sharpness": 2, "adm_guidance": "(1.5, 0.8, 0.3)",
                       "base_model": "juggernautXL_v8Rundiffusion", "base_model_hash": "aeb7e9e689",
                       "refiner_model": "None", "sampler": "dpmpp_2m_sde_gpu", "scheduler": "karras",
                       "seed": str(seed), "version": "Fooocus v2.5.5", "metadata_scheme": "fooocus"})


def novelai_texts(prompt: str, negative: str, seed: int) -> dict[str, str]:
    comment = {"prompt": prompt, "steps": 28, "height": 1216, "width": 832, "scale": 5.0, "uncond_scale": 1.0,
               "cfg_rescale": 0.0, "seed": seed, "n_samples": 1, "noise_schedule": "native", "sampler": "k_euler_ancestral",
               "uc": negative, "request_type": "PromptGenerateRequest", "signed_hash": "dGVzdA=="}
    return {"Title": "AI generated image", "Description": prompt, "Software": "NovelAI",
            "Source": "Stable Diffusion XL C1E1DE52", "Generation time": "4.2", "Comment": json.dumps(comment)}


def swarm_parameters(prompt: str, negative: str, seed: int, init_image: str | None = None) -> str:
    params = {"prompt": prompt, "negativeprompt": negative, "model": "sd_xl_base_1.0", "seed": seed, "steps": 30,
              "cfgscale": 7, "aspectratio": "1:1", "width": 1024, "height": 1024, "sampler": "dpmpp_2m",
              "scheduler": "karras", "swarm_version": "0.9.5.2", "date": "2026-11-02", "generation_time": "3.1 sec"}
    extra = {}
    if init_image:
        params["initimagecreativity"] = 0.6
        extra["initimage_filename"] = init_image
    return json.dumps({"sui_image_params": params, "sui_extra_data": extra,
                       "sui_models": [{"name": "sd_xl_base_1.0.safetensors", "param": "model", "hash": "0x31e35c80fc4829d1"}]})


def midjourney_texts(prompt: str, job_id: str, author: str = "ada") -> dict[str, str]:
    return {"Description": f"{prompt} --ar 1:1 --v 6.1 --s 250 Job ID: {job_id}", "Author": author,
            "Creation Time": "2026-11-02T10:00:00Z"}


# --- C2PA --------------------------------------------------------------------------------


def _test_signer():  # -> c2pa.Signer
    """A throw-away CA and an ES256 signing certificate it issued (c2pa-rs refuses self-signed signers)."""
    import datetime as dt

    import c2pa
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "xmpcull test")])

    def usage(sign: bool) -> x509.KeyUsage:
        return x509.KeyUsage(digital_signature=sign, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=not sign, crl_sign=not sign,
                             encipher_only=False, decipher_only=False)

    now = dt.datetime.now(dt.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def builder(subject: str, issuer: x509.Name, public, serial: int) -> x509.CertificateBuilder:
        return (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(issuer).public_key(public)
                .serial_number(serial).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365)))

    ca = (builder("xmpcull test CA", name("xmpcull test CA"), ca_key.public_key(), 1)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(usage(False), critical=True).sign(ca_key, hashes.SHA256()))
    leaf = (builder("xmpcull test signer", ca.subject, key.public_key(), 2)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return c2pa.Signer.from_info(c2pa.C2paSignerInfo(alg=b"es256", sign_cert=chain, private_key=private, ta_url=None))


def write_c2pa_signed(source: Path, dest: Path, agent: str = "Test Image Model",
                      source_type: str = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia") -> Path:
    """``source`` signed with a C2PA manifest saying ``agent`` created it (as DALL·E or Firefly output does)."""
    import c2pa

    mime = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}[source.suffix.lower()]
    manifest = {"claim_generator_info": [{"name": "xmpcull dev set", "version": "1"}], "title": dest.name,
                "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                    {"action": "c2pa.created", "softwareAgent": agent, "digitalSourceType": source_type}]}}]}
    with c2pa.Builder(json.dumps(manifest)) as builder, open(source, "rb") as src, open(dest, "w+b") as dst:
        builder.sign(_test_signer(), mime, src, dst)
    return dest
