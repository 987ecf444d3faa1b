"""``xmpcull dupes`` end to end: real photos, real exiftool, real sidecars."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from xmpcull.cli.dupes import dupes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _xmp(path: Path, *tags: str) -> dict:
    out = subprocess.run(["exiftool", "-j", "-G1", *tags, str(path)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)[0]


def test_dupes_writes_report_csv_imagededup_and_sidecars_without_touching_a_user_label(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    for folder in ("a", "b", "c"):
        (root / folder).mkdir(parents=True)
        shutil.copy2(FIXTURES / "photos" / "mongolels.jpg", root / folder / "dunes.jpg")
    shutil.copy2(FIXTURES / "photos" / "astronaut.png", root / "a" / "astro.png")
    # The user already labelled the copy in c/ "Blue" in a sidecar.
    (root / "c" / "dunes.xmp").write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Label="Blue"/></rdf:RDF></x:xmpmeta>'
    )
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(dupes, [str(root), "--report", str(out / "g.json"), "--csv", str(out / "g.csv"),
                                        "--format", "imagededup", "--no-cache", "--jobs", "1", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["groups"] == 1 and summary["duplicates"] == 2 and summary["exact_groups"] == 1
    report = json.loads((out / "g.json").read_text())
    group = report["groups"][0]
    assert (out / "g.csv").read_text().count(group["id"]) == 3
    assert json.loads((out / "g.imagededup.json").read_text())["a/dunes.jpg"] == ["b/dunes.jpg", "c/dunes.jpg"]
    roles = {Path(m["path"]).parent.name: m["role"] for m in group["members"]}
    assert roles["a"] == "keeper"  # identical bytes: the tie ends on the first path
    b = _xmp(root / "b" / "dunes.xmp", "-XMP:all")
    assert b["XMP-xmp:Label"] == "Red" and b["XMP-xmpcull:DupRole"] == "duplicate"
    assert f"xmpcull|dupes|{group['id']}" in str(b["XMP-lr:HierarchicalSubject"])
    c = _xmp(root / "c" / "dunes.xmp", "-XMP:all")
    assert c["XMP-xmp:Label"] == "Blue" and c["XMP-xmpcull:DupGroup"] == group["id"]
    a = _xmp(root / "a" / "dunes.xmp", "-XMP:all")
    assert a["XMP-xmpcull:DupRole"] == "keeper" and "XMP-xmp:Label" not in a


def test_no_write_leaves_sidecars_alone(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    for name in ("x.jpg", "y.jpg"):
        shutil.copy2(FIXTURES / "photos" / "portrait.jpg", root / name)
    result = CliRunner().invoke(dupes, [str(root), "--report", str(tmp_path / "g.json"), "--no-write", "--no-cache", "-j", "1", "-q"])
    assert result.exit_code == 0, result.output
    assert "1 duplicate groups (1 exact)" in result.output
    assert not list(root.glob("*.xmp"))


def test_small_crops_are_found_by_default_and_the_size_limit_is_said_and_liftable(
    cropped_copy_tree: Path, tmp_path: Path
) -> None:
    root = cropped_copy_tree
    limit_one = tmp_path / "limit.toml"
    limit_one.write_text("[dupes]\ncrop_search_max_images = 1\n")

    def run(*extra: str) -> tuple[dict, list[list[str]]]:
        report = tmp_path / "g.json"
        result = CliRunner().invoke(dupes, [str(root), "--report", str(report), "--no-write", "--no-cache", "--jobs", "1", *extra])
        assert result.exit_code == 0, result.output
        groups = [sorted(Path(m["path"]).name for m in g["members"]) for g in json.loads(report.read_text())["groups"]]
        return result.output, groups

    output, groups = run()
    assert groups == [["dunes.jpg", "dunes_export.jpg"]]
    assert run("--no-crop-tolerant")[1] == []
    output, groups = run("--config", str(limit_one))
    assert groups == [] and "crop search skipped: more than 1 images" in output
    assert run("--config", str(limit_one), "--crop-tolerant")[1] == [["dunes.jpg", "dunes_export.jpg"]]
