"""`move` honours the review choices recorded in the sidecars: keep both, pick, a chosen keeper."""

from __future__ import annotations

import json
from pathlib import Path

from xmpcull.move.selection import load_move_selection
from xmpcull.sidecar import CLEAR, ReviewFields, SidecarUpdate, write_sidecar


def _group(root: Path) -> dict:
    report = json.loads((root / ".xmpcull" / "report.json").read_text())
    return next(g for g in report["groups"] if len(g["members"]) >= 3)


def _moving(root: Path) -> set[Path]:
    return {c.path for c in load_move_selection(root / ".xmpcull" / "report.json").candidates}


def test_keep_both_pick_and_chosen_keeper_decide_what_moves(analysed: tuple[Path, Path]) -> None:
    root, _ = analysed
    group = _group(root)
    keeper = Path(group["keeper"])
    first, second = (Path(m["path"]) for m in group["members"] if m["role"] == "duplicate")
    assert {first, second} <= _moving(root) and keeper not in _moving(root)

    write_sidecar(first, SidecarUpdate(review=ReviewFields("2024-06-12T15:00:00+00:00", keep="keep")))
    assert first not in _moving(root) and second in _moving(root)

    write_sidecar(first, SidecarUpdate(review=ReviewFields("2024-06-12T15:00:00+00:00", flag="pick")))
    assert first not in _moving(root)

    write_sidecar(second, SidecarUpdate(review=ReviewFields("2024-06-12T15:01:00+00:00", keep="keeper")))
    moving = _moving(root)
    assert keeper in moving and first not in moving and second not in moving

    for path in (first, second):
        write_sidecar(path, SidecarUpdate(review=CLEAR))
    assert {first, second} <= _moving(root) and keeper not in _moving(root)
