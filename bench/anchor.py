"""The anchor of a before/after: this bench's own measuring code run on another commit's xmpcull.

Why: on a shared machine two figures are comparable only when measured in the same
run. The bench scripts named here are copied over an export of the anchor commit
(``git archive``), so both sides run the same measurement and differ only in the
library; the anchor writes its figures as JSON for the caller to print beside its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def anchor_tree(ref: str, out: Path) -> tuple[Path, str]:
    """The anchor commit's tree exported under ``out`` (once), and its full hash."""
    commit = subprocess.run(["git", "rev-parse", ref], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    tree = out / f"anchor-{commit[:10]}"
    if not (tree / "xmpcull").is_dir():
        with tempfile.TemporaryDirectory() as scratch:
            archive = Path(scratch) / "anchor.tar"
            subprocess.run(["git", "archive", "--output", str(archive), commit], cwd=ROOT, check=True)
            with tarfile.open(archive) as tar:
                tar.extractall(tree, filter="data")
    return tree, commit


def run_on_anchor(tree: Path, scripts: list[str], argv: list[str]) -> dict:
    """Run ``scripts[0]`` (with the other bench modules it imports) on the anchor's code; its JSON figures."""
    for name in scripts:
        shutil.copy2(ROOT / "bench" / name, tree / "bench" / name)
    figures = tree / f"anchor-figures-{os.getpid()}.json"  # two benches may share one anchor tree
    figures.unlink(missing_ok=True)
    subprocess.run([sys.executable, str(tree / "bench" / scripts[0]), *argv, "--json-out", str(figures)], check=True)
    return json.loads(figures.read_text())
