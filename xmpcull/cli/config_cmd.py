"""``xmpcull config``: print the shipped default configuration or the effective one, and where each value came from."""

from __future__ import annotations

from pathlib import Path

import click

from xmpcull.cli.common import SettingsRequest, config_option, emit_json
from xmpcull.config import default_config_text, root_config_path, user_config_path


@click.command("config")
@click.argument("roots", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--default", "show_default", is_flag=True, help="Print the commented default file shipped with xmpcull.")
@click.option("--show", is_flag=True, help="Print the effective configuration, each value with the file it came from. The default action.")
@config_option
@click.option("--json", "as_json", is_flag=True, help="With --show: print the configuration as JSON.")
def config(roots: tuple[Path, ...], show_default: bool, show: bool, config_path: Path | None, as_json: bool) -> None:
    """Print the configuration a command on ROOTS would use.

    Layers, later ones winning: the shipped defaults, your file
    (~/.config/xmpcull/config.toml), FIRST_ROOT/.xmpcull/config.toml, --config
    FILE, then command-line flags. `xmpcull config --default > xmpcull.toml` gives
    a commented file to edit; `xmpcull config --show ROOT --config xmpcull.toml`
    checks it (unknown keys and wrong types are errors, exit code 2) and prints
    every value with its source.
    """
    if show_default and (show or config_path is not None or roots):
        raise click.UsageError("--default prints the shipped file; it cannot be combined with --show, --config or ROOTS")
    if show_default:
        click.echo(default_config_text(), nl=False)
        return
    effective = SettingsRequest(config_path).load(roots)
    looked_up = [str(user_config_path())] + ([str(root_config_path(roots))] if roots else [])
    if as_json:
        emit_json({
            "sources": list(effective.sources),
            "looked_up": looked_up,
            "config": effective.data,
            "origins": dict(effective.origins),
        })
        return
    click.echo("# effective xmpcull configuration, merged from: " + ", ".join(effective.sources))
    click.echo("# looked for: " + ", ".join(looked_up) + (", and --config" if config_path is None else ""))
    click.echo(effective.to_toml(with_sources=True), nl=False)
