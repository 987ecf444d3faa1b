"""`xmpcull run` against faults a real photo library has: undecodable names, damaged caches,
leftover temp files, images that vanish mid-run. Each run must finish with its report."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli, run_json
from tests.conftest import FIXTURES
from xmpcull.sidecar import exiftool_config_path

BAD_NAME = os.fsdecode(b"bad\xff\xfe name.jpg")  # not UTF-8: legal on Linux, common on old NAS copies


@pytest.fixture
def odd_shoot(tmp_path: Path) -> Path:
    root = tmp_path / "shoot"
    root.mkdir()
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "dunes.jpg")
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / BAD_NAME)  # an exact duplicate of dunes.jpg
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "jet.jpg")
    return root


def xmpcull_fields(sidecar: Path) -> dict:
    out = subprocess.run(
        [b"exiftool", b"-config", os.fsencode(exiftool_config_path()), b"-j", b"-XMP-xmpcull:all", os.fsencode(sidecar)],
        capture_output=True, check=True,
    )
    return json.loads(out.stdout)[0]


def sidecar_bytes(root: Path) -> dict[bytes, bytes]:
    return {os.fsencode(p.name): p.read_bytes() for p in sorted(root.glob("*.xmp"))}


@pytest.mark.parametrize("cache", ["cache", "no-cache"])
def test_undecodable_name_is_analysed_like_any_file(odd_shoot: Path, tmp_path: Path, cache: str) -> None:
    cache_args = ["--cache", tmp_path / "c.sqlite"] if cache == "cache" else ["--no-cache"]
    code, summary = run_json("run", odd_shoot, *cache_args)
    assert code == 0, summary["errors"]
    assert summary["images"] == 3 and summary["analysed"] == 3
    assert summary["duplicate_groups"] == 1 and summary["duplicates"] == 1
    # The sidecar carries the name's own bytes, and exiftool reads it.
    sidecar = odd_shoot / os.fsdecode(b"bad\xff\xfe name.xmp")
    assert xmpcull_fields(sidecar)["DupGroup"]
    # JSON: the bytes appear as \udcXX escapes, which give the name back exactly.
    report_text = (odd_shoot / ".xmpcull/report.json").read_bytes()
    assert b"bad\\udcff\\udcfe name.jpg" in report_text
    report = json.loads(report_text)
    paths = {os.fsencode(i["path"]) for i in report["images"]}
    assert os.fsencode(odd_shoot / BAD_NAME) in paths
    # CSV: the same escape; the file is valid UTF-8.
    with open(odd_shoot / ".xmpcull/report.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert "bad\\udcff\\udcfe name.jpg" in {r["relpath"] for r in rows}
    # A re-run writes no byte.
    before = sidecar_bytes(odd_shoot)
    code, summary = run_json("run", odd_shoot, *cache_args)
    assert code == 0 and summary["sidecars_changed"] == 0
    assert sidecar_bytes(odd_shoot) == before


def test_undecodable_name_moves_and_comes_back(odd_shoot: Path, tmp_path: Path) -> None:
    run_json("run", odd_shoot, "--cache", tmp_path / "c.sqlite")
    report = odd_shoot / ".xmpcull/report.json"
    keeper = json.loads(report.read_bytes())["groups"][0]["keeper"]
    moved_name = "dunes.jpg" if keeper.endswith(BAD_NAME) else BAD_NAME
    code, out = run_json("move", "--report", report)
    assert code == 0, out
    assert (odd_shoot / "_review_dupes" / moved_name).exists() and not (odd_shoot / moved_name).exists()
    code, out = run_json("undo", "--root", odd_shoot)
    assert code == 0, out
    assert (odd_shoot / moved_name).read_bytes() == (FIXTURES / "photos/mongolels.jpg").read_bytes()


def test_undecodable_name_prints_escaped_on_a_terminal(odd_shoot: Path, tmp_path: Path) -> None:
    (odd_shoot / BAD_NAME).write_bytes(b"not a jpeg")  # now it fails, and its name is printed
    proc = run_cli("run", odd_shoot, "--cache", tmp_path / "c.sqlite", env={"PYTHONIOENCODING": "utf-8"})
    assert proc.returncode == 1, proc.stderr
    assert "bad\\udcff\\udcfe name.jpg" in proc.stderr
    assert (odd_shoot / ".xmpcull/report.json").exists()


def _damage_pages(cache: Path) -> None:
    """Overwrite the middle of the file (past the header page) with garbage, as a bad disk sector would."""
    data = bytearray(cache.read_bytes())
    assert len(data) > 3 * 4096, "the cache should span several pages"
    start = 4096
    data[start : len(data) - 4096] = b"\xa5" * (len(data) - 4096 - start)
    cache.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "bad-pages"])
def test_a_damaged_cache_is_set_aside_and_rebuilt(odd_shoot: Path, tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache.sqlite"
    code, first = run_json("run", odd_shoot, "--cache", cache, "--no-write")
    assert code == 0, first
    with contextlib.closing(sqlite3.connect(cache)) as db:  # everything into the main file, then damage it
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")
    if damage == "garbage":
        cache.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    elif damage == "truncated":
        cache.write_bytes(cache.read_bytes()[:1500])
    else:
        _damage_pages(cache)

    for _ in range(2):  # the run after the damage, and the one after that: both finish with their report
        proc = run_cli("run", odd_shoot, "--cache", cache, "--no-write", "--json")
        assert proc.returncode == 0, (proc.returncode, proc.stderr)
        again = json.loads(proc.stdout)
        assert again["images"] == first["images"]
        assert (odd_shoot / ".xmpcull" / "report.json").is_file()
        if _ == 0:
            # SQLite may read a file cut short inside its first page as a smaller database: then there is
            # nothing to set aside and no warning; garbage and bad pages must be set aside, once.
            expected = {0, 1} if damage == "truncated" else {1}
            assert proc.stderr.count("the cache was damaged") in expected, proc.stderr
        else:
            assert "the cache was damaged" not in proc.stderr, proc.stderr
    aside = [p for p in tmp_path.glob("cache.sqlite.corrupt-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(aside) == (len(aside) if damage == "truncated" else 1) <= 1


# A run killed (SIGKILL, a real process) at one instant of a sidecar write. "tmp": while the new
# sidecar is being made durable; "swap": right after it was exchanged with the old one.
KILLED_WRITE = r"""
import os, signal, sys
from xmpcull import fsutil

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if sys.argv[1] == "tmp":
    real_fsync = os.fsync
    def fsync(fd):
        name = os.readlink(f"/proc/self/fd/{fd}")
        if os.path.basename(name).startswith(".xmpcull-") and name.endswith(".tmp"):
            die()
        real_fsync(fd)
    os.fsync = fsync
else:
    real_rename = fsutil._renameat2
    def rename(source, target, flags):
        done = real_rename(source, target, flags)
        if flags == 2 and done:  # RENAME_EXCHANGE
            die()
        return done
    fsutil._renameat2 = rename
from xmpcull.cli.main import cli
cli(["run", sys.argv[2], "--no-cache", "--json"])
"""

FOREIGN_XMP = b"""<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag>
<rdf:li>from another app</rdf:li></rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>"""


@pytest.mark.parametrize("moment", ["tmp", "swap"])
def test_a_run_killed_mid_write_leaves_temp_files_the_next_run_removes_or_keeps(odd_shoot: Path, moment: str) -> None:
    os.unlink(odd_shoot / BAD_NAME)
    (odd_shoot / "dunes.xmp").write_bytes(FOREIGN_XMP)  # merged into, so the write is an exchange
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITE, moment, str(odd_shoot)], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    left = sorted(p.name for p in odd_shoot.iterdir() if p.name.startswith(".xmpcull-"))
    assert len(left) == 1 and left[0].endswith(".tmp" if moment == "tmp" else ".swap")
    leftover = odd_shoot / left[0]
    if moment == "swap":
        assert leftover.read_bytes() == FOREIGN_XMP  # what the exchange displaced: it must not be thrown away

    code, summary = run_json("run", odd_shoot, "--no-cache")
    assert code == 0, summary["errors"]
    if moment == "tmp":
        assert not leftover.exists() and summary["temp_files_removed"] == 1
    else:
        assert summary["swap_files_kept"] == [str(leftover)] and leftover.read_bytes() == FOREIGN_XMP
    assert [p.name for p in odd_shoot.iterdir() if p.name.startswith(".xmpcull-")] == ([] if moment == "tmp" else left)
    assert "from another app" in (odd_shoot / "dunes.xmp").read_text()
    assert xmpcull_fields(odd_shoot / "jet.xmp")  # every sidecar written


# The disk fills up (issue 15 item 8): a real full filesystem, a 3 MB tmpfs. Mounting needs root,
# or an unprivileged user namespace (unshare -Urm); without either the test is skipped.
FULL_DISK = r"""
D="$1"; OUT="$2"; shift 2
mount -t tmpfs -o size=3m tmpfs "$D" || exit 77
trap 'umount "$D" 2>/dev/null' EXIT
cp "$@" "$D"/
dd if=/dev/zero of="$D/fill" bs=4k 2>/dev/null
"$PYTHON" -m xmpcull.cli.main run "$D" --no-cache --json > "$OUT/out.json" 2> "$OUT/err.txt"
echo $? > "$OUT/rc"
ls -A "$D" > "$OUT/listing"
"""


def test_on_a_full_disk_the_run_lists_every_sidecar_it_could_not_write(tmp_path: Path) -> None:
    disk, out = tmp_path / "disk", tmp_path / "out"
    disk.mkdir()
    out.mkdir()
    photos = [FIXTURES / "photos/mongolels.jpg", FIXTURES / "photos/portrait.jpg", FIXTURES / "photos/nikon-e2100.jpg"]
    args = ["sh", "-c", FULL_DISK, "sh", str(disk), str(out), *map(str, photos)]
    env = {**os.environ, "PYTHON": sys.executable}
    attempts = ([] if shutil.which("unshare") is None else [["unshare", "-Urm", *args]]) + (
        [args] if os.geteuid() == 0 else [])
    for command in attempts:
        if subprocess.run(command, env=env, capture_output=True).returncode != 77:
            break
    else:
        pytest.skip("cannot mount a small tmpfs here: needs root or unprivileged user namespaces")
    assert (out / "rc").read_text().strip() == "3"  # the report could not be written either
    summary = json.loads((out / "out.json").read_text())
    assert summary["report"] is None and "No space left on device" in summary["report_error"]
    not_written = {Path(s["image"]).name: s["reason"] for s in summary["sidecars_not_written"]}
    assert set(not_written) == {"mongolels.jpg", "portrait.jpg", "nikon-e2100.jpg"}
    assert all("No space left on device" in reason for reason in not_written.values())
    stderr = (out / "err.txt").read_text()
    assert all(str(disk / name) in stderr for name in not_written)
    assert "cannot write the report" in stderr
    left = (out / "listing").read_text().split()
    assert sorted(left) == [".xmpcull", "fill", "mongolels.jpg", "nikon-e2100.jpg", "portrait.jpg"]  # no temp, no half file
