"""``xmpcull review --static OUT/``: the same pages as plain files, to look at later or share.

OUT/index.html is the needs-review queue; every view and page is a file beside it,
previews are copied into OUT/previews/, the CSS and JS into OUT/static/. Nothing
refers to the photo folders or the network, and no decision can be made from it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from xmpcull.errors import FileFailure, XmpcullError
from xmpcull.review.model import ReviewModel, inside_roots
from xmpcull.review.pages import Renderer, StaticUrls, every_page
from xmpcull.review.previews import PreviewMaker

STATIC_DIR = Path(__file__).with_name("static")
EXPORT_SIZES = ("thumb", "big")


@dataclass
class ExportResult:
    out: Path
    pages: int = 0
    previews: int = 0
    failures: list[FileFailure] = field(default_factory=list)


def export_static(model: ReviewModel, previews: PreviewMaker, out: Path) -> ExportResult:
    """Write every page and the previews they show into ``out`` (created; existing files replaced)."""
    out = Path(out)
    try:
        (out / "previews").mkdir(parents=True, exist_ok=True)
        shutil.copytree(STATIC_DIR, out / "static", dirs_exist_ok=True)
    except OSError as exc:
        raise XmpcullError(f"cannot write the static folder ({exc.strerror or exc})", [out]) from exc
    result = ExportResult(out)
    model.refresh(model.items)
    renderer = Renderer(model, StaticUrls(), read_only=True, orientation=previews.orientation)
    for name, request in every_page(renderer):
        (out / name).write_text(renderer.render_page(request, refresh=False), encoding="utf-8")
        result.pages += 1
    futures = []
    for item in model.items:
        if not inside_roots(item.path, model.roots):
            result.failures.append(FileFailure(str(item.path), "review", "not inside the roots; no preview"))
            continue
        for size in EXPORT_SIZES:
            try:
                futures.append((item, size, previews.submit(item.path, size)))
            except OSError as exc:
                result.failures.append(FileFailure(str(item.path), "review", exc.strerror or str(exc)))
    for item, size, future in futures:
        try:
            (out / "previews" / f"{item.id}-{size}.jpg").write_bytes(future.result())
            result.previews += 1
        except (XmpcullError, OSError) as exc:
            reason = exc.reason if isinstance(exc, XmpcullError) else (exc.strerror or str(exc))
            if size == "thumb":
                result.failures.append(FileFailure(str(item.path), "review", f"no preview: {reason}"))
    return result
