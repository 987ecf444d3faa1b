"""The ``xmpcull`` command: a thin layer over the library.

Each subcommand lives in its own module; this one only assembles them and maps
errors to exit codes (see ``xmpcull.errors.ExitCode``).
"""

from __future__ import annotations

import logging
import sys

import click

from xmpcull import __version__
from xmpcull.cli.analyze import analyze, show
from xmpcull.cli.bursts import bursts
from xmpcull.cli.config_cmd import config
from xmpcull.cli.crops import crops
from xmpcull.cli.dupes import dupes
from xmpcull.cli.move import move, undo
from xmpcull.cli.review import review
from xmpcull.cli.run import run
from xmpcull.errors import ExitCode, XmpcullError
from xmpcull.sidecar import exiftool_config_path


class WholeSummaries(click.Group):
    """Lists every command with its whole first sentence, wrapped, where click would cut it
    with "..." at the terminal's width (the summary is how a new user picks a command)."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=WholeSummaries, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="xmpcull")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Cull large photo sets: duplicates, bursts, quality, crops - written into XMP sidecars.

    Reports and sidecars come first; files are only moved by the explicit,
    reversible `move` command. Nothing is ever deleted.

    Exit codes: 0 all good, 1 some files failed (reported, skipped), 2 usage error,
    3 could not run.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@click.command("exiftool-config")
def exiftool_config() -> None:
    """Print the path of the ExifTool config that defines the xmpcull namespace.

    Use it as: exiftool -config "$(xmpcull exiftool-config)" -XMP-xmpcull:all FILE.xmp
    """
    click.echo(str(exiftool_config_path()))


cli.add_command(analyze)
cli.add_command(show)
cli.add_command(exiftool_config)
cli.add_command(bursts)
cli.add_command(config)
cli.add_command(crops)
cli.add_command(dupes)
cli.add_command(move)
cli.add_command(review)
cli.add_command(undo)
cli.add_command(run)


def main() -> None:
    debug = "--debug" in sys.argv
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except XmpcullError as exc:
        if debug:
            raise
        click.echo(f"xmpcull: error: {exc}", err=True)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(int(ExitCode.OK))


if __name__ == "__main__":
    main()
