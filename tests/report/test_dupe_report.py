"""JSON/CSV/imagededup reports of duplicate groups, read back by us and by the move command."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from xmpcull.analyse.pipeline import analyse_roots
from xmpcull.errors import ReportError
from xmpcull.group.dupes import find_duplicates
from xmpcull.move.selection import load_move_selection
from xmpcull.report.dupes import CSV_COLUMNS, read_dupe_report, write_dupe_report
from xmpcull.report.writers import CsvWriter, NullWriter, write_json

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def reported(tmp_path: Path):
    root = tmp_path / "lib"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    for folder in ("a", "b"):
        shutil.copy2(FIXTURES / "photos" / "portrait.jpg", root / folder / "curie.jpg")
    shutil.copy2(FIXTURES / "photos" / "astronaut.png", root / "a" / "astro.png")
    analysis = analyse_roots([root], jobs=1)
    result = find_duplicates(analysis.records)
    out = tmp_path / "out"
    out.mkdir()
    report = write_dupe_report(result, analysis.roots, out / "groups.json", out / "groups.csv", out / "idd.json",
                               analysis.records)
    return root, out, report


def test_json_has_the_documented_shape(reported) -> None:
    root, out, _ = reported
    data = json.loads((out / "groups.json").read_text())
    assert data["version"] == 1 and data["roots"] == [str(root)]
    (group,) = data["groups"]
    assert set(group) == {"id", "kind", "keeper", "keeper_reason", "members"}
    assert group["kind"] == "exact" and group["id"].startswith("d-")
    for member in group["members"]:
        assert set(member) == {"path", "relpath", "root", "role", "distance", "width", "height", "bytes", "mtime", "digest"}
        assert Path(member["path"]).is_absolute() and Path(member["root"]) / member["relpath"] == Path(member["path"])
        assert member["bytes"] == Path(member["path"]).stat().st_size
    assert [m["role"] for m in group["members"]] == ["keeper", "duplicate"]
    assert "similar_sets" in data


def test_csv_one_row_per_member_and_imagededup_mapping(reported) -> None:
    _, out, report = reported
    rows = list(csv.DictReader((out / "groups.csv").open(newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 2 and {r["group_id"] for r in rows} == {report["groups"][0]["id"]}
    mapping = json.loads((out / "idd.json").read_text())
    assert mapping == {"a/astro.png": [], "a/curie.jpg": ["b/curie.jpg"], "b/curie.jpg": ["a/curie.jpg"]}


def test_deleting_a_csv_row_keeps_that_file_out_of_a_move(reported) -> None:
    _, out, _ = reported
    full = read_dupe_report(out / "groups.json")
    assert len(full.groups[0].members) == 2
    rows = list(csv.DictReader((out / "groups.csv").open(newline="")))
    dup = next(r for r in rows if r["role"] == "duplicate")
    CsvWriter(CSV_COLUMNS).write(out / "edited.csv", [r for r in rows if r is not dup])
    edited = read_dupe_report(out / "groups.json", out / "edited.csv")
    assert [m.role for m in edited.groups[0].members] == ["keeper"]
    # The move command reads the same files and agrees.
    assert [c.path.name for c in load_move_selection(out / "groups.json").candidates] == ["curie.jpg"]
    assert load_move_selection(out / "groups.json", out / "edited.csv").candidates == []


def test_unreadable_or_foreign_report_is_a_report_error(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"version": 99, "groups": [], "roots": []}')
    with pytest.raises(ReportError, match="version 1"):
        read_dupe_report(tmp_path / "x.json")
    (tmp_path / "y.json").write_text("{not json")
    with pytest.raises(ReportError):
        read_dupe_report(tmp_path / "y.json")


def test_write_json_is_atomic_and_null_writer_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_json(target, {"bad": object()})
    assert target.read_text() == "old"  # a failed write leaves the old report
    assert list(tmp_path.iterdir()) == [target]
    NullWriter().write(tmp_path / "none.json", [{"a": 1}])
    assert not (tmp_path / "none.json").exists()
    with pytest.raises(ReportError):
        write_json(tmp_path / "missing-dir" / "r.json", {})
