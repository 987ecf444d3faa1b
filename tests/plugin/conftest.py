"""Fixtures for the Lightroom plug-in tests (see harness.py)."""

from __future__ import annotations

import pytest

from tests.plugin.harness import FakeLightroom


@pytest.fixture
def lightroom() -> FakeLightroom:
    return FakeLightroom()
