"""What the review pages show: the latest run's report, joined with what the sidecars say now.

The report (``.xmpcull/report.json``) gives the groups, bursts, similar sets, crop
proposals and why each file was flagged; it loads in a few seconds even for
50,000 images. The sidecars give what is true *now* (the user's rating and label,
earlier review decisions): they are read only for the items a page shows, and
remembered by the sidecar's size and mtime, so first paint never waits for
50,000 XMP parses.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xmpcull.errors import ReportError, XmpcullError
from xmpcull.fsutil import is_inside, real_paths
from xmpcull.models import CropEdges
from xmpcull.report.reading import load_report_json
from xmpcull.sidecar import NO_CROP, ReviewFields, SidecarState, read_sidecar, sidecar_path_for
from xmpcull.sidecar.memo import file_signature

VIEWS = ("queue", "dupes", "bursts", "similar", "crops", "all")
VIEW_TITLES = {
    "queue": "Needs review",
    "dupes": "Duplicates",
    "bursts": "Bursts",
    "similar": "Similar sets",
    "crops": "Crops",
    "all": "All images",
}
# Exempi is used from the page handlers, the background reader and the decision writer:
# one parse or write at a time keeps the C library out of concurrent use.
XMP_LOCK = threading.Lock()
LABELS = ("Red", "Yellow", "Green", "Blue", "Purple")  # Lightroom's default label set; keys 6-9 set the first four


@dataclass(frozen=True)
class Proposal:
    aspect: str
    crs: CropEdges  # Camera Raw edges, stored frame
    confidence: float
    applied: bool


@dataclass
class Item:
    """One image file as the pages show it."""

    id: int
    path: Path
    relpath: str
    root: Path
    decision: str = "ok"
    reason: str = ""
    review_reasons: tuple[str, ...] = ()
    quality: float | None = None
    width: int | None = None
    height: int | None = None
    bytes: int | None = None
    dupe_group: str | None = None
    dupe_role: str | None = None
    dupe_distance: int | None = None
    burst_id: str | None = None
    burst_best: bool = False
    similar_set: str | None = None
    proposal_data: tuple[dict[str, Any], ...] = field(default=(), repr=False)  # as in the report
    # What the sidecar says now (filled in lazily; the report's proposals until then).
    rating: int | None = None
    label: str | None = None
    crop: CropEdges | None = None
    review: ReviewFields | None = None
    sidecar_signature: str | None = field(default=None, repr=False)
    folder: str = ""  # the relpath's folder ("" at the root)
    _proposals: tuple[Proposal, ...] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.folder = self.relpath.rpartition("/")[0]  # relpaths are POSIX; plain string work keeps 50,000 cheap

    @property
    def proposals(self) -> tuple[Proposal, ...]:
        # Parsed when a page shows the item: 150,000 proposals would cost seconds at start.
        if self._proposals is None:
            self._proposals = tuple(_proposals(self.proposal_data))
        return self._proposals

    @property
    def best_confidence(self) -> float:
        return max((float(p.get("confidence") or 0.0) for p in self.proposal_data), default=0.0)

    @property
    def format(self) -> str:
        return self.path.suffix.lstrip(".").upper()

    @property
    def megapixels(self) -> float | None:
        return None if not self.width or not self.height else self.width * self.height / 1e6

    @property
    def keeps(self) -> str | None:
        """The person's staying choice: 'keeper', 'keep' or None."""
        if self.review is None:
            return None
        return self.review.keep or ("keep" if self.review.flag == "pick" else None)

    @property
    def flag(self) -> str | None:
        return self.review.flag if self.review else None

    @property
    def reviewed(self) -> bool:
        return self.review is not None

    @property
    def person_crop(self) -> CropEdges | None | object:
        return self.review.crop if self.review else None

    @property
    def crop_declined(self) -> bool:
        return self.review is not None and self.review.crop is NO_CROP


@dataclass(frozen=True)
class Row:
    """One line of a page: a duplicate group, a burst, a similar set, or one image."""

    kind: str  # "group" | "burst" | "similar" | "item"
    id: str
    title: str
    note: str
    members: tuple[int, ...]  # item ids, in the order shown
    best: int | None = None  # the item the row marks (keeper, best frame)


@dataclass
class ReviewModel:
    roots: tuple[Path, ...]
    report_path: Path
    items: list[Item]
    rows: dict[str, list[Row]]
    naming: str = "adobe"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _counts: dict[str, Counter[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # Kept up to date item by item, so a page never counts 50,000 images to draw its menus.
        self._counts = {name: Counter() for name in FACETS}
        for item in self.items:
            self._count(item, 1)

    def counts(self) -> dict[str, Counter[str]]:
        """How many images have each decision, label, rating and top folder (a snapshot)."""
        with self._lock:
            return {name: Counter(counter) for name, counter in self._counts.items()}

    def _count(self, item: Item, step: int) -> None:
        for name, value in facets(item):
            self._counts[name][value] += step
            if not self._counts[name][value]:
                del self._counts[name][value]

    def item(self, item_id: int) -> Item:
        if not 0 <= item_id < len(self.items):
            raise KeyError(item_id)
        return self.items[item_id]

    def refresh(self, items: Iterable[Item]) -> list[tuple[Item, str]]:
        """Read the sidecars of ``items`` again where they changed; returns the unreadable ones with why."""
        problems = []
        for item in items:
            try:
                signature = file_signature(sidecar_path_for(item.path, (), self.naming))  # type: ignore[arg-type]
                if signature is not None and signature == item.sidecar_signature:
                    continue
                with XMP_LOCK:
                    state = read_sidecar(item.path, (), self.naming, include_embedded=False)  # type: ignore[arg-type]
            except XmpcullError as exc:
                problems.append((item, exc.reason))
                continue
            except OSError as exc:
                problems.append((item, exc.strerror or str(exc)))
                continue
            with self._lock:
                self._count(item, -1)
                apply_state(item, state)
                self._count(item, 1)
                item.sidecar_signature = signature
        return problems

    def refresh_all_in_background(self) -> threading.Thread:
        """Read every sidecar once, in the background, so filters on rating and label see them all."""
        thread = threading.Thread(target=lambda: self.refresh(list(self.items)), name="xmpcull-sidecars", daemon=True)
        thread.start()
        return thread


FACETS = ("decision", "label", "rating", "folder")
NO_VALUE = "(none)"


def facets(item: Item) -> Iterator[tuple[str, str]]:
    """The filter values of one item (an item counts under "reviewed" as well as under its decision)."""
    yield "decision", item.decision
    if item.reviewed:
        yield "decision", "reviewed"
    yield "label", item.label or NO_VALUE
    yield "rating", str(item.rating or 0)
    yield "folder", item.folder.split("/", 1)[0] if item.folder else ""


def apply_state(item: Item, state: SidecarState) -> None:
    item.rating = None if state.rating is None else int(state.rating)
    item.label = state.label
    item.crop = state.crop
    item.review = state.review


# --- building the model from a report ---------------------------------------


def load_model(report_path: Path, naming: str = "adobe") -> ReviewModel:
    """The model for the report at ``report_path`` (ReportError when it is not a run's report)."""
    data = load_report_json(report_path)
    if not isinstance(data.get("images"), list):
        raise ReportError("not a `xmpcull run` report (no 'images'): run `xmpcull run ROOT` first", [report_path])
    try:
        return _build(data, report_path, naming)
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(f"malformed run report ({exc!r})", [report_path]) from exc


class _Items:
    def __init__(self) -> None:
        self.items: list[Item] = []
        self.by_path: dict[str, Item] = {}
        self.roots: dict[str, Path] = {}

    def get(self, entry: dict[str, Any]) -> Item:
        key = str(entry["path"])
        found = self.by_path.get(key)
        if found is None:
            root = self.roots.get(str(entry["root"]))
            if root is None:
                root = self.roots[str(entry["root"])] = Path(entry["root"])
            found = Item(len(self.items), Path(key), str(entry["relpath"]), root)
            self.items.append(found)
            self.by_path[key] = found
        return found


def _build(data: dict[str, Any], report_path: Path, naming: str) -> ReviewModel:
    known = _Items()
    for image in data["images"]:
        item = known.get(image)
        item.decision = str(image.get("decision") or "ok")
        item.reason = str(image.get("reason") or "")
        item.review_reasons = tuple(image.get("review_reasons") or ())
        item.quality = image.get("quality")
        item.rating = image.get("rating")
        item.label = image.get("label")
        item.burst_id = image.get("burst_id")
        item.burst_best = bool(image.get("burst_best"))
        item.proposal_data = tuple(image.get("crop_proposals") or ())
    rows: dict[str, list[Row]] = {view: [] for view in VIEWS}
    for group in data["groups"]:
        members = []
        for entry in group["members"]:
            item = known.get(entry)
            item.dupe_group, item.dupe_role = str(group["id"]), str(entry.get("role"))
            item.dupe_distance = entry.get("distance")
            item.width, item.height, item.bytes = entry.get("width"), entry.get("height"), entry.get("bytes")
            members.append(item.id)
        keeper = known.by_path.get(str(group.get("keeper")))
        rows["dupes"].append(Row(
            "group", str(group["id"]), f"{group['kind']} duplicates", f"keeper: {group.get('keeper_reason') or '?'}",
            tuple(members), keeper.id if keeper else None,
        ))
    for burst in data.get("bursts") or ():
        members = [known.get(entry).id for entry in burst["members"]]
        best = known.by_path.get(str(burst.get("best")))
        for item_id in members:
            known.items[item_id].burst_id = str(burst["id"])
        rows["bursts"].append(Row(
            "burst", str(burst["id"]), f"burst of {len(members)} · {burst.get('camera') or 'unknown camera'}",
            f"best frame: {burst.get('best_reason') or '?'}", tuple(members), best.id if best else None,
        ))
    for similar in data.get("similar_sets") or ():
        members = []
        for entry in similar["members"]:
            item = known.get(entry)
            item.similar_set = str(similar["id"])
            members.append(item.id)
        # The set's own reason (which tier found it) when the report gives one.
        note = similar.get("reason") or similar.get("tier") or "same scene, another moment"
        rows["similar"].append(Row("similar", str(similar["id"]), f"similar set of {len(members)}", str(note),
                                   tuple(members)))
    _by_image(rows, known.items)
    return ReviewModel(
        roots=tuple(Path(r) for r in data["roots"]), report_path=report_path, items=known.items, rows=rows, naming=naming,
    )


def _by_image(rows: dict[str, list[Row]], items: Sequence[Item]) -> None:
    for item in items:
        if item.decision == "needs-review":
            rows["queue"].append(Row("item", str(item.id), item.relpath, "; ".join(item.review_reasons) or item.reason,
                                     (item.id,)))
        rows["all"].append(Row("item", str(item.id), item.relpath, item.reason, (item.id,)))
    # Weakest proposals first: those are the ones worth a look.
    with_crops = sorted((i for i in items if i.proposal_data), key=lambda i: (i.best_confidence, i.relpath))
    rows["crops"] = [Row("item", str(i.id), i.relpath, "crop proposals", (i.id,)) for i in with_crops]


def _proposals(entries: Iterable[dict[str, Any]]) -> Iterable[Proposal]:
    for entry in entries:
        crs = entry.get("crs") or {}
        try:
            edges = CropEdges(float(crs["left"]), float(crs["top"]), float(crs["right"]), float(crs["bottom"]))
        except (KeyError, TypeError, ValueError):
            continue
        yield Proposal(str(entry.get("aspect") or "?"), edges, float(entry.get("confidence") or 0.0),
                       bool(entry.get("applied")))


def inside_roots(path: Path, roots: Sequence[Path]) -> bool:
    """Whether ``path``, with every symlink resolved, lies inside one of the (resolved) roots."""
    return is_inside(path, real_paths(roots))
