"""Speed and memory of the Hamming radius search on synthetic 64-bit hashes.

Random hashes plus 10% planted near-duplicates (0..radius bits flipped from a
random original). Each size runs in a fresh process so peak RSS is its own.
Recall is checked against faiss IndexBinaryFlat range_search (brute force) on
the 100,000 set.

    /work/venv/bin/python bench/dupes_scale.py [--sizes 100000 1000000] [--radius 10] [--windows 5]
        [--crop-radii 14 12]

``--crop-radii FULL WINDOW`` times the crop-tolerant candidate search instead
(full/full within FULL, full/window within WINDOW, 5 windows per hash), in CPU
seconds (the machine is shared); the pixel check of the candidates is measured
on real pairs by bench/dupes_accuracy.py.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def synthetic(n: int, radius: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    planted = n // 10
    base = rng.integers(0, 2**64, n - planted, dtype=np.uint64)
    src = base[rng.integers(0, base.size, planted)]
    noise = np.zeros(planted, dtype=np.uint64)
    flips = rng.integers(0, radius + 1, planted)
    for k in range(radius):  # flip a random bit `flips` times (repeats may cancel: distance <= flips)
        bits = rng.integers(0, 64, planted).astype(np.uint64)
        noise ^= np.where(k < flips, np.uint64(1) << bits, np.uint64(0))
    out = np.concatenate([base, src ^ noise])
    rng.shuffle(out)
    return out


def faiss_pairs(hashes: np.ndarray, radius: int) -> set[tuple[int, int]]:
    import faiss

    codes = hashes.view(np.uint8).reshape(-1, 8)
    index = faiss.IndexBinaryFlat(64)
    index.add(codes)
    lims, _, ids = index.range_search(codes, radius + 1)  # faiss keeps distances < radius
    pairs = set()
    for q in range(hashes.size):
        for j in ids[lims[q] : lims[q + 1]].tolist():
            if q < j:
                pairs.add((q, j))
    return pairs


def windows_of(hashes: np.ndarray, k: int, seed: int = 2) -> np.ndarray:
    """k window hashes per hash: the hash with 4-12 bits flipped (measured range of real sub-windows)."""
    rng = np.random.default_rng(seed)
    out = np.repeat(hashes, k)
    for _ in range(12):
        bits = rng.integers(0, 64, out.size).astype(np.uint64)
        out ^= np.where(rng.random(out.size) < 0.6, np.uint64(1) << bits, np.uint64(0))
    return out


def crop_run(n: int, full_radius: int, window_radius: int) -> dict[str, object]:
    from xmpcull.group.hamming_index import radius_pairs, radius_pairs_between

    hashes = synthetic(n, 10)
    windows = windows_of(hashes, 5)
    start = time.process_time()
    full = radius_pairs(hashes, full_radius)
    middle = time.process_time()
    between = radius_pairs_between(hashes, windows, window_radius)
    owner = between.right // 5
    cross = int((between.left != owner).sum())  # a picture against its own windows is no candidate
    end = time.process_time()
    return {
        "n": n, "crop_radii": [full_radius, window_radius], "full_pairs": len(full), "window_pairs": cross,
        "full_cpu_s": round(middle - start, 1), "window_cpu_s": round(end - middle, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def one_run(n: int, radius: int, check: bool, windows: int = 0) -> dict[str, object]:
    from xmpcull.group.hamming_index import choose_substrings, radius_pairs, radius_pairs_between

    hashes = synthetic(n, radius)
    start = time.perf_counter()
    found = radius_pairs(hashes, radius)
    if windows:  # the --crop-tolerant search: every full hash against every window hash
        crop_pairs = len(radius_pairs_between(hashes, windows_of(hashes, windows), radius))
    seconds = time.perf_counter() - start
    out: dict[str, object] = {
        "n": n, "radius": radius, "pairs": len(found), "seconds": round(seconds, 2),
        "substrings": choose_substrings(n, radius),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    if windows:
        out["windows_per_hash"] = windows
        out["crop_pairs"] = crop_pairs
    if check:
        start = time.perf_counter()
        truth = faiss_pairs(hashes, radius)
        out["faiss_seconds"] = round(time.perf_counter() - start, 2)
        mine = set(zip(found.left.tolist(), found.right.tolist(), strict=True))
        out["recall_vs_faiss"] = len(mine & truth) / len(truth) if truth else 1.0
        out["extra_vs_faiss"] = len(mine - truth)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--radius", type=int, default=10)
    parser.add_argument("--windows", type=int, default=0, help="also time the crop search with this many window hashes per hash")
    parser.add_argument("--crop-radii", type=int, nargs=2, metavar=("FULL", "WINDOW"), help="time the crop candidate search")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        result = crop_run(args.one, *args.crop_radii) if args.crop_radii else one_run(args.one, args.radius, args.check, args.windows)
        print(json.dumps(result))
        return
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--one", str(n), "--radius", str(args.radius), "--windows", str(args.windows)]
        if args.crop_radii:
            cmd += ["--crop-radii", *map(str, args.crop_radii)]
        if n <= 100_000 and not args.windows:
            cmd.append("--check")
        print(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
