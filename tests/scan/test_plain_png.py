"""PNGs whose chunks hold no EXIF, XMP or capture time skip exiftool: the metadata must be what exiftool gives.

Each case is read twice through the real metadata step, once with every file
sent to exiftool and once with plain PNGs answered by the chunk walk, and the
records must be equal, warnings included. The cases that must take the short
way are checked to take it, so the comparison cannot pass by never skipping.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from bench import aigen_writers as w
from xmpcull.scan.exiftool import ExifTool
from xmpcull.scan.generation.containers import read_container
from xmpcull.scan.metadata import read_metadata
from xmpcull.scan.walk import scan_roots

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PROMPT = "a koi pond, ink"


def both_ways(folder: Path, et: ExifTool) -> dict[str, tuple[object, object]]:
    files = scan_roots([folder]).files
    asked = read_metadata(files, et, skip_plain_png=False)
    skipped = read_metadata(files, et)
    return {f.path.name: (a, s) for f, a, s in zip(files, asked, skipped)}


def picture(size=(64, 48)) -> Image.Image:
    return w.render(PROMPT, 3, size)


def pillow_png(path: Path, image: Image.Image, **params) -> Path:
    image.save(path, "PNG", **params)
    return path


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def insert_before_idat(path: Path, extra: bytes) -> Path:
    data = path.read_bytes()
    at = data.index(b"IDAT") - 4
    path.write_bytes(data[:at] + extra + data[at:])
    return path


def make_cases(folder: Path) -> tuple[set[str], set[str]]:
    """(files that must skip exiftool, files that must not)."""
    text = w.a1111_infotext(PROMPT, "blurry", 7)
    plain = {
        "a1111.png": lambda p: w.write_png(p, picture(), {"parameters": text}),
        "a1111-after-idat.png": lambda p: w.write_png(p, picture(), {"parameters": text}, after_idat=True),
        "comfy-itxt.png": lambda p: w.write_png(p, picture(), w.comfy_texts(w.comfy_graph(PROMPT, "", 7)), kind="iTXt"),
        "ztxt.png": lambda p: w.write_png(p, picture(), {"Comment": "hello"}, kind="zTXt"),
        "novelai.png": lambda p: w.write_png(p, picture(), w.novelai_texts(PROMPT, "", 7)),
        "no-text.png": lambda p: pillow_png(p, picture()),
        "grey16.png": lambda p: pillow_png(p, picture().convert("I;16")),
        "palette-alpha.png": lambda p: pillow_png(p, picture().convert("P"), transparency=0),
        "dpi.png": lambda p: pillow_png(p, picture(), dpi=(300, 300)),
    }
    not_plain = {
        "exif.png": lambda p: pillow_png(p, picture(), exif=_exif_with_date()),
        "icc.png": lambda p: pillow_png(p, picture(), icc_profile=b"\0" * 128),
        "creation-time.png": lambda p: pillow_png(p, picture(), pnginfo=_info("Creation Time", "2024:05:06 07:08:09")),
        "raw-profile.png": lambda p: pillow_png(p, picture(), pnginfo=_info("Raw profile type exif", "\nexif\n       0\n")),
        "trailer.png": lambda p: p.write_bytes(pillow_png(p, picture()).read_bytes() + b"junk after IEND"),
        "truncated.png": lambda p: p.write_bytes(pillow_png(p, picture()).read_bytes()[:-30]),
        "jpeg-named.png": lambda p: (picture().save(p, "JPEG"), p)[1],
        "unknown-chunk.png": lambda p: insert_before_idat(pillow_png(p, picture()), chunk(b"vpAg", b"\0" * 9)),
        "c2pa-box.png": lambda p: insert_before_idat(pillow_png(p, picture()), chunk(b"caBX", b"\0" * 8)),
    }
    for name, make in {**plain, **not_plain}.items():
        make(folder / name)
    # XMP written by exiftool itself, with a rating: the most common non-plain PNG after a Lightroom save.
    xmp = pillow_png(folder / "xmp.png", picture())
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP-xmp:Rating=4", "-XMP-dc:Subject=koi", str(xmp)],
                   check=True)
    not_plain["xmp.png"] = None
    for fixture in ("photos/astronaut.png", "formats/density_plot.png"):
        shutil.copy(FIXTURES / fixture, folder / Path(fixture).name)
    return set(plain), set(not_plain)


def _info(key: str, value: str) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text(key, value)
    return info


def _exif_with_date() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the record must say so
    exif[0x0132] = "2024:05:06 07:08:09"
    return exif.tobytes()


def test_plain_pngs_skip_exiftool_and_read_the_same(tmp_path: Path):
    must_skip, must_ask = make_cases(tmp_path)
    for name in must_skip:
        assert read_container(tmp_path / name, "png").plain_png, name
    for name in must_ask:
        assert not read_container(tmp_path / name, "png").plain_png, name
    with ExifTool() as et:
        results = both_ways(tmp_path, et)
    assert set(results) >= must_skip | must_ask
    for name, (asked, skipped) in results.items():
        assert skipped == asked, name
    exif = results["exif.png"][0]
    assert not isinstance(exif, str) and exif.orientation == 6  # the short way would have missed it
    assert results["xmp.png"][0].rating == 4  # type: ignore[union-attr]
    assert results["a1111-after-idat.png"][1].warnings  # type: ignore[union-attr]  # exiftool's own warning, too


_keys = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=20).filter(
    lambda k: k.strip() == k
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.dictionaries(_keys, st.text(max_size=60), max_size=4),
    kind=st.sampled_from(["tEXt", "zTXt", "iTXt"]),
    after_idat=st.booleans(),
)
def test_any_text_chunks_read_the_same_either_way(tmp_path_factory, texts, kind, after_idat):
    folder = tmp_path_factory.mktemp("png")
    buffer = io.BytesIO()
    picture().save(buffer, "PNG")
    if kind == "zTXt":
        texts = {k: v.encode("latin-1", "replace").decode("latin-1") for k, v in texts.items()}
    w.write_png(folder / "a.png", Image.open(io.BytesIO(buffer.getvalue())), texts, kind=kind, after_idat=after_idat)
    with ExifTool() as et:
        asked, skipped = both_ways(folder, et)["a.png"]
    assert skipped == asked


@pytest.mark.parametrize("name", ["astronaut.png", "density_plot.png"])
def test_real_pngs_from_the_fixtures(tmp_path: Path, name: str):
    source = next(FIXTURES.rglob(name))
    shutil.copy(source, tmp_path / name)
    with ExifTool() as et:
        asked, skipped = both_ways(tmp_path, et)[name]
    assert skipped == asked
