"""Collections, pick flags, crops, clear, the menu entry points, the manifest,
luacheck and the zip build."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.plugin import sidecars
from tests.plugin.harness import PLUGIN_DIR, FakeLightroom, to_py

CROP = {"Aspect": "4:5", "CropLeft": 0.1, "CropTop": 0.0, "CropRight": 0.85, "CropBottom": 1.0, "Confidence": 0.9}


@pytest.fixture
def synced(tmp_path):
    lr = FakeLightroom()
    _keeper, _dup = sidecars.duplicate_pair(tmp_path, crops=[CROP])
    sidecars.write(tmp_path / "best.jpg", {"BurstID": "b-1", "BurstIndex": 1, "BurstSize": 3, "BurstBest": True})
    sidecars.write(tmp_path / "review.jpg", {"Decision": "needs-review"})
    lr.load_folder(tmp_path)
    lr.sync()
    lr.reset_stats()
    by_name = {Path(p.path).stem: p for p in lr.sdk.photos.values()}
    return lr, by_name


def _children(lr, container):
    return {c.getName(c): c for c in container.getChildCollections(container).values()}


def test_collections_and_smart_collections(synced):
    lr, _photos = synced
    result = lr.run("createCollections", groupCollections=True)
    assert result["created"] == 10 and result["added"] == 2
    root = {s.name: s for s in lr.sdk.rootSets.values()}["xmpcull"]
    smart = _children(lr, root)
    assert sorted(smart) == ["AI generated", "Best of burst", "Best of similar set", "Crop proposals",
                             "Duplicates to review", "Eyes closed", "In a similar set", "Keepers", "Needs review"]

    def members(name):
        found = lr.sdk.search(smart[name].searchDesc)
        return sorted(Path(p.path).stem for p in found.values())
    assert members("Duplicates to review") == ["d-3fa9c2e1-b"]
    assert members("Keepers") == ["d-3fa9c2e1-a"]
    assert members("Best of burst") == ["best"]
    assert members("Needs review") == ["review"]
    assert members("Eyes closed") == []
    assert members("Crop proposals") == ["d-3fa9c2e1-a", "d-3fa9c2e1-b"]
    group_set = {s.name: s for s in root.sets.values()}["Duplicate groups"]
    group = _children(lr, group_set)["d-3fa9c2e1"]
    assert sorted(Path(p.path).stem for p in group.photoList.values()) == ["d-3fa9c2e1-a", "d-3fa9c2e1-b"]
    lr.reset_stats()
    again = lr.run("createCollections", groupCollections=True)
    assert again["created"] == 0 and again["added"] == 0 and lr.stats["gates"] == 0


def test_pick_flags_only_on_unflagged_photos_after_confirmation(synced):
    lr, photos = synced
    photos["best"].pickStatus = -1  # the user rejected it: stays rejected
    lr.sdk.confirmAnswer = "cancel"
    declined = lr.run("setPicks")
    assert declined["declined"] is True and lr.stats["writes"] == 0
    assert "1 photos will be flagged Picked and 1 Rejected" in to_py(lr.sdk.dialogs)[-1]["message"]
    lr.sdk.confirmAnswer = "ok"
    result = lr.run("setPicks")
    assert (result["picked"], result["rejected"], result["changed"]) == (1, 1, 2)
    assert photos["d-3fa9c2e1-a"].pickStatus == 1 and photos["d-3fa9c2e1-b"].pickStatus == -1
    assert photos["best"].pickStatus == -1 and photos["review"].pickStatus == 0
    lr.reset_stats()
    assert lr.run("setPicks")["changed"] == 0 and lr.stats["writes"] == 0


def test_crops_applied_with_history_and_user_crop_kept(synced):
    lr, photos = synced
    photos["d-3fa9c2e1-b"].develop.CropLeft = 0.2
    photos["d-3fa9c2e1-b"].develop.CropRight = 0.8
    result = lr.run("applyCrops")
    assert result["changed"] == 1 and result["reasons"]["user-crop"] == 1
    keeper = photos["d-3fa9c2e1-a"]
    assert (keeper.develop.CropLeft, keeper.develop.CropRight) == (0.1, 0.85)
    assert list(keeper.history.values()) == ["xmpcull: crop 4:5"]
    assert photos["d-3fa9c2e1-b"].develop.CropLeft == 0.2
    lr.reset_stats()
    assert lr.run("applyCrops")["changed"] == 0 and lr.stats["writes"] == 0
    # Asked to, it replaces the user's crop.
    assert lr.run("applyCrops", overwriteCrops=True)["changed"] == 1
    assert photos["d-3fa9c2e1-b"].develop.CropLeft == 0.1


def test_low_confidence_crop_needs_the_chosen_aspect(tmp_path):
    lr = FakeLightroom()
    low = dict(CROP, Confidence=0.3)
    sidecars.write(tmp_path / "p.jpg", {"DupGroup": "d-1"}, crops=[low])
    lr.load_folder(tmp_path)
    lr.sync()
    assert lr.run("applyCrops")["changed"] == 0
    assert lr.run("applyCrops", cropAspect="4:5")["changed"] == 1


CRS = "http://ns.adobe.com/camera-raw-settings/1.0/"
WIDE = {"Aspect": "1:1", "CropLeft": 0.2, "CropTop": 0.0, "CropRight": 0.8, "CropBottom": 1.0, "Confidence": 0.9}
TALL = dict(CROP, Confidence=0.3)


def _with_crs(image: Path, edges: tuple, recorded: str | None) -> None:
    """A sidecar as `xmpcull run --apply-crops` leaves it: crs:Crop* plus, when
    the run wrote them, the same edges in xmpcull:CropApplied."""
    props = {"DupGroup": "d-1"}
    if recorded:
        props["CropApplied"] = recorded
    xml = sidecars.sidecar_xml(props, crops=[TALL, WIDE])
    left, top, right, bottom = edges
    crs = (f'xmlns:crs="{CRS}" crs:HasCrop="True" crs:CropLeft="{left}" crs:CropTop="{top}" '
           f'crs:CropRight="{right}" crs:CropBottom="{bottom}" crs:CropAngle="0" ')
    image.touch()
    image.with_suffix(".xmp").write_text(xml.replace("xmlns:lr=", crs + "xmlns:lr=", 1), encoding="utf-8")


def test_the_runs_own_crop_is_applied_before_the_most_confident(tmp_path):
    lr = FakeLightroom()
    _with_crs(tmp_path / "run.jpg", (0.1, 0.0, 0.85, 1.0), "0.1,0,0.85,1")  # the run applied the 4:5 (0.3)
    _with_crs(tmp_path / "user.jpg", (0.0, 0.1, 1.0, 0.9), "0.1,0,0.85,1")  # the user re-cropped since
    lr.load_folder(tmp_path)
    lr.sync()
    run, user = (lr.sdk.byPath[str(tmp_path / n)] for n in ("run.jpg", "user.jpg"))
    assert lr.run("applyCrops")["changed"] == 2
    assert (run.develop.CropLeft, run.develop.CropRight) == (0.1, 0.85)
    assert list(run.history.values()) == ["xmpcull: crop 4:5"]
    # Not the run's crop any more: the plug-in's own choice, the most confident proposal.
    assert (user.develop.CropLeft, user.develop.CropRight) == (0.2, 0.8)
    # A chosen aspect still wins, and replaces the crop the plug-in applied.
    assert lr.run("applyCrops", cropAspect="1:1")["changed"] == 1
    assert (run.develop.CropLeft, run.develop.CropRight) == (0.2, 0.8)


def test_full_frame_proposal_on_an_uncropped_photo_is_no_change(tmp_path):
    lr = FakeLightroom()
    full = {"Aspect": "3:2", "CropLeft": 0, "CropTop": 0, "CropRight": 1, "CropBottom": 1, "Confidence": 1.0}
    sidecars.write(tmp_path / "p.jpg", {"DupGroup": "d-1"}, crops=[full])
    lr.load_folder(tmp_path)
    lr.sync()
    lr.reset_stats()
    assert lr.run("applyCrops")["changed"] == 0 and lr.stats["writes"] == 0


@pytest.mark.parametrize(("fields", "wanted"), [
    ({"decision": "keeper", "dupRole": "keeper"}, 1),
    ({"decision": "best-frame", "burstBest": "yes"}, 1),
    ({"decision": "needs-review", "dupRole": "keeper"}, 1),  # still the one that stands for its group
    ({"decision": "needs-review", "burstBest": "yes"}, 1),
    ({"decision": "duplicate", "dupRole": "duplicate"}, -1),
    ({"decision": "needs-review", "dupRole": "duplicate"}, None),  # ambiguous: a person decides
    ({"decision": "failed", "dupRole": "keeper"}, None),
    ({"decision": "ok"}, None),
    ({"dupRole": "duplicate"}, -1),  # sidecars of `xmpcull dupes` carry no decision
    ({"dupRole": "keeper"}, 1),
    ({}, None),
])
def test_pick_flag_rules(lightroom, fields, wanted):
    decide = lightroom.lua.eval("require('XcDecide')")
    assert decide.wantedPick(lightroom.lua.table_from(fields)) == wanted


def test_clear_removes_our_data_and_keeps_the_users(synced):
    lr, photos = synced
    photos["review"].rating = 4  # the user's own rating
    result = lr.run("clear")
    assert result["changed"] == 4
    for photo in photos.values():
        assert lr.props(photo) == {} and lr.keywords(photo) == []
    assert photos["d-3fa9c2e1-a"].rating is None and photos["d-3fa9c2e1-a"].label == ""
    assert photos["review"].rating == 4
    lr.reset_stats()
    assert lr.run("clear")["changed"] == 0 and lr.stats["writes"] == 0


def test_menu_item_runs_sync_as_a_task_and_reports(tmp_path):
    lr = FakeLightroom(prefs={"batchSize": 1})
    sidecars.duplicate_pair(tmp_path)
    (tmp_path / "lonely.jpg").touch()
    lr.load_folder(tmp_path)
    lr.lua.execute("package.loaded['MenuSync'] = nil; require 'MenuSync'")
    lr.sdk.runTasks()
    dialog = to_py(lr.sdk.dialogs)[-1]
    assert dialog["title"] == "Sync xmpcull results"
    assert "2 photos changed" in dialog["message"] and "1 photo without a sidecar" in dialog["message"]
    assert lr.stats["gates"] >= 2  # batch size 1 from the preferences


def test_info_lua_loads_in_the_restricted_environment(lightroom):
    info = lightroom.lua.eval("""function(path)
        local chunk = assert(loadfile(path))
        setfenv(chunk, { string = string, LOC = function(s) return (string.gsub(s, '^%$%$%$/[^=]*=', '')) end,
                         WIN_ENV = false, MAC_ENV = true, _VERSION = _VERSION })
        return chunk()
    end""")(str(PLUGIN_DIR / "Info.lua"))
    items = to_py(info.LrLibraryMenuItems)
    assert [i["title"] for i in items] == ["Sync xmpcull results", "Create xmpcull collections",
                                          "Set pick flags from decisions", "Apply proposed crops",
                                          "Clear xmpcull data"]
    assert all((PLUGIN_DIR / i["file"]).is_file() for i in items)
    assert (PLUGIN_DIR / info.LrMetadataProvider).is_file() and (PLUGIN_DIR / info.LrPluginInfoProvider).is_file()
    assert info.LrToolkitIdentifier == lightroom.lua.eval("require('XcFields').PLUGIN_ID")


def test_metadata_fields_are_searchable_and_versioned(lightroom):
    definition = to_py(lightroom.lua.eval("require('MetadataDefinition')"))
    assert definition["schemaVersion"] >= 1
    public = [f for f in definition["metadataFieldsForPhotos"] if "title" in f]
    assert {f["id"] for f in public} == {"dupGroup", "dupRole", "dupDistance", "similarSet", "similarRole",
                                         "similarReason", "burstId", "burstIndex", "burstBest",
                                         "quality", "faceCount", "eyes", "cropConfidence", "needsReview", "decision", "aiGenerator",
                                         "aiModel", "aiPrompt", "aiSeed", "aiDerivation", "aiBatch"}
    assert all(f["searchable"] and f["browsable"] and f["dataType"] in ("string", "enum") for f in public)


LUACHECK = shutil.which("luacheck")


@pytest.mark.skipif(LUACHECK is None, reason="luacheck is not installed (apt install lua-check)")
def test_luacheck_is_clean():
    proc = subprocess.run([LUACHECK, "--no-color", "--config", ".luacheckrc", "xmpcull.lrplugin"],
                          cwd=PLUGIN_DIR.parent, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.skipif(LUACHECK is None, reason="luacheck is not installed (apt install lua-check)")
def test_luacheck_config_rejects_imports_in_info_lua_and_lua52_calls(tmp_path):
    shutil.copy(PLUGIN_DIR.parent / ".luacheckrc", tmp_path / ".luacheckrc")
    (tmp_path / "xmpcull.lrplugin").mkdir()
    (tmp_path / "xmpcull.lrplugin" / "Info.lua").write_text("local X = import 'LrTasks'\nreturn { X = X }\n")
    (tmp_path / "xmpcull.lrplugin" / "M.lua").write_text("return table.unpack({1})\n")
    proc = subprocess.run([LUACHECK, "--no-color", "--config", ".luacheckrc", "xmpcull.lrplugin"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert "import" in proc.stdout and "unpack" in proc.stdout


def test_build_makes_an_installable_zip(tmp_path):
    out = tmp_path / "xmpcull.lrplugin.zip"
    subprocess.run([sys.executable, str(PLUGIN_DIR.parent / "build.py"), "--out", str(out)], check=True,
                   capture_output=True)
    names = zipfile.ZipFile(out).namelist()
    assert "xmpcull.lrplugin/Info.lua" in names and "xmpcull.lrplugin/XcXmp.lua" in names
    assert all(n.startswith("xmpcull.lrplugin/") for n in names)
    first = out.read_bytes()
    subprocess.run([sys.executable, str(PLUGIN_DIR.parent / "build.py"), "--out", str(out)], check=True,
                   capture_output=True)
    assert out.read_bytes() == first  # reproducible


def test_faces_and_eyes_fields_and_the_eyes_closed_collection(tmp_path):
    lr = FakeLightroom()
    sidecars.write(tmp_path / "blink.jpg", {"Decision": "needs-review", "FaceCount": 2, "Eyes": "some-closed",
                                            "EyesClosedFaces": 1})
    sidecars.write(tmp_path / "smile.jpg", {"Decision": "ok", "FaceCount": 1, "Eyes": "all-open"})
    sidecars.write(tmp_path / "odd.jpg", {"Decision": "ok", "Eyes": "half-shut"})  # not a value we write: ignored
    sidecars.write(tmp_path / "plain.jpg", {"Decision": "ok"})
    lr.load_folder(tmp_path)
    lr.sync()
    photos = {Path(p.path).stem: p for p in lr.sdk.photos.values()}
    blink = lr.props(photos["blink"])
    assert (blink["eyes"], blink["faceCount"]) == ("some-closed", "2")
    assert lr.props(photos["smile"])["eyes"] == "all-open"
    assert "eyes" not in lr.props(photos["odd"]) and "faceCount" not in lr.props(photos["plain"])
    lr.run("createCollections")
    root = {s.name: s for s in lr.sdk.rootSets.values()}["xmpcull"]
    eyes_closed = _children(lr, root)["Eyes closed"]
    assert [Path(p.path).stem for p in lr.sdk.search(eyes_closed.searchDesc).values()] == ["blink"]
