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


def encode_result(res: FileResult) -> bytes:
    """A result as the cache stores it (compressed JSON)."""
    # the records are finished here (parsed, and ``RunOptions.finish`` done): their dicts are made
    # once, for the cache and for the output the run writes next
    data = {"row": res.manifest_row(), "records": [r.final_dict() for r in res.records]}
    # surrogateescape: a file name in foreign bytes (GBK from Windows) is kept byte for byte
    return zlib.compress(json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogateescape"), 1)


class CachedRecord(Record):
    """A record rebuilt from the cache: ``to_dict`` hands back the stored dict instead of walking
    the dataclasses again (a re-run is mostly this). Treat it as read-only. Made by
    ``cached_record``: its amounts, actions and evidence become dataclasses when first read, so a
    re-run that only writes the stored dicts does not build them."""

    def to_dict(self):
        return self._stored

    def __getattr__(self, name):  # called only for what the instance lacks: the lazy fields
        stored = self.__dict__.get("_stored")
        if stored is None or name not in _LAZY:
            raise AttributeError(name)
        value = self.__dict__[name] = _LAZY[name](stored.get(name))
        return value


_LAZY = {"amounts": lambda v: [Amount(**a) for a in v or []],
         "actions": lambda v: [Action(**a) for a in v or []],
         "evidence": lambda v: {k: Evidence(**e) for k, e in (v or {}).items()}}
# each other field of a record with its default (a factory's made anew each time), in order
_EAGER = tuple((f.name, f.default, None if f.default_factory is MISSING else f.default_factory)
               for f in fields(Record) if f.name not in _LAZY and f.name != "extra")


_KNOWN = frozenset(f.name for f in fields(Record)) - {"extra"}


def cached_record(d: dict) -> CachedRecord:
    """The record of a stored dict (as ``Record.from_dict``, its lists of dataclasses left lazy)."""
    rec = CachedRecord.__new__(CachedRecord)
    values = rec.__dict__
    for name, default, factory in _EAGER:
        values[name] = d[name] if name in d else (factory() if factory is not None else default)
    values["extra"] = {k: v for k, v in d.items() if k not in _KNOWN}  # fields rule files declared
    values["_stored"] = d
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
        self.suffix = f"{rules_version}:{__version__}"
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
            data = json.loads(zlib.decompress(row[0]).decode("utf-8", "surrogateescape"))
            return _rebase(data, path)
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


def _rebase(data: dict, path) -> FileResult:
    """A cached result for the same content, possibly under another name: use this path."""
    row = dict(data["row"])
    old_src, new_src = display_path(row["path"]), display_path(path)
    row["path"] = str(path)
    res = FileResult(**{k: v for k, v in row.items() if k in FileResult.__dataclass_fields__})
    for d in data["records"]:
        src = d.get("source") or ""
        if src == old_src or src.startswith(old_src + "#"):
            d["source"] = new_src + src[len(old_src):]
        res.records.append(cached_record(d))
    return res


# ---------------------------------------------------------------- engines
