"""The 2,369 unseen OpenCV documentation images: this machine's pool vs a LocalCluster of 2 workers.

Both runs are `xmpcull run` on their own fresh copy of the tree with a cold cache,
one after the other on the same machine, so the cluster's overhead (scheduling,
pickling, its own processes) is what the comparison shows: on one machine a
cluster cannot be faster, it must only not be much slower and give the same output.
Output compared: every sidecar's bytes (the write time stamp xmpcull:AnalysisDate
blanked) and the report's images, groups and bursts with the copy's root replaced.

    python bench/cluster_bench.py [--write-results] [--repeat 2] [--limit N]

``--limit N`` runs on the first N images (by path) only, for a machine where the whole
set does not fit in the time there is.

The images come from Debian's opencv-doc package (apt's cache, else `apt-get download`,
about 96 MB, unpacked under bench/out/unseen; never installed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
UNSEEN = OUT / "unseen"
PACKAGE = "opencv-doc"
HEADING = "Cluster: unseen images on a LocalCluster vs the local pool"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def fetch_unseen() -> Path:
    """The JPEG and PNG files of opencv-doc's examples/ and html/ folders (once)."""
    if UNSEEN.exists() and any(UNSEEN.rglob("*.jpg")):
        return UNSEEN
    packages = OUT / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    found = sorted(packages.glob(f"{PACKAGE}_*.deb")) or sorted(Path("/var/cache/apt/archives").glob(f"{PACKAGE}_*.deb"))
    if not found:
        subprocess.run(["apt-get", "download", PACKAGE], cwd=packages, check=True, capture_output=True)
        found = sorted(packages.glob(f"{PACKAGE}_*.deb"))
    unpacked = OUT / "opencv-doc-unpacked"
    subprocess.run(["dpkg-deb", "-x", str(found[-1]), str(unpacked)], check=True)
    base = unpacked / "usr" / "share" / "doc" / "opencv-doc"
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(base)
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and {"examples", "html"} & set(rel.parts):
            dest = UNSEEN / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
    shutil.rmtree(unpacked)
    return UNSEEN


def _first_images(source: Path, limit: int) -> Path:
    """A copy of the first ``limit`` images of ``source`` (sorted by path), folders kept."""
    subset = OUT / f"unseen-first-{limit}"
    if not subset.exists():
        images = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        for path in images[:limit]:
            dest = subset / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
    return subset


def cpu_seconds() -> float:
    """CPU time so far of this process (the LocalCluster's scheduler runs in it), its ended
    children (an `xmpcull run` and its pool) and its live ones (the cluster's workers)."""
    import psutil

    t = os.times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def run_once(source: Path, work: Path, cluster: str | None) -> dict[str, object]:
    if work.exists():
        shutil.rmtree(work)
    tree = work / "lib"
    shutil.copytree(source, tree)
    argv = [sys.executable, "-m", "xmpcull.cli.main", "run", str(tree), "--cache", str(work / "cache.sqlite"), "--json"]
    if cluster:
        argv += ["--cluster", cluster]
    started, cpu, load = time.perf_counter(), cpu_seconds(), os.getloadavg()[0]
    proc = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    if proc.returncode not in (0, 1):
        raise RuntimeError(proc.stderr[-3000:])
    summary = json.loads(proc.stdout)
    return {"wall": wall, "cpu": cpu, "load": (load, os.getloadavg()[0]), "summary": summary, "output": output_of(tree)}


def output_of(tree: Path) -> dict[str, object]:
    """What a user gets, made comparable between two copies of the tree."""
    sidecars = {
        p.relative_to(tree).as_posix(): re.sub(rb'xmpcull:AnalysisDate="[^"]*"', b"", p.read_bytes())
        for p in sorted(tree.rglob("*.xmp"))
        if ".xmpcull" not in p.parts
    }
    report = json.loads((tree / ".xmpcull" / "report.json").read_text())
    text = json.dumps({k: report[k] for k in ("images", "groups", "similar_sets", "bursts", "errors") if k in report}, sort_keys=True)
    return {"sidecars": sidecars, "report": text.replace(str(tree), "<root>")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2, help="pairs of runs (local, cluster)")
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--limit", type=int, default=0, help="only the first N images, by path")
    args = parser.parse_args()
    from distributed import LocalCluster

    source = fetch_unseen()
    if args.limit:
        source = _first_images(source, args.limit)
    files = sum(1 for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    rows = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0") as cluster:
        for n in range(args.repeat):
            local = run_once(source, OUT / "cluster-bench" / "pool", None)
            remote = run_once(source, OUT / "cluster-bench" / "dask", cluster.scheduler_address)
            same_sidecars = local["output"]["sidecars"] == remote["output"]["sidecars"]
            same_report = local["output"]["report"] == remote["output"]["report"]
            stages_local = local["summary"]["seconds_by_stage"]
            stages_remote = remote["summary"]["seconds_by_stage"]
            rows.append(
                f"| {n + 1} | {local['wall']:.1f} s (analyse {stages_local['analyse']:.1f}), {local['cpu']:.1f} s CPU "
                f"| {remote['wall']:.1f} s (analyse {stages_remote['analyse']:.1f}), {remote['cpu']:.1f} s CPU "
                f"| {remote['wall'] / local['wall']:.2f} | {len(local['output']['sidecars'])} "
                f"| {'yes' if same_sidecars else 'NO'} | {'yes' if same_report else 'NO'} "
                f"| {local['load'][0]:.1f}-{local['load'][1]:.1f} / {remote['load'][0]:.1f}-{remote['load'][1]:.1f} |"
            )
            print(rows[-1], flush=True)
    body = "\n".join(
        [
            f"{files} JPEG and PNG files of Debian's opencv-doc (examples/ and html/"
            + (f"; the first {args.limit} by path" if args.limit else "") + "), `xmpcull run LIB --cache C --json`,",
            "cold cache, each run on its own fresh copy; local = the fork pool on 2 cores (`--jobs` default), cluster =",
            "`--cluster` to a distributed.LocalCluster of 2 worker processes × 1 thread on the same machine, started before",
            "the clock. Command: `python bench/cluster_bench.py --write-results"
            + (f" --limit {args.limit}" if args.limit else "") + f" --repeat {args.repeat}`. CPU: the run's processes and",
            "the cluster's (scheduler and workers, idle or not) together; load: 1-minute load average at the start and",
            "the end of each run (the machine is shared).",
            "",
            "| pair | local wall, CPU | cluster wall, CPU | cluster / local (wall) | sidecars | same sidecar bytes "
            "| same report | load (local / cluster) |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(body)
    if args.write_results:
        from bench.results import replace_section

        replace_section(HERE / "RESULTS.md", HEADING, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
