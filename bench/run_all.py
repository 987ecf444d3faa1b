"""Run every benchmark in turn; each writes its own section of bench/RESULTS.md.

    python bench/run_all.py [--quick]

``--quick`` uses smaller corpora (minutes instead of about half an hour) and is
meant for checking that the benchmarks still run, not for the published figures.
Benchmarks need the ``bench`` extra (faiss-cpu, smartcrop, psutil, imagededup).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL = [
    ["analyse_bench.py"],
    ["dupes_accuracy.py"],
    ["dupes_scale.py"],
    ["bursts_bench.py"],
    ["crop_bench.py", "--aspect", "4:5", "--aspect", "16:9"],
    ["holdout.py", "--write-results"],
    ["review_bench.py", "--write-results"],
    ["decisions_bench.py", "--write-results"],
    ["aigen_devset.py"],
    ["aigen_speed.py", "--files", "10000", "--distinct", "2000"],
]
QUICK = [
    ["analyse_bench.py", "--large", "20", "--small", "500", "--memory-files", "0"],
    ["dupes_accuracy.py"],
    ["dupes_scale.py", "--sizes", "100000"],
    ["bursts_bench.py", "--count", "100000"],
    ["crop_bench.py", "--aspect", "4:5", "--aspect", "16:9"],
    ["holdout.py"],
    ["review_bench.py", "--images", "2000"],
    ["decisions_bench.py"],
    ["aigen_devset.py", "--no-results"],
    ["aigen_speed.py", "--files", "200", "--distinct", "50", "--no-results"],
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    failed = []
    for command in QUICK if args.quick else FULL:
        started = time.monotonic()
        print(f"== {' '.join(command)}", flush=True)
        proc = subprocess.run([sys.executable, str(HERE / command[0]), *command[1:]], cwd=HERE.parent, check=False)
        print(f"== {command[0]}: exit {proc.returncode} in {time.monotonic() - started:.0f} s", flush=True)
        if proc.returncode:
            failed.append(command[0])
    print("results: bench/RESULTS.md" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
