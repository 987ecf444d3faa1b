"""Shared test helpers: where the real fixture photos are, and a way to copy them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


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
