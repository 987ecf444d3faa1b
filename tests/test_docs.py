"""Every command and option a user can type is documented (README and docs/cli.md)."""

from pathlib import Path

import click
import pytest

from xmpcull.cli.main import all_commands

ROOT = Path(__file__).resolve().parent.parent
CLI_DOC = (ROOT / "docs/cli.md").read_text()
README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(all_commands()))
def test_every_command_has_a_section_and_a_readme_row(name: str) -> None:
    assert f"## `xmpcull {name}" in CLI_DOC
    assert f"`xmpcull {name}" in README


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (name, opt)
        for name, command in sorted(all_commands().items())
        for param in command.params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--") and opt not in ("--help",)
    ],
)
def test_every_long_option_is_documented(command: str, option: str) -> None:
    # Options shared by all commands (--json, --jobs, --cache, ...) are documented once at the top.
    assert option in CLI_DOC, f"{option} of `xmpcull {command}` is not in docs/cli.md"


def test_readme_names_the_two_setup_commands() -> None:
    assert "make demo" in README and "make test" in README
    makefile = (ROOT / "Makefile").read_text()
    assert "\ndemo:" in makefile and "\ntest:" in makefile
    assert "make test" in (ROOT / ".ci/run").read_text()
