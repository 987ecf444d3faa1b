"""Property tests: any sequence of section updates ends in the last update per section,
leaves foreign properties alone, and a repeat write changes nothing."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sidecar.sidecar_helpers import XMP, clock, tree
from xmpcull.sidecar import (
    CLEAR,
    BurstFields,
    CropFields,
    CropProposal,
    DecisionFields,
    DupeFields,
    QualityFields,
    SidecarUpdate,
    SimilarFields,
    engine,
    read_sidecar,
    write_sidecar,
)
from xmpcull.sidecar.packet import NS_XMPCULL

ident = st.text(alphabet="abcdef0123456789-", min_size=1, max_size=10)
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20)
unit = st.floats(min_value=0, max_value=1, allow_nan=False)


@st.composite
def proposals(draw: st.DrawFn) -> CropProposal:
    left, right = sorted(draw(st.lists(st.floats(0, 1), min_size=2, max_size=2, unique=True)))
    top, bottom = sorted(draw(st.lists(st.floats(0, 1), min_size=2, max_size=2, unique=True)))
    if round(left, 6) == round(right, 6) or round(top, 6) == round(bottom, 6):
        left, right, top, bottom = 0.0, 1.0, 0.0, 1.0
    return CropProposal(draw(st.sampled_from(["4:5", "1:1", "16:9"])), left, top, right, bottom, draw(unit))


@st.composite
def bursts(draw: st.DrawFn) -> BurstFields:
    size = draw(st.integers(1, 50))
    return BurstFields(draw(ident), draw(st.integers(1, size)), size, draw(st.booleans()), draw(st.none() | text))


SECTIONS = {
    "dupes": st.builds(DupeFields, ident, st.sampled_from(["exact", "near"]), st.sampled_from(["keeper", "duplicate"]),
                       st.integers(0, 64), st.none() | text),
    "similar": st.builds(SimilarFields, ident, st.sampled_from(["best", "member"]), st.integers(2, 500), st.none() | text),
    "burst": bursts(),
    "quality": st.builds(QualityFields, unit, unit, unit, st.none() | unit),
    "crop": st.builds(CropFields, st.lists(proposals(), max_size=3).map(tuple)),
    "decision": st.builds(DecisionFields, st.sampled_from(["keeper", "duplicate", "needs-review", "ok"]),
                          st.lists(text, max_size=3).map(tuple), st.none() | st.integers(1, 5),
                          st.none() | st.sampled_from(["Red", "Green", "Purple"])),
}
updates = st.fixed_dictionaries({}, optional={name: st.just(CLEAR) | strat for name, strat in SECTIONS.items()})
STANDARD = {"xmp:Rating", "xmp:Label", "dc:subject", "lr:hierarchicalSubject", "photoshop:SidecarForExtension"}


def _top(path: str) -> str:
    return path.split("/", 1)[0].split("[", 1)[0].split("?", 1)[0]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(["darktable/DSC_9034.NEF.xmp", "lightroom/IMG_5910.xmp", None]),
       sequence=st.lists(updates, min_size=1, max_size=5))
def test_sequences_of_section_updates(base: str | None, sequence: list[dict]) -> None:
    # The stand-in image is an empty file: skip the exiftool call for its (absent) embedded XMP.
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "read_embedded_xmp", lambda paths: {Path(p): None for p in paths})
        image = Path(folder) / "IMG_1.NEF"
        image.write_bytes(b"")
        sidecar = Path(folder) / "IMG_1.xmp"
        if base:
            shutil.copyfile(XMP / base, sidecar)
        before = tree(sidecar) if base else set()
        user_rating = read_sidecar(image, include_embedded=False).rating

        last: dict[str, object] = {}
        for parts in sequence:
            write_sidecar(image, SidecarUpdate(**parts), clock=clock)
            last.update(parts)

        state = read_sidecar(image, include_embedded=False)
        for name in SECTIONS:
            expected = last.get(name)
            if expected is CLEAR:
                expected = None
            if name == "decision" and isinstance(expected, DecisionFields) and user_rating not in (None, 0):
                expected = DecisionFields(expected.decision, expected.review_reasons, None, expected.label)
            if name == "crop" and isinstance(expected, CropFields) and not expected.proposals:
                expected = None  # an empty crop section writes nothing
            actual = state.crop_fields if name == "crop" else getattr(state, name)
            assert actual == expected, name
        if base and user_rating not in (None, 0):
            assert state.rating == user_rating

        after = tree(sidecar) if sidecar.exists() else set()
        foreign = lambda nodes: {n for n in nodes if n[0] != NS_XMPCULL and _top(n[1]) not in STANDARD}  # noqa: E731
        assert foreign(after) == foreign(before)
        ours = {k for k in state.hierarchical_keywords if k.startswith("xmpcull|")}
        wanted = set()
        if isinstance(last.get("dupes"), DupeFields):
            wanted.add(f"xmpcull|dupes|{last['dupes'].group}")  # type: ignore[union-attr]
        if isinstance(last.get("similar"), SimilarFields):
            wanted.add(f"xmpcull|similar|{last['similar'].set_id}")  # type: ignore[union-attr]
        if isinstance(last.get("burst"), BurstFields):
            wanted.add(f"xmpcull|burst|{last['burst'].burst_id}")  # type: ignore[union-attr]
        if isinstance(last.get("decision"), DecisionFields) and last["decision"].decision == "needs-review":  # type: ignore[union-attr]
            wanted.add("xmpcull|review")
        assert ours == wanted
        user_keywords = {n[2] for n in before if n[1].startswith("lr:hierarchicalSubject[")}
        assert user_keywords <= set(state.hierarchical_keywords)

        if sidecar.exists():
            written = sidecar.read_bytes()
            assert not write_sidecar(image, SidecarUpdate(**sequence[-1]), clock=clock).changed
            assert sidecar.read_bytes() == written
