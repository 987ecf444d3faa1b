"""End to end: `xmpcull run` on real photos, results read back with real exiftool."""

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageFilter

from tests.cli.helpers import run_cli, run_json
from tests.conftest import FIXTURES
from xmpcull.sidecar import exiftool_config_path


@pytest.fixture
def shoot(tmp_path: Path) -> Path:
    root = tmp_path / "shoot"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "a/dunes.jpg")
    # A smaller, recompressed copy elsewhere: a near duplicate.
    with Image.open(FIXTURES / "photos/mongolels.jpg") as im:
        im.resize((475, 317)).save(root / "b/dunes-web.jpg", quality=70)
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "b/dunes-copy.jpg")  # exact duplicate
    shutil.copy(FIXTURES / "camera/iphone_hdr_NO.jpg", root / "a/IMG_0001.jpg")  # a burst of two frames
    shutil.copy(FIXTURES / "camera/iphone_hdr_YES.jpg", root / "a/IMG_0002.jpg")
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "a/jet.jpg")
    (root / "b/broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return root


def exiftool_tags(path: Path, *tags: str) -> dict:
    out = subprocess.run(
        ["exiftool", "-config", str(exiftool_config_path()), "-j", "-G1", *[f"-{t}" for t in tags], str(path)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout)[0]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.xmp"))}


def test_run_writes_sidecars_exiftool_reads_and_reports(shoot: Path, tmp_path: Path) -> None:
    code, summary = run_json("run", shoot, "--cache", tmp_path / "c.sqlite")
    assert code == 1  # broken.jpg was reported, the rest went on
    assert summary["errors"] and Path(summary["errors"][0]["path"]).name == "broken.jpg"
    assert summary["images"] == 7 and summary["analysed"] == 6
    # The dunes trio. The two iPhone frames look alike (4 bits) but the camera recorded two
    # exposures half a second apart: a burst, not a duplicate.
    assert summary["duplicate_groups"] == 1 and summary["duplicates"] == 2
    assert summary["bursts"] == 1 and summary["frames_in_bursts"] == 2

    report = json.loads((shoot / ".xmpcull/report.json").read_text())
    assert report["summary"]["seconds"] > 0 and report["summary"]["images"] == 7
    group = next(g for g in report["groups"] if Path(g["keeper"]).name.startswith("dunes"))
    assert {Path(m["path"]).name for m in group["members"]} == {"dunes.jpg", "dunes-web.jpg", "dunes-copy.jpg"}
    keeper = Path(group["keeper"])
    non_keepers = [Path(m["path"]) for m in group["members"] if m["role"] == "duplicate"]

    tags = exiftool_tags(non_keepers[0].with_suffix(".xmp"), "XMP-xmpcull:all", "XMP:Label", "XMP:Rating", "XMP:HierarchicalSubject")
    assert tags["XMP-xmpcull:DupRole"] == "duplicate"
    assert tags["XMP-xmpcull:DupGroup"] == group["id"]
    assert tags["XMP-xmp:Label"] == "Red"
    assert f"xmpcull|dupes|{group['id']}" in tags["XMP-lr:HierarchicalSubject"]
    assert 0 <= float(tags["XMP-xmpcull:Quality"]) <= 1

    keeper_tags = exiftool_tags(keeper.with_suffix(".xmp"), "XMP-xmpcull:DupRole", "XMP:Label")
    assert keeper_tags["XMP-xmpcull:DupRole"] == "keeper"

    burst_tags = exiftool_tags(shoot / "a/IMG_0002.xmp", "XMP-xmpcull:BurstID", "XMP-xmpcull:BurstSize", "XMP-xmpcull:BurstBest")
    assert burst_tags["XMP-xmpcull:BurstSize"] == 2

    rows = list(csv.DictReader((shoot / ".xmpcull/report.csv").open()))
    assert {r["relpath"] for r in rows} == {"a/dunes.jpg", "b/dunes-web.jpg", "b/dunes-copy.jpg", "a/IMG_0001.jpg", "a/IMG_0002.jpg", "a/jet.jpg"}
    assert sum(r["decision"] == "duplicate" for r in rows) == 2
    assert {r["relpath"]: r["decision"] for r in rows if "IMG_000" in r["relpath"]} == {
        "a/IMG_0001.jpg": "ok", "a/IMG_0002.jpg": "best-frame"}
    assert not (shoot / "b/broken.xmp").exists()


def test_second_run_changes_no_byte(shoot: Path, tmp_path: Path) -> None:
    run_cli("run", shoot, "--cache", tmp_path / "c.sqlite")
    first = snapshot(shoot)
    assert first
    code, summary = run_json("run", shoot, "--cache", tmp_path / "c.sqlite")
    assert summary["sidecars_changed"] == 0
    assert snapshot(shoot) == first


def test_users_changes_in_lightroom_survive_a_rerun(shoot: Path, tmp_path: Path) -> None:
    # The user had rated the jet before xmpcull ever ran.
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP:Rating=4", str(shoot / "a/jet.jpg")], check=True)
    run_cli("run", shoot, "--cache", tmp_path / "c.sqlite")
    report = json.loads((shoot / ".xmpcull/report.json").read_text())
    dunes = next(g for g in report["groups"] if Path(g["keeper"]).name.startswith("dunes"))
    duplicate = Path(next(m["path"] for m in dunes["members"] if m["role"] == "duplicate"))
    sidecar = duplicate.with_suffix(".xmp")
    assert exiftool_tags(sidecar, "XMP:Label")["XMP-xmp:Label"] == "Red"
    # In Lightroom the user decides this copy is fine after all: label Green, 3 stars (saved to XMP).
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP:Label=Green", "-XMP:Rating=3", str(sidecar)], check=True)
    run_cli("run", shoot, "--cache", tmp_path / "c.sqlite")
    tags = exiftool_tags(sidecar, "XMP:Label", "XMP:Rating")
    assert tags["XMP-xmp:Label"] == "Green" and tags["XMP-xmp:Rating"] == 3
    assert exiftool_tags(shoot / "a/jet.xmp", "XMP:Rating")["XMP-xmp:Rating"] == 4
    # ...unless they ask for it.
    run_cli("run", shoot, "--cache", tmp_path / "c.sqlite", "--overwrite-labels")
    assert exiftool_tags(sidecar, "XMP:Label")["XMP-xmp:Label"] == "Red"


def soft_copy(source: Path, target: Path) -> None:
    """The photo at the analysis size (long side 512 px), blurred by 1 px: soft, not failed."""
    with Image.open(source) as im:
        im = im.convert("RGB")
        im.thumbnail((512, 512))
        im.filter(ImageFilter.GaussianBlur(1.0)).save(target, quality=95)


def test_default_policy_flags_a_soft_photo_and_the_summary_says_why(shoot: Path, tmp_path: Path) -> None:
    soft_copy(FIXTURES / "photos/portrait.jpg", shoot / "b/portrait-soft.jpg")
    code, summary = run_json("run", shoot, "--cache", tmp_path / "c.sqlite")
    rows = {r["relpath"]: r for r in csv.DictReader((shoot / ".xmpcull/report.csv").open())}
    soft = rows["b/portrait-soft.jpg"]
    assert soft["decision"] == "needs-review" and soft["label"] == "Yellow"
    assert "soft-focus" in soft["review_reasons"] and "soft" in soft["reason"]
    # The sharp photos are not: the flag is about this picture, not its place in the shoot.
    assert rows["a/jet.jpg"]["decision"] == "ok" and rows["a/IMG_0002.jpg"]["decision"] == "best-frame"
    review = [r for r in rows.values() if r["decision"] == "needs-review"]
    assert summary["hand_touch_share"] > 0
    assert summary["hand_touch_share"] == pytest.approx(len(review) / len(rows), abs=1e-4)
    assert summary["decisions"]["needs-review"] == len(review)
    assert summary["flagged"]["soft-focus"] == sum("soft-focus" in r["review_reasons"] for r in review) >= 1
    # The weak crop proposals of a run that does not apply crops are counted, not flagged.
    assert summary["weak_crops_not_applied"] >= 1 and "low-crop-confidence" not in summary["flagged"]
    text = run_cli("run", shoot, "--cache", tmp_path / "c.sqlite").stdout
    assert "soft-focus: softer than a sharp photo" in text
    assert "not flagged:" in text and "low-confidence crop proposals" in text


def test_review_flags_turn_off(shoot: Path, tmp_path: Path) -> None:
    soft_copy(FIXTURES / "photos/portrait.jpg", shoot / "b/portrait-soft.jpg")
    config = tmp_path / "quiet.toml"
    config.write_text("[policy]\nreview_sharpness = 0\nreview_quality = 0\n")
    code, summary = run_json("run", shoot, "--config", config, "--cache", tmp_path / "c.sqlite")
    assert summary["hand_touch_share"] == 0 and summary["flagged"] == {}


def test_dry_run_and_no_write_leave_sidecars_alone(shoot: Path, tmp_path: Path) -> None:
    code, summary = run_json("run", shoot, "--dry-run", "--cache", tmp_path / "c.sqlite")
    assert snapshot(shoot) == {}
    assert summary["would_change"] and any("DupRole" in c for item in summary["would_change"] for c in item["changes"])
    run_cli("run", shoot, "--no-write", "--cache", tmp_path / "c.sqlite")
    assert snapshot(shoot) == {}
    assert (shoot / ".xmpcull/report.json").exists()


def test_run_report_drives_move_and_undo(shoot: Path, tmp_path: Path) -> None:
    run_cli("run", shoot, "--cache", tmp_path / "c.sqlite")
    before = {str(p.relative_to(shoot)) for p in shoot.rglob("*") if p.is_file() and ".xmpcull" not in p.parts}
    proc = run_cli("move", "--report", shoot / ".xmpcull/report.json")
    assert proc.returncode == 0, proc.stderr
    moved = {str(p.relative_to(shoot / "_review_dupes")) for p in (shoot / "_review_dupes").rglob("*") if p.is_file() and ".xmpcull-journal" not in str(p)}
    assert {Path(m).name for m in moved if m.endswith(".jpg")} <= {"dunes-web.jpg", "dunes-copy.jpg", "dunes.jpg"}
    assert len([m for m in moved if m.endswith(".jpg")]) == 2
    assert (shoot / "a/IMG_0001.jpg").exists() and (shoot / "a/IMG_0002.jpg").exists()  # burst frames never move
    assert run_cli("undo", "--root", shoot).returncode == 0
    after = {str(p.relative_to(shoot)) for p in shoot.rglob("*") if p.is_file() and ".xmpcull" not in p.parts and "_review_dupes" not in p.parts}
    assert after == before


def test_a_label_or_rating_the_user_removed_is_not_set_again(shoot: Path, tmp_path: Path) -> None:
    config = tmp_path / "stars.toml"
    config.write_text("[outcomes.ok]\nrating = 2\n")  # the jet, alone and fine, gets 2 stars
    run_cli("run", shoot, "--config", config, "--cache", tmp_path / "c.sqlite")
    report = json.loads((shoot / ".xmpcull/report.json").read_text())
    dunes = next(g for g in report["groups"] if Path(g["keeper"]).name.startswith("dunes"))
    duplicate = Path(next(m["path"] for m in dunes["members"] if m["role"] == "duplicate")).with_suffix(".xmp")
    jet = shoot / "a/jet.xmp"
    assert exiftool_tags(duplicate, "XMP:Label")["XMP-xmp:Label"] == "Red"
    assert exiftool_tags(jet, "XMP:Rating")["XMP-xmp:Rating"] == 2
    # In Lightroom the user removes the label of one and the stars of the other.
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP:Label=", str(duplicate)], check=True)
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP:Rating=0", str(jet)], check=True)
    for _ in range(2):
        code, summary = run_json("run", shoot, "--config", config, "--cache", tmp_path / "c.sqlite")
        assert "XMP-xmp:Label" not in exiftool_tags(duplicate, "XMP:Label")
        assert exiftool_tags(jet, "XMP:Rating")["XMP-xmp:Rating"] == 0
    assert summary["sidecars_changed"] == 0


def test_report_says_the_users_crop_was_kept(tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    root.mkdir()
    shutil.copy(FIXTURES / "xmp/lightroom/IMG_5910.jpg", root / "IMG_5910.jpg")
    shutil.copy(FIXTURES / "xmp/lightroom/IMG_5910.xmp", root / "IMG_5910.xmp")  # Lightroom crop inside
    (root / "IMG_5910.xmp").chmod(0o644)  # the fixture copy is read-only, which xmpcull respects
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "jet.jpg")
    config = tmp_path / "c.toml"
    config.write_text("[crops]\napply = true\napply_min_confidence = 0.0\n")
    code, summary = run_json("run", root, "--config", config, "--aspect", "16:9", "--cache", tmp_path / "c.sqlite")
    images = {Path(i["path"]).name: i for i in json.loads((root / ".xmpcull/report.json").read_text())["images"]}
    assert images["IMG_5910.jpg"]["crop_applied"] is False
    assert images["IMG_5910.jpg"]["crop_proposals"][0]["not_applied_reason"] == "user crop kept"
    assert images["jet.jpg"]["crop_applied"] is True
    assert summary["crops_applied"] == 1
    crop = exiftool_tags(root / "IMG_5910.xmp", "XMP-crs:CropTop")
    assert crop["XMP-crs:CropTop"] == 0.231776  # Lightroom's crop, untouched


def test_raw_jpeg_pair_shares_one_sidecar_and_a_broken_raw_lets_the_jpeg_lead(tmp_path: Path) -> None:
    root = tmp_path / "pairs"
    root.mkdir()
    # A real CR3 with its own JPEG beside it: one shot.
    shutil.copy(FIXTURES / "raw/Canon-R6-pruned.CR3", root / "R6.CR3")
    preview = subprocess.run(["exiftool", "-b", "-PreviewImage", str(root / "R6.CR3")], capture_output=True, check=True).stdout
    (root / "R6.JPG").write_bytes(preview)
    # A RAW without a usable preview: its JPEG must still get a decision.
    shutil.copy(FIXTURES / "raw/stub_exiftool_Nikon.nef", root / "D70.NEF")
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "D70.JPG")
    for p in root.iterdir():
        p.chmod(0o644)
    code, summary = run_json("run", root, "--cache", tmp_path / "c.sqlite")
    assert code == 1  # the NEF stub is reported
    assert sorted(p.name for p in root.glob("*.xmp")) == ["D70.xmp", "R6.xmp"]
    r6 = exiftool_tags(root / "R6.xmp", "XMP-photoshop:SidecarForExtension", "XMP-xmpcull:Decision")
    assert r6["XMP-photoshop:SidecarForExtension"] == "CR3" and r6["XMP-xmpcull:Decision"]
    assert exiftool_tags(root / "D70.xmp", "XMP-xmpcull:Decision")["XMP-xmpcull:Decision"]
    assert summary["shots"] == 2


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Label="&lol3;"/></rdf:RDF></x:xmpmeta>"""


def test_a_hostile_messy_tree_is_reported_and_nothing_is_lost(tmp_path: Path) -> None:
    root = tmp_path / "messy"
    (root / "sub").mkdir(parents=True)
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "dunes.jpg")
    (root / "dunes.xmp").write_bytes(BILLION_LAUGHS)  # hostile sidecar next to a good photo
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "sub" / "jet\nnew line ünï.jpg")
    (root / "empty.jpg").write_bytes(b"")
    (root / "sub" / "loop").symlink_to(root)
    for p in [root / "dunes.jpg", root / "sub" / "jet\nnew line ünï.jpg"]:
        p.chmod(0o644)
    code, summary = run_json("run", root, "--cache", tmp_path / "c.sqlite")
    assert code == 1
    failed = {(Path(e["path"]).name, e["stage"]) for e in summary["errors"]}
    assert ("empty.jpg", "metadata") in failed
    assert any(name == "dunes.jpg" and stage == "sidecar" for name, stage in failed)
    assert (root / "dunes.xmp").read_bytes() == BILLION_LAUGHS  # reported, never overwritten
    assert (root / "sub" / "jet\nnew line ünï.xmp").exists()  # the odd name went through
    assert summary["analysed"] == 2


def test_rerun_with_nothing_new_parses_no_xmp(shoot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xmpcull import run as run_module
    from xmpcull.config import load_config
    from xmpcull.run import sidecars as sidecar_pass

    config = load_config()
    options = run_module.RunOptions(config=config, write_options=config.write_options, cache_path=tmp_path / "c.sqlite", jobs=1)
    run_module.run_pipeline([shoot], options)
    run_module.run_pipeline([shoot], options)  # sidecars now exist: metadata is read again once
    before = snapshot(shoot)
    calls: list[str] = []
    real_write_each, real_read = sidecar_pass.write_each, sidecar_pass.read_sidecar
    monkeypatch.setattr(sidecar_pass, "write_each", lambda items, opts: calls.append("write") or real_write_each(items, opts))
    monkeypatch.setattr(sidecar_pass, "read_sidecar", lambda *a, **k: calls.append("read") or real_read(*a, **k))
    result = run_module.run_pipeline([shoot], options)
    assert calls == ["write"]  # called with nothing to write
    assert snapshot(shoot) == before and result.summary()["sidecars_changed"] == 0
    # A sidecar edited behind our back is merged again, the rest still skipped.
    sidecar = shoot / "a/jet.xmp"
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP:Label=Blue", str(sidecar)], check=True)
    calls.clear()
    result = run_module.run_pipeline([shoot], options)
    assert calls == ["read", "write", "read"]  # its previous decision, the merge, the read-back for the memo
    assert exiftool_tags(sidecar, "XMP:Label")["XMP-xmp:Label"] == "Blue"


def test_our_own_ratings_never_pick_the_next_runs_keeper(tmp_path: Path) -> None:
    # A blurred copy is "failed" (1 star by policy) and a duplicate of the sharp original;
    # on the next run its 1 star must not make it the keeper through "highest rating".
    root = tmp_path / "k"
    root.mkdir()
    from PIL import ImageFilter

    with Image.open(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg") as im:
        im.save(root / "jet.jpg", quality=90)
        im.filter(ImageFilter.GaussianBlur(1.2)).save(root / "jet-soft.jpg", quality=90)
    config = tmp_path / "c.toml"
    config.write_text('[dupes]\nkeeper_chain = ["highest_rating", "sharpest", "shortest_path"]\n[outcomes.duplicate]\nrating = 1\n')
    keepers = []
    for _ in range(3):
        run_cli("run", root, "--config", config, "--cache", tmp_path / "c.sqlite")
        report = json.loads((root / ".xmpcull/report.json").read_text())
        keepers.append([Path(g["keeper"]).name for g in report["groups"]])
    assert keepers == [["jet.jpg"]] * 3
    assert exiftool_tags(root / "jet-soft.xmp", "XMP:Rating")["XMP-xmp:Rating"] == 1


def test_a_read_only_photo_folder_is_left_alone_and_the_report_goes_elsewhere(tmp_path: Path) -> None:
    root = tmp_path / "locked"
    root.mkdir()
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "dunes.jpg")
    root.chmod(0o555)  # the user locked it (root could still write: the mode bits decide)
    try:
        code, summary = run_json("run", root, "--cache", tmp_path / "c.sqlite", env={"XDG_DATA_HOME": str(tmp_path / "data")})
    finally:
        root.chmod(0o755)
    assert sorted(p.name for p in root.iterdir()) == ["dunes.jpg"]  # no sidecar, no .xmpcull
    assert summary["report"].startswith(str(tmp_path / "data" / "xmpcull" / "reports"))
    assert Path(summary["report"]).is_file()
    # Said once for the folder, not a failed file (issue 14 item 14).
    assert code == 0 and summary["errors"] == []
    assert summary["read_only"] == [{"folder": str(root), "images": 1, "hint": "use --no-write or --report-dir"}]
