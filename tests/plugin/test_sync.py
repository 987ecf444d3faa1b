"""Sync xmpcull results: fields, keywords, labels, ratings, and how it behaves
in a big catalog (batches, failures, idempotence)."""

from __future__ import annotations

import os

import pytest
from lupa.lua51 import LuaError

from tests.plugin import sidecars
from tests.plugin.harness import FakeLightroom


def test_sync_sets_fields_keywords_label_and_rating(tmp_path, lightroom):
    keeper, dup = sidecars.duplicate_pair(tmp_path)
    photos = lightroom.load_folder(tmp_path)
    summary = lightroom.sync()
    assert summary["changed"] == 2 and summary["unchanged"] == 0
    by_path = {p.path: p for p in photos}
    k, d = by_path[str(keeper)], by_path[str(dup)]
    assert lightroom.props(k)["dupRole"] == "keeper" and lightroom.props(d)["dupRole"] == "duplicate"
    assert lightroom.props(d)["dupDistance"] == "6" and lightroom.props(k)["quality"] == "0.81"
    assert lightroom.keywords(k) == ["xmpcull|dupes|d-3fa9c2e1"]
    assert (k.rating, k.label, d.rating, d.label) == (3, "Green", 1, "Red")


def test_label_follows_the_catalogs_label_set(tmp_path):
    # The sidecar says "Green"; this catalog's label set calls green "Verde".
    lr = FakeLightroom(label_map={"red": "Rosso", "yellow": "Giallo", "green": "Verde", "blue": "Blu",
                                  "purple": "Viola"})
    keeper, _ = sidecars.duplicate_pair(tmp_path)
    lr.load_folder(tmp_path)
    lr.sync()
    assert lr.sdk.byPath[str(keeper)].label == "Verde"


def test_users_rating_and_label_are_kept_unless_overwrite(tmp_path):
    keeper, _ = sidecars.duplicate_pair(tmp_path)
    lr = FakeLightroom()
    photo = lr.add_photo(keeper, rating=5, label="Blue")
    white = lr.add_photo(tmp_path / "d-3fa9c2e1-b.jpg", label="my own words")  # custom label, colour 'none'
    lr.sync()
    assert (photo.rating, photo.label, white.label) == (5, "Blue", "my own words")
    assert "ratingSet" not in lr.props(photo)
    lr.sync(overwriteRatings=True, overwriteLabels=True)
    assert (photo.rating, photo.label, white.label) == (3, "Green", "Red")


def test_our_own_rating_is_updated_when_the_sidecar_changes(tmp_path, lightroom):
    keeper, _ = sidecars.duplicate_pair(tmp_path)
    lightroom.load_folder(tmp_path)
    lightroom.sync()
    sidecars.write(keeper, {"DupGroup": "d-new", "DupRole": "keeper", "RatingSet": 4})
    lightroom.sync()
    photo = lightroom.sdk.byPath[str(keeper)]
    assert photo.rating == 4
    assert lightroom.keywords(photo) == ["xmpcull|dupes|d-new"]  # the old group keyword went
    assert "decision" not in lightroom.props(photo)  # a section that vanished is cleared


def test_missing_and_malformed_sidecars_are_counted_and_the_rest_syncs(tmp_path, lightroom):
    sidecars.duplicate_pair(tmp_path)
    (tmp_path / "nosidecar.jpg").touch()
    (tmp_path / "broken.jpg").touch()
    (tmp_path / "broken.xmp").write_text("<x:xmpmeta><rdf:RDF>", encoding="utf-8")
    (tmp_path / "other.jpg").touch()
    (tmp_path / "other.jpg.xmp").write_text(sidecars.sidecar_xml({}), encoding="utf-8")
    lightroom.load_folder(tmp_path)
    summary = lightroom.sync()
    assert (summary["changed"], summary["missing"], summary["parseErrors"], summary["noData"]) == (2, 1, 1, 1)
    assert "broken.xmp" in summary["problems"][0]["message"]


def test_second_sync_writes_nothing(tmp_path, lightroom):
    sidecars.duplicate_pair(tmp_path, crops=[{"Aspect": "1:1", "CropLeft": 0.2, "CropTop": 0, "CropRight": 0.8,
                                             "CropBottom": 1, "Confidence": 0.9}])
    sidecars.write(tmp_path / "b1.jpg", {"BurstID": "20240612-143501-R5-0007", "BurstIndex": 1, "BurstSize": 2,
                                         "BurstBest": True, "Decision": "needs-review"})
    lightroom.load_folder(tmp_path)
    first = lightroom.sync()
    assert first["changed"] == 3
    lightroom.reset_stats()
    second = lightroom.sync()
    assert second["changed"] == 0 and second["unchanged"] == 3
    assert lightroom.stats["writes"] == 0 and lightroom.stats["gates"] == 0


def test_ten_thousand_photos_sync_in_batches(tmp_path):
    lr = FakeLightroom()
    for g in range(50):
        folder = tmp_path / f"g{g}"
        sidecars.duplicate_pair(folder, group=f"d-{g:08x}")
        lr.load_folder(folder)
        # Burst frames of a folder share one sidecar text (hard links keep set-up fast);
        # the plug-in still finds and reads one file per photo. Image files need not exist.
        master = folder / "master.xmp"
        master.write_text(sidecars.sidecar_xml({"BurstID": f"b-{g}", "BurstIndex": 2, "BurstSize": 198,
                                                "Quality": 0.5}), encoding="utf-8")
        for i in range(198):
            os.link(master, folder / f"burst-{i}.xmp")
            lr.add_photo(folder / f"burst-{i}.jpg")
    assert len(lr.sdk.photos) == 10_000
    summary = lr.sync(batchSize=500)
    assert summary["changed"] == 10_000 and summary["failed"] == 0
    # 20 photo batches plus one gate per keyword depth (xmpcull, dupes/burst, leaves).
    assert lr.stats["gates"] == 23
    assert lr.stats["yields"] >= 20  # the UI got time between batches
    lr.reset_stats()
    assert lr.sync()["unchanged"] == 10_000 and lr.stats["writes"] == 0


def test_cancel_stops_between_batches(tmp_path):
    lr = FakeLightroom()
    for i in range(30):
        sidecars.write(tmp_path / f"p{i}.jpg", {"DupGroup": "d-1", "DupRole": "duplicate"})
    lr.load_folder(tmp_path)
    lr.sdk.cancelAfter = 30  # the read loop checks 30 times, then the first batch check cancels
    summary = lr.sync(batchSize=10)
    assert summary["canceled"] is True and summary["changed"] == 0


def test_a_failing_photo_does_not_lose_its_batch(tmp_path, lightroom):
    sidecars.duplicate_pair(tmp_path)
    photos = lightroom.load_folder(tmp_path)
    lightroom.lua.eval("function(p) p.setPropertyForPlugin = function() error('disk full') end end")(photos[0])
    summary = lightroom.sync()
    assert summary["failed"] == 1 and summary["changed"] == 1
    assert "disk full" in summary["problems"][0]["message"]


def test_busy_catalog_skips_the_batch_and_says_so(tmp_path, lightroom):
    for i in range(4):
        sidecars.write(tmp_path / f"p{i}.jpg", {"DupGroup": "d-1", "DupRole": "duplicate"})
    lightroom.load_folder(tmp_path)
    lightroom.sync(batchSize=2)  # keywords now exist
    for i in range(4):
        sidecars.write(tmp_path / f"p{i}.jpg", {"DupGroup": "d-1", "DupRole": "keeper"})
    lightroom.sdk.busyGates = 1
    summary = lightroom.sync(batchSize=2)
    assert summary["changed"] == 2 and summary["failed"] == 2


# The fake must be strict, or the tests above prove nothing.
STRICT_CASES = {
    "write outside a gate": (("function(sdk) local p = sdk.photos[1] sdk.run(function() "
                             "p:setRawMetadata('rating', 3) end) end"), "withWriteAccessDo"),
    "nested gates": (("function(sdk) sdk.run(function() sdk.catalog:withWriteAccessDo('a', function() "
                     "sdk.catalog:withWriteAccessDo('b', function() end) end) end) end"), "already inside"),
    "yield inside a gate": (("function(sdk) sdk.run(function() sdk.catalog:withWriteAccessDo('a', function() "
                            "sdk.modules.LrTasks.yield() end) end) end"), "yield across"),
    "yield inside plain pcall": (("function(sdk) sdk.run(function() local ok, e = pcall(sdk.modules.LrTasks.yield) "
                                 "error(e) end) end"), "yield across"),
    "read outside a task": ("function(sdk) sdk.photos[1]:getRawMetadata('rating') end", "asynchronous task"),
    "unknown raw key": ("function(sdk) sdk.run(function() sdk.photos[1]:getRawMetadata('stars') end) end",
                        "unknown key"),
    "undeclared field": (("function(sdk) sdk.run(function() sdk.catalog:withWriteAccessDo('a', function() "
                         "sdk.photos[1]:setPropertyForPlugin(sdk.plugin, 'nope', 'x') end) end) end"), "not declared"),
    "number in a text field": (("function(sdk) sdk.run(function() sdk.catalog:withWriteAccessDo('a', function() "
                               "sdk.photos[1]:setPropertyForPlugin(sdk.plugin, 'quality', 0.5) end) end) end"),
                               "takes a string"),
    "keyword parent from the same gate": (
        ("function(sdk) sdk.run(function() sdk.catalog:withWriteAccessDo('a', function() "
        "local k = sdk.catalog:createKeyword('a', {}, true, nil, true) "
        "sdk.catalog:createKeyword('b', {}, true, k, true) end) end) end"), "not usable"),
}


@pytest.mark.parametrize("case", sorted(STRICT_CASES))
def test_fake_sdk_raises_where_lightroom_raises(tmp_path, lightroom, case):
    code, message = STRICT_CASES[case]
    lightroom.add_photo(tmp_path / "a.jpg")
    with pytest.raises(LuaError, match=message):
        lightroom.lua.eval(code)(lightroom.sdk)


def test_fake_allows_add_keyword_in_the_creating_gate(tmp_path, lightroom):
    photo = lightroom.add_photo(tmp_path / "a.jpg")
    lightroom.lua.eval("function(sdk) sdk.run(function() sdk.catalog:withWriteAccessDo('a', function() "
                       "sdk.photos[1]:addKeyword(sdk.catalog:createKeyword('k', {}, true, nil, true)) end) end) end"
                       )(lightroom.sdk)
    assert lightroom.keywords(photo) == ["k"]


def test_rating_and_label_the_user_removed_stay_removed(tmp_path, lightroom):
    keeper, _ = sidecars.duplicate_pair(tmp_path)
    photos = {p.path: p for p in lightroom.load_folder(tmp_path)}
    lightroom.sync()
    photo = photos[str(keeper)]
    assert (photo.rating, photo.label) == (3, "Green")
    photo.rating, photo.label = None, ""  # removed in Lightroom
    lightroom.reset_stats()
    assert lightroom.sync()["changed"] == 0 and lightroom.stats["writes"] == 0
    assert (photo.rating, photo.label) == (None, "")
    # A new proposal is made; so is the old one when the user asks for overwrites.
    sidecars.write(keeper, {"DupGroup": "d-3fa9c2e1", "DupRole": "keeper", "RatingSet": 4, "LabelSet": "Green"})
    lightroom.sync()
    assert (photo.rating, photo.label) == (4, "")
    lightroom.sync(overwriteLabels=True)
    assert photo.label == "Green"


def test_a_tombstone_in_the_sidecar_is_not_a_proposal(tmp_path, lightroom):
    # The engine keeps RatingSet/LabelSet after the user removed xmp:Rating/xmp:Label.
    image = tmp_path / "p.jpg"
    sidecars.write(image, {"DupGroup": "d-1", "RatingSet": 3, "LabelSet": "Red"},
                   standard={"Rating": None, "Label": None})
    lightroom.load_folder(tmp_path)
    lightroom.sync()
    photo = lightroom.sdk.byPath[str(image)]
    assert (photo.rating, photo.label) == (None, "") and lightroom.props(photo)["dupGroup"] == "d-1"


def test_a_decision_the_plugin_does_not_list_still_syncs(tmp_path, lightroom):
    """Lightroom reads allowPluginToSetOtherValues inside the enum's values table (Adobe's
    custom-metadata sample); at field level it is ignored and an unlisted value is a Lua error."""
    from tests.plugin.harness import to_py

    definitions = to_py(lightroom.lua.eval("require('MetadataDefinition')"))["metadataFieldsForPhotos"]
    assert not any("allowPluginToSetOtherValues" in f for f in definitions)
    decision = next(f for f in definitions if f["id"] == "decision")
    assert decision["values"]["allowPluginToSetOtherValues"] is True
    assert all("allowPluginToSetOtherValues" not in f["values"] for f in definitions
               if f["dataType"] == "enum" and f["id"] != "decision")
    image = tmp_path / "IMG_1.jpg"
    sidecars.write(image, {"SchemaVersion": 1, "Decision": "second-look"})  # from a newer engine
    photos = {p.path: p for p in lightroom.load_folder(tmp_path)}
    summary = lightroom.sync()
    assert summary["failed"] == 0 and summary["changed"] == 1
    assert lightroom.props(photos[str(image)])["decision"] == "second-look"
