"""Render the review pages (Jinja2): the same templates serve the live app and the ``--static`` folder.

A page lists at most ``PAGE_ROWS[view]`` rows (groups, bursts, sets or single
images), so a 50,000-image shoot renders as many small pages, never one huge one;
previews load lazily, after the page has painted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import jinja2

from xmpcull.crop.geometry import crs_to_display_fractions
from xmpcull.models import CropEdges
from xmpcull.review.model import FACETS, LABELS, NO_VALUE, VIEW_TITLES, VIEWS, Item, ReviewModel, Row

PAGE_ROWS = {"queue": 60, "dupes": 20, "bursts": 15, "similar": 20, "crops": 24, "all": 60}
FILTERS = FACETS


class Urls(Protocol):
    def page(self, view: str, page: int, filters: Mapping[str, str]) -> str: ...
    def preview(self, item_id: int, size: str) -> str: ...
    def static(self, name: str) -> str: ...


class LiveUrls:
    def page(self, view: str, page: int, filters: Mapping[str, str]) -> str:
        query = {k: v for k, v in filters.items() if v}
        if page > 1:
            query["page"] = str(page)
        return f"/{view}" + (f"?{urlencode(query)}" if query else "")

    def preview(self, item_id: int, size: str) -> str:
        return f"/preview/{item_id}/{size}"

    def static(self, name: str) -> str:
        return f"/static/{name}"


class StaticUrls:
    """Relative links inside an exported folder (no filters: it is a plain set of files)."""

    def page(self, view: str, page: int, filters: Mapping[str, str]) -> str:
        return page_file(view, page)

    def preview(self, item_id: int, size: str) -> str:
        return f"previews/{item_id}-{size}.jpg"

    def static(self, name: str) -> str:
        return f"static/{name}"


def page_file(view: str, page: int) -> str:
    if view == "queue" and page == 1:
        return "index.html"
    return f"{view}.html" if page == 1 else f"{view}-{page}.html"


@dataclass
class PageRequest:
    view: str = "queue"
    page: int = 1
    filters: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, view: str, query: Mapping[str, str]) -> PageRequest:
        try:
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            page = 1
        filters = {name: str(query[name]) for name in FILTERS if query.get(name)}
        return cls(view if view in VIEWS else "queue", page, filters)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("xmpcull.review", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["filesize"] = _filesize
    return env


def matches(item: Item, filters: Mapping[str, str]) -> bool:
    for name, wanted in filters.items():
        if name == "decision" and item.decision != wanted and not (wanted == "reviewed" and item.reviewed):
            return False
        if name == "label" and (item.label or NO_VALUE) != wanted:
            return False
        if name == "rating" and str(item.rating or 0) != wanted:
            return False
        if name == "folder" and not (item.folder == wanted or item.folder.startswith(wanted + "/")):
            return False
    return True


def filtered_rows(model: ReviewModel, request: PageRequest) -> list[Row]:
    rows = model.rows[request.view]
    if not request.filters:
        return rows
    return [r for r in rows if any(matches(model.items[i], request.filters) for i in r.members)]


class Renderer:
    def __init__(self, model: ReviewModel, urls: Urls, *, read_only: bool, token: str = "",
                 orientation: Callable[[Path], int] | None = None) -> None:
        self.model = model
        self.urls = urls
        self.read_only = read_only
        self.token = token
        self.orientation = orientation or (lambda _path: 1)  # path -> EXIF orientation
        self.env = environment()
        self._orientations: dict[int, int] = {}

    def page_count(self, request: PageRequest) -> int:
        return max(1, math.ceil(len(filtered_rows(self.model, request)) / PAGE_ROWS[request.view]))

    def render_page(self, request: PageRequest, *, refresh: bool = True) -> str:
        matching = filtered_rows(self.model, request)
        size = PAGE_ROWS[request.view]
        rows = matching[(request.page - 1) * size : request.page * size]
        members = [self.model.items[i] for r in rows for i in r.members]
        if refresh:
            self.model.refresh(members)
        pages = max(1, math.ceil(len(matching) / size))
        return self.env.get_template("page.html").render(
            view=request.view,
            views=[(v, VIEW_TITLES[v], len(self.model.rows[v])) for v in VIEWS],
            title=VIEW_TITLES[request.view],
            request=request,
            rows=[self._row(r, request.view) for r in rows],
            total=len(matching),
            page=request.page,
            pages=pages,
            prev_url=self.urls.page(request.view, request.page - 1, request.filters) if request.page > 1 else None,
            next_url=self.urls.page(request.view, request.page + 1, request.filters) if request.page < pages else None,
            counts=self.model.counts(),
            filters=request.filters,
            filter_names=FILTERS,
            labels=LABELS,
            urls=self.urls,
            read_only=self.read_only,
            token=self.token,
        )

    def render_card(self, item: Item, view: str) -> str:
        template = self.env.get_template("card.html")
        return template.render(card=self.card(item, None, view), urls=self.urls, read_only=self.read_only)

    def _row(self, row: Row, view: str) -> dict[str, Any]:
        return {
            "kind": row.kind, "id": row.id, "title": row.title, "note": row.note,
            "cards": [self.card(self.model.items[i], row, view) for i in row.members],
        }

    def card(self, item: Item, row: Row | None, view: str) -> dict[str, Any]:
        proposals = []
        overlays = view == "crops"
        for index, p in enumerate(item.proposals):
            proposals.append({
                "index": index, "aspect": p.aspect, "confidence": p.confidence, "applied": p.applied,
                "box": self._display_box(item, p.crs) if overlays else None,
            })
        crop = item.crop
        return {
            "id": item.id,
            "relpath": item.relpath,
            "name": item.path.name,
            "format": item.format,
            "bytes": item.bytes,
            "megapixels": item.megapixels,
            "width": item.width,
            "height": item.height,
            "quality": item.quality,
            "decision": item.decision,
            "reason": item.reason,
            "review_reasons": item.review_reasons,
            "dupe_role": item.dupe_role,
            "dupe_distance": item.dupe_distance,
            "in_group": item.dupe_group is not None,
            "marked": row is not None and row.best == item.id,
            "burst_best": item.burst_best,
            "rating": item.rating or 0,
            "label": item.label,
            "flag": item.flag,
            "keeps": item.keeps,
            "reviewed": item.reviewed,
            "proposals": proposals,
            "crop": self._display_box(item, crop) if overlays and crop is not None else None,
            "crop_declined": item.crop_declined,
            "view": view,
        }

    def _display_box(self, item: Item, edges: CropEdges) -> dict[str, float]:
        orientation = self._orientations.get(item.id)
        if orientation is None:
            orientation = self._orientations[item.id] = self.orientation(item.path)
        left, top, right, bottom = crs_to_display_fractions(edges, orientation)
        return {"left": left * 100, "top": top * 100, "width": (right - left) * 100, "height": (bottom - top) * 100}


def _filesize(value: int | None) -> str:
    if value is None:
        return "?"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"


def every_page(renderer: Renderer) -> Iterable[tuple[str, PageRequest]]:
    """(file name, request) for every page of every view: what ``--static`` writes."""
    for view in VIEWS:
        request = PageRequest(view)
        for page in range(1, renderer.page_count(request) + 1):
            yield page_file(view, page), PageRequest(view, page)
