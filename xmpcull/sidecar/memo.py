"""Remember what was last written to each sidecar, so a re-run with nothing new parses no XMP.

A write is skipped when (1) the sidecar file is byte-for-byte the one we left
(same size and nanosecond mtime — anyone who edits it, Lightroom included,
changes these) and (2) the update we would write now is identical (same
sections, options and engine version). Then the merge would find nothing to
change anyway; skipping it is what makes a re-run of a large tree near-instant.
The memo lives in the analysis cache; losing it only costs time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from xmpcull import __version__
from xmpcull.analyse.cache import AnalysisCache
from xmpcull.errors import XmpcullError
from xmpcull.sidecar.fields import DecisionFields, SidecarUpdate, WriteOptions, WriteResult
from xmpcull.sidecar.naming import own_sidecar_files, own_sidecar_path, sidecar_path_for

MEMO_KIND = "sidecar-written-1"


def update_key(update: SidecarUpdate, options: WriteOptions) -> str:
    """A digest of everything that decides the bytes we write (frozen dataclasses have stable reprs)."""
    text = f"{__version__}|{options!r}|{update!r}"
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def file_signature(path: Path) -> str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}"


class WriteMemo:
    """Per image: the sidecar signature and update key of our last write."""

    def __init__(self, cache_path: Path) -> None:
        self.cache_path = cache_path
        self._stored: dict[str, dict[str, object]] = {}
        self._new: dict[str, dict[str, object]] = {}

    def load(self, images: Iterable[Path]) -> None:
        keys = [os.fsdecode(os.fsencode(p)) for p in images]
        try:
            with AnalysisCache(self.cache_path) as cache:
                self._stored = cache.get_derived(MEMO_KIND, keys)
        except XmpcullError:
            self._stored = {}

    def unchanged(
        self, image: Path, companions: tuple[Path, ...], update: SidecarUpdate, options: WriteOptions
    ) -> WriteResult | None:
        """The result our last write had, when writing again would change nothing; else None."""
        entry = self._stored.get(str(image))
        if entry is None or not image.is_file():  # a vanished image goes to the writer, which reports it
            return None
        sidecar = sidecar_path_for(image, companions, options.naming)
        same = (
            all(own_sidecar_path(f).exists() for f in own_sidecar_files(image, companions, options.naming))
            and entry.get("sidecar") == str(sidecar)
            and entry.get("sig") == file_signature(sidecar)
            and entry.get("update") == update_key(update, options)
        )
        if not same:
            return None
        return WriteResult(path=str(sidecar), changed=False, kept_user_values=tuple(entry.get("kept", ())))

    def previous_decision(self, image: Path, companions: tuple[Path, ...], naming: str) -> DecisionFields | None | bool:
        """The decision section our last write left, while the sidecar is untouched since; else False (unknown)."""
        entry = self._stored.get(str(image))
        if entry is None or "decision" not in entry:
            return False
        sidecar = sidecar_path_for(image, companions, naming)  # type: ignore[arg-type]
        if entry.get("sidecar") != str(sidecar) or entry.get("sig") != file_signature(sidecar):
            return False
        stored = entry["decision"]
        if stored is None:
            return None
        assert isinstance(stored, dict)
        return DecisionFields(stored["decision"], tuple(stored["review_reasons"]), stored["rating"], stored["label"])

    def record(
        self,
        image: Path,
        result: WriteResult,
        update: SidecarUpdate,
        options: WriteOptions,
        decision_after: DecisionFields | None,
    ) -> None:
        """Remember a write; ``decision_after`` is the decision section as read back from the file."""
        signature = file_signature(Path(result.path))
        if signature is not None:
            self._new[str(image)] = {
                "sidecar": result.path,
                "sig": signature,
                "update": update_key(update, options),
                "kept": list(result.kept_user_values),
                "decision": dataclasses.asdict(decision_after) if decision_after is not None else None,
            }

    def save(self) -> None:
        if not self._new:
            return
        try:
            with AnalysisCache(self.cache_path) as cache:
                cache.put_derived(MEMO_KIND, self._new.items())
        except XmpcullError:
            pass
