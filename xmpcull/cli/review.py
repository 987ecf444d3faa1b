"""``xmpcull review``: look at the groups and decide in the browser (or write a read-only folder)."""

from __future__ import annotations

import os
import webbrowser
from dataclasses import replace
from pathlib import Path

import click
import platformdirs

from xmpcull.cli.common import (
    SettingsRequest,
    analysis_options,
    config_option,
    emit_json,
    finish,
    output_options,
    print_failures,
    resolve_cache,
    roots_argument,
)
from xmpcull.errors import ConfigError
from xmpcull.run import report_dir_for


@click.command("review")
@roots_argument
@config_option
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), help="Where `run` wrote report.json (default: FIRST_ROOT/.xmpcull).")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Port on 127.0.0.1 (0: a free one).")
@click.option("--no-browser", is_flag=True, help="Only print the URL; do not open the default browser.")
@click.option("--static", "static_out", type=click.Path(file_okay=False, path_type=Path),
              help="Write the views as a read-only folder (OUT/index.html + previews) instead of serving.")
@analysis_options
@output_options
def review(roots: tuple[Path, ...], config_path: Path | None, report_dir: Path | None, port: int, no_browser: bool,
           static_out: Path | None, jobs: int | None, cache_path: Path | None, no_cache: bool, as_json: bool,
           quiet: bool) -> None:
    """Look at the latest `run` of ROOTS in the browser and decide: every decision is written
    to the file's sidecar at once and outranks every later `run`; `move` honours a changed
    keeper and a "keep both".

    Serves on 127.0.0.1 only, with a random token in the printed URL; Ctrl-C stops it.
    Previews are made on demand and kept in the cache folder, never beside the photos.
    """
    # The web stack is imported only for this command: the others start without it.
    from xmpcull.review.model import load_model
    from xmpcull.review.server import ReviewServer, ReviewSession
    from xmpcull.review.static_export import export_static

    absolute = tuple(Path(os.path.abspath(r)) for r in roots)
    config = SettingsRequest(config_path).load(absolute)
    report = report_dir_for(absolute, report_dir) / "report.json"
    if not report.exists():
        raise ConfigError(f"no report at {report}: run `xmpcull run {' '.join(map(str, roots))}` first")
    model = load_model(report, config.write_options.naming)
    model.roots = absolute  # only files under the roots given here are ever shown
    cache = resolve_cache(cache_path, no_cache)
    preview_dir = (cache.parent if cache else Path(platformdirs.user_cache_dir("xmpcull"))) / "previews"
    options = replace(config.write_options, dry_run=False, embed=False)
    session = ReviewSession.create(model, preview_dir, options, workers=jobs)
    if static_out is not None:
        result = export_static(model, session.previews, static_out)
        session.previews.close()
        if as_json:
            emit_json({"static": str(result.out), "pages": result.pages, "previews": result.previews,
                       "errors": [f.to_dict() for f in result.failures]})
        else:
            click.echo(f"wrote {result.pages} page(s) and {result.previews} preview(s): {result.out / 'index.html'}")
            print_failures(result.failures)
        finish(result.failures)
        return
    server = ReviewServer(session, port)
    model.refresh_all_in_background()
    session.previews.warm_up()
    if as_json:
        emit_json({"url": server.url, "images": len(model.items)})
    else:
        click.echo(f"xmpcull review: {len(model.items)} image(s) from {report}")
        click.echo(f"open {server.url}   (Ctrl-C stops)")
    if not no_browser:
        webbrowser.open(server.url)
    server.serve()
