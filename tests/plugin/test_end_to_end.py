"""End to end: the real `xmpcull run` CLI on real photos, then the plug-in's
real Lua code syncs the folder into the fake catalog.

Every expectation is taken from the run's own report.json and sidecars, so
these tests check that what the engine decided is what a photographer sees in
Lightroom: fields, keywords, labels (in a German label set), ratings,
collections, pick flags and crops — and that the user's own values survive.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.plugin.harness import FakeLightroom, to_py

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
GERMAN = {"red": "Rot", "yellow": "Gelb", "green": "Grün", "blue": "Blau", "purple": "Lila"}
EPS = 1e-6


def _copy(source: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES / source, target)  # copyfile: the fixtures are read-only
    return target


def make_shoot(root: Path) -> Path:
    _copy("photos/mongolels.jpg", root / "a/dunes.jpg")
    (root / "b").mkdir()
    with Image.open(FIXTURES / "photos/mongolels.jpg") as im:  # smaller and recompressed: a near duplicate
        im.resize((475, 317)).save(root / "b/dunes-web.jpg", quality=70)
    _copy("photos/mongolels.jpg", root / "b/dunes-copy.jpg")  # an exact duplicate
    _copy("camera/iphone_hdr_NO.jpg", root / "a/IMG_0001.jpg")  # a burst of two frames
    _copy("camera/iphone_hdr_YES.jpg", root / "a/IMG_0002.jpg")
    _copy("photos/astronaut.png", root / "a/astronaut.png")
    _copy("faces/face-api-sample2.jpg", root / "a/sofa.jpg")  # eyes shut (fixtures/README.md)
    _copy("photos/T-45A_Goshawk_03_1600px.jpg", root / "a/jet.jpg")
    _copy("raw/Canon-R6-pruned.CR3", root / "raw/R6.CR3")
    # Rated (3 stars) and cropped by the user in Lightroom, sidecar saved beside it.
    _copy("xmp/lightroom/IMG_5910.jpg", root / "b/IMG_5910.jpg")
    _copy("xmp/lightroom/IMG_5910.xmp", root / "b/IMG_5910.xmp")
    return root


def exiftool(paths: list[Path], *tags: str) -> dict[str, dict[str, Any]]:
    out = subprocess.run(["exiftool", "-j", "-n", *[f"-{t}" for t in tags], *map(str, paths)],
                         capture_output=True, text=True, check=True)
    return {Path(d["SourceFile"]).name: d for d in json.loads(out.stdout)}


def import_state(root: Path) -> dict[str, dict[str, Any]]:
    """What Lightroom's catalog holds after importing the folder (before xmpcull
    ran): the rating, label and crop of each file's own XMP."""
    images = [p for p in sorted(root.rglob("*")) if p.suffix.lower() in {".jpg", ".png", ".cr3"}]
    tags = exiftool(images, "XMP:Rating", "XMP:Label", "XMP-crs:HasCrop", "XMP-crs:CropLeft", "XMP-crs:CropTop",
                    "XMP-crs:CropRight", "XMP-crs:CropBottom", "XMP-crs:CropAngle")
    state: dict[str, dict[str, Any]] = {}
    for name, t in tags.items():
        s: dict[str, Any] = {}
        if t.get("Rating"):
            s["rating"] = int(t["Rating"])
        if t.get("HasCrop") in (True, 1, "True"):
            s["crop"] = {k: float(t[k]) for k in ("CropLeft", "CropTop", "CropRight", "CropBottom", "CropAngle")}
        state[name] = s
    return state


def xmpcull_run(root: Path, cache: Path, *extra: Any) -> tuple[dict, dict[str, dict]]:
    """The real CLI in a subprocess; returns its JSON summary and report images by file name."""
    done = subprocess.run([sys.executable, "-m", "xmpcull.cli.main", "run", str(root), "--cache", str(cache),
                           "--json", *map(str, extra)], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    report = json.loads((root / ".xmpcull/report.json").read_text())
    return summary, {Path(i["path"]).name: i for i in report["images"]}


def catalog(root: Path, state: dict[str, dict[str, Any]], **extra_state: dict) -> tuple[FakeLightroom, dict]:
    lr = FakeLightroom(label_map=GERMAN)
    photos = {}
    for path in sorted(root.rglob("*")):
        if path.name in state:
            photos[path.name] = lr.add_photo(path, **{**state[path.name], **extra_state.get(path.name, {})})
    return lr, photos


def crop_of(photo: Any) -> dict[str, float]:
    return {k: float(v) for k, v in to_py(photo.develop).items()}


def sidecar_crop(sidecar: Path) -> dict[str, float] | None:
    """The crs crop xmpcull wrote into a sidecar (None when it wrote none:
    no crop, or a crop that is not the one recorded in xmpcull:CropApplied)."""
    t = exiftool([sidecar], "XMP-xmpcull:CropApplied", "XMP-crs:HasCrop", "XMP-crs:CropLeft", "XMP-crs:CropTop",
                 "XMP-crs:CropRight", "XMP-crs:CropBottom", "XMP-crs:CropAngle")[sidecar.name]
    if t.get("HasCrop") not in (True, 1, "True") or "CropApplied" not in t:
        return None
    crop = {k: float(t[k]) for k in ("CropLeft", "CropTop", "CropRight", "CropBottom", "CropAngle")}
    recorded = [float(v) for v in str(t["CropApplied"]).split(",")]
    assert recorded == pytest.approx([crop[k] for k in ("CropLeft", "CropTop", "CropRight", "CropBottom")])
    return crop


def assert_same_crop(actual: dict[str, float], expected: dict[str, float]) -> None:
    assert set(actual) >= set(expected)
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value, abs=EPS), key


# Every decision proposes stars, and "ok" a blue label, so ratings and labels flow end to end.
RATINGS = """
[outcomes.ok]
label = "blue"
rating = 2
[outcomes.keeper]
rating = 4
[outcomes.best-frame]
rating = 4
[outcomes.duplicate]
rating = 1
[outcomes.needs-review]
rating = 2
"""
CROPS = "[crops]\napply_min_confidence = 0.05\n"


@pytest.fixture(scope="module", params=["plain", "apply-crops"])
def run(request, tmp_path_factory):
    """One `xmpcull run` per variant; the tests only read its files."""
    tmp = tmp_path_factory.mktemp(request.param)
    root = make_shoot(tmp / "shoot")
    state = import_state(root)
    config = tmp / "xmpcull.toml"
    extra: list[Any] = ["--config", config]
    if request.param == "apply-crops":
        config.write_text(RATINGS + CROPS)
        extra.append("--apply-crops")
    else:
        config.write_text(RATINGS)
    summary, images = xmpcull_run(root, tmp / "cache.sqlite", *extra)
    return request.param, root, state, summary, images


@dataclass
class Synced:
    """A run's results and a catalog synced from them."""

    variant: str
    state: dict[str, dict[str, Any]]
    summary: dict
    images: dict[str, dict]
    lr: FakeLightroom
    photos: dict[str, Any]
    result: dict


@pytest.fixture
def synced(run) -> Synced:
    variant, root, state, summary, images = run
    # In Lightroom, after the import, the user gave the jet 5 stars and a green
    # label (not saved to XMP, so the run could not know).
    lr, photos = catalog(root, state, **{"jet.jpg": {"rating": 5, "label": "Grün"}})
    return Synced(variant, state, summary, images, lr, photos, lr.sync())


def test_sync_brings_the_runs_results_into_the_catalog(synced):
    state, summary, images, lr, photos, result = (synced.state, synced.summary, synced.images, synced.lr,
                                                  synced.photos, synced.result)
    assert set(images) == set(photos)  # every photo is one shot of the run
    assert (result["changed"], result["missing"], result["parseErrors"], result["failed"]) == (len(photos), 0, 0, 0)
    assert summary["duplicate_groups"] == 1 and summary["bursts"] == 1  # the iPhone pair: two exposures, a burst

    for name, image in images.items():
        photo = photos[name]
        props = lr.props(photo)
        assert props.get("dupGroup") == image["dupe_group"], name
        assert props.get("dupRole") == image["dupe_role"], name
        distance = image["dupe_distance"]
        assert props.get("dupDistance") == (None if distance is None else str(distance)), name
        assert props.get("burstId") == image["burst_id"], name
        index = image["burst_index"]
        assert props.get("burstIndex") == (None if index is None else str(index)), name
        assert props.get("burstBest") == ("yes" if image["burst_best"] else None), name
        assert float(props["quality"]) == pytest.approx(image["quality"], abs=0.0051), name
        assert props.get("decision") == image["decision"], name
        assert props.get("needsReview") == ("yes" if image["decision"] == "needs-review" else None), name
        assert props.get("eyes") == image["eyes"], name
        assert props.get("faceCount") == (None if image["face_count"] is None else str(image["face_count"])), name
        confidences = [p["confidence"] for p in image["crop_proposals"]]
        assert float(props["cropConfidence"]) == pytest.approx(max(confidences), abs=0.0051), name

        wanted = set()
        if image["dupe_group"]:
            wanted.add(f"xmpcull|dupes|{image['dupe_group']}")
        if image["burst_id"]:
            wanted.add(f"xmpcull|burst|{image['burst_id']}")
        if image["similar_set"]:
            wanted.add(f"xmpcull|similar|{image['similar_set']}")
        if image["decision"] == "needs-review":
            wanted.add("xmpcull|review")
        assert set(lr.keywords(photo)) == wanted, name
        assert (props.get("similarSet"), props.get("similarRole")) == (image["similar_set"], image["similar_role"]), name

        # Labels by colour: the engine wrote English words, this catalog says "Rot".
        label = image["label"]
        if name == "jet.jpg":
            assert label and photo.label == "Grün" and "labelSet" not in props  # the user's label stays
        else:
            assert photo.label == (GERMAN[label.lower()] if label else ""), name

    # Ratings: the proposal where Lightroom had none; the user's own stars stay.
    for name, image in images.items():
        own = 5 if name == "jet.jpg" else state[name].get("rating")
        expected = own if own else image["rating"]
        assert photos[name].rating == expected, name
    assert images["jet.jpg"]["rating"] and photos["jet.jpg"].rating == 5
    assert photos["IMG_5910.jpg"].rating == 3 and photos["dunes.jpg"].rating == 3
    assert "ratingSet" not in lr.props(photos["jet.jpg"])

    lr.reset_stats()
    again = lr.sync()
    assert again["changed"] == 0 and again["unchanged"] == len(photos)
    assert lr.stats["writes"] == 0 and lr.stats["gates"] == 0


def _members(lr: FakeLightroom, collection: Any) -> set[str]:
    return {Path(p.path).name for p in lr.sdk.search(collection.searchDesc).values()}


def test_collections_and_pick_flags_follow_the_report(synced):
    summary, images, lr, photos = synced.summary, synced.images, synced.lr, synced.photos
    # The user had already picked one copy of the dunes in Lightroom: it stays picked.
    photos["dunes-web.jpg"].pickStatus = 1
    created = lr.run("createCollections", groupCollections=True)
    # 9 smart collections, one per duplicate group and one per similar set
    assert created["created"] == 9 + summary["duplicate_groups"] + summary["similar_sets"]
    xmpcull = {s.name: s for s in lr.sdk.rootSets.values()}["xmpcull"]
    smart = {c.name: c for c in xmpcull.collections.values()}

    def where(test) -> set[str]:
        return {name for name, image in images.items() if test(image)}
    assert _members(lr, smart["Duplicates to review"]) == where(lambda i: i["dupe_role"] == "duplicate")
    assert _members(lr, smart["Keepers"]) == where(lambda i: i["dupe_role"] == "keeper")
    assert _members(lr, smart["Best of burst"]) == where(lambda i: i["burst_best"])
    assert _members(lr, smart["In a similar set"]) == where(lambda i: i["similar_set"])
    assert _members(lr, smart["Best of similar set"]) == where(lambda i: i["similar_role"] == "best")
    assert _members(lr, smart["Needs review"]) == where(lambda i: i["decision"] == "needs-review")
    assert _members(lr, smart["Eyes closed"]) == where(lambda i: i["eyes"] == "some-closed") == {"sofa.jpg"}
    assert _members(lr, smart["Crop proposals"]) == set(images)
    groups = {s.name: s for s in xmpcull.sets.values()}["Duplicate groups"]
    for group in groups.collections.values():
        assert {Path(p.path).name for p in group.photoList.values()} == where(lambda i, g=group: i["dupe_group"] == g.name)

    picks = lr.run("setPicks")
    keepers = where(lambda i: i["dupe_role"] == "keeper" or i["burst_best"])
    duplicates = where(lambda i: i["decision"] == "duplicate")
    assert keepers and duplicates and "dunes-web.jpg" in duplicates
    assert (picks["picked"], picks["rejected"]) == (len(keepers), len(duplicates) - 1)
    for name, photo in photos.items():
        expected = 1 if name in keepers | {"dunes-web.jpg"} else (-1 if name in duplicates else 0)
        assert photo.pickStatus == expected, name
    lr.reset_stats()
    assert lr.run("setPicks")["changed"] == 0 and lr.stats["writes"] == 0


def test_crops_follow_the_sidecar_and_keep_the_users(synced):
    variant, state, images, lr, photos = synced.variant, synced.state, synced.images, synced.lr, synced.photos
    user_crop = state["IMG_5910.jpg"]["crop"]
    assert_same_crop(crop_of(photos["IMG_5910.jpg"]), user_crop)
    applied = lr.run("applyCrops")
    assert_same_crop(crop_of(photos["IMG_5910.jpg"]), user_crop)  # the user's crop stays
    # The plug-in only gets as far as "it has the user's crop" when a proposal passed its
    # minimum confidence (0.60 by default); otherwise there is simply nothing to apply.
    confident = max(p["confidence"] for p in images["IMG_5910.jpg"]["crop_proposals"]) >= 0.6
    assert applied["reasons"].get("user-crop", 0) == (1 if confident else 0)
    written = {name: sidecar_crop(Path(image["path"]).with_suffix(".xmp")) for name, image in images.items()}
    engine = {name for name, crop in written.items() if crop is not None}
    if variant == "apply-crops":
        assert "IMG_5910.jpg" not in engine and engine  # the user's crop is never replaced by the run
        assert engine == {name for name, image in images.items() if image["crop_applied"]}
        for name in engine:
            assert images[name]["crop_applied"], name
            assert_same_crop(crop_of(photos[name]), written[name])  # what Lightroom would read from a raw's sidecar
            aspect = next(p["aspect"] for p in images[name]["crop_proposals"] if p["applied"])
            assert to_py(photos[name].history)[-1] == f"xmpcull: crop {aspect}", name
    else:
        assert not engine
        # Without an engine crop the plug-in applies the most confident proposal >= 0.60.
        for name, image in images.items():
            if name == "IMG_5910.jpg":
                continue
            best = max(image["crop_proposals"], key=lambda p: p["confidence"])
            if best["confidence"] >= 0.6:
                crs = best["crs"]
                assert_same_crop(crop_of(photos[name]), {"CropLeft": crs["left"], "CropTop": crs["top"],
                                                         "CropRight": crs["right"], "CropBottom": crs["bottom"]})
            else:
                assert crop_of(photos[name])["CropRight"] == 1 and crop_of(photos[name])["CropLeft"] == 0
    lr.reset_stats()
    assert lr.run("applyCrops")["changed"] == 0 and lr.stats["writes"] == 0
    assert lr.sync()["changed"] == 0 and lr.stats["writes"] == 0


def test_raw_jpeg_pair_shares_one_sidecar_that_the_raw_photo_reads(tmp_path):
    root = tmp_path / "pair"
    raw = _copy("raw/Canon-R6-pruned.CR3", root / "R6.CR3")
    preview = subprocess.run(["exiftool", "-b", "-PreviewImage", str(raw)], capture_output=True, check=True).stdout
    (root / "R6.JPG").write_bytes(preview)  # the camera's JPEG of the same shot
    copy = _copy("raw/Canon-R6-pruned.CR3", root / "copy/R6-copy.CR3")  # so the pair is in a duplicate group
    summary, images = xmpcull_run(root, tmp_path / "cache.sqlite")
    assert summary["images"] == 3 and summary["shots"] == 2
    assert sorted(p.name for p in root.rglob("*.xmp")) == ["R6-copy.xmp", "R6.xmp"]
    shared = root / "R6.xmp"
    assert exiftool([shared], "XMP-photoshop:SidecarForExtension")["R6.xmp"]["SidecarForExtension"] == "CR3"
    assert set(images) == {"R6.CR3", "R6-copy.CR3"}
    image = images["R6.CR3"]
    assert image["dupe_group"] and image["dupe_group"] == images["R6-copy.CR3"]["dupe_group"]

    # Lightroom shows the pair as one photo, whose path is the raw.
    lr = FakeLightroom()
    pair, other = lr.add_photo(raw), lr.add_photo(copy)
    result = lr.sync()
    assert (result["changed"], result["noData"], result["otherFile"], result["missing"]) == (2, 0, 0, 0)
    props = lr.props(pair)
    assert (props["dupGroup"], props["dupRole"], props["decision"]) == (
        image["dupe_group"], image["dupe_role"], image["decision"])
    assert lr.keywords(pair) == [f"xmpcull|dupes|{image['dupe_group']}"]
    assert pair.label == (image["label"] or "")
    assert lr.props(other)["dupRole"] != props["dupRole"]

    # "Treat JPEG files next to raw files as separate photos": the raw's results
    # (its rating, label, crop) are not copied onto the JPEG, and the summary says why.
    lr = FakeLightroom()
    pair, jpeg = lr.add_photo(raw), lr.add_photo(root / "R6.JPG")
    result = lr.sync()
    assert (result["changed"], result["otherFile"], result["noData"]) == (1, 1, 0)
    assert lr.props(jpeg) == {} and lr.keywords(jpeg) == [] and jpeg.label == ""
    assert lr.props(pair)["dupGroup"] == image["dupe_group"]
    summary_table = lr.lua.table_from({**result, "problems": lr.lua.table_from([])})
    assert "1 photo shares the sidecar of a raw file" in lr.commands.describe(summary_table)


def test_rating_and_label_removed_from_the_sidecar_are_not_brought_back(tmp_path):
    root = tmp_path / "shoot"
    jet = _copy("photos/T-45A_Goshawk_03_1600px.jpg", root / "jet.jpg")
    config = tmp_path / "xmpcull.toml"
    config.write_text(RATINGS)
    xmpcull_run(root, tmp_path / "cache.sqlite", "--config", config)
    sidecar = root / "jet.xmp"
    assert exiftool([sidecar], "XMP:Rating", "XMP:Label")["jet.xmp"].get("Label") == "Blue"
    # The user removes both (e.g. in darktable, or Lightroom saving a raw's sidecar); the run keeps
    # its record as a tombstone so it does not propose them again, and neither may the plug-in.
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP:Rating=", "-XMP:Label=", str(sidecar)], check=True)
    _, images = xmpcull_run(root, tmp_path / "cache.sqlite", "--config", config)
    assert images["jet.jpg"]["kept_user_values"]
    lr = FakeLightroom(label_map=GERMAN)
    photo = lr.add_photo(jet)
    assert lr.sync()["changed"] == 1
    assert (photo.rating, photo.label) == (None, "") and lr.props(photo)["decision"] == images["jet.jpg"]["decision"]
