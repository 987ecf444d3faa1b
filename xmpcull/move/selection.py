"""Which files the duplicate report (and the user's edited CSV) asks us to move, and which must stay.

The JSON report says what each file was (size, mtime, digest); the CSV, when
given, is the user's decision: a deleted row, or a row switched to ``keeper``,
means "leave this file where it is". A keeper chosen or a "keep both" made in
`xmpcull review` (recorded in the sidecars) outranks both (xmpcull/decide/person.py). Everything the report names but does not
select for moving is protected, so it is never dragged along as a companion.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xmpcull.decide.person import read_choices, roles_after_review
from xmpcull.errors import FileFailure, ReportError
from xmpcull.fsutil import real_paths
from xmpcull.report.reading import load_report_json, read_csv_roles


@dataclass(frozen=True)
class Expectation:
    """What the report recorded about a file; a file that no longer matches is not moved."""

    size: int
    mtime: float  # seconds, as in the report
    digest: str  # the content key analysis recorded (fsutil.content_key): full digest or head-tail key


@dataclass(frozen=True)
class Candidate:
    """A duplicate selected for moving."""

    path: Path
    root: Path
    relpath: str
    group_id: str
    expect: Expectation


@dataclass
class MoveSelection:
    roots: list[Path]
    candidates: list[Candidate]
    protected: frozenset[Path]  # keepers, similar-set and burst members, rows kept by the user
    staying_by_group: dict[str, list[Path]] = field(default_factory=dict)
    failures: list[FileFailure] = field(default_factory=list)


def _paths_in(value: Any) -> Iterator[Path]:
    """Every absolute path named anywhere in a similar-set/burst structure (its exact shape may grow)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("path", "keeper") and isinstance(item, str):
                yield Path(item)
            else:
                yield from _paths_in(item)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str) and os.path.isabs(item):
                yield Path(item)
            else:
                yield from _paths_in(item)


def _has_path(member: Any) -> bool:
    return isinstance(member, dict) and isinstance(member.get("path"), str)


def _expectation(member: dict[str, Any]) -> Expectation:
    return Expectation(size=int(member["bytes"]), mtime=float(member["mtime"]), digest=str(member["digest"]))


def report_roots(report_path: Path) -> list[Path]:
    return [Path(r) for r in load_report_json(report_path)["roots"]]


def check_report_roots(report_path: Path, roots: Iterable[Path], given: Iterable[Path] = ()) -> None:
    """Refuse a report naming a root it does not live under, unless the user named that root (``--root``).

    A report is a file that can come from anywhere; what it says about its roots
    decides where files are moved, so only a root that holds the report (a run
    writes ``<root>/.xmpcull/report.json``) or that the person typed is believed.
    """
    report_folders = Path(os.path.realpath(report_path)).parents
    trusted = set(real_paths(given))
    doubtful = [root for root in roots
                if Path(os.path.realpath(root)) not in trusted and Path(os.path.realpath(root)) not in report_folders]
    if doubtful:
        named = " ".join(f"--root {str(root)!r}" for root in doubtful)
        raise ReportError(f"the report names roots it does not lie under, so nothing was moved; if they are right, "
                          f"say so with {named}", doubtful)


def _protected_by(data: dict[str, Any]) -> set[Path]:
    """Similar-set and burst frames (with their companions) named in a report: they never move."""
    return set(_paths_in(data.get("similar_sets", []))) | set(_paths_in(data.get("bursts", [])))


def load_move_selection(report_path: Path, csv_path: Path | None = None,
                        burst_reports: Iterable[Path] = ()) -> MoveSelection:
    """Read the report (and CSV) into the list of files to move; raises ReportError on an unusable report.

    ``burst_reports`` are `xmpcull bursts` JSON reports: every frame they list is protected.
    """
    data = load_report_json(report_path)
    csv_roles = read_csv_roles(csv_path) if csv_path is not None else None
    protected = _protected_by(data)
    for burst_path in burst_reports:
        try:
            protected |= _protected_by(json.loads(Path(burst_path).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
            raise ReportError(f"cannot read the burst report ({exc})", [burst_path]) from exc
    selection = MoveSelection(roots=[Path(r) for r in data["roots"]], candidates=[], protected=frozenset())
    in_report: set[Path] = set()
    groups = data["groups"]
    choices = read_choices((Path(m["path"]), ()) for g in groups for m in g.get("members", []) if _has_path(m))
    for group in groups:
        group_id = str(group.get("id"))
        wanted: list[Candidate] = []
        staying: list[Path] = []
        listed: list[tuple[dict[str, Any], Path, str | None]] = []
        for member in group.get("members", []):
            try:
                path = Path(member["path"])
                role = member.get("role")
                if csv_roles is not None:
                    role = csv_roles.get(path)  # None: the user deleted the row
                in_report.add(path)
                listed.append((member, path, role))
            except (KeyError, TypeError, ValueError) as exc:
                selection.failures.append(FileFailure(str(member.get("path", "?")), "move",
                                                      f"malformed report member ({exc!r})"))
        # What the person decided in `xmpcull review` (their sidecars) outranks report and CSV roles.
        reviewed = roles_after_review([(path, role) for _, path, role in listed if role is not None], choices)
        for member, path, role in listed:
            role = reviewed.get(path, role)
            try:
                if role == "duplicate":
                    wanted.append(Candidate(path, Path(member["root"]), str(member["relpath"]), group_id,
                                            _expectation(member)))
                else:
                    staying.append(path)
            except (KeyError, TypeError, ValueError) as exc:
                selection.failures.append(FileFailure(str(path), "move", f"malformed report member ({exc!r})"))
        keeper = Path(group["keeper"]) if group.get("keeper") else None
        if keeper is not None and reviewed.get(keeper, "keeper") != "duplicate" and (
                csv_roles is None or csv_roles.get(keeper) != "duplicate"):
            staying.append(keeper)
        protected.update(staying)
        selection.staying_by_group[group_id] = staying
        selection.candidates.extend(wanted)
    if csv_roles is not None:
        for path, role in csv_roles.items():
            if path not in in_report and role == "duplicate":
                selection.failures.append(FileFailure(str(path), "move", "CSV row is not in the JSON report; not moved"))
    selection.protected = frozenset(protected)
    return selection
