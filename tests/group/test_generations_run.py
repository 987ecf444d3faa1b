"""AI batches end to end: `xmpcull run` on generator output, read back with real exiftool."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import pytest

from bench import aigen_writers as w
from tests.cli.helpers import run_cli, run_json
from xmpcull.sidecar import exiftool_config_path

PROMPT = "a lighthouse at dusk, dramatic sky"
NEGATIVE = "blurry"
BASE = (384, 384)


@pytest.fixture
def ai_tree(tmp_path: Path) -> Path:
    root = tmp_path / "outputs"
    (root / "a1111").mkdir(parents=True)
    (root / "comfy").mkdir()
    # An A1111 batch of three consecutive seeds; seed 100 also hires-fixed (before and after) and as JPEG.
    for seed in (100, 101, 102):
        text = w.a1111_infotext(PROMPT, NEGATIVE, seed)
        w.write_png(root / f"a1111/{seed}.png", w.render(PROMPT, seed, BASE), {"parameters": text})
    hires = w.a1111_infotext(PROMPT, NEGATIVE, 100, extra=", Denoising strength: 0.4, Hires upscale: 2, Hires upscaler: Latent")
    w.write_png(root / "a1111/100-hires.png", w.render(PROMPT, 100, (768, 768), detail=0.02), {"parameters": hires})
    w.write_jpeg(root / "a1111/100-copy.jpg", w.render(PROMPT, 100, BASE), w.exif_bytes(user_comment=w.a1111_infotext(PROMPT, NEGATIVE, 100)))
    # An upscaler that stripped everything: only the pixels tell.
    w.write_jpeg(root / "a1111/101-upscayl.jpg", w.render(PROMPT, 101, (1152, 1152)))
    # A ComfyUI latent batch of three: one graph, one seed, three pictures.
    graph = w.comfy_texts(w.comfy_graph("a koi pond, ink", "", 7, batch=3))
    for n in range(3):
        w.write_png(root / f"comfy/ComfyUI_{n:05}_.png", w.render("a koi pond, ink", 7 + 1000 * n, BASE), graph)
    # img2img of the first ComfyUI image, naming it as its source.
    child = w.comfy_texts(w.comfy_graph("a koi pond, watercolor", "", 9, init_image="ComfyUI_00000_.png", denoise=0.55))
    w.write_png(root / "comfy/img2img_00001_.png", w.render("a koi pond, watercolor", 9, BASE), child)
    # An unrelated photo-like image without metadata.
    w.write_jpeg(root / "photo.jpg", w.render("a street at night", 1, (640, 480)))
    return root


def tags(path: Path) -> dict:
    out = subprocess.run(["exiftool", "-config", str(exiftool_config_path()), "-j", "-G1", "-struct",
                          "-XMP-xmpcull:all", "-XMP-iptcExt:all", "-XMP-dc:all", "-XMP-lr:all", str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def test_run_groups_generations_and_batches(ai_tree: Path, tmp_path: Path):
    code, summary = run_json("run", ai_tree, "--cache", tmp_path / "c.sqlite", "--jobs", "1")
    assert code == 0, summary
    report = json.loads((ai_tree / ".xmpcull/report.json").read_text())
    groups = [sorted(Path(m["path"]).name for m in g["members"]) for g in report["groups"]]
    keepers = {Path(g["keeper"]).name for g in report["groups"]} if "keeper" in report["groups"][0] else None
    # One generation at three sizes/copies: one group, the hires pass (largest) kept.
    assert ["100-copy.jpg", "100-hires.png", "100.png"] in groups
    assert ["101-upscayl.jpg", "101.png"] in groups  # metadata stripped: found on pixels
    assert not any("ComfyUI_00000_.png" in g and "ComfyUI_00001_.png" in g for g in groups)
    if keepers is not None:
        assert {"100-hires.png", "101-upscayl.jpg"} <= keepers
    batches = {b["id"]: b for b in report["generation_batches"]}
    by_members = {frozenset(Path(m["path"]).name for m in b["members"]): b for b in batches.values()}
    a1111 = by_members[frozenset({"100.png", "100-copy.jpg", "100-hires.png", "101.png", "102.png"})]
    assert a1111["consecutive_seeds"] and a1111["generations"] == 3
    comfy = by_members[frozenset({"ComfyUI_00000_.png", "ComfyUI_00001_.png", "ComfyUI_00002_.png"})]
    assert comfy["generations"] == 3
    rows = {Path(r["path"]).name: r for r in csv.DictReader((ai_tree / ".xmpcull/report.csv").open())}
    assert rows["102.png"]["seed"] == "102" and rows["102.png"]["generator"] == "A1111"
    assert (rows["100-hires.png"]["gen_width"], rows["100-hires.png"]["derivation"]) == ("512", "hires")
    assert rows["img2img_00001_.png"]["gen_parent"] == "ComfyUI_00000_.png"
    assert rows["photo.jpg"]["generator"] == ""

    sidecar = tags(ai_tree / "a1111/102.xmp")
    assert sidecar["XMP-iptcExt:DigitalSourceType"] == "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    assert sidecar["XMP-iptcExt:AISystemUsed"] == "A1111"
    assert sidecar["XMP-iptcExt:AIPromptInformation"] == f"{PROMPT}\nNegative prompt: {NEGATIVE}"
    assert sidecar["XMP-xmpcull:GenSeed"] in (102, "102")
    assert sidecar["XMP-xmpcull:GenBatch"] == a1111["id"]
    assert f"xmpcull|ai-batch|{a1111['id']}" in sidecar["XMP-lr:HierarchicalSubject"]
    assert "XMP-dc:Description" not in sidecar  # the caption is the user's: not filled without the opt-in
    child = tags(ai_tree / "comfy/img2img_00001_.xmp")
    assert child["XMP-xmpcull:GenDerivation"] == "img2img"
    assert child["XMP-xmpcull:GenParent"] == "ComfyUI_00000_.png"
    assert "XMP-xmpcull:GenGenerator" not in tags(ai_tree / "photo.xmp")

    # A second run changes no byte.
    before = {p: p.read_bytes() for p in ai_tree.rglob("*.xmp")}
    code, again = run_json("run", ai_tree, "--cache", tmp_path / "c.sqlite", "--jobs", "1")
    assert code == 0 and again["sidecars_changed"] == 0
    assert {p: p.read_bytes() for p in ai_tree.rglob("*.xmp")} == before


def test_users_iptc_and_caption_are_kept_and_the_opt_in_fills_an_empty_caption(ai_tree: Path, tmp_path: Path):
    mine = ai_tree / "a1111/101.xmp"
    subprocess.run(["exiftool", "-config", str(exiftool_config_path()), "-q", "-o", str(mine),
                    "-XMP-iptcExt:AISystemUsed=My own pipeline", "-XMP-dc:Description=My caption", str(ai_tree / "a1111/101.png")],
                   check=True)
    code, _ = run_json("run", ai_tree, "--cache", tmp_path / "c.sqlite", "--jobs", "1", "--caption-from-prompt")
    assert code == 0
    kept = tags(mine)
    assert kept["XMP-iptcExt:AISystemUsed"] == "My own pipeline"
    assert kept["XMP-dc:Description"] == "My caption"
    assert kept["XMP-xmpcull:GenSeed"] in (101, "101")
    filled = tags(ai_tree / "a1111/102.xmp")
    assert filled["XMP-dc:Description"] == PROMPT
    # A later run without the opt-in leaves the filled caption alone (and writes nothing).
    code, again = run_json("run", ai_tree, "--cache", tmp_path / "c.sqlite", "--jobs", "1")
    assert code == 0 and again["sidecars_changed"] == 0
    assert tags(ai_tree / "a1111/102.xmp")["XMP-dc:Description"] == PROMPT
    # The user removes the caption we filled: it is not filled again.
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP-dc:Description=", str(ai_tree / "a1111/102.xmp")], check=True)
    run_json("run", ai_tree, "--cache", tmp_path / "c.sqlite", "--jobs", "1", "--caption-from-prompt")
    assert "XMP-dc:Description" not in tags(ai_tree / "a1111/102.xmp")


def _grouping(root: Path) -> tuple:
    report = json.loads((root / ".xmpcull/report.json").read_text())
    groups = sorted((Path(g["keeper"]).name, tuple(sorted(Path(m["path"]).name for m in g["members"])))
                    for g in report["groups"])
    batches = sorted((b["id"], tuple(sorted((Path(m["path"]).name, m["index"]) for m in b["members"])))
                     for b in report["generation_batches"])
    return groups, batches


def test_grouping_never_depends_on_file_times(ai_tree: Path, tmp_path: Path):
    """Generators and copies scramble file times: the same files with other times group the same way."""
    code, _ = run_json("run", ai_tree, "--cache", tmp_path / "c.sqlite", "--jobs", "1")
    assert code == 0
    first = _grouping(ai_tree)
    sidecars = {p: p.read_bytes() for p in ai_tree.rglob("*.xmp")}
    images = sorted(p for p in ai_tree.rglob("*") if p.suffix in (".png", ".jpg"))
    # Newest first in one order, then reversed: the hires pass and the stripped upscale become the
    # oldest files, the copies and the batch's later seeds the newest.
    for step, order in enumerate((images, images[::-1])):
        for n, image in enumerate(order):
            stamp = 1_000_000_000 + 86_400 * 365 * (step + 1) - 3_600 * n
            os.utime(image, (stamp, stamp))
        code, summary = run_json("run", ai_tree, "--cache", tmp_path / "c.sqlite", "--jobs", "1")
        assert code == 0
        assert _grouping(ai_tree) == first
        assert summary["sidecars_changed"] == 0
        assert {p: p.read_bytes() for p in ai_tree.rglob("*.xmp")} == sidecars


def test_show_prints_the_generation(ai_tree: Path, tmp_path: Path):
    code, info = run_json("show", ai_tree / "a1111/100-hires.png", "--cache", tmp_path / "c.sqlite")
    assert code == 0
    generation = info["metadata"]["generation"]
    assert (generation["generator"], generation["seed"], generation["derivation"]) == ("A1111", 100, "hires")
    text = run_cli("show", ai_tree / "a1111/100-hires.png", "--cache", tmp_path / "c.sqlite").stdout
    assert "prompt: a lighthouse at dusk" in text


def test_embed_refuses_a_c2pa_signed_file_unless_forced(tmp_path: Path):
    root = tmp_path / "gpt"
    root.mkdir()
    w.render("a fox in snow", 1, (320, 320)).save(tmp_path / "plain.png")
    signed = w.write_c2pa_signed(tmp_path / "plain.png", root / "chatgpt.png", agent="GPT-4o")
    w.write_png(root / "sd.png", w.render("a cabin", 2, (320, 320)), {"parameters": w.a1111_infotext("a cabin", "", 2)})
    original = signed.read_bytes()
    code, summary = run_json("run", root, "--embed", "--no-cache", "--jobs", "1")
    assert code == 0, summary
    assert signed.read_bytes() == original  # untouched: its manifest stays valid
    assert any("chatgpt" in warning and "C2PA" in warning for warning in summary["sidecar_warnings"])
    sidecar = tags(root / "chatgpt.xmp")
    assert sidecar["XMP-xmpcull:GenC2PA"] == "Valid"
    assert sidecar["XMP-iptcExt:DigitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert tags(root / "sd.png")["XMP-xmpcull:GenGenerator"] == "A1111"  # no manifest: embedded as asked
    code, _ = run_json("run", root, "--embed", "--embed-over-c2pa", "--no-cache", "--jobs", "1")
    assert code == 0 and signed.read_bytes() != original
