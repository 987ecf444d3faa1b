"""Benchmark: AI generations on a dev set this script makes (issue #19).

Every file is rendered here and carries its generator's metadata as that
generator writes it (bench/aigen_writers.py): A1111 (PNG before and after the
image data, JPEG big-endian and WebP little-endian UserComment, hires fix,
Extras upscale, a stripped upscale), Forge, ComfyUI (a latent batch with one
graph and its hires pass, an img2img child), InvokeAI (3.x and 2.x, an inpaint
child), Fooocus, NovelAI, SwarmUI, Midjourney, C2PA-signed files (signed with a
throw-away certificate), unrelated singles and images without metadata.

It reports parse success per generator, and precision/recall of pairs per case
for the three groupings: same picture (duplicate group), batch, parent link.

    python bench/aigen_devset.py [--keep DIR]

Writes its section of bench/RESULTS.md ("AI generations: dev set").
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench import aigen_writers as w  # noqa: E402
from bench.results import replace_section  # noqa: E402
from xmpcull.config import load_config  # noqa: E402
from xmpcull.run import RunOptions, run_pipeline  # noqa: E402

BASE, HIRES = (512, 512), (1024, 1024)


@dataclass
class Truth:
    path: Path
    case: str
    generator: str | None  # expected generator (None: no record expected)
    picture: str  # files of one picture share it
    series: str | None = None  # files of one batch share it
    parent: Path | None = None
    prompt: str | None = None
    seed: int | None = None


class DevSet:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.truth: list[Truth] = []

    def add(self, rel: str, case: str, generator: str | None, picture: str, **kw) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self.truth.append(Truth(path, case, generator, picture, **kw))
        return path


def build(root: Path) -> DevSet:
    ds = DevSet(root)
    neg = "lowres, blurry"

    def a1111_case(case: str, prompt: str, seeds, *, version="v1.10.1", after_idat=False, generator="A1111"):
        for seed in seeds:
            pic = f"{case}-{seed}"
            path = ds.add(f"{case}/{seed}.png", case, generator, pic, series=case, prompt=prompt, seed=seed)
            text = w.a1111_infotext(prompt, neg, seed, version=version)
            w.write_png(path, w.render(prompt, seed, BASE), {"parameters": text}, after_idat=after_idat)
        return neg

    prompt = "a lighthouse on a cliff at dusk, dramatic sky"
    a1111_case("a1111-hires", prompt, range(1000, 1004))
    for seed in range(1000, 1004):
        text = w.a1111_infotext(prompt, neg, seed, extra=", Denoising strength: 0.4, Hires upscale: 2, Hires upscaler: Latent")
        path = ds.add(f"a1111-hires/{seed}-hires.png", "a1111-hires", "A1111", f"a1111-hires-{seed}", series="a1111-hires", prompt=prompt, seed=seed)
        w.write_png(path, w.render(prompt, seed, HIRES, detail=0.02), {"parameters": text})

    prompt = "portrait of an old fisherman, oil painting"
    a1111_case("a1111-formats", prompt, (55, 56))
    for seed, (fmt, order) in itertools.product((55, 56), (("jpg", ">"), ("webp", "<"))):
        text = w.a1111_infotext(prompt, neg, seed)
        # Not one stem for both: same-stem files in one folder are one shot (a RAW+JPEG pair) by design.
        path = ds.add(f"a1111-formats/{seed}-as-{fmt}.{fmt}", "a1111-formats", "A1111", f"a1111-formats-{seed}", series="a1111-formats", prompt=prompt, seed=seed)
        (w.write_jpeg if fmt == "jpg" else w.write_webp)(path, w.render(prompt, seed, BASE), w.exif_bytes(user_comment=text, byte_order=order))

    prompt = "a red vintage car in the rain, cinematic"
    a1111_case("a1111-extras", prompt, (7, 8))
    for seed in (7, 8):
        texts = {"parameters": w.a1111_infotext(prompt, neg, seed),
                 "postprocessing": "Postprocess upscale by: 2, Postprocess upscaler: R-ESRGAN 4x+"}
        path = ds.add(f"a1111-extras/{seed}-extras.png", "a1111-extras", "A1111", f"a1111-extras-{seed}", series="a1111-extras", prompt=prompt, seed=seed)
        w.write_png(path, w.render(prompt, seed, HIRES), texts)
    path = ds.add("a1111-extras/7-upscayl.jpg", "a1111-extras", None, "a1111-extras-7")  # metadata stripped
    w.write_jpeg(path, w.render(prompt, 7, (2048, 2048)))

    a1111_case("a1111-after-idat", "isometric tiny house, pastel", (3, 4), after_idat=True)
    a1111_case("forge", "a cyberpunk street market, neon", (500, 501, 502), version="f2.0.1v1.10.1-previous-3-g1a2b", generator="Forge")

    prompt = "a koi pond seen from above, ink wash"
    graph = w.comfy_texts(w.comfy_graph(prompt, "", 4242, batch=4, hires=True))
    for n in range(4):
        path = ds.add(f"comfy-batch/ComfyUI_{n + 1:05}_.png", "comfy-batch", "ComfyUI", f"comfy-{n}", series="comfy-batch", prompt=prompt, seed=4242)
        w.write_png(path, w.render(prompt, 4242 + 1000 * n, BASE), graph)
        path = ds.add(f"comfy-batch/ComfyUI_hires_{n + 1:05}_.png", "comfy-batch", "ComfyUI", f"comfy-{n}", series="comfy-batch", prompt=prompt, seed=4242)
        w.write_png(path, w.render(prompt, 4242 + 1000 * n, HIRES, detail=0.02), graph)
    parent = ds.root / "comfy-batch/ComfyUI_00001_.png"
    prompt2 = "a koi pond seen from above, watercolor"
    path = ds.add("comfy-img2img/ComfyUI_00010_.png", "comfy-img2img", "ComfyUI", "comfy-child", parent=parent, prompt=prompt2, seed=9)
    w.write_png(path, w.render(prompt2, 9, BASE), w.comfy_texts(w.comfy_graph(prompt2, "", 9, init_image="ComfyUI_00001_.png [input]", denoise=0.55)))

    prompt = "a snowy mountain village at night, warm windows"
    for seed in (11, 12, 13):
        path = ds.add(f"invokeai/{seed}.png", "invokeai", "InvokeAI", f"invoke-{seed}", series="invokeai", prompt=prompt, seed=seed)
        w.write_png(path, w.render(prompt, seed, (768, 768)), w.invokeai_metadata(prompt, neg, seed))
    path = ds.add("invokeai/11-inpaint.png", "invokeai", "InvokeAI", "invoke-inpaint", parent=ds.root / "invokeai/11.png", prompt=prompt, seed=11)
    w.write_png(path, w.render(prompt + " inpaint", 11, (768, 768)),
                w.invokeai_metadata(prompt, neg, 11, mode="inpaint", init_image="11.png", strength=0.75))
    for seed in (21, 22):
        path = ds.add(f"invokeai-2/{seed}.png", "invokeai-legacy", "InvokeAI", f"invoke2-{seed}", series="invokeai-legacy", prompt="a red fox", seed=seed)
        w.write_png(path, w.render("a red fox", seed, BASE), w.invokeai_legacy("a red fox", seed))

    prompt = "a bowl of ramen, food photography"
    for seed in (123456, 123457):
        path = ds.add(f"fooocus/{seed}.png", "fooocus", "Fooocus", f"fooocus-{seed}", series="fooocus", prompt=prompt, seed=seed)
        params = w.fooocus_parameters(prompt, neg, seed)
        w.write_png(path, w.render(prompt, seed, (1152, 896)), {"parameters": params, "fooocus_scheme": "fooocus"})
        path = ds.add(f"fooocus/{seed}-copy.jpg", "fooocus", "Fooocus", f"fooocus-{seed}", series="fooocus", prompt=prompt, seed=seed)
        w.write_jpeg(path, w.render(prompt, seed, (1152, 896)), w.exif_bytes(user_comment=params, Software="Fooocus v2.5.5"))

    prompt = "1girl, silver hair, library, sunlight"
    for seed in (9001, 9002, 9003):
        path = ds.add(f"novelai/{seed}.png", "novelai", "NovelAI", f"nai-{seed}", series="novelai", prompt=prompt, seed=seed)
        w.write_png(path, w.render(prompt, seed, (832, 1216)), w.novelai_texts(prompt, neg, seed))
    texts = w.novelai_texts(prompt, neg, 9001)
    path = ds.add("novelai/9001-copy.webp", "novelai", "NovelAI", "nai-9001", series="novelai", prompt=prompt, seed=9001)
    w.write_webp(path, w.render(prompt, 9001, (832, 1216)),
                 w.exif_bytes(user_comment=texts["Comment"], ascii_comment=True, ImageDescription=prompt, Software="NovelAI",
                              Model=texts["Source"]))

    prompt = "a bonsai tree on a desk, studio light"
    for seed in (31, 32):
        path = ds.add(f"swarm/{seed}.png", "swarm", "SwarmUI", f"swarm-{seed}", series="swarm", prompt=prompt, seed=seed)
        w.write_png(path, w.render(prompt, seed, (1024, 1024)), {"parameters": w.swarm_parameters(prompt, neg, seed)})
    path = ds.add("swarm/31-copy.jpg", "swarm", "SwarmUI", "swarm-31", series="swarm", prompt=prompt, seed=31)
    w.write_jpeg(path, w.render(prompt, 31, (1024, 1024)), w.exif_bytes(user_comment=w.swarm_parameters(prompt, neg, 31)))
    path = ds.add("swarm/img2img-33.png", "swarm", "SwarmUI", "swarm-child", parent=ds.root / "swarm/31.png", prompt=prompt, seed=33)
    w.write_png(path, w.render(prompt + " sketch", 33, (1024, 1024)), {"parameters": w.swarm_parameters(prompt, neg, 33, init_image="31.png")})

    prompt = "a paper boat on a puddle, macro"
    job = str(uuid.UUID(int=0x5EED))
    for n in range(4):
        path = ds.add(f"midjourney/ada_{n}.png", "midjourney", "Midjourney", f"mj-{n}", series="midjourney", prompt=prompt)
        w.write_png(path, w.render(prompt, n, (1024, 1024)), w.midjourney_texts(prompt, job))

    for n, suffix in enumerate((".png", ".png", ".jpg")):
        plain = root / f".plain{n}{suffix}"
        w.render(f"c2pa picture {n}", n, (1024, 1024)).save(plain)
        path = ds.add(f"c2pa/generated_{n}{suffix}", "c2pa", "C2PA", f"c2pa-{n}")
        w.write_c2pa_signed(plain, path, agent="Image Model X")
        plain.unlink()

    for n, prompt in enumerate(("a desert at noon", "a forest path in fog", "a city skyline at dawn", "a glass of water", "an owl", "a bicycle")):
        path = ds.add(f"singles/{n}.png", "singles", "A1111", f"single-{n}", prompt=prompt, seed=n)
        w.write_png(path, w.render(prompt, n, BASE), {"parameters": w.a1111_infotext(prompt, neg, n)})
    for n in range(3):
        path = ds.add(f"photos/{n}.jpg", "photos", None, f"photo-{n}")
        w.write_jpeg(path, w.render(f"photo {n}", n, (1200, 800)))
    return ds


def _pairs(groups) -> set[frozenset]:
    return {frozenset(p) for g in groups for p in itertools.combinations(sorted(g), 2)}


def _pr(truth: set[frozenset], found: set[frozenset], case_paths: set[Path]) -> tuple[int, int, int]:
    t = {p for p in truth if p & case_paths}
    f = {p for p in found if p & case_paths}
    return len(t & f), len(f), len(t)


def _fmt(hit: int, found: int, truth: int) -> str:
    if truth == 0 and found == 0:
        return "– (none)"
    precision = f"{hit / found:.2f}" if found else "–"
    recall = f"{hit / truth:.2f}" if truth else "–"
    return f"{precision} / {recall} ({hit}/{found}/{truth})"


def evaluate(ds: DevSet, result) -> tuple[str, dict]:
    records = {r.file.path: r for r in result.analysis.records}
    by_generator: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    failures = []
    for t in ds.truth:
        if t.generator is None:
            continue
        g = records[t.path].metadata.generation
        ok = (g is not None and g.generator == t.generator and (t.prompt is None or g.prompt == t.prompt)
              and (t.seed is None or g.seed == t.seed) and (t.generator != "C2PA" or g.c2pa == "Valid"))
        key = f"{t.generator} ({t.path.suffix.lstrip('.').upper()})"
        by_generator[key][0] += ok
        by_generator[key][1] += 1
        if not ok:
            failures.append(f"{t.path.relative_to(ds.root)}: {g}")
    false_records = [t.path for t in ds.truth if t.generator is None and records[t.path].metadata.generation is not None]

    truth_pictures: dict[str, set[Path]] = defaultdict(set)
    truth_series: dict[str, set[Path]] = defaultdict(set)
    for t in ds.truth:
        truth_pictures[t.picture].add(t.path)
        if t.series:
            truth_series[t.series].add(t.path)
    found_dupes = _pairs([{m.record.file.path for m in g.members} for g in result.dupes.groups])
    found_batches = _pairs([{m.record.file.path for m in b.members} for b in result.generations.batches])
    truth_dupes, truth_batches = _pairs(truth_pictures.values()), _pairs(truth_series.values())
    parents_truth = {t.path: t.parent for t in ds.truth if t.parent}
    cases = list(dict.fromkeys(t.case for t in ds.truth))
    rows = []
    for case in cases:
        paths = {t.path for t in ds.truth if t.case == case}
        want = {p: q for p, q in parents_truth.items() if p in paths}
        got = {p: q for p, q in result.generations.parents.items() if p in paths}
        parent_cell = "–" if not want and not got else f"{sum(got.get(p) == q for p, q in want.items())}/{len(want)} right, {sum(1 for p in got if got[p] != want.get(p))} wrong"
        rows.append(f"| {case} | {len(paths)} | {_fmt(*_pr(truth_dupes, found_dupes, paths))} | "
                    f"{_fmt(*_pr(truth_batches, found_batches, paths))} | {parent_cell} |")
    everything = {t.path for t in ds.truth}
    rows.append(f"| **all** | {len(everything)} | {_fmt(*_pr(truth_dupes, found_dupes, everything))} | "
                f"{_fmt(*_pr(truth_batches, found_batches, everything))} | "
                f"{sum(result.generations.parents.get(p) == q for p, q in parents_truth.items())}/{len(parents_truth)} |")
    parse_rows = [f"| {k} | {ok}/{n} |" for k, (ok, n) in sorted(by_generator.items())]
    table = "\n".join([
        "Parse success (generator, prompt and seed as written; C2PA: manifest read and `Valid`):",
        "",
        "| generator (format) | parsed |",
        "|---|---|",
        *parse_rows,
        "",
        f"Files without generator metadata that got a record anyway: {len(false_records)}.",
        "",
        "Grouping, pairs of files (precision / recall (right/found/true)); a pair counts for a case when one of its files is in it:",
        "",
        "| case | files | same picture (duplicate group) | batch | parent link |",
        "|---|---|---|---|---|",
        *rows,
    ])
    return table, {"failures": failures, "false_records": false_records}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the dev set here and keep it")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="xmpcull-aigen-") as tmp:
        root = args.keep or Path(tmp) / "devset"
        root.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        ds = build(root)
        built = time.monotonic() - started
        config = load_config(None, {})
        options = RunOptions(config=config, write_options=config.write_options, write_sidecars=False,
                             report_dir=Path(tmp) / "report", cache_path=None)
        started = time.monotonic()
        result = run_pipeline([root], options)
        elapsed = time.monotonic() - started
        table, details = evaluate(ds, result)
    body = "\n".join([
        "`python bench/aigen_devset.py` builds the set (bench/aigen_writers.py: every picture rendered, every",
        "generator's metadata written the way that generator writes it; C2PA files signed with c2pa-python and a",
        f"throw-away certificate) and runs `xmpcull run` on it. {len(ds.truth)} files, built in {built:.1f} s, run in",
        f"{elapsed:.1f} s (shared 2-core machine).",
        "",
        table,
        "",
        "Parse failures: " + ("none." if not details["failures"] else "; ".join(details["failures"][:10])),
        "",
        "What the set does not show: real generator output (the writers follow the generators' code, see",
        "docs/ai-generation.md; the formats were not checked against files from every generator), ComfyUI graphs",
        "with custom nodes, A1111 `Init image hash` parents (recorded, not matched), batches whose pictures are",
        "so alike that the perceptual hashes also join different seeds.",
    ])
    print(body)
    if not args.no_results:
        replace_section(HERE / "RESULTS.md", "AI generations: dev set", body)


if __name__ == "__main__":
    main()
