"""Benchmark: analysing AI output, PNGs of 1024x1024 with generator metadata, against the PNG decode floor.

PNG has no reduced-size decode, so the floor is a full decode of every file
(Pillow ``load()``), in a process pool as wide as xmpcull's. In the same run:
the generation read alone (chunk walk, no pixels), xmpcull's cold analysis
(metadata through exiftool, the chunk walk, one decode, every feature), and
imagededup's PHash ``encode_images`` when it is installed (the bench extra).
Half of the files carry their text after the image data.

    python bench/aigen_speed.py [--files 10000] [--jobs 2]

Writes its section of bench/RESULTS.md ("AI generations: speed").
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench import aigen_writers as w  # noqa: E402
from bench.analyse_bench import floor_rate, imagededup_rate  # noqa: E402
from bench.results import replace_section  # noqa: E402
from xmpcull.analyse.pipeline import analyse_roots  # noqa: E402
from xmpcull.scan.generation import read_generation  # noqa: E402

SIZE = (1024, 1024)
DISTINCT = 64  # distinct pictures; every file still differs (its own seed and text)
PROMPTS = ("a lighthouse at dusk", "a koi pond, ink", "a red fox in snow", "a neon street market")


@functools.lru_cache(maxsize=DISTINCT)
def _picture(n: int) -> Image.Image:
    return w.render(PROMPTS[n % len(PROMPTS)], n, (256, 256)).resize(SIZE, Image.Resampling.BILINEAR)


def _write_one(task: tuple[Path, int]) -> None:
    folder, n = task
    prompt = PROMPTS[n % DISTINCT % len(PROMPTS)]
    base = _picture(n % DISTINCT).copy()
    # A pixel per file differs, so no two files share bytes (nothing comes from a content cache).
    base.putpixel((n % SIZE[0], (n // SIZE[0]) % SIZE[1]), (n % 256, 0, 0))
    text = w.a1111_infotext(prompt, "blurry", 1000 + n)
    w.write_png(folder / f"{n:05}.png", base, {"parameters": text}, after_idat=bool(n % 2), compress_level=6)


def make_corpus(folder: Path, count: int, jobs: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        list(pool.imap_unordered(_write_one, [(folder, n) for n in range(count)], chunksize=16))
    return sorted(folder.glob("*.png"))


def _decode(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        im.load()
        return im.size


def _chunks(path: Path) -> bool:
    return read_generation(path, "png") is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="xmpcull-aigen-speed-") as tmp:
        folder = Path(tmp) / "png"
        started = time.perf_counter()
        paths = make_corpus(folder, args.files, args.jobs)
        made = time.perf_counter() - started
        megabytes = sum(p.stat().st_size for p in paths) / 2**20
        floor = floor_rate(paths, args.jobs, decode=_decode)
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            found = sum(pool.imap_unordered(_chunks, paths, chunksize=64))
        walk = len(paths) / (time.perf_counter() - started)
        assert found == len(paths), found
        started = time.perf_counter()
        result = analyse_roots([folder], jobs=args.jobs, cache_path=None)
        xmpcull = len(paths) / (time.perf_counter() - started)
        assert len(result.ok_records) == len(paths), result.failures[:3]
        assert all(r.metadata.generation is not None for r in result.ok_records)
        dedup = imagededup_rate(folder, len(paths))
    rows = [
        "| what | images/s | vs floor |",
        "|---|---|---|",
        f"| floor: PNG full decode (Pillow `load()`), {args.jobs} processes | {floor:.1f} | 1.00 |",
        f"| generation read alone (chunk walk, no pixels) | {walk:.0f} | {walk / floor:.1f}x |",
        f"| xmpcull analysis, cold (exiftool metadata + chunk walk + one decode + features) | {xmpcull:.1f} | {xmpcull / floor:.2f} |",
        f"| imagededup `PHash().encode_images` | {dedup:.1f} | {dedup / floor:.2f} |" if dedup else
        "| imagededup | not installed (`pip install -e '.[bench]'`) | |",
    ]
    body = "\n".join([
        f"`python bench/aigen_speed.py --files {args.files} --jobs {args.jobs}`: {len(paths)} PNGs of 1024x1024 with A1111",
        f"metadata (half of them with the text after the image data), {megabytes:.0f} MB, made in {made:.0f} s.",
        "All figures from one run on the shared 2-core machine (other helpers were running), so read the ratios",
        "more than the absolute rates.",
        "",
        *rows,
    ])
    print(body)
    if not args.no_results:
        replace_section(HERE / "RESULTS.md", "AI generations: speed", body)


if __name__ == "__main__":
    main()
