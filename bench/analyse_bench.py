"""Benchmark: analysis throughput, re-run speed-up and peak memory (issue #3).

In one run on one machine it measures, on a generated corpus made from the
fixture photos (200 JPEGs of 24 MP and 5,000 small JPEGs):

- the floor: decoding the same files with Pillow at reduced size (``draft``),
  in a process pool as wide as xmpcull's;
- xmpcull's cold analysis (no cache), images/s, and its ratio to the floor;
- imagededup's PHash ``encode_images`` on the same files (when installed);
- a re-run on the unchanged tree (cache warm): speed-up over the cold run;
- peak memory (RSS summed over the process tree) of analysing N small files
  (``--memory-files``, default 100,000).

    python bench/analyse_bench.py [--large 200] [--small 5000] [--memory-files 100000]

Writes the table into bench/RESULTS.md under "## Analysis".
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.results import replace_section  # noqa: E402
from xmpcull.analyse.pipeline import analyse_roots  # noqa: E402

SOURCES = [
    "photos/mongolels.jpg",
    "photos/T-45A_Goshawk_03_1600px.jpg",
    "photos/nikon-e2100.jpg",
    "photos/codingsprint2009-02.jpg",
    "camera/iphone_hdr_NO.jpg",
    "camera/Sumo_Museum.jpg",
    "xmp/lightroom/IMG_5910.jpg",
    "photos/hubble_deep_field.jpg",
]


def make_corpus(out: Path, count: int, size: tuple[int, int], seed: int, quality: int = 90) -> list[Path]:
    """``count`` distinct JPEGs of ``size`` cut from the fixture photos (random crop, flip, tint)."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    fixtures = HERE.parent / "fixtures"
    sources = [Image.open(fixtures / s).convert("RGB") for s in SOURCES]
    paths = []
    for i in range(count):
        path = out / f"img_{i:06d}.jpg"
        paths.append(path)
        if path.exists():
            continue
        src = sources[i % len(sources)]
        w, h = src.size
        cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        img = src.crop((x, y, x + cw, y + ch)).resize(size, Image.Resampling.BILINEAR)
        if rng.random() < 0.5:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        img = Image.eval(img, lambda v, k=rng.uniform(0.85, 1.15): min(255, int(v * k)))
        img.save(path, quality=quality)
    return paths


def _floor_decode(path: Path, mode: str = "RGB") -> tuple[int, int]:
    with Image.open(path) as im:
        im.draft(mode, (512, 512))
        im.load()
        im.thumbnail((512, 512))
        return im.size


def _grey_floor_decode(path: Path) -> tuple[int, int]:
    return _floor_decode(path, "L")


def floor_rate(paths: list[Path], jobs: int, decode=_floor_decode) -> float:
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        list(pool.imap_unordered(decode, paths, chunksize=8))
    return len(paths) / (time.perf_counter() - started)


_IMAGEDEDUP = """
import os, sys, time
from imagededup.methods import PHash
started = time.perf_counter()
PHash(verbose=False).encode_images(image_dir=sys.argv[1], num_enc_workers=os.cpu_count())
print(time.perf_counter() - started)
"""


def imagededup_rate(folder: Path, count: int) -> float | None:
    """imagededup in a process of its own: importing it (PyTorch) leaves a heap of live
    objects behind, and the garbage collector walking them slowed the re-run measured
    after it in this process (34x instead of about 60x on the small corpus)."""
    proc = subprocess.run([sys.executable, "-c", _IMAGEDEDUP, str(folder)], capture_output=True, text=True)
    if proc.returncode:
        print(f"imagededup unavailable: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return count / float(proc.stdout.strip().splitlines()[-1])


def xmpcull_rates(folder: Path, count: int, jobs: int, cache: Path) -> tuple[float, float]:
    cache.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(cache) + suffix).unlink(missing_ok=True)
    started = time.perf_counter()
    cold = analyse_roots([folder], jobs=jobs, cache_path=cache)
    cold_s = time.perf_counter() - started
    assert len(cold.ok_records) == count, cold.failures[:3]
    warm_times = []
    for _ in range(3):  # the median of three: the first may pay for SQLite's WAL checkpoint
        started = time.perf_counter()
        warm = analyse_roots([folder], jobs=jobs, cache_path=cache)
        warm_times.append(time.perf_counter() - started)
        assert warm.cache_hits == count
    warm_s = sorted(warm_times)[1]
    return count / cold_s, cold_s / warm_s


def peak_tree_pss(command: list[str]) -> float:
    """Run ``command`` in a fresh process; the peak memory in MiB of it and its children together.

    A fresh process, so the benchmark's own baggage (corpus generation, imagededup's
    PyTorch) is not counted. Summed PSS (proportional set size), not RSS: forked
    workers share the parent's pages copy-on-write, and summing RSS would count those
    shared pages once per process.
    """
    import psutil

    proc = psutil.Popen(command)
    peak = 0
    while proc.poll() is None:
        total = 0
        for member in [proc, *proc.children(recursive=True)]:
            try:
                total += member.memory_full_info().pss
            except psutil.Error:
                pass
        peak = max(peak, total)
        time.sleep(0.5)
    if proc.returncode:
        raise SystemExit(f"memory run failed with exit code {proc.returncode}")
    return peak / 2**20


def _previous_memory_line() -> str | None:
    """With --memory-files 0, keep the memory figure of the last run that measured it."""
    results = HERE / "RESULTS.md"
    if not results.exists():
        return None
    text = results.read_text()
    section = text.split("## Analysis", 1)[1] if "## Analysis" in text else ""
    section = section.split("\n## ", 1)[0]
    return next((line for line in section.splitlines() if line.startswith("Peak memory analysing")), None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", type=int, default=200)
    parser.add_argument("--small", type=int, default=5000)
    parser.add_argument("--memory-files", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "analyse")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args()

    rows = []
    for label, count, size in (("24 MP JPEG", args.large, (6000, 4000)), ("small JPEG (640x480)", args.small, (640, 480))):
        folder = args.out / label.split()[0].replace(" ", "")
        print(f"corpus: {count} x {label}", file=sys.stderr)
        paths = make_corpus(folder, count, size, seed=count)
        floor = floor_rate(paths, args.jobs)
        grey_floor = floor_rate(paths, args.jobs, _grey_floor_decode)
        rate, speedup = xmpcull_rates(folder, count, args.jobs, args.out / "cache.sqlite")
        dedup = imagededup_rate(folder, count)
        rows.append((label, count, rate, floor, grey_floor, dedup, speedup))
        print(rows[-1], file=sys.stderr)

    memory_dir = args.out / "memory"
    if args.memory_files:
        print(f"corpus: {args.memory_files} tiny files for the memory test", file=sys.stderr)
        make_corpus(memory_dir, args.memory_files, (160, 120), seed=7, quality=80)
        cache = args.out / "memory-cache.sqlite"
        cache.unlink(missing_ok=True)
        started = time.perf_counter()
        peak = peak_tree_pss([
            sys.executable, "-c",
            "import sys; from pathlib import Path; from xmpcull.analyse.pipeline import analyse_roots; "
            "analyse_roots([sys.argv[1]], jobs=int(sys.argv[2]), cache_path=Path(sys.argv[3]))",
            str(memory_dir), str(args.jobs), str(cache),
        ])
        memory_line = (
            f"Peak memory analysing {args.memory_files:,} small files (160x120 JPEG), PSS summed over the process tree "
            f"(main + {args.jobs} workers + exiftool): **{peak:,.0f} MiB** (target < 1 GB), in {time.perf_counter() - started:,.0f} s."
        )
    else:
        memory_line = _previous_memory_line() or "Peak memory: not measured in this run (--memory-files 0)."

    lines = [
        f"`bench/analyse_bench.py` ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, jobs={args.jobs}). "
        "Cold = empty cache. Floor = Pillow reduced-size decode only (draft + thumbnail to 512 px, RGB, as Pillow "
        "decodes by default), same pool width; grey floor = the same decode straight to grey, which is what "
        "xmpcull's analysis asks libjpeg for since feature version 5. "
        "imagededup = `PHash().encode_images` (0.3.x) on the same folder.",
        "",
        "| corpus | files | xmpcull cold (img/s) | floor (img/s) | xmpcull / floor | grey floor (img/s) | xmpcull / grey floor "
        "| imagededup PHash (img/s) | xmpcull / imagededup | re-run speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, count, rate, floor, grey_floor, dedup, speedup in rows:
        dedup_cells = f"{dedup:.1f} | {rate / dedup:.1f}x" if dedup else "n/a | n/a"
        lines.append(
            f"| {label} | {count:,} | {rate:.1f} | {floor:.1f} | {rate / floor:.2f} | {grey_floor:.1f} | {rate / grey_floor:.2f} "
            f"| {dedup_cells} | {speedup:.0f}x |"
        )
    lines += [
        "",
        "Previous round (commit 9d0b0b7, before the grey decode, the exiftool tag groups and the one-DCT "
        "variants): 24 MP 39.6 img/s (0.89 of the floor, 5.1x imagededup, re-run 411x); small 222.6 img/s "
        "(0.65 of the floor, 0.4x imagededup, re-run 81x).",
        "",
        memory_line,
        "",
        "Targets: >= 4x imagededup, within 1.5x of the floor (xmpcull/floor >= 0.67), re-run >= 50x faster.",
        "",
        "Reading it. Camera-sized files: decoding dominates; xmpcull asks libjpeg for grey at 1/8 scale and "
        "runs above the (RGB) floor, 7x imagededup, which decodes every pixel in colour. Small files: xmpcull "
        "now runs at the RGB floor (0.94-1.02 in the last runs, target >= 0.67). The remaining cost per file "
        "beyond the grey decode is fixed: ExifTool (about 1.1 ms of Perl per file since it is asked for tag "
        "groups, 1.9 ms before), 15 hashes (8 pHash variants from one DCT, 5 window pHashes, dHash), the "
        "digest, sharpness and the cache write. The 4x-imagededup target cannot be met on small files by "
        "any tool that decodes them: imagededup already runs faster than the issue's own decode floor there "
        "(it resizes a full decode to 32x32 and reads no metadata), so 4x imagededup would be about 6x the "
        "floor. Re-run: imagededup now runs in a process of its own; importing it (PyTorch) in the bench "
        "process had left a heap the garbage collector walked during the re-run (34x in the run before). "
        "A fresh `xmpcull analyze` process on the cached small tree takes 0.65 s, 0.33 s of it importing "
        "numpy, OpenCV and Pillow.",
    ]
    replace_section(HERE / "RESULTS.md", "Analysis", "\n".join(lines))
    print("\n".join(lines))
    # The corpora stay in bench/out (git-ignored) so a second run skips generating them.


if __name__ == "__main__":
    main()
