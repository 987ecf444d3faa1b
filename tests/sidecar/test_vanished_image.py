"""An image deleted, or replaced by a folder, while a run is going gets no sidecar and is reported as skipped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from xmpcull import run as run_module
from xmpcull.config import load_config
from xmpcull.sidecar import SidecarUpdate, write_sidecars
from xmpcull.sidecar.engine import SidecarItem
from xmpcull.sidecar.fields import DecisionFields, WriteOptions


def sidecars_of(image: Path) -> list[Path]:
    """Every name a sidecar of ``image`` could have (adobe and darktable naming)."""
    return [p for p in (image.with_suffix(".xmp"), image.with_name(image.name + ".xmp")) if p.exists()]


def vanish(gone: Path, folder: Path) -> None:
    gone.unlink()
    folder.unlink()
    folder.mkdir()
    (folder / "inside.txt").write_text("a folder now")


@pytest.mark.parametrize("naming", ["adobe", "darktable"])
def test_the_writer_skips_an_image_that_is_gone_or_a_folder_now(tmp_path: Path, naming: str) -> None:
    names = ["gone.jpg", "folder.jpg", "here.jpg"]
    for name in names:
        shutil.copy(FIXTURES / "photos/mongolels.jpg", tmp_path / name)
    vanish(tmp_path / "gone.jpg", tmp_path / "folder.jpg")
    update = SidecarUpdate(decision=DecisionFields("ok", label="Green"))
    results, failures = write_sidecars([SidecarItem(tmp_path / n, update) for n in names], WriteOptions(naming=naming))
    assert [Path(r.path).name for r in results] == (["here.xmp"] if naming == "adobe" else ["here.jpg.xmp"])
    reasons = {Path(f.path).name: f.reason for f in failures}
    assert "deleted during the run; skipped" in reasons["gone.jpg"]
    assert "replaced by a folder during the run; skipped" in reasons["folder.jpg"]
    assert {f.stage for f in failures} == {"sidecar"}
    assert sidecars_of(tmp_path / "gone.jpg") == [] and sidecars_of(tmp_path / "folder.jpg") == []
    assert sorted(p.name for p in (tmp_path / "folder.jpg").iterdir()) == ["inside.txt"]


class VanishAfterCrops:
    """A real progress object that, when the crop stage ends (analysis and crops done, sidecars
    not yet written), deletes one image and turns another into a folder."""

    def __init__(self, gone: Path, folder: Path) -> None:
        self.gone, self.folder, self.stage = gone, folder, ""

    def start(self, total: int, description: str) -> None:
        self.stage = description

    def advance(self, count: int = 1) -> None:
        pass

    def finish(self) -> None:
        if self.stage == "Proposing crops":
            vanish(self.gone, self.folder)
            self.stage = "done"


@pytest.mark.parametrize("rerun", [False, True], ids=["first-run", "re-run-with-memo"])
def test_a_run_reports_images_that_vanished_and_writes_no_sidecar_for_them(tmp_path: Path, rerun: bool) -> None:
    root = tmp_path / "shoot"
    root.mkdir()
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "dunes.jpg")
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "jet.jpg")
    shutil.copy(FIXTURES / "camera/iphone_hdr_NO.jpg", root / "flowers.jpg")
    config = load_config()
    options = run_module.RunOptions(config=config, write_options=config.write_options, cache_path=tmp_path / "c.sqlite", jobs=1)
    before: dict[Path, bytes] = {}
    if rerun:
        # A first, normal run leaves sidecars and the write memo: the second run would otherwise
        # find "nothing to change" for the vanished files and say nothing about them.
        run_module.run_pipeline([root], options)
        before = {p: p.read_bytes() for image in ("dunes.jpg", "jet.jpg") for p in sidecars_of(root / image)}
        assert len(before) == 2
    result = run_module.run_pipeline([root], options, VanishAfterCrops(root / "dunes.jpg", root / "jet.jpg"))
    reasons = {Path(f.path).name: f.reason for f in result.failures}
    assert set(reasons) == {"dunes.jpg", "jet.jpg"}, reasons
    assert "deleted during the run; skipped" in reasons["dunes.jpg"]
    assert "replaced by a folder during the run; skipped" in reasons["jet.jpg"]
    # No sidecar written for them; one from an earlier run is left as it was (never destroyed).
    after = {p: p.read_bytes() for image in ("dunes.jpg", "jet.jpg") for p in sidecars_of(root / image)}
    assert after == before
    assert sidecars_of(root / "flowers.jpg")  # the rest of the run went on
    report = json.loads((root / ".xmpcull" / "report.json").read_text())
    assert {Path(e["path"]).name for e in report["errors"]} == {"dunes.jpg", "jet.jpg"}
