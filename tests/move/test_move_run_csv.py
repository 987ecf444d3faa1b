"""`move --csv` takes `run`'s own report.csv, unedited or edited in a spreadsheet (real run, real exiftool)."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from tests.cli.helpers import run_cli, run_json
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shoot after `xmpcull run`: the dunes in three copies (one keeper), and an unrelated jet."""
    root = tmp_path_factory.mktemp("run-csv") / "shoot"
    root.mkdir()
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "dunes.jpg")
    shutil.copy(FIXTURES / "photos/mongolels.jpg", root / "dunes-copy.jpg")
    with Image.open(FIXTURES / "photos/mongolels.jpg") as im:
        im.resize((475, 317)).save(root / "dunes-web.jpg", quality=70)
    shutil.copy(FIXTURES / "photos/T-45A_Goshawk_03_1600px.jpg", root / "jet.jpg")
    proc = run_cli("run", root, "--cache", root.parent / "c.sqlite")
    assert proc.returncode == 0, proc.stderr
    return root


def fresh_copy(ran: Path, tmp_path: Path) -> Path:
    """The run's tree with its report, copied so each test moves its own files (the report names absolute
    paths, so it is rewritten for the copy)."""
    root = tmp_path / "shoot"
    shutil.copytree(ran, root, copy_function=shutil.copy2)
    for name in ("report.json", "report.csv"):
        path = root / ".xmpcull" / name
        path.write_text(path.read_text(encoding="utf-8").replace(str(ran), str(root)), encoding="utf-8")
    return root


def edited_csv(root: Path, edit: Callable[[dict[str, str]], dict[str, str] | None]) -> Path:
    source = root / ".xmpcull" / "report.csv"
    with open(source, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns, rows = reader.fieldnames, list(reader)
    out = root.parent / "edited.csv"
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(r for r in (edit(dict(row)) for row in rows) if r is not None)
    return out


def moved_names(payload: dict, status: str = "moved") -> set[str]:
    """The photos moved (their sidecars go along and are left out here)."""
    return {Path(o["source"]).name for o in payload["outcomes"] if o["status"] == status and o["source"].endswith(".jpg")}


def test_the_run_report_csv_unedited_moves_what_the_json_moves(ran: Path, tmp_path: Path) -> None:
    root = fresh_copy(ran, tmp_path)
    report = root / ".xmpcull" / "report.json"
    code, dry = run_json("move", "--report", report, "--dry-run")
    planned = moved_names(dry, "planned")
    assert code == 0 and len(planned) == 2 and planned <= {"dunes.jpg", "dunes-copy.jpg", "dunes-web.jpg"}
    code, done = run_json("move", "--report", report, "--csv", root / ".xmpcull" / "report.csv")
    assert code == 0, done
    assert moved_names(done) == planned
    assert sorted(p.name for p in (root / "_review_dupes").glob("*.jpg")) == sorted(planned)


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda row: None, "row deleted"),
        (lambda row: {**row, "dupe_role": "Keeper"}, "dupe_role set to keeper (any case)"),
        (lambda row: {**row, "decision": "keeper"}, "decision changed from duplicate"),
    ],
)
def test_an_edited_run_csv_keeps_the_rows_a_person_changed(
    ran: Path, tmp_path: Path, edit: Callable[[dict[str, str]], dict[str, str] | None], why: str
) -> None:
    root = fresh_copy(ran, tmp_path)
    report = root / ".xmpcull" / "report.json"
    with open(root / ".xmpcull" / "report.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    duplicates = [r for r in rows if r["dupe_role"] == "duplicate"]
    assert len(duplicates) == 2 and all(r["decision"] == "duplicate" for r in duplicates)
    held = duplicates[0]["path"]
    csv_path = edited_csv(root, lambda row: edit(row) if row["path"] == held else row)
    code, done = run_json("move", "--report", report, "--csv", csv_path)
    assert code == 0, (why, done)
    assert moved_names(done) == {Path(duplicates[1]["path"]).name}, why
    assert Path(held).exists(), why


def test_a_csv_without_role_columns_is_refused_with_both_names(tmp_path: Path, ran: Path) -> None:
    root = fresh_copy(ran, tmp_path)
    bad = edited_csv(root, lambda row: row)
    bad.write_text("path,note\n" + str(root / "dunes.jpg") + ",x\n", encoding="utf-8")
    proc = run_cli("move", "--report", root / ".xmpcull" / "report.json", "--csv", bad)
    assert proc.returncode != 0
    assert "'role'" in proc.stderr and "'dupe_role'" in proc.stderr
    assert not (root / "_review_dupes").exists()


def test_move_help_names_the_run_report() -> None:
    proc = run_cli("move", "--help")
    assert proc.returncode == 0
    assert "xmpcull run" in proc.stdout and "report.json" in proc.stdout and "report.csv" in proc.stdout
