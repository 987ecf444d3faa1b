"""Shared test helpers: where the real fixture photos are, and a way to copy them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(autouse=True)
def _no_personal_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command reads ~/.config/xmpcull/config.toml: tests (and the CLIs they start) get an empty one."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def photo_tree(tmp_path: Path) -> Path:
    """A writable copy of a few real photos in two folders."""
    root = tmp_path / "shoot"
    (root / "day1").mkdir(parents=True)
    (root / "day2").mkdir()
    shutil.copy(FIXTURES / "photos" / "mongolels.jpg", root / "day1" / "dunes.jpg")
    shutil.copy(FIXTURES / "photos" / "T-45A_Goshawk_03_1600px.jpg", root / "day1" / "jet.jpg")
    shutil.copy(FIXTURES / "camera" / "iphone_hdr_NO.jpg", root / "day2" / "flowers.jpg")
    shutil.copy(FIXTURES / "orientation" / "Portrait_6.jpg", root / "day2" / "portrait.jpg")
    return root


@pytest.fixture
def cropped_copy_tree(tmp_path: Path) -> Path:
    """A photo, an export of it with 6 % off the left and 5 % off the bottom (plain pHash
    loses such a copy), and an unrelated photo."""
    from PIL import Image, ImageOps

    root = tmp_path / "lib"
    root.mkdir()
    with Image.open(FIXTURES / "photos" / "mongolels.jpg") as im:
        shown = ImageOps.exif_transpose(im).convert("RGB")
    w, h = shown.size
    shown.save(root / "dunes.jpg", quality=90)
    shown.crop((int(w * 0.06), 0, w, int(h * 0.95))).save(root / "dunes_export.jpg", quality=85)
    shutil.copy2(FIXTURES / "photos" / "portrait.jpg", root / "portrait.jpg")
    return root
