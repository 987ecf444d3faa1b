"""`xmpcull --help` lists every command with its whole summary, at any terminal width."""

from __future__ import annotations

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
