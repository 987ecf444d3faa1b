"""`xmpcull review --static OUT/`: every view as plain files, no server, nothing from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from xmpcull.cli.main import cli
from xmpcull.review.model import load_model


def test_static_folder_holds_every_page_and_preview_and_refers_to_nothing_outside(
    analysed: tuple[Path, Path], tmp_path: Path
) -> None:
    root, cache = analysed
    out = tmp_path / "out"
    before = sorted(p for p in root.rglob("*") if ".xmpcull" not in p.parts)
    result = CliRunner().invoke(cli, ["review", str(root), "--static", str(out), "--cache", str(cache)])
    assert result.exit_code == 0, result.output
    assert sorted(p for p in root.rglob("*") if ".xmpcull" not in p.parts) == before  # nothing beside the photos
    model = load_model(root / ".xmpcull" / "report.json")
    pages = {p.name: p.read_text() for p in out.glob("*.html")}
    assert {"index.html", "dupes.html", "bursts.html", "similar.html", "crops.html", "all.html"} <= set(pages)
    for name, html in pages.items():
        links = re.findall(r'(?:src|href)="([^"]+)"', html)
        for link in links:
            assert not re.match(r"^[a-z]+:|^/", link), f"{name} refers outside the folder: {link}"
            assert (out / link).is_file(), f"{name} refers to a missing file: {link}"
        assert str(root) not in html  # no path into the photo folders
        assert "xmpcull-token" not in html and "data-action" not in html  # read-only
    shown = {int(m) for m in re.findall(r'data-id="(\d+)"', pages["dupes.html"])}
    assert shown == {i for row in model.rows["dupes"] for i in row.members}
