"""Speed and memory of the Hamming radius search on synthetic 64-bit hashes.

Random hashes plus 10% planted near-duplicates (0..radius bits flipped from a
random original). Each size runs in a fresh process so peak RSS is its own.
Recall is checked against faiss IndexBinaryFlat range_search (brute force) on
the 100,000 set.

    /work/venv/bin/python bench/dupes_scale.py [--sizes 100000 1000000] [--radius 10] [--windows 5]
        [--crop-radii 14 12]

``--crop-radii FULL WINDOW`` times the crop candidate search instead, as grouping
runs it (``group.crop_search``: full/full within FULL, full/window within WINDOW, 5
windows per hash; exact up to 100,000 pictures, LSH above) on hashes with 10 %
planted crops, in CPU seconds of all its processes and wall seconds (the machine
is shared). Recall: of the planted crops (by distance), and against brute force for
all pairs of 1,000 sampled pictures. The pixel check of the candidates is measured
on real pairs by bench/dupes_accuracy.py.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass

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


def planted_crops(n: int, full_radius: int, window_radius: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray, list]:
    """Full and window hashes of n pictures, 10 % of them planted crops of another picture.

    Half the crops have a full hash up to ``full_radius`` bits from their original's full
    hash, half up to ``window_radius`` bits from one of its original's window hashes
    (uniform bit counts; repeated flips may cancel). Returns (full, windows, planted) with
    planted = [(crop, original, "full" | "window")].
    """
    rng = np.random.default_rng(seed)
    full = synthetic(n, 10)
    windows = windows_of(full, 5)
    shuffled = rng.permutation(n)
    crops, others = shuffled[: n // 10], shuffled[n // 10 :]
    originals = others[rng.integers(0, others.size, crops.size)]  # an original is never itself a crop
    kind = rng.random(crops.size) < 0.5
    source = np.where(kind, full[originals], windows[originals * 5 + rng.integers(0, 5, crops.size)])
    limit = np.where(kind, full_radius, window_radius)
    flips = rng.integers(0, limit + 1)
    noise = np.zeros(crops.size, dtype=np.uint64)
    for k in range(max(full_radius, window_radius)):
        bits = rng.integers(0, 64, crops.size).astype(np.uint64)
        noise ^= np.where(k < flips, np.uint64(1) << bits, np.uint64(0))
    full[crops] = source ^ noise
    windows.reshape(n, 5)[crops] = windows_of(full[crops], 5, seed=4).reshape(-1, 5)
    planted = [(int(c), int(o), "full" if f else "window") for c, o, f in zip(crops, originals, kind, strict=True)]
    return full, windows, planted


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the search's worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _sampled_truth(full: np.ndarray, windows: np.ndarray, queries: np.ndarray, full_radius: int, window_radius: int) -> set:
    """Brute force for a sample of pictures: every (i, j) pair either join should propose."""
    owner = np.repeat(np.arange(full.size), 5)
    truth = set()
    for i in queries.tolist():
        near = np.flatnonzero(np.bitwise_count(full ^ full[i]) <= full_radius)
        truth.update((min(i, j), max(i, j)) for j in near.tolist() if j != i)
        near = owner[np.bitwise_count(windows ^ full[i]) <= window_radius]
        truth.update((min(i, j), max(i, j)) for j in near.tolist() if j != i)
    return truth


def crop_run(n: int, full_radius: int, window_radius: int, sample: int = 1000) -> dict[str, object]:
    """The crop candidate search as grouping runs it (group.crop_search), with planted crops."""
    from xmpcull.group.crop_search import EXACT_SEARCH_MAX, RECALL_AT_RADIUS, crop_candidates

    full, windows, planted = planted_crops(n, full_radius, window_radius)
    feats = [_Hashes(int(h), tuple(int(w) for w in windows[5 * i : 5 * i + 5])) for i, h in enumerate(full.tolist())]
    cpu, wall = _cpu(), time.perf_counter()
    found = crop_candidates(feats, full_radius, window_radius)
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    by_distance: dict[int, list[int]] = {}
    for crop, original, kind in planted:
        if kind == "full":
            d = int(np.bitwise_count(full[crop] ^ full[original]))
        else:
            d = int(np.bitwise_count(windows[5 * original : 5 * original + 5] ^ full[crop]).min())
        hit = (min(crop, original), max(crop, original)) in found
        by_distance.setdefault(d, [0, 0])[hit] += 1
    rng = np.random.default_rng(5)
    queries = rng.choice(n, min(sample, n), replace=False)
    truth = _sampled_truth(full, windows, queries, full_radius, window_radius)
    return {
        "n": n, "crop_radii": [full_radius, window_radius],
        "search": "exact" if n <= EXACT_SEARCH_MAX else f"lsh (recall {RECALL_AT_RADIUS} at the radius)",
        "candidates": len(found), "candidates_per_picture": round(2 * len(found) / n, 2),
        "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
        "planted_recall": round(sum(h for _, h in by_distance.values()) / len(planted), 4),
        "planted_recall_by_distance": {d: round(h / (m + h), 3) for d, (m, h) in sorted(by_distance.items())},
        "sampled_pictures": int(queries.size), "sampled_true_pairs": len(truth),
        "recall_vs_brute_force": round(len(truth & found.keys()) / len(truth), 4) if truth else 1.0,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


@dataclass(frozen=True)
class _Hashes:
    """The two Features fields the crop search reads."""

    phash: int
    window_phashes: tuple[int, ...]


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
