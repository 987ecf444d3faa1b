"""Similar sets in Lightroom: `xmpcull run` on real frames, then the plug-in's real Lua syncs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli.helpers import run_json
from tests.conftest import FIXTURES
from tests.plugin.harness import FakeLightroom

FRAMES = ("vtest_0000.jpg", "vtest_0020.jpg", "vtest_0040.jpg")


def test_a_collection_per_similar_set_and_a_smart_collection_for_all(tmp_path: Path):
    root = tmp_path / "street"
    root.mkdir()
    for name in FRAMES:
        shutil.copy(FIXTURES / "video" / name, root / name)
    shutil.copy(FIXTURES / "camera/canon_hdr_NO.jpg", root / "lamp1.jpg")
    shutil.copy(FIXTURES / "camera/canon_hdr_YES.jpg", root / "lamp2.jpg")
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "jet.jpg")
    code, summary = run_json("run", root, "--no-cache", "--jobs", "1")
    assert code == 0, summary
    sets = json.loads((root / ".xmpcull/report.json").read_text())["similar_sets"]
    by_members = {frozenset(Path(m["path"]).name for m in s["members"]): s for s in sets}
    frames = by_members[frozenset(FRAMES)]
    lamps = by_members[frozenset({"lamp1.jpg", "lamp2.jpg"})]

    lr = FakeLightroom()
    photos = {Path(p.path).name: p for p in lr.load_folder(root)}
    lr.sync()
    for member in frames["members"]:
        props = lr.props(photos[Path(member["path"]).name])
        assert (props["similarSet"], props["similarRole"]) == (frames["id"], member["role"])
        assert props["similarReason"]
        assert f"xmpcull|similar|{frames['id']}" in lr.keywords(photos[Path(member["path"]).name])
    assert lr.props(photos["jet.jpg"]).get("similarSet") is None

    result = lr.run("createCollections")
    root_set = {s.name: s for s in lr.sdk.rootSets.values()}["xmpcull"]
    similar = {s.name: s for s in root_set.sets.values()}["Similar sets"]
    collections = {c.name: c for c in similar.collections.values()}
    assert set(collections) == {frames["id"], lamps["id"]}
    assert sorted(Path(p.path).name for p in collections[frames["id"]].photoList.values()) == sorted(FRAMES)
    smart = {c.name: c for c in root_set.collections.values()}
    in_a_set = sorted(Path(p.path).name for p in lr.sdk.search(smart["In a similar set"].searchDesc).values())
    assert in_a_set == sorted([*FRAMES, "lamp1.jpg", "lamp2.jpg"])
    best = sorted(Path(p.path).name for p in lr.sdk.search(smart["Best of similar set"].searchDesc).values())
    assert best == sorted(Path(s["best"]).name for s in (frames, lamps))
    assert result["created"] >= 4 and lr.run("createCollections")["created"] == 0

    lr.run("clear")  # our fields and keywords go, the user's stay
    assert lr.props(photos["vtest_0020.jpg"]).get("similarSet") is None
    assert not any(k.startswith("xmpcull|similar|") for k in lr.keywords(photos["vtest_0020.jpg"]))
