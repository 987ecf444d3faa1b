"""`xmpcull --help` lists every command with its whole summary, at any terminal width."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.cli.helpers import run_cli
from xmpcull.cli.main import all_commands


@pytest.mark.parametrize("columns", [60, 80, 200])
def test_main_help_never_cuts_a_command_summary(columns: int) -> None:
    proc = run_cli("--help", env={"COLUMNS": str(columns)})
    assert proc.returncode == 0
    listing = proc.stdout.split("Commands:", 1)[1]
    assert "..." not in listing
    flat = " ".join(listing.split())
    for name, command in all_commands().items():
        summary = " ".join(command.get_short_help_str(limit=10_000).split())
        assert summary.endswith("."), name  # a whole sentence, not a cut one
        assert f"{name} {summary}" in flat, name
    assert all(len(line) <= max(columns, 60) for line in proc.stdout.splitlines() if line.strip())


def test_main_help_imports_no_command_module() -> None:
    # The summaries come from the commands' docstrings in their source: the command
    # modules (which import most of xmpcull) stay unloaded, so --help is quick.
    script = (
        "import atexit, sys\n"
        "from xmpcull.cli.main import COMMAND_MODULES, main\n"
        "atexit.register(lambda: print(sorted(m for m in {*COMMAND_MODULES.values(), 'numpy', 'cv2'} if m in sys.modules)))\n"
        "sys.argv = ['xmpcull', '--help']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Commands:" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"
