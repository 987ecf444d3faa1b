"""The ``xmpcull`` command: a thin layer over the library.

Each subcommand lives in its own module; this one only assembles them and maps
errors to exit codes (see ``xmpcull.errors.ExitCode``).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
import sys
from pathlib import Path

import click

from xmpcull import __version__
from xmpcull.errors import ExitCode, XmpcullError
from xmpcull.sidecar.config import exiftool_config_path

# Each command's module, imported when the command runs: a re-run of `analyze` on a cached
# tree then never loads OpenCV, numpy or the XMP toolkit (their import was a third of it).
COMMAND_MODULES = {
    "analyze": "xmpcull.cli.analyze",
    "bursts": "xmpcull.cli.bursts",
    "config": "xmpcull.cli.config_cmd",
    "crops": "xmpcull.cli.crops",
    "dupes": "xmpcull.cli.dupes",
    "move": "xmpcull.cli.move",
    "review": "xmpcull.cli.review",
    "run": "xmpcull.cli.run",
    "show": "xmpcull.cli.analyze",
    "undo": "xmpcull.cli.move",
}


class WholeSummaries(click.Group):
    """Loads a command's module when the command is asked for (COMMAND_MODULES), and lists
    every command with its whole first sentence, wrapped, where click would cut it with "..."
    at the terminal's width (the summary is how a new user picks a command)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMAND_MODULES, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            module = importlib.import_module(COMMAND_MODULES[cmd_name])
            self.add_command(getattr(module, cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            summary = None if name in self.commands else _summary_from_source(name)
            if summary is not None:
                rows.append((name, summary))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


# What click.command takes from the decorator besides the docstring that could change a summary.
_SUMMARY_KEYWORDS = frozenset({"help", "short_help", "hidden", "deprecated", "cls"})


def _summary_from_source(name: str) -> str | None:
    """Command ``name``'s summary from its docstring in its module's source, as click makes it,
    without importing the module: the modules import most of xmpcull, and importing all of
    them for the listing made ``xmpcull --help`` take about 1 s. None when the source does not
    settle it (no .py file, or a decorator argument that changes the summary): then the
    command is imported."""
    spec = importlib.util.find_spec(COMMAND_MODULES[name])
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            for decorator in node.decorator_list:
                if (isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "click.command"
                        and not {k.arg for k in decorator.keywords} & _SUMMARY_KEYWORDS):
                    doc = ast.get_docstring(node, clean=False)
                    return click.Command(name, help=doc).get_short_help_str(limit=10_000) if doc else None
    return None


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


cli.add_command(exiftool_config)


def all_commands() -> dict[str, click.Command]:
    """Every command by name, each module imported (for tests and documentation checks)."""
    with click.Context(cli) as ctx:
        return {name: command for name in cli.list_commands(ctx) if (command := cli.get_command(ctx, name))}


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
