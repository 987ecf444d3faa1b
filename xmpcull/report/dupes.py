"""The duplicate report: JSON (what ``move`` trusts), CSV (what people edit), imagededup mapping.

JSON shape (version 1)::

    {"version": 1, "roots": [...],
     "groups": [{"id", "kind", "keeper", "keeper_reason",
                 "members": [{"path", "relpath", "root", "role", "distance",
                              "width", "height", "bytes", "mtime", "digest"}]}],
     "similar_sets": [{"id", "reason", "best", "best_reason",
                       "members": [{"path", "relpath", "root", "role", "distance", "group", "digest",
                                    "why", "verdict", "inliers", "model", "changed", "cosine", "texture"}]}]}

Paths are absolute, ``relpath`` is relative to ``root``; ``bytes``, ``mtime``
(seconds) and ``digest`` let ``move`` refuse a file that changed since. The CSV
has one row per group member; deleting a row keeps that file out of any move.
When a CSV is given to ``read_dupe_report`` it decides which members remain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xmpcull.errors import ReportError
from xmpcull.group.dupes import DupeResult, SimilarMember
from xmpcull.models import ImageRecord
from xmpcull.report.reading import REPORT_VERSION, load_report_json, read_csv_roles
from xmpcull.report.writers import CsvWriter, write_json

CSV_COLUMNS = (
    "group_id", "kind", "role", "path", "relpath", "root", "distance",
    "width", "height", "bytes", "mtime", "digest", "keeper_reason",
)


def _file_fields(record: ImageRecord) -> dict[str, Any]:
    f = record.file
    return {"path": str(f.path), "relpath": f.relpath, "root": str(f.root)}


def _member_dict(record: ImageRecord, role: str, distance: int) -> dict[str, Any]:
    features = record.features
    assert features is not None
    return {
        **_file_fields(record),
        "role": role,
        "distance": distance,
        "width": features.width,
        "height": features.height,
        "bytes": record.file.size,
        "mtime": record.file.mtime_ns / 1e9,
        "digest": features.digest,
    }


def dupe_report(result: DupeResult, roots: Sequence[Path]) -> dict[str, Any]:
    """The JSON-ready report for ``result``."""
    return {
        "version": REPORT_VERSION,
        "roots": [str(r) for r in roots],
        "groups": [
            {
                "id": g.id,
                "kind": g.kind,
                "keeper": str(g.keeper.file.path),
                "keeper_reason": g.keeper_reason,
                "members": [_member_dict(m.record, m.role, m.distance) for m in g.members],
            }
            for g in result.groups
        ],
        "similar_sets": [
            {
                "id": s.id,
                "reason": s.reason,
                "best": str(s.best.file.path),
                "best_reason": s.best_reason,
                "members": [_similar_member_dict(m) for m in s.members],
            }
            for s in result.similar_sets
        ],
    }


def _similar_member_dict(member: SimilarMember) -> dict[str, Any]:
    """One member and why it belongs: pHash bits, the pixel verdict against the best, the cosine or texture that proposed it."""
    evidence = member.evidence
    match = evidence.match if evidence else None
    return {
        **_file_fields(member.record),
        "role": member.role,
        "distance": member.distance,
        "group": member.group_id,
        "digest": member.record.features.digest if member.record.features else None,
        "why": member.why,
        "verdict": match.verdict if match else None,
        "inliers": match.inliers if match else None,
        "model": (match.model or None) if match else None,
        "changed": round(match.changed, 4) if match and match.model == "homography" else None,
        "cosine": round(evidence.cosine, 4) if evidence and evidence.cosine is not None else None,
        "texture": round(evidence.texture, 4) if evidence and evidence.texture is not None else None,
    }


def csv_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for group in report["groups"]:
        for member in group["members"]:
            rows.append({
                "group_id": group["id"], "kind": group["kind"], "keeper_reason": group["keeper_reason"],
                **{k: member[k] for k in CSV_COLUMNS if k in member},
            })
    return rows


def imagededup_mapping(report: dict[str, Any], all_records: Iterable[ImageRecord] = ()) -> dict[str, list[str]]:
    """imagededup's ``find_duplicates`` output: {file: [its duplicates]}, every file a key.

    Names are relative paths when there is one root (as imagededup gives for its
    image_dir), absolute paths otherwise and for a member outside the roots (context
    of a subfolder run, group/outside.py).
    """
    single_root = report["roots"][0] if len(report["roots"]) == 1 else None

    def name(path: str, relpath: str, root: str) -> str:
        return relpath if root == single_root else path

    mapping: dict[str, list[str]] = {}
    for record in all_records:
        if record.ok:
            mapping[name(str(record.file.path), record.file.relpath, str(record.file.root))] = []
    for group in report["groups"]:
        names = [name(m["path"], m["relpath"], m["root"]) for m in group["members"]]
        for n in names:
            mapping[n] = sorted(o for o in names if o != n)
    return dict(sorted(mapping.items()))


def write_dupe_report(
    result: DupeResult,
    roots: Sequence[Path],
    json_path: Path,
    csv_path: Path | None = None,
    imagededup_path: Path | None = None,
    all_records: Iterable[ImageRecord] = (),
) -> dict[str, Any]:
    """Write the JSON report (and CSV / imagededup mapping when asked); returns the report."""
    report = dupe_report(result, roots)
    write_json(json_path, report)
    if csv_path is not None:
        CsvWriter(CSV_COLUMNS).write(csv_path, csv_rows(report))
    if imagededup_path is not None:
        write_json(imagededup_path, imagededup_mapping(report, all_records))
    return report


@dataclass(frozen=True)
class ReportMember:
    path: Path
    relpath: str
    root: Path
    role: str
    distance: int
    width: int
    height: int
    bytes: int
    mtime: float
    digest: str


@dataclass(frozen=True)
class ReportGroup:
    id: str
    kind: str
    keeper: Path
    keeper_reason: str
    members: tuple[ReportMember, ...]


@dataclass(frozen=True)
class DupeReport:
    version: int
    roots: tuple[Path, ...]
    groups: tuple[ReportGroup, ...]
    similar_sets: tuple[dict[str, Any], ...]


def read_dupe_report(json_path: Path, csv_path: Path | None = None) -> DupeReport:
    """The report as typed records; with a CSV, only members still listed there remain, with its roles."""
    data = load_report_json(json_path)
    roles = read_csv_roles(csv_path) if csv_path is not None else None
    groups = []
    try:
        for g in data["groups"]:
            members = []
            for m in g["members"]:
                member = ReportMember(
                    Path(m["path"]), str(m["relpath"]), Path(m["root"]), str(m["role"]), int(m["distance"]),
                    int(m["width"]), int(m["height"]), int(m["bytes"]), float(m["mtime"]), str(m["digest"]),
                )
                if roles is not None:
                    if member.path not in roles:
                        continue  # the user deleted the row: this file takes no part in a move
                    member = replace(member, role=roles[member.path] or member.role)
                members.append(member)
            groups.append(ReportGroup(str(g["id"]), str(g["kind"]), Path(g["keeper"]), str(g["keeper_reason"]), tuple(members)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(f"malformed duplicate report ({exc!r})", [json_path]) from exc
    return DupeReport(REPORT_VERSION, tuple(Path(r) for r in data["roots"]), tuple(groups), tuple(data.get("similar_sets", [])))
