"""The result cache of a bulk run: one SQLite file under ``OUT/.cache`` keyed by content hash,
rule-set version and replyparse version."""
from __future__ import annotations

import json
import sqlite3
import zlib
from dataclasses import MISSING, fields
from pathlib import Path

from .. import __version__
from .batch import FileResult
from .walk import display_path
from ..record import Action, Amount, Evidence, Record


CACHE_DIRNAME = ".cache"
CACHE_FILE = "results.sqlite"


# what an entry holds (part of the key): its files row as a JSON line, then each record's JSON line
# (JSON escapes every newline inside a string, so the entry splits on "\n")
FORMAT = "rows"


def encode_result(res: FileResult) -> bytes:
    """A result as the cache stores it (compressed): its files row and each record's JSON line, one a line."""
    # the records are finished here (parsed, and ``RunOptions.finish`` done): their lines are made
    # once, for the cache and for the output the run writes next
    for r in res.records:
        r.final_dict()
    entry = "\n".join([json.dumps(res.manifest_row(), ensure_ascii=False), *(r.json_line() for r in res.records)])
    # surrogateescape: a file name in foreign bytes (GBK from Windows) is kept byte for byte
    return zlib.compress(entry.encode("utf-8", "surrogateescape"), 1)


class CachedRecord(Record):
    """A record rebuilt from the cache, from its stored JSON line: ``json_line`` hands the line
    back and nothing else is decoded, so a re-run that writes records pays for no JSON at all;
    the first read of a field (a table column, ``to_dict``) decodes the line, and amounts, actions
    and evidence become dataclasses only when read. Treat it as read-only. Made by ``cached_record``."""

    def json_line(self) -> str:
        return self.__dict__["_line"]

    def to_dict(self):
        stored = self.__dict__.get("_stored")
        return stored if stored is not None else self._decode()

    def _decode(self) -> dict:
        values = self.__dict__
        d = values["_stored"] = json.loads(values["_line"])
        for name, default, factory in _EAGER:
            values[name] = d[name] if name in d else (factory() if factory is not None else default)
        values["extra"] = {k: v for k, v in d.items() if k not in _KNOWN}  # fields rule files declared
        return d

    def __getstate__(self):  # pickled (to a Dask client, say): the line, decoded again where needed
        return {"_line": self.__dict__["_line"]}


class _StoredField:
    """A field of a ``CachedRecord`` read from its stored line on first use. A non-data descriptor:
    once the value stands in the instance, it is found there and this is not called again."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, rec, owner=None):
        if rec is None:
            return self
        values = rec.__dict__
        stored = values.get("_stored")
        if stored is None:
            stored = rec._decode()
        if self.name in _LAZY and self.name not in values:
            values[self.name] = _LAZY[self.name](stored.get(self.name))
        return values[self.name]


_LAZY = {"amounts": lambda v: [Amount(**a) for a in v or []],
         "actions": lambda v: [Action(**a) for a in v or []],
         "evidence": lambda v: {k: Evidence(**e) for k, e in (v or {}).items()}}
# each other field of a record with its default (a factory's made anew each time), in order
_EAGER = tuple((f.name, f.default, None if f.default_factory is MISSING else f.default_factory)
               for f in fields(Record) if f.name not in _LAZY and f.name != "extra")
_KNOWN = frozenset(f.name for f in fields(Record)) - {"extra"}
for _f in fields(Record):
    setattr(CachedRecord, _f.name, _StoredField(_f.name))


def cached_record(line: str) -> CachedRecord:
    """The record of a stored JSON line, nothing decoded yet."""
    rec = CachedRecord.__new__(CachedRecord)
    rec.__dict__["_line"] = line
    return rec


class ResultCache:
    """Finished results in ``DIR/.cache/results.sqlite``, keyed by the file's sha256, its
    extension (the reader depends on it), the rule set's version and replyparse's version.
    Timeouts, crashed workers and internal errors are not cached: they may go away."""

    def __init__(self, cache_dir: str | Path, rules_version: str):
        self.dir = Path(cache_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.dir / CACHE_FILE), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, data BLOB NOT NULL)")
        self.suffix = f"{rules_version}:{__version__}:{FORMAT}"
        self._pending: list[tuple[str, bytes]] = []

    def key(self, sha256: str, path) -> str:
        return f"{sha256}:{display_path(Path(path).suffix.lower())}:{self.suffix}"

    def get(self, sha256: str | None, path) -> FileResult | None:
        if not sha256:
            return None
        row = self.db.execute("SELECT data FROM results WHERE key=?", (self.key(sha256, path),)).fetchone()
        if row is None:
            return None
        try:
            row_line, *lines = zlib.decompress(row[0]).decode("utf-8", "surrogateescape").split("\n")
            return _rebase(json.loads(row_line), lines, path)
        except Exception:  # a damaged entry is a miss
            return None

    def put(self, res: FileResult, blob: bytes | None = None) -> None:
        if not res.sha256 or not cacheable(res):
            return
        self._pending.append((self.key(res.sha256, res.path), blob or encode_result(res)))

    def flush(self) -> None:
        if self._pending:
            with self.db:
                self.db.execute("BEGIN")
                self.db.executemany("INSERT OR REPLACE INTO results (key, data) VALUES (?, ?)", self._pending)
            self._pending.clear()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.db.close()


def cacheable(res: FileResult) -> bool:
    return not res.transient


def _rebase(row: dict, lines: list[str], path) -> FileResult:
    """A cached result for the same content, possibly under another name: use this path."""
    old_src, new_src = display_path(row["path"]), display_path(path)
    row["path"] = str(path)
    res = FileResult(**{k: v for k, v in row.items() if k in FileResult.__dataclass_fields__})
    for line in lines:
        if old_src != new_src:  # renamed or moved: the records' source follows (rare, so decoded here)
            d = json.loads(line)
            src = d.get("source") or ""
            if src == old_src or src.startswith(old_src + "#"):
                d["source"] = new_src + src[len(old_src):]
                line = json.dumps(d, ensure_ascii=False)
        res.records.append(cached_record(line))
    return res


# ---------------------------------------------------------------- engines
