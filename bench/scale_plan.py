"""Figures for the 10,000,000-image plan in docs/scaling.md, measured here.

* bytes per file in the analysis cache, and memory per analysed record on the client
  (records loaded back from a real cache: the one bench/cluster_bench.py leaves);
* the duplicate-tier and crop-tier hash searches on 10,000,000 synthetic hashes: the
  LSH tables cost the same each, so a few tables are timed (CPU) and multiplied by the
  number the plan needs; peak RSS is the process's own.

    python bench/scale_plan.py --cache bench/out/cluster-bench/pool/cache.sqlite [--n 10000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dupes_scale import synthetic, windows_of  # noqa: E402
from xmpcull.analyse.cache import features_from_json, metadata_from_json  # noqa: E402
from xmpcull.group.hamming_lsh import lsh_pairs_between, plan  # noqa: E402


def cache_figures(cache: Path) -> dict[str, object]:
    with sqlite3.connect(f"file:{cache}?mode=ro", uri=True) as db:
        db.execute("PRAGMA wal_checkpoint")
        rows = db.execute("SELECT metadata, features FROM files WHERE features IS NOT NULL").fetchall()
        files = db.execute("SELECT count(*) FROM files").fetchone()[0]
    size = sum(os.path.getsize(p) for p in (str(cache), f"{cache}-wal") if os.path.exists(p))
    tracemalloc.start()
    kept = [(metadata_from_json(m) if m else None, features_from_json(f)) for m, f in rows]
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "cache_files": files, "cache_bytes_per_file": round(size / files),
        "record_bytes_in_memory": round(current / len(kept)),
    }


def cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_tables(q: np.ndarray, d: np.ndarray, radius: int, recall: float, sample: int, **kw: object) -> dict[str, object]:
    self_join = bool(kw.get("self_join"))
    full = plan(q.size, d.size, radius, recall, self_join)
    few = type(full)(full.bits, sample)
    start = cpu()
    pairs, _ = lsh_pairs_between(q, d, radius, recall, chosen=few, jobs=1, **kw)
    per_table = (cpu() - start) / sample
    return {
        "radius": radius, "bits": full.bits, "tables": full.tables, "recall_at_radius": recall,
        "cpu_s_per_table": round(per_table, 2), "cpu_s_total": round(per_table * full.tables),
        "modelled_cpu_s": round(full.cost(q.size, d.size, self_join)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--tables", type=int, default=3, help="tables timed per search")
    args = parser.parse_args()
    out: dict[str, object] = {}
    if args.cache:
        out["cache"] = cache_figures(args.cache)
    started = time.perf_counter()
    hashes = synthetic(args.n, 10)
    out["n"] = args.n
    out["duplicate_tier"] = timed_tables(hashes, hashes, 10, 0.99, args.tables, self_join=True)
    out["crop_full"] = timed_tables(hashes, hashes, 14, 0.9, args.tables, self_join=True)
    windows = windows_of(hashes, 5)
    out["crop_windows"] = timed_tables(hashes, windows, 12, 0.9, args.tables, windows_per_query=5)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["wall_s"] = round(time.perf_counter() - started)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
