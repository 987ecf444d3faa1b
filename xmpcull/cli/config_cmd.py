"""``xmpcull config``: print the shipped default configuration or the effective one."""

from __future__ import annotations

from pathlib import Path

import click

from xmpcull.cli.common import emit_json
from xmpcull.config import default_config_text, load_config


@click.command("config")
@click.option("--default", "show_default", is_flag=True, help="Print the commented default file shipped with xmpcull.")
@click.option("--show", is_flag=True, help="Print the effective configuration (default file + --config FILE). The default action.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Your TOML file, merged over the defaults.",
)
@click.option("--json", "as_json", is_flag=True, help="With --show: print the configuration as JSON.")
def config(show_default: bool, show: bool, config_path: Path | None, as_json: bool) -> None:
    """Print the configuration.

    `xmpcull config --default > xmpcull.toml` gives a commented file to edit;
    `xmpcull config --show --config xmpcull.toml` checks it (unknown keys and
    wrong types are errors, exit code 2) and prints what a run would use.
    """
    if show_default and (show or config_path is not None):
        raise click.UsageError("--default prints the shipped file; it cannot be combined with --show or --config")
    if show_default:
        click.echo(default_config_text(), nl=False)
        return
    effective = load_config(config_path)
    if as_json:
        emit_json({"sources": list(effective.sources), "config": effective.data})
        return
    click.echo("# effective xmpcull configuration, merged from: " + ", ".join(effective.sources))
    click.echo(effective.to_toml(), nl=False)
