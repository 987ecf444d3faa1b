"""SQLite cache of per-file analysis, so a re-run on unchanged files is near-instant.

Keyed by path + size + mtime; the metadata part is also keyed by the sidecar's
signature (a rating changed in Lightroom touches the sidecar, not the image).
The content digest is indexed so a renamed or moved file reuses its features.
``FEATURE_VERSION`` invalidates entries whenever feature code changes meaning.
It lives in the user's cache folder by default, so read-only photo roots work.

It is only a cache: when SQLite finds it damaged (a bad page, a truncated or
foreign file), whenever that shows, it is moved aside as
``cache.sqlite.corrupt-<date>``, a new one is started, one warning is logged,
and the run goes on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

from xmpcull.errors import XmpcullError
from xmpcull.models import CaptureTime, CropEdges, Face, Features, Generation, Metadata

log = logging.getLogger(__name__)
T = TypeVar("T")

# Metadata entries written under another METADATA_VERSION are read as "metadata unknown":
# the file's metadata is read again, its (expensive) features are kept.
METADATA_VERSION = 5  # 2: generation records; 3: sub-seconds recorded, software and edit history; 4: DupMembers;
# 5: SimilarMembers
FEATURE_VERSION = 14  # 2: windows; 3: box pre-reduction; 4: float32 Laplacian; 5: grey decode; 6: no window dHash;
# 7: pixel digest, JPEG quality and subsampling; 8: faces; 9: eye thresholds from the dev set; 10: JPEG metadata bytes;
# 11: a closer look at doubtful faces; 12: tiles when a face-like detection is small; 13: texture signature;
# 14: tiles before closer looks (small faces a tile found keep its box)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path BLOB PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    feature_version INTEGER NOT NULL,
    sidecar_sig TEXT,
    metadata TEXT,
    digest TEXT,
    features TEXT,
    error TEXT,
    error_stage TEXT
);
CREATE INDEX IF NOT EXISTS files_by_digest ON files (digest, size);
CREATE TABLE IF NOT EXISTS derived (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
"""


def default_cache_path() -> Path:
    return Path(platformdirs.user_cache_dir("xmpcull")) / "cache.sqlite"


def _key(path: Path) -> bytes:
    return os.fsencode(path)


def storable_text(text: str) -> str:
    """``text`` with each undecodable file-name byte (a lone surrogate, PEP 383) as ``\\xNN``.

    For text that is only shown or compared (signatures, error messages): SQLite's
    text must be UTF-8. Valid text is returned unchanged.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def _derived_key(key: str) -> str | bytes:
    """A derived-table key as SQLite can hold it: text, or the name's own bytes when it is not UTF-8.

    Linux file names are bytes; Python shows the undecodable ones as lone surrogates
    (PEP 383), which SQLite's UTF-8 text cannot hold. Valid names stay text, so keys
    stored by earlier versions still match.
    """
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return key.encode("utf-8", "surrogateescape")
    return key


def _shallow_dict(record: object) -> dict[str, Any]:
    # dataclasses.asdict deep-copies every value; for these flat records that cost
    # more than the SQLite write itself (0.4 ms per file on small images).
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}  # type: ignore[arg-type]


def metadata_to_json(meta: Metadata) -> str:
    data = _shallow_dict(meta)
    if meta.capture_time is not None:
        data["capture_time"] = {**_shallow_dict(meta.capture_time), "local": meta.capture_time.local.isoformat()}
    if meta.crop is not None:
        data["crop"] = _shallow_dict(meta.crop)
    if meta.generation is not None:
        data["generation"] = _shallow_dict(meta.generation)
    data["metadata_version"] = METADATA_VERSION
    return json.dumps(data, sort_keys=True)


def metadata_from_json(text: str) -> Metadata | None:
    """The cached metadata, or None when it was written by an older metadata reader."""
    data = json.loads(text)
    if data.pop("metadata_version", None) != METADATA_VERSION:
        return None
    ct = data.pop("capture_time")
    crop = data.pop("crop")
    generation = data.pop("generation")
    if generation is not None:
        generation = Generation(
            **{**generation, "sources": tuple(generation["sources"]), "warnings": tuple(generation["warnings"])}
        )
    return Metadata(
        generation=generation,
        capture_time=CaptureTime(
            local=dt.datetime.fromisoformat(ct["local"]),
            offset_minutes=ct["offset_minutes"],
            source=ct["source"],
            subsec_recorded=ct.get("subsec_recorded", False),
        )
        if ct
        else None,
        crop=CropEdges(**crop) if crop else None,
        keywords=tuple(data.pop("keywords")),
        history_agents=tuple(data.pop("history_agents", ())),
        dup_members=tuple(data.pop("dup_members", ())),
        similar_members=tuple(data.pop("similar_members", ())),
        burst_members=tuple(data.pop("burst_members", ())),
        warnings=tuple(data.pop("warnings")),
        **data,
    )


def features_to_json(features: Features) -> str:
    data = _shallow_dict(features)
    # 64-bit hashes as hex: JSON readers elsewhere lose precision above 2**53.
    for name in ("phash", "dhash"):
        data[name] = f"{data[name]:016x}"
    for name in ("phash_variants", "window_phashes"):
        data[name] = [f"{v:016x}" for v in getattr(features, name)]
    data["faces"] = None if features.faces is None else [f.to_json() for f in features.faces]
    return json.dumps(data, sort_keys=True)


def features_from_json(text: str) -> Features:
    data = json.loads(text)
    data["phash"] = int(data["phash"], 16)
    data["dhash"] = int(data["dhash"], 16)
    for name in ("phash_variants", "window_phashes"):
        data[name] = tuple(int(v, 16) for v in data.get(name, ()))
    faces = data.get("faces")
    data["faces"] = None if faces is None else tuple(Face.from_json(f) for f in faces)
    data["texture"] = tuple(data.get("texture", ()))
    return Features(**data)


@dataclass(slots=True)
class CachedEntry:
    size: int
    mtime_ns: int
    sidecar_sig: str | None
    metadata: Metadata | None
    features: Features | None
    error: str | None
    error_stage: str | None
    # Whether usable metadata and features are stored: set also when they were not decoded.
    has_metadata: bool = False
    has_features: bool = False
    # Features stored without faces (analysed with [analysis] faces = false, or without the models).
    faces_missing: bool = False


_LOOKUP_BATCH = 500  # paths per query: under SQLite's 999 host parameters of old versions


def _current_metadata_sql() -> str:
    """Whether a row's metadata is of this METADATA_VERSION (what metadata_from_json accepts),
    asked of SQLite without parsing it: metadata_to_json writes the key as json.dumps does."""
    key = f'"metadata_version": {METADATA_VERSION}'
    return f"(instr(metadata, '{key},') > 0 OR instr(metadata, '{key}}}') > 0)"


def _entry(row: tuple | None, size: int, mtime_ns: int, decode: bool = True) -> CachedEntry | None:
    """The cached entry of a (size, mtime_ns, ...) row, or None when missing or stale.

    ``decode=False``: the row holds, in place of the metadata and features, whether current
    metadata and any features are stored (``lookup_many``); they stay None, unparsed: a
    re-run that only counts spent most of its time parsing them.
    """
    if row is None or row[0] != size or row[1] != mtime_ns:
        return None
    if not decode:
        return CachedEntry(size, mtime_ns, row[2], None, None, row[5], row[6], bool(row[3]), bool(row[4]), bool(row[7]))
    metadata = metadata_from_json(row[3]) if row[3] else None
    features = features_from_json(row[4]) if row[4] else None
    return CachedEntry(
        size=row[0],
        mtime_ns=row[1],
        sidecar_sig=row[2],
        metadata=metadata,
        features=features,
        error=row[5],
        error_stage=row[6],
        has_metadata=metadata is not None,
        has_features=bool(row[4]),
        faces_missing=features is not None and features.faces is None,
    )


_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    """A damaged or foreign file, as opposed to a lock, a full disk or a permission problem."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    return type(exc) is sqlite3.DatabaseError  # Python < 3.11: corruption raises the base class


class AnalysisCache:
    """A small wrapper around one SQLite connection (WAL, so readers never block the writer)."""

    def __init__(self, path: Path | None, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._inode: int | None = None
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError as exc:
            if not _is_damage(exc):
                raise self._cannot_open(exc) from exc
            self._db = self._recover(exc)

    def _connect(self) -> sqlite3.Connection:
        path = self.path
        if path is None:
            db = sqlite3.connect(":memory:")
            db.executescript(_SCHEMA)
            return db
        try:
            if self.readonly:
                db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a foreign file fails here
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(path, timeout=30)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.executescript(_SCHEMA)
            self._inode = os.stat(path).st_ino
        except OSError as exc:
            raise self._cannot_open(exc) from exc
        return db

    def _cannot_open(self, exc: Exception) -> XmpcullError:
        return XmpcullError(f"cannot open the cache ({exc}); use --cache PATH or --no-cache", [self.path or ""])

    def _recover(self, exc: sqlite3.DatabaseError) -> sqlite3.Connection:
        """Set the damaged file aside and go on with a new one (a reader goes on with an empty one)."""
        with contextlib.suppress(AttributeError, sqlite3.Error):
            self._db.close()
        if self.path is None or self.readonly:
            self.path, self.readonly = None, False  # this reader sees nothing; the writer rebuilds
            return self._connect()
        try:
            same_file = os.stat(self.path).st_ino == self._inode or self._inode is None
        except FileNotFoundError:
            same_file = False
        if same_file:  # not already set aside by another process of this run
            aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
            if aside.exists():
                aside = aside.with_name(f"{aside.name}-{os.getpid()}")
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.replace(f"{self.path}{suffix}", f"{aside}{suffix}")
            log.warning("the cache was damaged (%s): moved it aside to %s and started a new one", exc, aside)
        self._inode = None
        try:
            return self._connect()
        except sqlite3.Error as again:
            raise self._cannot_open(again) from again

    def _guarded(self, action: Callable[[], T]) -> T:
        """Run ``action``; if it finds the file damaged, recover and run it once more on the new file."""
        try:
            return action()
        except sqlite3.DatabaseError as exc:
            if not _is_damage(exc):
                raise
            self._db = self._recover(exc)
            return action()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AnalysisCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lookup(self, path: Path, size: int, mtime_ns: int) -> CachedEntry | None:
        row = self._guarded(
            lambda: self._db.execute(
                "SELECT size, mtime_ns, sidecar_sig, metadata, features, error, error_stage FROM files "
                "WHERE path = ? AND feature_version = ?",
                (_key(path), FEATURE_VERSION),
            ).fetchone()
        )
        return _entry(row, size, mtime_ns)

    def lookup_many(self, files: Sequence[tuple[Path, int, int]], *, decode: bool = True) -> list[CachedEntry | None]:
        """``lookup`` for (path, size, mtime_ns) triples, a few hundred per query.

        On a re-run every file is a lookup; one query per file cost more than
        decoding the cached records (a 5,000-file re-run: 0.33 s). ``decode``: see ``_entry``.
        """
        keys = [_key(path) for path, _, _ in files]
        # Without decoding, SQLite answers whether metadata and features are there: fetching
        # their JSON text (about 1 KB a file) was most of a counting re-run's lookups.
        stored = "metadata, features" if decode else f"{_current_metadata_sql()}, features IS NOT NULL"
        # features_to_json writes a missing face list as json.dumps does: "faces": null.
        no_faces = "" if decode else """, instr(features, '"faces": null') > 0"""

        def query() -> dict[bytes, tuple]:
            rows: dict[bytes, tuple] = {}
            for start in range(0, len(keys), _LOOKUP_BATCH):
                chunk = keys[start : start + _LOOKUP_BATCH]
                marks = ",".join("?" * len(chunk))
                for row in self._db.execute(
                    f"SELECT path, size, mtime_ns, sidecar_sig, {stored}, error, error_stage{no_faces} FROM files "
                    f"WHERE feature_version = ? AND path IN ({marks})",
                    (FEATURE_VERSION, *chunk),
                ):
                    rows[row[0]] = row[1:]
            return rows

        rows = self._guarded(query)
        return [_entry(rows.get(key), size, mtime_ns, decode) for key, (_, size, mtime_ns) in zip(keys, files)]

    def features_by_digest(self, digest: str, size: int) -> Features | None:
        row = self._guarded(
            lambda: self._db.execute(
                "SELECT features FROM files WHERE digest = ? AND size = ? AND feature_version = ? AND features IS NOT NULL",
                (digest, size, FEATURE_VERSION),
            ).fetchone()
        )
        return features_from_json(row[0]) if row else None

    def get_derived(self, kind: str, keys: Iterable[str]) -> dict[str, Any]:
        """Later-stage results (e.g. crop proposals) stored as JSON under content-derived keys."""
        wanted = list(keys)

        def query() -> dict[str, Any]:
            found: dict[str, Any] = {}
            for key in wanted:
                row = self._db.execute(
                    "SELECT value FROM derived WHERE kind = ? AND key = ?", (kind, _derived_key(key))
                ).fetchone()
                if row is not None:
                    found[key] = json.loads(row[0])
            return found

        return self._guarded(query)

    def put_derived(self, kind: str, items: Iterable[tuple[str, Any]]) -> None:
        # json.dumps escapes lone surrogates (ensure_ascii), so values round-trip as they are.
        payload = [(kind, _derived_key(key), json.dumps(value, sort_keys=True)) for key, value in items]
        self._guarded(lambda: self._write("INSERT OR REPLACE INTO derived VALUES (?,?,?)", payload))

    def store(self, rows: Iterable[tuple[Path, int, int, str | None, Metadata | None, Features | None, str | None, str | None]]) -> None:
        """Rows of (path, size, mtime_ns, sidecar_sig, metadata, features, error, error_stage)."""
        payload: list[tuple[Any, ...]] = [
            (
                _key(path),
                size,
                mtime_ns,
                FEATURE_VERSION,
                None if sidecar_sig is None else storable_text(sidecar_sig),
                metadata_to_json(meta) if meta else None,
                features.digest if features else None,
                features_to_json(features) if features else None,
                None if error is None else storable_text(error),
                stage,
            )
            for path, size, mtime_ns, sidecar_sig, meta, features, error, stage in rows
        ]
        self._guarded(lambda: self._write("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?)", payload))

    def follow_own_writes(self, rows: Iterable[tuple[Path, tuple[int, int], tuple[int, int]]]) -> None:
        """Rows of (path, (size, mtime_ns) before, after) for files xmpcull itself rewrote (``--embed``
        replaces only the XMP block): an entry of the bytes before is moved to the bytes after, with
        its features (the picture is the same) and without its metadata (read again next time)."""
        payload = [(after[0], after[1], _key(path), before[0], before[1]) for path, before, after in rows]
        self._guarded(lambda: self._write(
            "UPDATE files SET size = ?, mtime_ns = ?, metadata = NULL WHERE path = ? AND size = ? AND mtime_ns = ?", payload
        ))

    def _write(self, statement: str, payload: list[tuple[Any, ...]]) -> None:
        with self._db:
            self._db.executemany(statement, payload)
