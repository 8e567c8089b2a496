"""The index's SQLite schema, versions and connections."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path




SCHEMA_VERSION = "2"  # 2: trigram table, text_key; an index of another version is rebuilt by `index`
FOLD_VERSION = "2"  # bump when fold() or tri_values() change: the contentless trigram table is rebuilt
FTS_COLUMNS = ("title", "proposal_title", "proposers", "issuer", "doc_number", "text")
# bm25 weights, same order as FTS_COLUMNS: a hit in the title counts more than one in the body
BM25_WEIGHTS = (6.0, 5.0, 4.0, 2.0, 4.0, 1.0)
# a fragment found in one of these ranks above letters that have it only in the body or issuer
FIELD_COLUMNS = ("title", "proposal_title", "proposers", "doc_number")


MIN_SQLITE = (3, 34, 0)  # the FTS5 trigram tokenizer


# --------------------------------------------------------------------------- the index

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files (
  path TEXT PRIMARY KEY, sha256 TEXT, origin TEXT NOT NULL, status TEXT, reason TEXT,
  letters INTEGER NOT NULL DEFAULT 0, indexed_at REAL);
CREATE INDEX IF NOT EXISTS files_sha ON files(sha256);
CREATE TABLE IF NOT EXISTS letters (
  id INTEGER PRIMARY KEY, path TEXT NOT NULL, letter_no INTEGER, source TEXT, sha256 TEXT,
  doc_number TEXT, date TEXT, year INTEGER, issuer TEXT, title TEXT, proposal_title TEXT,
  proposers TEXT, body TEXT, proposal_kind TEXT, handling_category TEXT,
  allocated_total_yuan REAL, requested_total_yuan REAL, actions TEXT, text_key TEXT);
-- the bulky columns apart: a query that ranks thousands of letters reads only the small rows above
CREATE TABLE IF NOT EXISTS letter_text (id INTEGER PRIMARY KEY, text TEXT, record TEXT);
CREATE INDEX IF NOT EXISTS letters_text_key ON letters(text_key);
CREATE INDEX IF NOT EXISTS letters_path ON letters(path);
CREATE INDEX IF NOT EXISTS letters_year ON letters(year);
CREATE INDEX IF NOT EXISTS letters_docno ON letters(doc_number);
CREATE TABLE IF NOT EXISTS letter_actions (letter_id INTEGER NOT NULL, category TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS letter_actions_cat ON letter_actions(category, letter_id);
CREATE INDEX IF NOT EXISTS letter_actions_id ON letter_actions(letter_id);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5({", ".join(FTS_COLUMNS)}, tokenize = 'unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS tri USING fts5({", ".join(FTS_COLUMNS)}, tokenize = 'trigram', content = '');
"""
_TABLES = ("meta", "files", "letters", "letter_text", "letter_actions", "fts", "tri")

LETTER_COLUMNS = ("path", "letter_no", "source", "sha256", "doc_number", "date", "year", "issuer", "title",
                "proposal_title", "proposers", "body", "proposal_kind", "handling_category",
                "allocated_total_yuan", "requested_total_yuan", "actions", "text_key")
LETTER_JOIN = "letters l JOIN letter_text t ON t.id = l.id"  # a letter with its text and record


def _check_sqlite() -> None:
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise IndexUnreadable(f"the search index needs SQLite ≥ {'.'.join(map(str, MIN_SQLITE))} (FTS5 trigram "
                              f"tokenizer); this Python has SQLite {sqlite3.sqlite_version}")


def _schema_version(con: sqlite3.Connection) -> str | None:
    try:
        row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    except sqlite3.OperationalError:  # no meta table: a new file, or not an index
        return None
    return row[0] if row else None


def connect(db: str | Path) -> tuple[sqlite3.Connection, str | None]:
    """Open an index for writing; an index of an older schema is emptied (every file is parsed
    again). Returns the connection and the old schema version when it was emptied."""
    _check_sqlite()
    con = sqlite3.connect(str(db))
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    old = _schema_version(con)
    dropped = None
    if old is not None and old != SCHEMA_VERSION:
        for t in _TABLES:
            con.execute(f"DROP TABLE IF EXISTS {t}")
        con.commit()
        dropped = old
    con.executescript(_SCHEMA)
    con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    con.commit()
    return con, dropped


@dataclass
class IndexStats:
    seen: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    letters: int = 0  # letters written in this run
    total_letters: int = 0  # letters in the index afterwards
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        rate = self.letters / self.seconds if self.seconds else 0.0
        return (f"files: {self.seen} seen, {self.added} added, {self.updated} updated, {self.moved} moved, "
                f"{self.unchanged} unchanged, {self.removed} removed; letters written: {self.letters}, "
                f"in index: {self.total_letters}; {self.seconds:.2f}s ({rate:.0f} letters/s)")


def connect_readonly(db: str | Path) -> sqlite3.Connection:
    """Open an index for searching only: it is never written to (a read-only file or folder works,
    a running ``index`` is not blocked, and a SQLite file that is no index gets no tables added)."""
    _check_sqlite()
    uri = Path(db).resolve().as_uri()
    try:
        try:
            con = sqlite3.connect(f"{uri}?mode=ro", uri=True)
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:  # a WAL database in a read-only folder: read it as it stands
            con = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
        con.row_factory = sqlite3.Row
        row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    except sqlite3.DatabaseError as e:
        raise IndexUnreadable(f"{db} is not a replyparse index, or it is damaged ({e}); "
                              f"build it again with: replyparse index PATH... --db {db}") from None
    if row is None:
        con.close()
        raise IndexUnreadable(f"{db} is not a replyparse index; build one with: replyparse index PATH... --db {db}")
    if row[0] != SCHEMA_VERSION:
        con.close()
        raise IndexUnreadable(f"{db} is an index of an older replyparse (schema {row[0]}, this one reads "
                              f"{SCHEMA_VERSION}); rebuild it with: replyparse index PATH... --db {db}")
    return con


class IndexUnreadable(ValueError):
    pass
