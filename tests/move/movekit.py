"""Builders for move tests: real files on disk and a duplicate report in the exact `xmpcull dupes` format."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# Small real camera/orientation JPEGs (KBs, not MBs) so copies stay cheap.
JPEGS = [
    FIXTURES / "camera" / "nikon_D3100_TypeError.jpg",
    FIXTURES / "camera" / "stub_exiftool_Google.jpg",
    FIXTURES / "orientation" / "Landscape_1.jpg",
    FIXTURES / "orientation" / "Portrait_6.jpg",
]
BASE_MTIME_NS = 1_600_000_000_123_456_789  # nanoseconds that a sloppy copy would round away


def put(path: Path, content: bytes | Path, mtime_ns: int = BASE_MTIME_NS) -> Path:
    """Create ``path`` from bytes or a copy of a real fixture, with a known mtime and a writable mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, Path):
        shutil.copyfile(content, path)
    else:
        path.write_bytes(content)
    os.chmod(path, 0o644)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def digest(path: Path) -> str:
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


def member(path: Path, root: Path, role: str) -> dict:
    info = path.stat()
    return {"path": str(path), "relpath": path.relative_to(root).as_posix(), "root": str(root), "role": role,
            "distance": 0, "width": 8, "height": 8, "bytes": info.st_size, "mtime": info.st_mtime,
            "digest": digest(path)}


def root_of(path: Path, roots: Iterable[Path]) -> Path:
    return next(r for r in roots if r in path.parents)


def write_report(path: Path, roots: list[Path], groups: list[tuple[Path, list[Path]]],
                 similar_sets: list[list[Path]] = ()) -> dict:
    """groups: (keeper, duplicates). Writes the JSON report and returns it."""
    report = {"version": 1, "roots": [str(r) for r in roots], "groups": [], "similar_sets": []}
    for number, (keeper, duplicates) in enumerate(groups, start=1):
        members = [member(keeper, root_of(keeper, roots), "keeper")]
        members += [member(d, root_of(d, roots), "duplicate") for d in duplicates]
        report["groups"].append({"id": f"g{number}", "kind": "exact", "keeper": str(keeper),
                                 "keeper_reason": "largest", "members": members})
    for number, paths in enumerate(similar_sets, start=1):
        report["similar_sets"].append({"id": f"s{number}", "members": [{"path": str(p)} for p in paths]})
    path.write_text(json.dumps(report), encoding="utf-8")
    return report


CSV_COLUMNS = ["group_id", "kind", "role", "path", "relpath", "root", "distance", "width", "height", "bytes",
               "mtime", "digest", "keeper_reason"]


def write_csv(path: Path, report: dict, edit: Callable[[dict], dict | None] = lambda row: row) -> Path:
    """The CSV `dupes` writes, passed through ``edit`` (return None to delete a row, as a user would)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, CSV_COLUMNS)
        writer.writeheader()
        for group in report["groups"]:
            for m in group["members"]:
                row = edit({"group_id": group["id"], "kind": group["kind"], "keeper_reason": group["keeper_reason"],
                            **{k: m[k] for k in CSV_COLUMNS if k in m}})
                if row is not None:
                    writer.writerow(row)
    return path


def snapshot(root: Path, review: str = "_review_dupes") -> dict[str, tuple[bytes, int, int]]:
    """Every file outside the review folder and the report folder: relpath -> (bytes, mtime_ns, mode)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        if Path(folder) == root:
            dirs[:] = [d for d in dirs if d not in (review, ".xmpcull")]
        for name in files:
            path = Path(folder) / name
            info = path.lstat()
            found[path.relative_to(root).as_posix()] = (path.read_bytes(), info.st_mtime_ns, info.st_mode)
    return found


def contents(root: Path, with_temps: bool = True) -> list[bytes]:
    """The bytes of every file anywhere under root (review folder included, journal excluded), sorted."""
    found = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        if ".xmpcull-journal" in dirs:
            dirs.remove(".xmpcull-journal")
        found += [(Path(folder) / name).read_bytes() for name in files
                  if with_temps or not name.startswith(".xmpcull-tmp-")]
    return sorted(found)


def review_files(root: Path, review: str = "_review_dupes") -> set[str]:
    found = set()
    base = root / review
    for folder, dirs, files in os.walk(base):
        if ".xmpcull-journal" in dirs:
            dirs.remove(".xmpcull-journal")
        found |= {(Path(folder) / n).relative_to(base).as_posix() for n in files}
    return found


def build_shoot(base: Path) -> dict:
    """A small shoot: two exact-duplicate groups, RAW+JPEG companions, both sidecar styles, odd names."""
    root = base / "photos"
    a, b = JPEGS[0], JPEGS[2]
    files = {
        "keep": put(root / "2024" / "IMG_1.jpg", a),
        "dup": put(root / "2024" / "copies" / "IMG_1 copy.jpg", a),
        "dup_sidecar": put(root / "2024" / "copies" / "IMG_1 copy.jpg.xmp", b"<x:xmpmeta/>"),
        "dup_raw": put(root / "2024" / "copies" / "IMG_1 copy.NEF", b"raw bytes"),
        "dup_adobe": put(root / "2024" / "copies" / "IMG_1 copy.xmp", b"<x:xmpmeta adobe/>"),
        "keep2": put(root / "été 2023" / "plage.jpg", b),
        "dup2": put(root / "été 2023" / "dup\nwith newline ü.jpg", b),
        "other": put(root / "été 2023" / "unrelated.jpg", JPEGS[1]),
    }
    # Where a run writes its report: inside the root, which is what makes `move` trust its root.
    report_path = root / ".xmpcull" / "groups.json"
    report_path.parent.mkdir()
    report = write_report(report_path, [root], [(files["keep"], [files["dup"]]), (files["keep2"], [files["dup2"]])])
    return {"root": root, "files": files, "report": report, "report_path": report_path, "tmp": base}


SHOOT_MOVED = {"2024/copies/IMG_1 copy.jpg", "2024/copies/IMG_1 copy.jpg.xmp", "2024/copies/IMG_1 copy.NEF",
               "2024/copies/IMG_1 copy.xmp", "été 2023/dup\nwith newline ü.jpg"}


def temp_leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".xmpcull-tmp-")]
