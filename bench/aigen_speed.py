"""Benchmark: analysing AI output, PNGs of 1024x1024 with generator metadata, against the PNG decode floor.

PNG has no reduced-size decode, so the floor is a full decode of every file
(Pillow ``load()``), in a process pool as wide as xmpcull's. In the same run:
the generation read alone (chunk walk, no pixels), xmpcull's cold analysis
(chunk walk, one decode, every feature; exiftool only for PNGs that need it),
the same with every PNG sent through exiftool (how it was before), and
imagededup's PHash ``encode_images`` when it is installed (the bench extra).

The files look like generator output: rendered pictures with fine grain, so
they compress like real 1024x1024 outputs (about 1.8 MB, ComfyUI's
``compress_level=4``), A1111 text, half of it after the image data. Every file
differs in its bytes (its own seed in the text); ``--distinct`` pictures are
shared between them (nothing measured here caches by pixels, and rendering and
compressing every file would take longer than the measurement).

Wall time and CPU time are both given: on a shared machine the CPU seconds of
the process tree (sampled with psutil) are the steadier measure.

    python bench/aigen_speed.py [--files 2000] [--distinct 500] [--jobs 2]

Writes its section of bench/RESULTS.md ("AI generations: speed").
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench import aigen_writers as w  # noqa: E402
from bench.results import replace_section  # noqa: E402
from xmpcull.analyse.pipeline import analyse_roots  # noqa: E402
from xmpcull.scan import metadata  # noqa: E402
from xmpcull.scan.generation import read_generation  # noqa: E402

SIZE = (1024, 1024)
PROMPTS = ("a lighthouse at dusk", "a koi pond, ink", "a red fox in snow", "a neon street market")
COMPRESS_LEVEL = 4  # ComfyUI's; A1111 saves with Pillow's default 6 (smaller files, same decode work)


def _encode(n: int) -> bytes:
    prompt = PROMPTS[n % len(PROMPTS)]
    picture = w.render(prompt, n, SIZE, detail=0.04)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", compress_level=COMPRESS_LEVEL)
    return buffer.getvalue()


def _write(folder: Path, n: int, encoded: bytes) -> None:
    prompt = PROMPTS[n % len(PROMPTS)]
    chunk = w.text_chunk("parameters", w.a1111_infotext(prompt, "blurry", 1000 + n))
    at = encoded.rindex(b"IEND") - 4 if n % 2 else encoded.index(b"IDAT") - 4
    (folder / f"{n:05}.png").write_bytes(encoded[:at] + chunk + encoded[at:])


def make_corpus(folder: Path, count: int, distinct: int, jobs: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for d, encoded in enumerate(pool.imap(_encode, range(distinct), chunksize=4)):
            for n in range(d, count, distinct):
                _write(folder, n, encoded)
    return sorted(folder.glob("*.png"))


@dataclass
class Measured:
    wall: float  # seconds
    cpu: float  # CPU seconds of this process and every descendant


def measure(work: Callable[[], object]) -> Measured:
    """Run ``work``; its wall time and the CPU time of the whole process tree meanwhile.

    Descendants are sampled every 50 ms (the last sample of each counts): pool
    workers and exiftool live through a pass, so little is missed; the children's
    own counters are not added, so nothing is counted twice.
    """
    me = psutil.Process()
    seen: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            for child in me.children(recursive=True):
                try:
                    times = child.cpu_times()
                    seen[child.pid] = times.user + times.system
                except psutil.Error:
                    pass

    before = me.cpu_times()
    started = time.perf_counter()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    work()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    after = me.cpu_times()
    own = (after.user + after.system) - (before.user + before.system)
    return Measured(wall, own + sum(seen.values()))


def _decode(path: Path) -> None:
    with Image.open(path) as im:
        im.load()


def _chunks(path: Path) -> bool:
    return read_generation(path, "png") is not None


def _pool_map(function: Callable[[Path], object], paths: list[Path], jobs: int) -> list:
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        return list(pool.imap_unordered(function, paths, chunksize=16))


def _analyse(folder: Path, count: int, jobs: int, exiftool_for_every_png: bool) -> None:
    defaults = metadata.read_metadata.__kwdefaults__
    assert defaults is not None
    defaults["skip_plain_png"] = not exiftool_for_every_png  # workers are forked: they see it
    try:
        result = analyse_roots([folder], jobs=jobs, cache_path=None)
    finally:
        defaults["skip_plain_png"] = True
    assert len(result.ok_records) == count, result.failures[:3]
    assert all(r.metadata.generation is not None for r in result.ok_records)


_IMAGEDEDUP = """
import sys
from imagededup.methods import PHash
PHash(verbose=False).encode_images(image_dir=sys.argv[1], num_enc_workers=int(sys.argv[2]))
"""


def imagededup_available() -> bool:
    return subprocess.run([sys.executable, "-c", "import imagededup"], capture_output=True).returncode == 0


def _imagededup(folder: Path, jobs: int) -> None:
    subprocess.run([sys.executable, "-c", _IMAGEDEDUP, str(folder), str(jobs)], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2_000)
    parser.add_argument("--distinct", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args()
    distinct = min(args.distinct, args.files)
    with tempfile.TemporaryDirectory(prefix="xmpcull-aigen-speed-") as tmp:
        folder = Path(tmp) / "png"
        started = time.perf_counter()
        paths = make_corpus(folder, args.files, distinct, args.jobs)
        made = time.perf_counter() - started
        megabytes = sum(p.stat().st_size for p in paths) / 2**20
        n = len(paths)
        rows: list[tuple[str, Measured | None]] = []
        floor = measure(lambda: _pool_map(_decode, paths, args.jobs))
        rows.append((f"floor: PNG full decode (Pillow `load()`), {args.jobs} processes", floor))
        walk = measure(lambda: sum(_pool_map(_chunks, paths, args.jobs)))
        rows.append(("generation read alone (chunk walk, no pixels)", walk))
        after = measure(lambda: _analyse(folder, n, args.jobs, exiftool_for_every_png=False))
        rows.append(("**xmpcull analysis**, cold (chunk walk, one decode, every feature; plain PNGs skip exiftool)", after))
        before = measure(lambda: _analyse(folder, n, args.jobs, exiftool_for_every_png=True))
        rows.append(("xmpcull analysis with every PNG through exiftool (before)", before))
        dedup = measure(lambda: _imagededup(folder, args.jobs)) if imagededup_available() else None
        rows.append(("imagededup 0.3 `PHash().encode_images` (incl. importing PyTorch)", dedup))
    lines = [
        "| what | images/s (wall) | floor / it (wall) | CPU ms per image | floor / it (CPU) |",
        "|---|---|---|---|---|",
    ]
    for label, m in rows:
        if m is None:
            lines.append(f"| {label} | not installed (`pip install -e '.[bench]'`) | | | |")
            continue
        lines.append(f"| {label} | {n / m.wall:.1f} | {floor.wall / m.wall:.2f} | {1000 * m.cpu / n:.1f} | "
                     f"{floor.cpu / m.cpu:.2f} |")
    body = "\n".join([
        f"`python bench/aigen_speed.py --files {args.files} --distinct {distinct} --jobs {args.jobs}`: {n} PNGs of",
        f"1024x1024 with A1111 text (half of it after the image data), {megabytes / n:.2f} MB each",
        f"({megabytes:.0f} MB; {distinct} distinct pictures with grain, compress level {COMPRESS_LEVEL}), made in {made:.0f} s.",
        "All rows come from one run on the shared 2-core machine while other helpers were running: wall",
        "rates move with their load, the CPU time of the process tree much less. \"floor / it\" is the",
        "floor's time divided by the row's (1.00 = as fast as decoding alone).",
        "",
        *lines,
    ])
    print(body)
    if not args.no_results:
        replace_section(HERE / "RESULTS.md", "AI generations: speed", body)


if __name__ == "__main__":
    main()
