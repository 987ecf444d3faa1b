"""A small real shoot, analysed by a real `run`, served by a real review server on 127.0.0.1."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from xmpcull.config import load_config
from xmpcull.review.model import ReviewModel, load_model
from xmpcull.review.server import ReviewServer, ReviewSession
from xmpcull.run import RunOptions, run_pipeline

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SHOOT = {
    "waterfall": [FIXTURES / "orientation" / f"Landscape_{n}.jpg" for n in (1, 3, 6)],
    "flowers": [FIXTURES / "camera" / "iphone_hdr_NO.jpg", FIXTURES / "camera" / "iphone_hdr_YES.jpg"],
    "misc": [FIXTURES / "photos" / "portrait.jpg", FIXTURES / "raw" / "Canon-R6-pruned.CR3"],
}


def make_shoot(base: Path) -> Path:
    root = base / "shoot"
    for folder, files in SHOOT.items():
        (root / folder).mkdir(parents=True)
        for source in files:
            shutil.copy2(source, root / folder / source.name)
    return root


def run_on(root: Path, cache: Path) -> None:
    config = load_config(None, {})
    run_pipeline([root], RunOptions(config=config, write_options=config.write_options, cache_path=cache, jobs=1))


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("review")
    root = make_shoot(base)
    cache = base / "cache" / "cache.sqlite"
    cache.parent.mkdir()
    run_on(root, cache)
    return root, cache


def serve(model: ReviewModel, cache_dir: Path) -> ReviewServer:
    config = load_config(None, {})
    server = ReviewServer(ReviewSession.create(model, cache_dir, config.write_options, workers=2))
    server.start_in_thread()
    return server


@pytest.fixture(scope="module")
def server(analysed: tuple[Path, Path]) -> Iterator[ReviewServer]:
    root, cache = analysed
    model = load_model(root / ".xmpcull" / "report.json")
    running = serve(model, cache.parent / "previews")
    yield running
    running.stop()
