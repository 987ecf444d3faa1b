"""Write one benchmark's section of bench/RESULTS.md, leaving the others alone."""

from __future__ import annotations

import re
from pathlib import Path


def replace_section(results: Path, heading: str, body: str) -> None:
    text = results.read_text() if results.exists() else "# Benchmark results\n\nEach section is owned by the part it measures.\n"
    section = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip() + "\n\n" + section
    results.write_text(text.rstrip() + "\n")


def publish(results: Path, heading: str, body: str, write: bool) -> None:
    """Print a benchmark's section; with ``write``, also put it into bench/RESULTS.md."""
    print(body)
    if write:
        replace_section(results, heading, body)
