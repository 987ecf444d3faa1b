"""The review pages in a real Chromium: every member shown, keyboard culling, decisions in the sidecars.

Debian's chromium driven by Playwright (its own browser download cannot work here);
scripts/setup.sh installs it. Each decision is then read back with exiftool, and
`move --dry-run` and a second `run` must honour the keeper chosen by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.review.conftest import run_on
from xmpcull.review.server import ReviewServer
from xmpcull.sidecar import exiftool_config_path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra (make setup)")
if not os.path.exists(CHROMIUM):
    pytest.skip("Debian's chromium is not installed (scripts/setup.sh installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server: ReviewServer):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.goto(server.url)  # the printed URL: the token becomes a cookie
    yield tab
    context.close()


def _base(server: ReviewServer) -> str:
    return f"http://127.0.0.1:{server.session.port}"


def _sidecar_tags(path: Path) -> dict:
    out = subprocess.run(["exiftool", "-config", str(exiftool_config_path()), "-j", "-G1", "-n",
                          "-XMP-xmpcull:all", "-XMP-xmp:Rating", "-XMP-xmp:Label", "-XMP-crs:all", str(path)],
                         capture_output=True, check=True)
    return json.loads(out.stdout)[0]


def _focused_id(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator("article.card.focused").get_attribute("data-id"))


def _focus(page, item_id: int) -> None:  # type: ignore[no-untyped-def]
    page.locator(f'article.card[data-id="{item_id}"] .meta .name').click()
    assert _focused_id(page) == item_id


def _wait_card(page, item_id: int, selector: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(f'article.card[data-id="{item_id}"] {selector}', timeout=15000)


def test_every_group_member_and_burst_frame_is_shown_with_its_preview(page, server: ReviewServer) -> None:
    model = server.session.model
    for view in ("dupes", "bursts", "similar"):
        page.goto(f"{_base(server)}/{view}")
        assert model.rows[view], f"the shoot should have {view}"
        for row in model.rows[view]:
            shown = page.locator(f'section[data-row="{row.id}"] article.card')
            assert sorted(int(shown.nth(i).get_attribute("data-id")) for i in range(shown.count())) == sorted(row.members)
        page.evaluate("() => document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; })")  # off-screen too
        page.wait_for_function("() => Array.from(document.querySelectorAll('article.card img'))"
                               ".every(i => i.complete && i.naturalWidth > 0)", timeout=30000)
    page.goto(f"{_base(server)}/dupes")
    group = model.rows["dupes"][0]
    keeper = page.locator(f'article.card[data-id="{group.best}"]')
    assert "keeper" in keeper.locator(".badges").inner_text()
    assert group.note.removeprefix("keeper: ") in page.locator(f'section[data-row="{group.id}"] .note').inner_text()


def test_keyboard_navigation_moves_between_cards_and_groups(page, server: ReviewServer) -> None:
    page.goto(f"{_base(server)}/all")
    ids = [int(x) for x in page.locator("article.card").evaluate_all("cards => cards.map(c => c.dataset.id)")]
    assert _focused_id(page) == ids[0]
    page.keyboard.press("j")
    assert _focused_id(page) == ids[1]
    page.keyboard.press("ArrowRight")
    assert _focused_id(page) == ids[2]
    page.keyboard.press("k")
    page.keyboard.press("ArrowLeft")
    assert _focused_id(page) == ids[0]
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#help").is_visible()
    page.goto(f"{_base(server)}/similar")
    rows = page.locator("section.row")
    if rows.count() > 1:
        page.keyboard.press("ArrowDown")
        assert _focused_id(page) == int(rows.nth(1).locator("article.card").first.get_attribute("data-id"))


def test_keeper_swap_rating_and_crop_go_to_the_sidecars_and_move_and_run_honour_them(
    page, server: ReviewServer, analysed: tuple[Path, Path]
) -> None:
    root, cache = analysed
    model = server.session.model
    group = model.rows["dupes"][0]
    old_keeper = model.items[group.best]
    new_keeper = next(model.items[i] for i in group.members if i != group.best)

    page.goto(f"{_base(server)}/dupes")
    _focus(page, new_keeper.id)
    page.keyboard.press("Shift+K")
    _wait_card(page, new_keeper.id, ".badge.chosen")
    page.keyboard.press("4")
    _wait_card(page, new_keeper.id, '.rating[aria-label="rating 4"]')

    cropped = next(i for i in model.items if len(i.proposals) > 1 and i.path.suffix.lower() == ".jpg")
    page.goto(f"{_base(server)}/crops?folder={cropped.folder}")
    _focus(page, cropped.id)
    page.keyboard.press("v")  # show the second proposal
    card = page.locator(f'article.card[data-id="{cropped.id}"]')
    assert card.locator(".crop-box.shown").get_attribute("data-index") == "1"
    page.wait_for_function(  # measured once the preview is there and laid out
        f"() => {{ const i = document.querySelector('article.card[data-id=\"{cropped.id}\"] img');"
        " return i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 50; }", timeout=30000)
    box, picture = card.locator(".crop-box.shown").bounding_box(), card.locator("img").bounding_box()
    shown = cropped.proposals[1].crs  # drawn over the picture at its place (orientation 1 here)
    assert box is not None and picture is not None
    assert abs(box["width"] / picture["width"] - (shown.right - shown.left)) < 0.03
    assert abs((box["x"] - picture["x"]) / picture["width"] - shown.left) < 0.03
    page.keyboard.press("c")
    _wait_card(page, cropped.id, ".crop-current")
    assert not page.locator("#error").is_visible()

    tags = _sidecar_tags(new_keeper.path.with_suffix(".xmp"))
    assert tags["XMP-xmpcull:ReviewKeep"] == "keeper" and tags["XMP-xmp:Rating"] == 4
    assert "XMP-xmpcull:RatingSet" not in tags  # the person's rating, not ours
    tags = _sidecar_tags(cropped.path.with_suffix(".xmp"))
    chosen = cropped.proposals[1].crs
    assert tags["XMP-crs:HasCrop"] is True
    assert [round(tags[f"XMP-crs:Crop{e}"], 5) for e in ("Left", "Top", "Right", "Bottom")] == \
        [round(v, 5) for v in (chosen.left, chosen.top, chosen.right, chosen.bottom)]

    report = root / ".xmpcull" / "report.json"
    moved = subprocess.run([sys.executable, "-m", "xmpcull.cli.main", "move", "--report", str(report), "--dry-run", "--json"],
                           capture_output=True, check=False, text=True)
    assert moved.returncode == 0, moved.stderr
    planned = {o["source"] for o in json.loads(moved.stdout)["outcomes"] if o["status"] == "planned"}
    assert str(old_keeper.path) in planned and str(new_keeper.path) not in planned

    run_on(root, cache)  # a later run keeps the person's keeper and rating
    tags = _sidecar_tags(new_keeper.path.with_suffix(".xmp"))
    assert tags["XMP-xmpcull:DupRole"] == "keeper" and tags["XMP-xmp:Rating"] == 4
    assert _sidecar_tags(old_keeper.path.with_suffix(".xmp"))["XMP-xmpcull:DupRole"] == "duplicate"
    crop_tags = _sidecar_tags(cropped.path.with_suffix(".xmp"))
    assert round(crop_tags["XMP-crs:CropLeft"], 5) == round(chosen.left, 5)


def test_undo_puts_the_last_decision_back(page, server: ReviewServer) -> None:
    item = next(i for i in server.session.model.items if i.path.name == "portrait.jpg")
    page.goto(f"{_base(server)}/all")
    _focus(page, item.id)
    page.keyboard.press("8")
    _wait_card(page, item.id, ".label-green")
    assert _sidecar_tags(item.path.with_suffix(".xmp"))["XMP-xmp:Label"] == "Green"
    page.keyboard.press("u")
    page.wait_for_selector(f'article.card[data-id="{item.id}"]:not(:has(.label-green))', timeout=15000)
    assert "XMP-xmp:Label" not in _sidecar_tags(item.path.with_suffix(".xmp"))


def test_a_decision_that_cannot_be_written_shows_an_error_and_changes_nothing(page, server: ReviewServer) -> None:
    item = next(i for i in server.session.model.items if i.path.name == "iphone_hdr_NO.jpg")
    sidecar = item.path.with_suffix(".xmp")
    before = sidecar.read_bytes()
    sidecar.chmod(0o444)
    try:
        page.goto(f"{_base(server)}/all")
        _focus(page, item.id)
        stars = page.locator(f'article.card[data-id="{item.id}"] .rating').get_attribute("aria-label")
        page.keyboard.press("5")
        page.wait_for_selector("#error:not([hidden])", timeout=15000)
        assert "not written" in page.locator("#error").inner_text()
        assert page.locator(f'article.card[data-id="{item.id}"] .rating').get_attribute("aria-label") == stars
        assert sidecar.read_bytes() == before
    finally:
        sidecar.chmod(0o644)
