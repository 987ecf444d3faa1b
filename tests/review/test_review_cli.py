"""`xmpcull review` as a user starts it: prints the URL, serves it, stops on Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from click.testing import CliRunner

from xmpcull.cli.main import cli


def test_review_serves_the_printed_url_and_stops_on_ctrl_c(analysed: tuple[Path, Path]) -> None:
    root, cache = analysed
    proc = subprocess.Popen(
        [sys.executable, "-m", "xmpcull.cli.main", "review", str(root), "--no-browser", "--json", "--cache", str(cache)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        text = ""
        while not text.rstrip().endswith("}"):  # one JSON object, printed before serving
            line = proc.stdout.readline()  # type: ignore[union-attr]
            assert line, proc.stderr.read()  # type: ignore[union-attr]
            text += line
        started = json.loads(text)
        assert started["url"].startswith("http://127.0.0.1:") and "?token=" in started["url"]
        with httpx.Client(follow_redirects=True, timeout=30) as client:
            page = client.get(started["url"])
        assert page.status_code == 200 and "Needs review" in page.text
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode in (0, -signal.SIGINT, 130)


def test_review_without_a_run_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["review", str(tmp_path), "--no-browser"])
    assert result.exit_code != 0
    assert "xmpcull run" in str(result.exception or result.output)
