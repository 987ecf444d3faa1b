"""Process pools after OpenCV has run threaded in the parent (a run's duplicate stage does)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES

_PARENT_THEN_POOL = """
import sys
import cv2, numpy as np
from xmpcull.group.geometry import keypoints_of
from xmpcull.parallel import bounded_map, fork_pool
cv2.setNumThreads(2)
grey = cv2.resize(cv2.imread(sys.argv[1], cv2.IMREAD_GRAYSCALE), (384, 256))
keypoints_of(grey)  # what the duplicate stage's pixel check runs in the parent

def init():  # what the crop stage's workers do first
    cv2.setNumThreads(1)

def blur(n):
    return float(cv2.GaussianBlur(grey[:n, :n], (5, 5), 0).mean())

with fork_pool(2, init) as pool:
    print(len(list(bounded_map(pool, blur, [100, 150, 200, 250], 2))))
"""


def test_a_pool_forked_after_threaded_opencv_work_does_not_hang() -> None:
    photo = str(FIXTURES / "photos" / "mongolels.jpg")
    proc = subprocess.run([sys.executable, "-c", _PARENT_THEN_POOL, photo], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "4"


def test_run_with_two_workers_finds_a_cropped_copy_by_default(cropped_copy_tree: Path) -> None:
    # The crop search decodes and matches keypoints in the main process, then the crop
    # stage forks its workers: this hung before the pool reset OpenCV's threads.
    root = cropped_copy_tree
    proc = subprocess.run(
        [sys.executable, "-m", "xmpcull.cli.main", "run", str(root), "--jobs", "2", "--no-cache", "--no-write", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"duplicate_groups": 1' in proc.stdout and '"crop_search": true' in proc.stdout
