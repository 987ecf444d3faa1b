"""Which sidecar an image uses: Adobe or darktable style, reuse, RAW+JPEG pairs, SidecarForExtension."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sidecar.sidecar_helpers import clock
from xmpcull.sidecar import DupeFields, SidecarUpdate, WriteOptions, read_sidecar, sidecar_path_for, write_sidecar

UPDATE = SidecarUpdate(dupes=DupeFields("d-1", "near", "keeper"))


def _touch(folder: Path, *names: str) -> list[Path]:
    paths = [folder / n for n in names]
    for p in paths:
        p.write_bytes(b"")
    return paths


def _sidecar_for(path: Path, extension: str) -> None:
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        f'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:SidecarForExtension="{extension}"/>'
        "</rdf:RDF></x:xmpmeta>"
    )


@pytest.mark.parametrize(("naming", "expected"), [("adobe", "IMG_0001.xmp"), ("darktable", "IMG_0001.CR2.xmp")])
def test_new_sidecar_follows_the_chosen_style(tmp_path: Path, naming: str, expected: str) -> None:
    (raw,) = _touch(tmp_path, "IMG_0001.CR2")
    assert sidecar_path_for(raw, naming=naming) == tmp_path / expected  # type: ignore[arg-type]
    write_sidecar(raw, UPDATE, WriteOptions(naming=naming), clock=clock)  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["IMG_0001.CR2", expected])


@pytest.mark.parametrize(("existing", "naming"), [("IMG_0001.CR2.xmp", "adobe"), ("IMG_0001.xmp", "darktable")])
def test_an_existing_sidecar_of_the_other_style_is_updated(tmp_path: Path, existing: str, naming: str) -> None:
    (raw,) = _touch(tmp_path, "IMG_0001.CR2")
    _sidecar_for(tmp_path / existing, "CR2")
    write_sidecar(raw, UPDATE, WriteOptions(naming=naming), clock=clock)  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["IMG_0001.CR2", existing])
    assert read_sidecar(raw, naming=naming).dupes is not None  # type: ignore[arg-type]


def test_upper_case_xmp_extension_is_found(tmp_path: Path) -> None:
    (raw,) = _touch(tmp_path, "IMG_0001.NEF")
    _sidecar_for(tmp_path / "IMG_0001.XMP", "NEF")
    assert sidecar_path_for(raw) == tmp_path / "IMG_0001.XMP"


@pytest.mark.parametrize("naming", ["adobe", "darktable"])
def test_raw_jpeg_pair_shares_the_raw_sidecar(tmp_path: Path, naming: str) -> None:
    raw, jpeg = _touch(tmp_path, "IMG_0001.CR2", "IMG_0001.JPG")
    assert sidecar_path_for(jpeg, companions=(raw,), naming=naming) == sidecar_path_for(raw, naming=naming)  # type: ignore[arg-type]
    write_sidecar(jpeg, UPDATE, WriteOptions(naming=naming), companions=(raw,), clock=clock)  # type: ignore[arg-type]
    shared = sidecar_path_for(raw, naming=naming)  # type: ignore[arg-type]
    assert b'SidecarForExtension="CR2"' in shared.read_bytes()  # the raw's extension, not JPG
    sidecars = sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".xmp")
    if naming == "adobe":
        assert sidecars == ["IMG_0001.xmp"]  # Lightroom: the pair is one photo
    else:
        # darktable and digiKam show the JPEG as a photo of its own and read IMG_0001.JPG.xmp.
        assert sidecars == ["IMG_0001.CR2.xmp", "IMG_0001.JPG.xmp"]
        assert b'SidecarForExtension="JPG"' in (tmp_path / "IMG_0001.JPG.xmp").read_bytes()


def test_jpeg_next_to_raw_uses_the_raw_sidecar_even_without_companions(tmp_path: Path) -> None:
    _raw, jpeg = _touch(tmp_path, "X.CR2", "X.jpg")
    _sidecar_for(tmp_path / "X.xmp", "CR2")
    assert sidecar_path_for(jpeg) == tmp_path / "X.xmp"


def test_a_sidecar_for_another_image_is_not_hijacked(tmp_path: Path) -> None:
    # X.xmp says it serves X.PSD (not a raw, and no raw next to it): X.jpg gets its own X.jpg.xmp.
    (jpeg,) = _touch(tmp_path, "X.jpg")
    _sidecar_for(tmp_path / "X.xmp", "PSD")
    original = (tmp_path / "X.xmp").read_bytes()
    assert sidecar_path_for(jpeg) == tmp_path / "X.jpg.xmp"
    write_sidecar(jpeg, UPDATE, clock=clock)
    assert (tmp_path / "X.xmp").read_bytes() == original
    assert b'SidecarForExtension="JPG"' in (tmp_path / "X.jpg.xmp").read_bytes()


def test_raw_does_not_take_a_sidecar_declared_for_another_raw(tmp_path: Path) -> None:
    (nef,) = _touch(tmp_path, "X.NEF")
    _sidecar_for(tmp_path / "X.xmp", "CR2")
    assert sidecar_path_for(nef) == tmp_path / "X.NEF.xmp"
