"""--include / --exclude / --ext: which files under a root a command looks at."""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from xmpcull.scan import scan_roots
from xmpcull.scan.filter import ScanFilter

_part = st.text(alphabet="abcXYZ019_- .ü日", min_size=1, max_size=8).filter(lambda s: s.strip(" .") == s and s)
_ext = st.sampled_from(["jpg", "JPG", "cr3", "png", "Heic", "tif"])
relpaths = st.builds(
    lambda folders, stem, ext: PurePosixPath(*folders, f"{stem}.{ext}"),
    st.lists(_part, max_size=3),
    _part,
    _ext,
)


@given(relpaths)
def test_no_filter_keeps_everything(relative: PurePosixPath) -> None:
    assert not ScanFilter().active
    assert ScanFilter().keeps(relative)


@given(relpaths, st.lists(relpaths, max_size=4))
def test_exclude_by_exact_name_or_path_leaves_out_only_matching_files(target: PurePosixPath, others: list[PurePosixPath]) -> None:
    by_name = ScanFilter(exclude=(target.name,))
    assert not by_name.keeps(target)
    by_path = ScanFilter(exclude=(target.as_posix(),)) if "/" in target.as_posix() else by_name
    assert not by_path.keeps(target)
    for other in others:
        assert by_name.keeps(other) == (other.name != target.name)


@given(relpaths, st.lists(relpaths, max_size=4))
def test_include_keeps_only_matching_files_and_exclude_wins(target: PurePosixPath, others: list[PurePosixPath]) -> None:
    only = ScanFilter(include=(target.name,))
    assert only.keeps(target)
    for other in others:
        assert only.keeps(other) == (other.name == target.name)
    assert not ScanFilter(include=(target.name,), exclude=(target.name,)).keeps(target)


@given(relpaths, st.lists(_ext.map(str.lower), min_size=1, max_size=3))
def test_extensions_are_matched_without_case(relative: PurePosixPath, extensions: list[str]) -> None:
    wanted = ScanFilter(extensions=tuple(extensions))
    assert wanted.keeps(relative) == (relative.suffix[1:].lower() in extensions)


@given(st.lists(_part, min_size=1, max_size=3), _part, _ext)
def test_a_pattern_with_a_slash_matches_the_folder_and_star_crosses_folders(folders: list[str], stem: str, ext: str) -> None:
    relative = PurePosixPath(*folders, f"{stem}.{ext}")
    assert not ScanFilter(exclude=(f"{folders[0]}/*",)).keeps(relative)
    assert ScanFilter(include=(f"{folders[0]}/*",)).keeps(relative)
    # Without a slash the pattern sees only the name: a folder's name alone does not match a file.
    if folders[0] != relative.name:
        assert ScanFilter(exclude=(folders[0],)).keeps(relative)


def test_scan_applies_the_filter_below_each_root(tmp_path: Path) -> None:
    for rel, source in [
        ("day1/IMG_1001.JPG", "photos/mongolels.jpg"),
        ("day1/IMG_1001-Edit.jpg", "photos/mongolels.jpg"),
        ("day1/IMG_1002.CR3", "raw/Canon-R6-pruned.CR3"),
        ("exports/web.png", "photos/astronaut.png"),
    ]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / source, tmp_path / rel)

    def found(only: ScanFilter) -> list[str]:
        return [f.relpath for f in scan_roots([tmp_path], only=only).files]

    assert found(ScanFilter()) == ["day1/IMG_1001-Edit.jpg", "day1/IMG_1001.JPG", "day1/IMG_1002.CR3", "exports/web.png"]
    assert found(ScanFilter(exclude=("*-Edit.*", "exports/*"))) == ["day1/IMG_1001.JPG", "day1/IMG_1002.CR3"]
    assert found(ScanFilter(extensions=("cr3", "png"))) == ["day1/IMG_1002.CR3", "exports/web.png"]
    assert found(ScanFilter(include=("day1/*",), extensions=("jpg",))) == ["day1/IMG_1001-Edit.jpg", "day1/IMG_1001.JPG"]
    # The root's own name is not part of the path a pattern sees.
    assert found(ScanFilter(include=(f"{tmp_path.name}/*",))) == []
