"""What scene verification costs the duplicate stage, on the 2,369 unseen opencv-doc images.

The duplicate stage as ``xmpcull run`` calls it with the shipped defaults (crop search and
``verify_scenes`` on), on records read from a warm analysis cache (analysis is not what this
measures) and with a fresh ``PixelSource`` without a cache, so every pixel check is computed.
Figures: pixel checks (SIFT/RANSAC scene comparisons), pictures decoded, wall and CPU time of
the stage, the load average around it, and what a user sees (groups with their keeper, similar
sets with their best). With ``--anchor REF`` the same measurement runs first on REF's code, in
the same run (bench/anchor.py), and the two outputs are compared.

Counting the whole set on a loaded machine: ``--verdicts CACHE`` takes the pixel verdicts of an
earlier run from CACHE (a fresh copy for each code, so one code's new verdicts never serve the
other), so a check the earlier run made is looked up, not computed. "Pairs asked" counts the
distinct pairs each code asks the pixels about, found or computed; time the checks themselves on
a fixed subset without ``--verdicts`` (``--step K``: every K-th image by path; ``--limit N``: the first N).

The images: bench/cluster_bench.py's tree (JPEG and PNG files of Debian's opencv-doc 4.6.0,
``examples/`` and ``html/``). ``--limit N`` keeps the first N images by path, for a machine
too loaded to check the whole set in the time there is.

    .venv/bin/python bench/verify_cost_bench.py [--anchor REF] [--verdicts CACHE] [--step K] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.anchor import anchor_tree, run_on_anchor  # noqa: E402
from bench.cluster_bench import fetch_unseen  # noqa: E402
from xmpcull.analyse.pipeline import analyse_roots  # noqa: E402
from xmpcull.config import load_config  # noqa: E402
from xmpcull.group.dupes import find_duplicates  # noqa: E402
from xmpcull.group.generations import link_generations  # noqa: E402
from xmpcull.group.identity import identity_digest  # noqa: E402
from xmpcull.group.pixels import PixelSource  # noqa: E402


class CountingPixels(PixelSource):
    """The real pixel source, also counting the distinct pairs it is asked about (found in the cache or computed)."""

    def __init__(self, cache_path: Path | None) -> None:
        super().__init__(cache_path=cache_path)
        self.asked: set[tuple[bool, frozenset[str]]] = set()

    def scene(self, a, b, mirrored: bool = False):
        self.asked.add((mirrored, frozenset((identity_digest(a), identity_digest(b)))))
        return super().scene(a, b, mirrored)


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(images: Path, cache: Path, step: int, limit: int | None, jobs: int, verdicts: Path | None) -> dict:
    """The duplicate stage on ``images`` (every ``step``-th by path, the first ``limit``), as ``run`` calls it."""
    records = sorted(analyse_roots([images], jobs=jobs, cache_path=cache).ok_records, key=lambda r: str(r.file.path))
    records = records[::step][:limit] if limit else records[::step]
    config = load_config().dupes
    copy = None
    if verdicts is not None:
        copy = cache.parent / "verdicts-copy.sqlite"
        shutil.copyfile(verdicts, copy)
    pixels = CountingPixels(copy)  # without verdicts: every check is computed
    load_before, cpu_before, started = os.getloadavg(), _cpu_seconds(), time.perf_counter()
    result = find_duplicates(
        records,
        threshold=config.threshold,
        similar_threshold=config.similar_threshold,
        rotation_invariant=config.rotation_invariant,
        dhash_threshold=config.dhash_threshold,
        keeper_chain=config.keeper_chain,
        crop_tolerant=config.crop_search_for(len(records)),
        verify_scenes=True,
        pixels=pixels,
        linked=link_generations(records).same_generation,
        jobs=jobs,
    )
    wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_before

    def rel(record) -> str:
        return str(record.file.path.relative_to(images))

    return {
        "images": len(records),
        "wall": wall,
        "cpu": cpu,
        "load_before": load_before[0],
        "load_after": os.getloadavg()[0],
        "scene_checks": result.scene_checks,
        "asked": len(pixels.asked),
        "scene_seconds": result.scene_seconds,
        "decoded": pixels.decoded,
        "moments": result.moments,
        "collisions": result.collisions,
        "groups": sorted([rel(g.keeper), sorted(rel(m.record) for m in g.members)] for g in result.groups),
        "sets": sorted([rel(s.best), sorted(rel(m.record) for m in s.members)] for s in result.similar_sets),
    }


def render(runs: list[tuple[str, dict]]) -> str:
    lines = [
        f"`bench/verify_cost_bench.py` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs "
        f"shared with other jobs): the duplicate stage as `run` calls it (defaults, crop search and `verify_scenes` on) "
        f"on {runs[-1][1]['images']:,} opencv-doc images, analysis from a warm cache.",
        "",
        "| code | pairs asked | pixel checks computed | pictures decoded | stage wall | stage CPU | wall ms per computed check "
        "| load before / after | duplicate groups | similar sets | moments / collisions |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for code, r in runs:
        lines.append(
            f"| {code} | {r['asked']:,} | {r['scene_checks']:,} | {r['decoded']:,} | {r['wall']:.1f} s | {r['cpu']:.1f} s "
            f"| {r['scene_seconds'] / max(1, r['scene_checks']) * 1000:.0f} | {r['load_before']:.1f} / {r['load_after']:.1f} "
            f"| {len(r['groups'])} | {len(r['sets'])} | {r['moments']} / {r['collisions']} |"
        )
    if len(runs) == 2:
        (_, before), (_, after) = runs
        lines += ["", _differences(before, after)]
    return "\n".join(lines)


def _differences(before: dict, after: dict) -> str:
    """Whether a user sees the same groups (with keepers) and sets (with best), and how many differ."""
    parts = []
    for key, what in (("groups", "duplicate groups"), ("sets", "similar sets")):
        old, new = {json.dumps(x) for x in before[key]}, {json.dumps(x) for x in after[key]}
        parts.append(f"{what}: same" if old == new else f"{what}: {len(old - new)} only before, {len(new - old)} only after")
    return "Same output? " + "; ".join(parts) + "."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=Path, help="default: bench/cluster_bench.py's opencv-doc tree")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "out" / "verify" / "analysis.sqlite")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--step", type=int, default=1)
    parser.add_argument("--verdicts", type=Path, help="pixel verdicts of an earlier run (a cache file), copied for each code")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--anchor", metavar="REF", help="measure commit REF's code first, in this run")
    parser.add_argument("--json-out", type=Path, help=argparse.SUPPRESS)  # figures for a caller (bench/anchor.py)
    args = parser.parse_args()
    images = (args.images or fetch_unseen()).resolve()
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    runs = []
    if args.anchor:
        tree, commit = anchor_tree(args.anchor, args.cache.parent)
        argv = ["--images", str(images), "--cache", str(args.cache), "--jobs", str(args.jobs), "--step", str(args.step)]
        argv += ["--limit", str(args.limit)] if args.limit else []
        argv += ["--verdicts", str(args.verdicts.resolve())] if args.verdicts else []
        runs.append((f"{commit[:7]} (before)", run_on_anchor(tree, ["verify_cost_bench.py", "anchor.py"], argv)))
    figures = measure(images, args.cache, args.step, args.limit, args.jobs, args.verdicts)
    if args.json_out:
        args.json_out.write_text(json.dumps(figures))
        return
    runs.append(("after" if args.anchor else "this code", figures))
    print(render(runs))
    name = f"verify-cost-step{args.step}-limit{args.limit or 0}{'-verdicts' if args.verdicts else ''}.json"
    (args.cache.parent / name).write_text(json.dumps(runs))


if __name__ == "__main__":
    main()
