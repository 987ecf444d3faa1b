"""Hostile or broken sidecars are reported and left byte-identical; writes are atomic."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.sidecar.sidecar_helpers import XMP, clock, place_sidecar
from xmpcull import fsutil
from xmpcull.errors import SidecarError
from xmpcull.models import CropEdges
from xmpcull.sidecar import (
    CropFields,
    DecisionFields,
    DupeFields,
    SidecarItem,
    SidecarUpdate,
    atomic,
    read_sidecar,
    write_sidecar,
    write_sidecars,
)

UPDATE = SidecarUpdate(dupes=DupeFields("d-1", "near", "keeper", 1))
REAL = (XMP / "lightroom/IMG_5910.xmp").read_bytes()
_RDF = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
_DESC = '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:format>{}</dc:format></rdf:Description>'
_END = "</rdf:RDF></x:xmpmeta>"

HOSTILE = {
    "xxe": (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + _RDF + _DESC.format("&e;") + _END
    ).encode(),
    "billion_laughs": (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
        + "]>" + _RDF + _DESC.format("&i;") + _END
    ).encode(),
    "truncated": REAL[: len(REAL) // 2],
    "binary_junk": bytes(range(256)) * 20,
    "not_xmp": b"<?xml version='1.0'?><html><body>hello</body></html>",
    "empty": b"",
    "bad_utf8": REAL.replace(b"Patrik", b"Patr\xffik"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_sidecar_is_reported_and_left_untouched(tmp_path: Path, kind: str) -> None:
    image = tmp_path / "IMG_0001.CR2"
    image.write_bytes(b"")
    sidecar = tmp_path / "IMG_0001.xmp"
    sidecar.write_bytes(HOSTILE[kind])
    with pytest.raises(SidecarError) as error:
        write_sidecar(image, UPDATE, clock=clock)
    assert error.value.reason and sidecar in error.value.paths or str(sidecar) in str(error.value)
    assert sidecar.read_bytes() == HOSTILE[kind]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["IMG_0001.CR2", "IMG_0001.xmp"]
    with pytest.raises(SidecarError):
        read_sidecar(image)


def test_doctype_reason_names_the_doctype(tmp_path: Path) -> None:
    image = tmp_path / "A.NEF"
    image.write_bytes(b"")
    (tmp_path / "A.xmp").write_bytes(HOSTILE["xxe"])
    with pytest.raises(SidecarError, match="DOCTYPE"):
        write_sidecar(image, UPDATE, clock=clock)


def test_enormous_sidecar_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xmpcull.sidecar import safety

    monkeypatch.setattr(safety, "MAX_SIDECAR_BYTES", 4096)  # same code path as 16 MB, without the disk use
    image, sidecar = place_sidecar(tmp_path, "lightroom/IMG_5910.xmp")  # 10 KB
    with pytest.raises(SidecarError, match="larger than"):
        write_sidecar(image, UPDATE, clock=clock)
    assert sidecar.read_bytes() == REAL


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a mode-000 file")
def test_unreadable_sidecar(tmp_path: Path) -> None:
    image, sidecar = place_sidecar(tmp_path, "lightroom/IMG_5910.xmp")
    sidecar.chmod(0o000)
    try:
        with pytest.raises(SidecarError, match="cannot read"):
            write_sidecar(image, UPDATE, clock=clock)
    finally:
        sidecar.chmod(0o644)
    assert sidecar.read_bytes() == REAL


def test_read_only_sidecar_and_folder_are_refused(tmp_path: Path) -> None:
    image, sidecar = place_sidecar(tmp_path, "lightroom/IMG_5910.xmp")
    sidecar.chmod(0o444)
    with pytest.raises(SidecarError, match="sidecar is read-only"):
        write_sidecar(image, UPDATE, clock=clock)
    assert sidecar.read_bytes() == REAL
    sidecar.chmod(0o644)
    (tmp_path / "NEW.CR2").write_bytes(b"")  # an image without a sidecar yet (a missing one is skipped earlier)
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(SidecarError, match="folder is read-only"):
            write_sidecar(image, UPDATE, clock=clock)
        with pytest.raises(SidecarError, match="folder is read-only"):
            write_sidecar(tmp_path / "NEW.CR2", UPDATE, clock=clock)
    finally:
        tmp_path.chmod(0o755)
    assert sidecar.read_bytes() == REAL
    assert not (tmp_path / "NEW.xmp").exists()


@pytest.mark.parametrize("failing", ["rename", "fsync"])
def test_failure_mid_write_keeps_the_old_sidecar_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    image, sidecar = place_sidecar(tmp_path, "lightroom/IMG_5910.xmp")

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    if failing == "rename":  # the exchange (renameat2) and the plain rename it falls back to
        monkeypatch.setattr(fsutil, "_renameat2", boom)
        monkeypatch.setattr(fsutil.os, "replace", boom)
    else:
        monkeypatch.setattr(atomic.os, failing, boom)
    with pytest.raises(SidecarError, match="No space left"):
        write_sidecar(image, UPDATE, clock=clock)
    assert sidecar.read_bytes() == REAL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["IMG_5910.CR2", "IMG_5910.xmp"]


def test_write_keeps_file_mode(tmp_path: Path) -> None:
    image, sidecar = place_sidecar(tmp_path, "lightroom/IMG_5910.xmp")
    sidecar.chmod(0o640)
    write_sidecar(image, UPDATE, clock=clock)
    assert sidecar.stat().st_mode & 0o777 == 0o640


def test_batch_goes_on_after_a_bad_file(tmp_path: Path) -> None:
    good = tmp_path / "GOOD.CR2"
    bad = tmp_path / "BAD.CR2"
    for image in (good, bad):
        image.write_bytes(b"")
    (tmp_path / "BAD.xmp").write_bytes(HOSTILE["xxe"])
    results, failures = write_sidecars([SidecarItem(bad, UPDATE), (good, UPDATE)], clock=clock)
    assert [Path(r.path).name for r in results] == ["GOOD.xmp"]
    assert [(Path(f.path).name, f.stage) for f in failures] == [("BAD.CR2", "sidecar")]
    assert "DOCTYPE" in failures[0].reason
    assert (tmp_path / "BAD.xmp").read_bytes() == HOSTILE["xxe"]


_BROKEN_EMBEDDED = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4">'
    "<xmp:Rating>2</xmp:Rating><xmp:Label>Blue</xmp:Label></rdf:Description></rdf:RDF></x:xmpmeta>"
)


def test_image_whose_own_xmp_exempi_refuses_still_gets_a_sidecar_without_decisions(tmp_path: Path) -> None:
    """Some editors embed XMP Exempi refuses (here: one property twice). The image is never
    touched; its sidecar carries what we found, but no rating, label or crop, since the
    user's may sit in the unreadable packet. The result says so."""
    image = tmp_path / "dunes.jpg"
    shutil.copy2(FIXTURES / "photos" / "mongolels.jpg", image)
    (tmp_path / "bad.xmp").write_text(_BROKEN_EMBEDDED)
    subprocess.run(["exiftool", "-q", "-overwrite_original", f"-xmp<={tmp_path / 'bad.xmp'}", str(image)], check=True)
    (tmp_path / "bad.xmp").unlink()
    before = image.read_bytes()
    update = SidecarUpdate(
        dupes=DupeFields("d-1", "near", "duplicate", 3),
        decision=DecisionFields("duplicate", rating=1, label="Red"),
        crop=CropFields((), CropEdges(0.1, 0.1, 0.9, 0.9)),
    )
    result = write_sidecar(image, update, clock=clock)
    assert result.changed and result.warnings and "without a proposed rating, label or crop" in result.warnings[0]
    assert image.read_bytes() == before
    state = read_sidecar(image, include_embedded=False)
    assert state.dupes is not None and state.dupes.group == "d-1"
    assert state.rating is None and state.label is None and state.crop is None
    written = (tmp_path / "dunes.xmp").read_text()
    assert "xmp:Rating" not in written and "crs:" not in written
