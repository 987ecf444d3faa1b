"""The semantic tier's index at library scale: FAISS on synthetic unit vectors (512-d, CLIP's size).

Half the vectors are random, the other half near twins of them (cosine about 0.93-0.97), so
every picture has a neighbour above the 0.92 cut. Measured in one process: build time and
memory (resident set growth) of the exact index and of the inverted file xmpcull uses above
``EXACT_UP_TO`` pictures (``semantic.ivf_index``: training and adding timed apart), query time
for ``--queries`` pictures (their 16 nearest) at several ``nprobe`` values, and recall against
exact search: the share of the queries' pairs at cosine >= 0.92 (exact) that the index finds.

    .venv/bin/python bench/semantic_index_bench.py [--n 1000000] [--write-results]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import faiss
import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import replace_section  # noqa: E402
from xmpcull.group import semantic  # noqa: E402

HEADING = "Semantic tier: FAISS index"
DIM = 512
PROBES = (8, 16, 32, 64)


def vectors(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    half = n // 2
    data = np.empty((n, DIM), np.float32)
    for start in range(0, half, 100_000):  # in chunks: no second copy of the whole array
        stop = min(half, start + 100_000)
        base = rng.standard_normal((stop - start, DIM), dtype=np.float32)
        base /= np.linalg.norm(base, axis=1, keepdims=True)
        twin = base + 0.018 * rng.standard_normal(base.shape, dtype=np.float32)
        twin /= np.linalg.norm(twin, axis=1, keepdims=True)
        data[start:stop], data[half + start : half + stop] = base, twin
    return data


def rss() -> int:
    return psutil.Process().memory_info().rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    data = vectors(args.n)
    picked = np.random.default_rng(2).choice(args.n, args.queries, replace=False)
    queries = data[picked]
    cut = semantic.DEFAULT_MIN_COSINE

    load = os.getloadavg()
    before = rss()
    started = time.perf_counter()
    flat = faiss.IndexFlatIP(DIM)
    flat.add(data)
    flat_build, flat_mem = time.perf_counter() - started, rss() - before
    started = time.perf_counter()
    limits, scores, labels = flat.range_search(queries, cut)
    flat_query = time.perf_counter() - started
    exact = {(q, int(j)) for q in range(args.queries) for j in labels[limits[q] : limits[q + 1]] if j != picked[q]}

    del flat
    before = rss()
    started = time.perf_counter()
    index = semantic.ivf_index(data)
    ivf_build, ivf_mem = time.perf_counter() - started, rss() - before
    rows = []
    for probe in PROBES:
        index.nprobe = probe
        started = time.perf_counter()
        found_scores, found = index.search(queries, semantic.NEIGHBOURS + 1)
        seconds = time.perf_counter() - started
        approx = {(q, int(j)) for q in range(args.queries) for j, s in zip(found[q], found_scores[q]) if j >= 0 and j != picked[q] and s >= cut}
        rows.append((probe, seconds, len(exact & approx) / len(exact)))
    load_after = os.getloadavg()
    chosen = next(r for r in rows if r[0] == semantic.IVF_PROBE)

    text = "\n".join([
        f"`bench/semantic_index_bench.py` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs shared "
        f"with other jobs, load average {load[0]:.1f} before / {load_after[0]:.1f} after, faiss {faiss.__version__}, "
        f"{faiss.omp_get_max_threads()} threads). {args.n:,} x {DIM} float32 unit vectors (half random, half near twins), "
        f"{args.queries:,} query pictures, cut cosine >= {cut}, {len(exact):,} exact pairs at the cut (a query with itself not counted). "
        f"The data itself: {data.nbytes / 2**20:,.0f} MiB.",
        "",
        "| index | build | memory beyond the data | query (per picture) | recall of pairs >= cut |",
        "|---|---|---|---|---|",
        f"| exact (`IndexFlatIP`, range search) | {flat_build:.1f} s | {flat_mem / 2**20:,.0f} MiB | "
        f"{flat_query / args.queries * 1000:.1f} ms | 1.000 (reference) |",
        *[f"| inverted file (`IndexIVFFlat`, {index.nlist:,} lists, nprobe={probe}{' (xmpcull)' if probe == semantic.IVF_PROBE else ''}, "
          f"{semantic.NEIGHBOURS} neighbours) | {ivf_build:.1f} s | {ivf_mem / 2**20:,.0f} MiB | "
          f"{seconds / args.queries * 1000:.2f} ms | {recall:.3f} |" for probe, seconds, recall in rows],
        "",
        f"A whole library is queried once per picture: exact search costs about {flat_query / args.queries * args.n / 3600:.1f} h "
        f"of queries at this size, the inverted file at nprobe={semantic.IVF_PROBE} {chosen[1] / args.queries * args.n / 60:.1f} min, "
        f"which is why xmpcull switches to it above {semantic.EXACT_UP_TO:,} pictures. (The build column of the inverted "
        f"file counts k-means on {min(args.n, semantic.IVF_TRAIN_PER_LIST * index.nlist):,} sampled vectors and adding all; "
        "its memory column is its own copy of the vectors and the lists.)",
    ])
    print(text)
    if args.write_results:
        replace_section(ROOT / "bench" / "RESULTS.md", HEADING, text)


if __name__ == "__main__":
    main()
