"""Sidecars written by xmpcull's own writer (Exempi), read by the plug-in.

This is the seam the end-to-end test (`xmpcull run`, then sync) will also
cross: `FakeLightroom.load_folder` on the run's output folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.plugin.harness import FakeLightroom

engine = pytest.importorskip("xmpcull.sidecar.engine")
fields = pytest.importorskip("xmpcull.sidecar.fields")

CAMERA = Path(__file__).resolve().parents[2] / "fixtures" / "camera"


@pytest.mark.parametrize("naming", ["adobe", "darktable"])
def test_sync_reads_what_the_writer_wrote(tmp_path, naming):
    keeper = shutil.copy(CAMERA / "iphone_hdr_NO.jpg", tmp_path / "keeper.jpg")
    dup = shutil.copy(CAMERA / "iphone_hdr_YES.jpg", tmp_path / "dup.jpg")
    crop = fields.CropFields(proposals=(fields.CropProposal("4:5", 0.1, 0.0, 0.9, 1.0, 0.8),))
    updates = {
        keeper: fields.SidecarUpdate(
            dupes=fields.DupeFields("d-3fa9c2e1", "near", "keeper"),
            burst=fields.BurstFields("20150410-201223-iP6-0001", 1, 2, best=True),
            quality=fields.QualityFields(0.8, 0.7, 0.6), crop=crop,
            decision=fields.DecisionFields("keeper", rating=4, label="Green")),
        dup: fields.SidecarUpdate(
            dupes=fields.DupeFields("d-3fa9c2e1", "near", "duplicate", distance=5),
            burst=fields.BurstFields("20150410-201223-iP6-0001", 2, 2),
            decision=fields.DecisionFields("needs-review", review_reasons=("soft",))),
    }
    options = fields.WriteOptions(naming=naming)
    for image, update in updates.items():
        engine.write_sidecar(Path(image), update, options)
    lr = FakeLightroom()
    lr.load_folder(tmp_path)
    summary = lr.sync()
    assert summary["changed"] == 2 and summary["parseErrors"] == 0
    k, d = lr.sdk.byPath[str(keeper)], lr.sdk.byPath[str(dup)]
    assert lr.props(k)["dupRole"] == "keeper" and lr.props(k)["burstBest"] == "yes"
    assert lr.props(k)["cropConfidence"] == "0.80" and lr.props(k)["quality"] == "0.80"
    assert lr.props(d)["dupDistance"] == "5" and lr.props(d)["needsReview"] == "yes"
    assert (k.rating, k.label) == (4, "Green")
    # The plug-in's keywords are exactly the writer's lr:hierarchicalSubject paths.
    for image, photo in ((keeper, k), (dup, d)):
        written = engine.read_sidecar(Path(image), naming=naming, include_embedded=False)
        paths = sorted(p for p in written.hierarchical_keywords if p.startswith("xmpcull|"))
        assert paths and lr.keywords(photo) == paths
    assert lr.keywords(d) == ["xmpcull|burst|20150410-201223-iP6-0001", "xmpcull|dupes|d-3fa9c2e1",
                              "xmpcull|review"]
