"""Turn the selected duplicates into a list of file moves, sidecars and companions included.

Pure apart from the injected ``listdir`` (and resolving links of the staying copies): the rules (which sidecar belongs to
whom, when a shared Adobe sidecar may go, where each file lands) are the part
users must be able to predict, so they are kept testable without a filesystem.

Rules (docs/move.md has the reasoning):
* a moving file ``X.EXT`` takes ``X.EXT.xmp`` (darktable/digiKam style) and darktable
  duplicate-version sidecars ``X_NN.EXT.xmp`` (when no ``X_NN.EXT`` exists) with it;
* companions: every other non-sidecar file with stem ``X`` in the same folder moves too,
  unless it is protected (keeper, similar-set or burst member, kept by the user);
* the Adobe-style ``X.xmp`` moves only when no non-sidecar file with stem ``X`` stays.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from xmpcull.errors import ConfigError, FileFailure
from xmpcull.fsutil import is_inside, real_paths
from xmpcull.move.selection import Candidate, Expectation, MoveSelection

DEFAULT_DESTINATION = "_review_dupes"
JOURNAL_FOLDER = ".xmpcull-journal"


@dataclass(frozen=True)
class PlannedMove:
    """One file to move. Its final name is ``family + suffix + rest`` in ``dest_folder``.

    The suffix (`` (1)``, `` (2)``...) is chosen at run time, once per family, so an
    image, its companions and sidecars keep one shared stem at the destination.
    """

    op_id: str
    source: Path
    root: Path
    dest_folder: Path
    family: str  # the shared stem X
    rest: str  # the name after the stem: ".CR2", ".JPG.xmp", "_01.NEF.xmp"
    kind: str  # "duplicate", "companion" or "sidecar"
    group_id: str | None
    expect: Expectation | None  # only duplicates carry what the report recorded

    def destination(self, suffix_number: int = 0) -> Path:
        suffix = f" ({suffix_number})" if suffix_number else ""
        return self.dest_folder / f"{self.family}{suffix}{self.rest}"


@dataclass
class Plan:
    moves: list[PlannedMove] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)  # refused at planning time
    # Duplicates that stay on purpose (also a burst frame, similar-set member or keeper
    # elsewhere): the rules working, not a problem, so they do not count as failures.
    kept: list[FileFailure] = field(default_factory=list)
    review: PurePosixPath = PurePosixPath(DEFAULT_DESTINATION)  # the review folder, relative to each root

    def by_root(self) -> dict[Path, list[PlannedMove]]:
        grouped: dict[Path, list[PlannedMove]] = {}
        for move in self.moves:
            grouped.setdefault(move.root, []).append(move)
        return grouped


PROTECTED_REASON = "also a keeper, similar-set or burst member elsewhere in the report; kept in place"


def validate_destination(to: str) -> PurePosixPath:
    """``--to`` must be a plain relative folder name: files never leave their root."""
    relative = PurePosixPath(to.replace(os.sep, "/"))
    if not to or relative.is_absolute() or any(part in ("..", "") for part in relative.parts) or to == ".":
        raise ConfigError(f"--to must be a folder inside each root (got {to!r})")
    return relative


def is_sidecar(name: str) -> bool:
    return name.lower().endswith(".xmp")


def stem_of(name: str) -> str:
    return Path(name).stem if not is_sidecar(name) else Path(Path(name).stem).stem


def _candidate_problem(candidate: Candidate, roots: set[Path], review: Path | None) -> str | None:
    relative = PurePosixPath(candidate.relpath)
    if not candidate.path.is_absolute() or relative.is_absolute() or ".." in relative.parts:
        return "report path is not a plain path under its root; not moved"
    if candidate.root not in roots:
        return f"root {str(candidate.root)!r} is not one of the report's roots; not moved"
    if candidate.root / relative != candidate.path:
        return "report path and root/relpath disagree; not moved"
    if review is not None and relative.parts[: len(review.parts)] == review.parts:
        return "already inside the review folder; not moved"
    return None


def _group_keeps_a_copy(staying: Iterable[Path], listdir: Callable[[Path], list[str]],
                        real_roots: tuple[Path, ...]) -> bool:
    """Whether a staying member is on disk as a real file inside the roots (a symbolic link is no copy)."""
    for path in staying:
        try:
            if path.name in listdir(path.parent) and not os.path.islink(path) and is_inside(path.parent, real_roots):
                return True
        except OSError:
            continue
    return False


def plan_moves(
    selection: MoveSelection,
    to: str = DEFAULT_DESTINATION,
    listdir: Callable[[Path], list[str]] = os.listdir,
) -> Plan:
    """The moves for ``selection``; refusals (bad paths, a group that would keep no copy) go to ``failures``."""
    review = validate_destination(to)
    plan = Plan(failures=list(selection.failures), review=review)
    roots = set(selection.roots)
    real_roots = real_paths(selection.roots)
    accepted: list[Candidate] = []
    for candidate in selection.candidates:
        problem = _candidate_problem(candidate, roots, review)
        if problem is None and candidate.path in selection.protected:
            plan.kept.append(FileFailure(str(candidate.path), "move", PROTECTED_REASON))
            continue
        staying = selection.staying_by_group.get(candidate.group_id, ())
        if problem is None and not _group_keeps_a_copy(staying, listdir, real_roots):
            problem = (f"group {candidate.group_id} would keep no copy in place (keeper missing, unselected"
                       " or a symbolic link); not moved")
        if problem:
            plan.failures.append(FileFailure(str(candidate.path), "move", problem))
        else:
            accepted.append(candidate)

    by_folder: dict[Path, list[Candidate]] = {}
    for candidate in accepted:
        by_folder.setdefault(candidate.path.parent, []).append(candidate)
    seen: set[Path] = set()
    for folder in sorted(by_folder):
        candidates = by_folder[folder]
        try:
            names = sorted(listdir(folder))
        except OSError as exc:
            plan.failures.extend(FileFailure(str(c.path), "move", f"cannot list folder ({exc.strerror})") for c in candidates)
            continue
        root = candidates[0].root
        dest_folder = root / review / folder.relative_to(root)
        for kind, name, candidate in _folder_moves(candidates, names, selection.protected, folder):
            source = folder / name
            if source in seen:
                continue
            seen.add(source)
            family = stem_of(name) if kind != "sidecar" else _sidecar_family(name, names)
            plan.moves.append(PlannedMove(
                op_id=f"m{len(plan.moves) + 1}", source=source, root=root, dest_folder=dest_folder,
                family=family, rest=name[len(family):], kind=kind,
                group_id=candidate.group_id if candidate else None,
                expect=candidate.expect if candidate and kind == "duplicate" else None,
            ))
    return plan


def _sidecar_family(name: str, names: list[str]) -> str:
    """The stem a sidecar's name starts with (``X`` for X.xmp, X.JPG.xmp and X_01.JPG.xmp)."""
    inner = Path(name).stem  # X.JPG.xmp -> X.JPG ; X.xmp -> X
    base = Path(inner).stem if Path(inner).suffix else inner
    match = re.fullmatch(r"(.*)_\d+", base)
    if match and inner not in names:  # X_01.JPG.xmp without an X_01.JPG: a darktable duplicate version
        return match.group(1)
    return base


def _folder_moves(
    candidates: list[Candidate], names: list[str], protected: frozenset[Path], folder: Path
) -> list[tuple[str, str, Candidate | None]]:
    """(kind, file name, the duplicate it follows) for everything leaving ``folder``."""
    present = set(names)
    moving: list[tuple[str, str, Candidate | None]] = []
    moving_names: set[str] = set()
    for candidate in candidates:
        if candidate.path.name in present:  # a missing file is reported by the mover
            moving.append(("duplicate", candidate.path.name, candidate))
            moving_names.add(candidate.path.name)
    for candidate in candidates:
        stem = stem_of(candidate.path.name)
        for name in names:
            if (name not in moving_names and not is_sidecar(name) and stem_of(name) == stem
                    and folder / name not in protected):
                moving.append(("companion", name, candidate))
                moving_names.add(name)
    followers: list[tuple[str, str, Candidate | None]] = []
    for _, moved_name, candidate in moving:
        moved_stem, moved_ext = Path(moved_name).stem, Path(moved_name).suffix
        own = re.compile(re.escape(moved_name) + r"\.xmp", re.IGNORECASE)
        versions = re.compile(re.escape(moved_stem) + r"_\d+" + re.escape(moved_ext) + r"\.xmp", re.IGNORECASE)
        for name in names:
            if own.fullmatch(name) or (versions.fullmatch(name) and name[: -len(".xmp")] not in present):
                followers.append(("sidecar", name, candidate))
    staying_stems = {stem_of(n) for n in names if not is_sidecar(n) and n not in moving_names}
    for stem in sorted({stem_of(n) for n in moving_names}):
        if stem in staying_stems:
            continue  # a companion that stays (a kept RAW) still needs its X.xmp
        first = next(c for kind, n, c in moving if stem_of(n) == stem)
        followers.extend(("sidecar", name, first) for name in names
                         if is_sidecar(name) and Path(name).stem == stem)
    return moving + followers
