"""Benchmark: cluster 1,000,000 synthetic capture times into bursts (target < 10 s).

Synthetic day of shooting: 4 bodies, bursts of 2-40 frames at 10-30 fps, separated
by 3-600 s pauses, plus a sprinkling of frames with equal times. Times two things:
the numpy core alone (arrays in, burst starts out) and ``cluster_bursts`` on Shot
records (building Burst objects, best frames and IDs included).

    /work/venv/bin/python bench/bursts_bench.py [--count 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

from xmpcull.group.bursts import Shot, burst_starts, cluster_bursts

BODIES = [("Canon EOS R5#031", "Canon EOS R5"), ("Canon EOS R5#777", "Canon EOS R5"), ("NIKON Z 9#3020326", "NIKON Z 9"), ("Apple iPhone 15 Pro", "iPhone 15 Pro")]


def synthetic_times(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(body code, seconds since epoch) for ``count`` frames."""
    sizes = rng.integers(2, 41, size=count // 10 + 1)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), count) + 1]
    fps = rng.uniform(10, 30, size=len(sizes))
    pauses = rng.uniform(3, 600, size=len(sizes))
    burst_of_frame = np.repeat(np.arange(len(sizes)), sizes)[:count]
    index_in_burst = np.arange(count) - np.repeat(np.cumsum(sizes) - sizes, sizes)[:count]
    burst_start = 1_700_000_000 + np.cumsum(pauses + sizes / fps) - pauses[0]
    seconds = burst_start[burst_of_frame] + index_in_burst / fps[burst_of_frame]
    # Round to the millisecond, as SubSecTimeOriginal does, so equal times occur.
    seconds = np.round(seconds, 3)
    bodies = rng.integers(0, len(BODIES), size=len(sizes))[burst_of_frame]
    return bodies, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(6)
    bodies, seconds = synthetic_times(args.count, rng)

    start = time.perf_counter()
    micros = np.round(seconds * 1e6).astype(np.int64)
    order = np.lexsort((micros, bodies))
    starts = burst_starts(bodies[order], micros[order], 2_000_000)
    core = time.perf_counter() - start
    print(f"numpy core: {args.count:,} times -> {int(starts.sum()):,} runs in {core:.2f} s")

    shots = []
    for i, (code, when) in enumerate(zip(bodies.tolist(), seconds.tolist())):
        body, model = BODIES[code]
        local = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=when)
        shots.append(Shot(path=f"/photos/{code}/IMG_{i:07d}.JPG", body=body, model=model, timestamp=when, local_time=local, sharpness=float(i % 997)))
    rng.shuffle(shots)  # the clustering must not rely on input order

    start = time.perf_counter()
    bursts = cluster_bursts(shots, gap_seconds=2.0)
    full = time.perf_counter() - start
    multi = sum(1 for b in bursts if b.is_burst)
    print(f"cluster_bursts: {len(shots):,} shots -> {multi:,} bursts, {len(bursts) - multi:,} singletons in {full:.2f} s")


if __name__ == "__main__":
    main()
