"""The sidecar reader (XcXmp + XcSidecar) on hand-written and real sidecars."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.plugin import sidecars
from tests.plugin.harness import FakeLightroom, to_py

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "xmp"
CROP = {"Aspect": "4:5", "CropLeft": 0.125, "CropTop": 0.0, "CropRight": 0.875, "CropBottom": 1.0,
        "Confidence": 0.75}


def load(lr: FakeLightroom, path: Path) -> tuple:
    fn = lr.lua.eval("function(sdk, cmds, path) return sdk.run(function() "
                     "local ctx = sdk.context({}) local a, b, c = cmds.loadRecord(ctx, path) return a, b, c end) end")
    values = [to_py(v) for v in fn(lr.sdk, lr.commands, str(path))]
    while values and values[-1] is None:
        values.pop()
    return tuple(values)


@pytest.mark.parametrize("xml_mode", ["qualified", "prefixed"])
@pytest.mark.parametrize("element_form", [False, True])
@pytest.mark.parametrize("struct_form", ["resource", "description", "attributes"])
def test_every_rdf_shape_reads_the_same(tmp_path, xml_mode, element_form, struct_form):
    lr = FakeLightroom(xml_mode=xml_mode)
    image = tmp_path / "IMG_1.jpg"
    sidecars.write(image, {"DupGroup": "d-1", "DupRole": "duplicate", "DupDistance": 4, "BurstID": "b-7",
                           "BurstIndex": 2, "BurstBest": True, "Quality": 0.5, "Decision": "needs-review"},
                   prefix="xc", element_form=element_form, struct_form=struct_form, crops=[CROP],
                   reasons=["blurry", "closed eyes"])
    record = load(lr, image)[0]
    assert record["dupGroup"] == "d-1" and record["dupRole"] == "duplicate" and record["dupDistance"] == 4
    assert record["burstId"] == "b-7" and record["burstIndex"] == 2 and record["burstBest"] is True
    assert record["decision"] == "needs-review" and record["reviewReasons"] == ["blurry", "closed eyes"]
    assert record["cropProposals"] == [{"aspect": "4:5", "left": 0.125, "top": 0, "right": 0.875,
                                        "bottom": 1, "confidence": 0.75}]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(group=st.from_regex(r"d-[0-9a-f]{8}", fullmatch=True), quality=st.floats(0, 1),
       distance=st.integers(0, 64), element_form=st.booleans())
def test_values_survive_the_reader(tmp_path, group, quality, distance, element_form):
    lr = FakeLightroom()
    image = tmp_path / "p.jpg"
    sidecars.write(image, {"DupGroup": group, "DupDistance": distance, "Quality": round(quality, 6)},
                   element_form=element_form)
    record = load(lr, image)[0]
    assert record["dupGroup"] == group and record["dupDistance"] == distance
    assert abs(record["quality"] - round(quality, 6)) < 1e-9


@pytest.mark.parametrize("fixture", sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*.xmp")))
def test_real_sidecars_of_other_tools_have_no_xmpcull_data(tmp_path, fixture):
    # Lightroom, darktable and digiKam sidecars (one UTF-16LE) parse, and carry none of our data.
    src = FIXTURES / fixture
    image = tmp_path / src.name.replace(".xmp", "")
    if "." not in image.name:
        image = image.with_suffix(".CR2")
    image.touch()
    shutil.copy(src, tmp_path / src.name)
    lr = FakeLightroom()
    assert load(lr, image) == (None, "no-data")


def test_utf16_sidecar_with_our_data_is_read(tmp_path):
    image = tmp_path / "u.jpg"
    path = sidecars.write(image, {"DupGroup": "d-16"})
    text = path.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    path.write_bytes(text.encode("utf-16"))  # with BOM
    assert load(FakeLightroom(), image)[0]["dupGroup"] == "d-16"


@pytest.mark.parametrize("content", [b"<x:xmpmeta", b"not xml at all",
                                     b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
                                     b"<root><child/></root>"])
def test_malformed_sidecar_is_a_parse_error(tmp_path, content):
    image = tmp_path / "bad.jpg"
    image.touch()
    (tmp_path / "bad.xmp").write_bytes(content)
    record, kind, message = load(FakeLightroom(), image)
    assert record is None and kind == "parse-error" and "bad.xmp" in message


def test_missing_sidecar(tmp_path):
    image = tmp_path / "alone.jpg"
    image.touch()
    assert load(FakeLightroom(), image) == (None, "missing")


def test_raw_sidecar_is_not_given_to_the_jpeg_of_the_pair(tmp_path):
    raw, jpeg = tmp_path / "IMG_2.CR3", tmp_path / "IMG_2.JPG"
    sidecars.write(raw, {"DupGroup": "d-raw"}, sidecar_for="CR3")
    jpeg.touch()
    lr = FakeLightroom()
    assert load(lr, raw)[0]["dupGroup"] == "d-raw"
    assert load(lr, jpeg) == (None, "other-file")


def test_darktable_name_wins_over_adobe_name(tmp_path):
    image = tmp_path / "IMG_3.NEF"
    sidecars.write(image, {"DupGroup": "d-adobe"}, style="adobe")
    sidecars.write(image, {"DupGroup": "d-dt"}, style="darktable")
    assert load(FakeLightroom(), image)[0]["dupGroup"] == "d-dt"
