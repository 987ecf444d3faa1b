"""AI images in Lightroom: `xmpcull run` on generator output, then the plug-in's real Lua syncs it."""

from __future__ import annotations

import json
from pathlib import Path

from lupa import lua51

from bench import aigen_writers as w
from tests.cli.helpers import run_json
from tests.plugin.harness import PLUGIN_DIR, FakeLightroom

LONG_PROMPT = "a lighthouse at dusk, " + "très détaillé, " * 60  # well over 511 bytes, with 2-byte characters


def test_prompt_model_seed_and_a_collection_per_batch(tmp_path: Path):
    root = tmp_path / "outputs"
    root.mkdir()
    for seed in (40, 41, 42):
        w.write_png(root / f"{seed}.png", w.render(LONG_PROMPT, seed, (320, 320)),
                    {"parameters": w.a1111_infotext(LONG_PROMPT, "blurry", seed)})
    w.write_png(root / "single.png", w.render("a red fox", 1, (320, 320)), {"parameters": w.a1111_infotext("a red fox", "", 7)})
    code, _ = run_json("run", root, "--no-cache", "--jobs", "1")
    assert code == 0
    batch = json.loads((root / ".xmpcull/report.json").read_text())["generation_batches"][0]["id"]

    lr = FakeLightroom()
    photos = {Path(p.path).name: p for p in lr.load_folder(root)}
    lr.sync()
    props = lr.props(photos["41.png"])
    assert (props["aiGenerator"], props["aiSeed"], props["aiModel"], props["aiBatch"]) == ("A1111", "41", "sd_xl_base_1.0", batch)
    prompt = props["aiPrompt"].encode("utf-8") if isinstance(props["aiPrompt"], str) else props["aiPrompt"]
    assert len(prompt) <= 511 and prompt.endswith(b" [...]")
    assert LONG_PROMPT.encode("utf-8").startswith(prompt[: -len(b" [...]")])  # cut on a character boundary
    prompt.decode("utf-8")
    assert f"xmpcull|ai-batch|{batch}" in lr.keywords(photos["40.png"])
    assert lr.props(photos["single.png"])["aiPrompt"] == "a red fox"

    result = lr.run("createCollections")
    root_set = {s.name: s for s in lr.sdk.rootSets.values()}["xmpcull"]
    batches = {s.name: s for s in root_set.sets.values()}["AI batches"]
    (collection,) = batches.collections.values()
    assert collection.name == batch
    assert sorted(Path(p.path).name for p in collection.photoList.values()) == ["40.png", "41.png", "42.png"]
    smart = {c.name: c for c in root_set.collections.values()}
    assert len(lr.sdk.search(smart["AI generated"].searchDesc)) == 4
    assert lr.run("createCollections")["created"] == 0 and result["created"] >= 2


def test_fit_searchable_never_splits_a_character():
    lua = lua51.LuaRuntime(unpack_returned_tuples=True)
    lua.execute(f"package.path = '{PLUGIN_DIR}/?.lua;' .. package.path")
    fit = lua.eval("require('XcFields').fitSearchable")
    for text in ("é" * 300, "a" + "日本" * 200, "x" * 511, "x" * 512):
        out = fit(text.encode("utf-8"))
        out = out if isinstance(out, bytes) else out.encode("utf-8")
        assert len(out) <= 511
        out.decode("utf-8")
        if len(text.encode("utf-8")) <= 511:
            assert out == text.encode("utf-8")
