"""Random trees, random groups, random crash points: after resume or undo no file is lost or doubled."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.move.movekit import contents, put, snapshot, temp_leftovers, write_report
from xmpcull.move import fsops, latest_journal, move_from_report, resume_moves, undo_moves

FOLDERS = ["", "a", "a/b", "ü x"]
STEMS = ["IMG_1", "IMG 2", "é", "new\nline", "IMG_1_01"]
EXTS = [".jpg", ".CR2", ".jpg.xmp", ".xmp", ".NEF", ".CR2.xmp"]
REAL_RENAMEAT2 = fsops.renameat2


class Crash(BaseException):
    pass


def crash_after(count: int):
    calls = [0]

    def hook(step: str) -> None:
        calls[0] += 1
        if calls[0] == count:
            raise Crash(step)

    return hook


def _exdev(src: bytes, dst: bytes) -> int:
    if os.path.dirname(src) != os.path.dirname(dst):
        return errno.EXDEV
    return REAL_RENAMEAT2(src, dst)


RENAMERS = {"renameat2": REAL_RENAMEAT2, "reserve": None, "exdev": _exdev}

files_strategy = st.dictionaries(
    st.tuples(st.sampled_from(["r1", "r2"]), st.sampled_from(FOLDERS), st.sampled_from(STEMS), st.sampled_from(EXTS)),
    st.binary(max_size=40), min_size=2, max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=files_strategy, data=st.data(), renamer=st.sampled_from(sorted(RENAMERS)),
       crash_at=st.integers(1, 60), second_crash=st.one_of(st.none(), st.integers(1, 20)),
       recovery=st.sampled_from(["resume", "undo"]))
def test_no_file_lost_or_duplicated(files, data, renamer, crash_at, second_crash, recovery) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        roots = [base / "r1", base / "r2"]
        for root in roots:
            root.mkdir()
        paths = [put(base / r / folder / f"{stem}{ext}", content) for (r, folder, stem, ext), content in files.items()]
        images = [p for p in paths if p.suffix.lower() != ".xmp"]
        order = data.draw(st.permutations(images))
        groups, start = [], 0
        while len(order) - start >= 2:
            size = data.draw(st.integers(2, min(3, len(order) - start)))
            groups.append((order[start], order[start + 1:start + size]))
            start += size
        write_report(base / "g.json", roots, groups)
        before = {r: snapshot(r) for r in roots}
        all_bytes = {r: contents(r) for r in roots}

        fsops.renameat2 = RENAMERS[renamer]
        try:
            try:
                move_from_report(base / "g.json", roots=roots, crash_hook=crash_after(crash_at))
            except Crash:
                pass
            journals = [j for j in (latest_journal(r, "_review_dupes") for r in roots) if j]
            recover = resume_moves if recovery == "resume" else undo_moves
            for journal in journals:
                if second_crash is not None:
                    try:
                        recover(journal, crash_hook=crash_after(second_crash))
                    except Crash:
                        pass
                recover(journal)
        finally:
            fsops.renameat2 = REAL_RENAMEAT2

        for root in roots:
            assert temp_leftovers(root) == []
            assert contents(root) == all_bytes[root]  # every byte string exactly as many times as before
            if recovery == "undo":
                assert snapshot(root) == before[root]
            else:
                for keeper, duplicates in groups:
                    assert keeper.exists()  # keepers never move
                    assert not any(d.exists() for d in duplicates)  # the run was completed
