"""An embedded full-text index of letter records: SQLite FTS5 over jieba search-mode tokens.

Layout of the index file (one SQLite database):

- ``files``   one row per input file (or per source in a JSONL): path, content hash, status;
              re-indexing compares these to skip unchanged files and drop vanished ones.
- ``letters`` one row per reply letter: the structured fields as filterable columns, the
              normalised text (for snippets) and the record as JSON.
- ``letter_actions`` (letter_id, category), for ``--action`` filters.
- ``fts``     FTS5 table (unicode61) whose columns hold pre-tokenised, space-separated text:
              title, proposal title, proposers, issuer, doc number, full text. rowid = letters.id.
- ``meta``    the tokenizer signature (jieba version + user dictionary hash); when it changes,
              every stored token list is stale and the next ``index`` run rebuilds them all.

Chinese is cut with ``jieba.cut_for_search`` (search mode: a long word also yields its
sub-words, so 老旧小区 matches a query for 小区) using ``rules/jieba_userdict.txt`` on a private
``jieba.Tokenizer`` (the global jieba dictionary is left alone). Queries go through the same
normalisation (NFKC, Traditional→Simplified) and the same tokenizer.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
import threading
import time
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import regex

from .record import ACTION_CATEGORIES
from .rules import builtin_rules_dir

USERDICT_NAME = "jieba_userdict.txt"  # in the built-in rule folder (package data)
TOKENIZER_VERSION = "1"  # bump when tokens() changes
SCHEMA_VERSION = "1"
FTS_COLUMNS = ("title", "proposal_title", "proposers", "issuer", "doc_number", "text")
# bm25 weights, same order as FTS_COLUMNS: a hit in the title counts more than one in the body
BM25_WEIGHTS = (6.0, 5.0, 4.0, 2.0, 4.0, 1.0)
JSONL_EXTS = {".jsonl", ".ndjson"}
MAX_QUERY_CHARS = 200  # a pasted paragraph is cut here: longer queries only cost time

# --------------------------------------------------------------------------- tokenizer

_tok_lock = threading.Lock()
_tokenizer = None


def _jieba():
    """A private jieba Tokenizer with the user dictionary, loaded once per process."""
    global _tokenizer
    if _tokenizer is None:
        with _tok_lock:
            if _tokenizer is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                tk.initialize()
                with builtin_rules_dir().joinpath(USERDICT_NAME).open("rb") as f:  # package data: a missing file is a broken install, not a choice
                    tk.load_userdict(f)
                _tokenizer = tk
    return _tokenizer


@functools.lru_cache(maxsize=1)
def tokenizer_signature() -> str:
    import jieba

    h = hashlib.sha256(f"{TOKENIZER_VERSION}|{jieba.__version__}|".encode())
    h.update(builtin_rules_dir().joinpath(USERDICT_NAME).read_bytes())
    return h.hexdigest()[:16]


# Han characters broken over lines (or padded with spaces: 赵 雪 梅) are joined before
# cutting, so a phrase split across lines in the source is one phrase in the index.
_HAN_GAP = regex.compile(r"(?<=\p{Han})[ \t]*\n?[ \t]*(?=\p{Han})")
_WORD = regex.compile(r"[\p{L}\p{N}]")
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def flat(text: str) -> str:
    """Text as read: Han characters joined across line breaks, other breaks become one space."""
    text = _HAN_GAP.sub("", text)
    return regex.sub(r"\s+", " ", text).strip()


def _is_han(c: str) -> bool:
    return bool(_HAN_CHAR.match(c))


_HAN_CHAR = regex.compile(r"\p{Han}")


def tokens(text: str | None) -> list[str]:
    """jieba search-mode tokens of ``text`` (punctuation dropped, ASCII lower-cased)."""
    if not text:
        return []
    out = []
    for t in _jieba().cut_for_search(flat(text).translate(_ASCII_LOWER)):
        t = t.strip()
        if t and _WORD.search(t):
            out.append(t)
    return out


def token_text(text: str | None) -> str:
    return " ".join(tokens(text))


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


_DOCNO = regex.compile(r"(\p{Han}{1,15})\s*[\[【(（［〔]\s*((?:19|20)\d{2})\s*[\]】)）］〕]\s*0*(\d{1,5})\s*号")


def normalise_query(q: str) -> str:
    """Full-width → half-width, Traditional → Simplified, doc numbers in canonical form."""
    q = unicodedata.normalize("NFKC", q)
    q = _t2s().convert(q)
    return _DOCNO.sub(lambda m: f"{m[1]}〔{m[2]}〕{m[3]}号", q).strip()


def _fts_string(t: str) -> str:
    return '"' + t.replace('"', '""') + '"'


def query_groups(query: str) -> list[tuple[str, list[str]]]:
    """The query's whitespace-separated groups, each with its (deduplicated) tokens."""
    groups = []
    for g in normalise_query(query).split():
        toks = list(dict.fromkeys(tokens(g)))
        if toks:
            groups.append((g, toks))
    return groups


def _tiles(word: str) -> list[str]:
    """``word`` as the fewest dictionary words of 2+ characters that tile it (养老服务 → 养老 服务),
    or ``[word]`` when it cannot be tiled."""
    if len(word) <= 2:
        return [word]
    freq = _jieba().FREQ
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(i + 2, n + 1 if i else n):  # a piece shorter than the word itself
            piece = word[i:j]
            if freq.get(piece) and (best[j] is None or len(best[i]) + 1 < len(best[j])):
                best[j] = best[i] + [piece]
    return best[n] or [word]


def group_expression(group: str, toks: list[str]) -> str:
    """One query group: all its search-mode tokens (AND), or its words cut into dictionary
    pieces found near each other. jieba cuts a phrase in context differently from the phrase
    alone (社区养老服务设施 → 养老/服务设施, but 养老服务 alone → 养老服务), so the
    second form finds what the first misses; a letter matching both ranks higher."""
    strict = " AND ".join(_fts_string(t) for t in toks)
    pieces = list(dict.fromkeys(p for w in _jieba().cut(flat(group).translate(_ASCII_LOWER)) if _WORD.search(w)
                                for p in _tiles(w.strip())))
    if len(pieces) < 2 or set(pieces) <= set(toks) and len(toks) == len(pieces):
        return f"({strict})"
    near = f"NEAR({' '.join(_fts_string(p) for p in pieces)}, {4 * len(pieces)})"
    return f"(({strict}) OR {near})"


def match_expression(query: str) -> str | None:
    """The FTS5 MATCH expression: every group must match (AND)."""
    parts = [group_expression(g, toks) for g, toks in query_groups(query)]
    return " AND ".join(parts) if parts else None


# --------------------------------------------------------------------------- snippets

def snippet(text: str | None, query: str, width: int = 90, mark: tuple[str, str] = ("«", "»")) -> str:
    """A window of the letter's text around the query's terms, with the terms marked.

    Each query group is looked for whole first (老旧小区, 武民函〔2023〕61号); when it does
    not occur as written, its tokens of two or more characters are marked instead.
    """
    if not text:
        return ""
    # matching runs on the text with Han characters joined across line breaks; the snippet shows
    # the text with each run of whitespace as one space, so a term split over lines is «老旧 小区»
    body = regex.sub(r"\s+", " ", text).strip()
    keep = [i for i, c in enumerate(body)
            if not (c == " " and 0 < i < len(body) - 1 and _is_han(body[i - 1]) and _is_han(body[i + 1]))]
    low = "".join(body[i] for i in keep).translate(_ASCII_LOWER)
    terms: list[str] = []
    for g, toks in query_groups(query):
        g = g.translate(_ASCII_LOWER)
        if g in low:
            terms.append(g)
        else:
            longer = [t for t in toks if len(t) > 1]
            terms.extend(longer or toks)
    spans: list[tuple[int, int, int]] = []  # start, end, term index
    taken = [False] * len(low)
    for i, t in sorted(enumerate(dict.fromkeys(terms)), key=lambda x: -len(x[1])):
        start = low.find(t)
        while start >= 0:
            end = start + len(t)
            if not any(taken[start:end]):
                spans.append((keep[start], keep[end - 1] + 1, i))
                for k in range(start, end):
                    taken[k] = True
            start = low.find(t, end)
    spans.sort()
    if not spans:
        s, e = 0, min(len(body), width)
    else:
        # the window holding the most distinct terms, then the earliest
        best = None
        for a in range(len(spans)):
            b = a
            distinct = set()
            while b < len(spans) and spans[b][1] - spans[a][0] <= width:
                distinct.add(spans[b][2])
                b += 1
            key = (len(distinct), b - a)
            if best is None or key > best[0]:
                best = (key, a, b)
        _, a, b = best
        inner = spans[b - 1][1] - spans[a][0]
        s = max(0, spans[a][0] - max(10, (width - inner) // 3))
        e = min(len(body), s + max(width, inner))
    out = ["…" if s > 0 else ""]
    pos = s
    for st, en, _ in spans:
        if st < s or en > e:
            continue
        out.append(body[pos:st])
        out.append(mark[0] + body[st:en] + mark[1])
        pos = en
    out.append(body[pos:e])
    out.append("…" if e < len(body) else "")
    return "".join(out)


# --------------------------------------------------------------------------- inputs

@dataclass
class Unit:
    """One indexable unit: a file (or one source of a JSONL) and the records it gave."""
    path: str
    sha256: str | None
    origin: str  # "fs" or "jsonl:<abs path of the jsonl>"
    status: str = "ok"
    reason: str | None = None
    records: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)  # prepared letter rows (with tokens)
    given: str | None = None  # the path as given on the command line (records' ``source``)


def _year(rec: dict) -> int | None:
    d = rec.get("date")
    if d and regex.match(r"\d{4}", d):
        return int(d[:4])
    m = regex.search(r"〔((?:19|20)\d{2})〕", rec.get("doc_number") or "")
    return int(m[1]) if m else None


def is_letter(rec: dict) -> bool:
    return rec.get("status", "ok") == "ok" and rec.get("is_reply_letter") is not False


def prepare_rows(unit: Unit) -> Unit:
    """Letter rows with their token columns (the expensive part; runs in worker processes)."""
    unit.rows = []
    for n, rec in enumerate(unit.records):
        if not is_letter(rec):
            continue
        cats = list(dict.fromkeys(a["category"] if isinstance(a, dict) else a for a in rec.get("actions") or []))
        stored = {k: v for k, v in rec.items() if k != "text"}
        unit.rows.append({
            "letter_no": n,
            "source": rec.get("source") or unit.path,
            "doc_number": rec.get("doc_number"),
            "date": rec.get("date"),
            "year": _year(rec),
            "issuer": rec.get("issuer"),
            "title": rec.get("title"),
            "proposal_title": rec.get("proposal_title"),
            "proposers": json.dumps(rec.get("proposers") or [], ensure_ascii=False),
            "body": rec.get("body"),
            "proposal_kind": rec.get("proposal_kind"),
            "handling_category": rec.get("handling_category"),
            "allocated_total_yuan": rec.get("allocated_total_yuan"),
            "requested_total_yuan": rec.get("requested_total_yuan"),
            "actions": cats,
            "text": rec.get("text"),
            "record": json.dumps(stored, ensure_ascii=False),
            "tok": {
                "title": token_text(rec.get("title")),
                "proposal_title": token_text(rec.get("proposal_title")),
                # each name also as one whole token, so a name query matches however jieba cuts it
                "proposers": " ".join(
                    " ".join([flat(p).replace(" ", "")] + tokens(p)) for p in rec.get("proposers") or []),
                "issuer": token_text(rec.get("issuer")),
                "doc_number": token_text(rec.get("doc_number")),
                "text": token_text(rec.get("text")),
            },
        })
    unit.records = []  # rows carry everything needed; do not ship records back from workers
    return unit


def _parse_unit(item: tuple[str, str, tuple[str, ...]]) -> Unit:
    """Parse one file: ``item`` is (index key = absolute path, the path as given, kept as ``source``,
    the ``--rules`` folders)."""
    from .batch import process_file
    from .rules import load_rules_cached

    key, given, rule_dirs = item
    res = process_file(given, load_rules_cached(tuple(rule_dirs)))
    u = Unit(path=key, sha256=res.sha256, origin="fs", status=res.status, reason=res.reason,
             records=[r.to_dict() for r in res.records])
    return prepare_rows(u)


def _records_sha(records: list[dict]) -> str:
    h = hashlib.sha256()
    for r in records:
        h.update(json.dumps(r, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def read_jsonl_units(path: str | Path) -> list[Unit]:
    """Records of a JSONL written by ``replyparse parse``, grouped by source file (``a.txt#2`` → ``a.txt``)."""
    origin = "jsonl:" + os.path.abspath(path)
    groups: dict[str, list[dict]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            src = str(rec.get("source") or "")
            key = regex.sub(r"#\d+$", "", src) or f"{path}:{len(groups)}"
            groups.setdefault(key, []).append(rec)
    units = []
    for key, recs in groups.items():
        statuses = [r.get("status", "ok") for r in recs]
        status = "ok" if "ok" in statuses else statuses[0]
        units.append(Unit(path=key, sha256=_records_sha(recs), origin=origin, status=status, records=recs))
    return units


def is_jsonl(path: str | Path) -> bool:
    return Path(path).suffix.lower() in JSONL_EXTS


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
  allocated_total_yuan REAL, requested_total_yuan REAL, actions TEXT, text TEXT, record TEXT);
CREATE INDEX IF NOT EXISTS letters_path ON letters(path);
CREATE INDEX IF NOT EXISTS letters_year ON letters(year);
CREATE INDEX IF NOT EXISTS letters_docno ON letters(doc_number);
CREATE TABLE IF NOT EXISTS letter_actions (letter_id INTEGER NOT NULL, category TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS letter_actions_cat ON letter_actions(category, letter_id);
CREATE INDEX IF NOT EXISTS letter_actions_id ON letter_actions(letter_id);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5({", ".join(FTS_COLUMNS)}, tokenize = 'unicode61');
"""

_LETTER_COLS = ("path", "letter_no", "source", "sha256", "doc_number", "date", "year", "issuer", "title",
                "proposal_title", "proposers", "body", "proposal_kind", "handling_category",
                "allocated_total_yuan", "requested_total_yuan", "actions", "text", "record")


def connect(db: str | Path) -> sqlite3.Connection:
    con = sqlite3.connect(str(db))
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.executescript(_SCHEMA)
    con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    return con


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
    return con


class IndexUnreadable(ValueError):
    pass


class Index:
    def __init__(self, db: str | Path, readonly: bool = False):
        self.db = str(db)
        self.con = connect_readonly(db) if readonly else connect(db)

    def close(self) -> None:
        self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- writing

    def _stale_tokens(self) -> bool:
        row = self.con.execute("SELECT value FROM meta WHERE key='tokenizer'").fetchone()
        n = self.con.execute("SELECT count(*) FROM files").fetchone()[0]
        return n > 0 and (row is None or row[0] != tokenizer_signature())

    def _delete_path(self, path: str) -> None:
        ids = [r[0] for r in self.con.execute("SELECT id FROM letters WHERE path=?", (path,))]
        for i in ids:
            self.con.execute("DELETE FROM fts WHERE rowid=?", (i,))
            self.con.execute("DELETE FROM letter_actions WHERE letter_id=?", (i,))
        self.con.execute("DELETE FROM letters WHERE path=?", (path,))
        self.con.execute("DELETE FROM files WHERE path=?", (path,))

    def _write_unit(self, u: Unit) -> int:
        self._delete_path(u.path)
        self.con.execute("INSERT INTO files(path, sha256, origin, status, reason, letters, indexed_at) "
                         "VALUES (?,?,?,?,?,?,?)",
                         (u.path, u.sha256, u.origin, u.status, u.reason, len(u.rows), time.time()))
        for row in u.rows:
            vals = dict(row, path=u.path, sha256=u.sha256, actions=" ".join(row["actions"]))
            cur = self.con.execute(
                f"INSERT INTO letters({', '.join(_LETTER_COLS)}) VALUES ({', '.join('?' * len(_LETTER_COLS))})",
                [vals[c] for c in _LETTER_COLS])
            lid = cur.lastrowid
            self.con.execute(f"INSERT INTO fts(rowid, {', '.join(FTS_COLUMNS)}) VALUES (?{', ?' * len(FTS_COLUMNS)})",
                             [lid] + [row["tok"][c] for c in FTS_COLUMNS])
            self.con.executemany("INSERT INTO letter_actions VALUES (?, ?)", [(lid, c) for c in row["actions"]])
        return len(u.rows)

    def _move(self, old: str, u: Unit) -> int:
        """A known content under a new path: copy its rows and tokens instead of parsing again."""
        self.con.execute("INSERT INTO files(path, sha256, origin, status, reason, letters, indexed_at) "
                         "SELECT ?, sha256, origin, status, reason, letters, ? FROM files WHERE path=?",
                         (u.path, time.time(), old))
        n = 0
        for r in self.con.execute("SELECT * FROM letters WHERE path=?", (old,)).fetchall():
            d = dict(r)
            old_id = d.pop("id")
            d["path"] = u.path
            src = u.given or u.path
            d["source"] = src + (f"#{d['letter_no'] + 1}" if "#" in (d["source"] or "") else "")
            cur = self.con.execute(
                f"INSERT INTO letters({', '.join(_LETTER_COLS)}) VALUES ({', '.join('?' * len(_LETTER_COLS))})",
                [d[c] for c in _LETTER_COLS])
            lid = cur.lastrowid
            self.con.execute(f"INSERT INTO fts(rowid, {', '.join(FTS_COLUMNS)}) "
                             f"SELECT ?, {', '.join(FTS_COLUMNS)} FROM fts WHERE rowid=?", (lid, old_id))
            self.con.execute("INSERT INTO letter_actions SELECT ?, category FROM letter_actions WHERE letter_id=?",
                             (lid, old_id))
            n += 1
        return n

    def index_paths(self, paths: Iterable[str | Path], jobs: int | None = None, prune: bool = False,
                    progress=None, rule_dirs: Iterable[str] = ()) -> IndexStats:
        """Index files, folders and JSONL record files; update changed, drop vanished, skip unchanged.
        Files are parsed with the built-in rules and ``rule_dirs`` over them; when that rule set differs
        from the one the index was built with, every file is parsed again."""
        from .batch import file_sha256
        from .pipeline import display_path, iter_paths
        from .rules import load_rules_cached

        t0 = time.perf_counter()
        st = IndexStats()
        rule_dirs = tuple(str(d) for d in rule_dirs)
        rules_version = load_rules_cached(rule_dirs).version
        force = self._stale_tokens()
        if force:
            st.warnings.append("tokenizer or user dictionary changed: re-tokenising every file")
        stored_rules = self.con.execute("SELECT value FROM meta WHERE key = 'rules'").fetchone()
        if not force and stored_rules and stored_rules[0] != rules_version:
            force = True
            st.warnings.append("the rules changed since this index was built: parsing every file again")
        known = {r["path"]: (r["sha256"], r["origin"]) for r in self.con.execute("SELECT path, sha256, origin FROM files")}
        seen: set[str] = set()
        scopes_dirs, scopes_origins = [], []
        todo_files: list[tuple[str, str, tuple[str, ...]]] = []  # (key, path as given, --rules) to parse
        todo_units: list[Unit] = []  # JSONL units to tokenise
        moves: list[tuple[str, Unit]] = []
        by_sha: dict[str, str] = {}
        for p, (sha, origin) in known.items():
            if origin == "fs" and sha:
                by_sha.setdefault(sha, p)

        for arg in paths:
            arg = str(arg)
            if is_jsonl(arg) and os.path.isfile(arg):
                units = read_jsonl_units(arg)
                scopes_origins.append("jsonl:" + os.path.abspath(arg))
                for u in units:
                    seen.add(u.path)
                    st.seen += 1
                    if not force and known.get(u.path, (None,))[0] == u.sha256:
                        st.unchanged += 1
                    else:
                        todo_units.append(u)
                continue
            if os.path.isdir(arg):
                scopes_dirs.append(os.path.abspath(arg).rstrip(os.sep) + os.sep)
            elif not os.path.exists(arg):
                key = display_path(os.path.abspath(arg))
                if key in known:
                    self._delete_path(key)
                    st.removed += 1
                st.warnings.append(f"{arg}: no such file")
                continue
            for fp in iter_paths([arg]):
                # the index's key for a file: its absolute path as readable text (a GBK file name
                # decoded), which SQLite can store; the file itself is read by its real name
                key = display_path(os.path.abspath(fp))
                if key in seen:
                    continue
                seen.add(key)
                st.seen += 1
                sha = file_sha256(fp)
                old = known.get(key)
                if not force and old and old[0] == sha:
                    st.unchanged += 1
                elif not force and not old and sha in by_sha and by_sha[sha] != key:
                    moves.append((by_sha[sha], Unit(path=key, sha256=sha, origin="fs", given=display_path(fp))))
                else:
                    todo_files.append((key, str(fp), rule_dirs))

        try:
            for old, u in moves:
                st.letters += self._move(old, u)
                st.moved += 1
            n_new = 0
            for u in self._prepared(todo_files, todo_units, jobs):
                st.added += u.path not in known
                st.updated += u.path in known
                st.letters += self._write_unit(u)
                n_new += 1
                if progress:
                    progress(n_new, len(todo_files) + len(todo_units))
                if n_new % 2000 == 0:
                    self.con.commit()
            # vanished: indexed under a folder/JSONL given now but not seen in this run
            for p, (sha, origin) in known.items():
                if p in seen:
                    continue
                gone = (origin == "fs" and any(p.startswith(d) for d in scopes_dirs)) or origin in scopes_origins
                if prune and origin == "fs" and not os.path.exists(p):
                    gone = True
                if gone:
                    self._delete_path(p)
                    st.removed += 1
            self.con.execute("INSERT OR REPLACE INTO meta VALUES ('tokenizer', ?)", (tokenizer_signature(),))
            self.con.execute("INSERT OR REPLACE INTO meta VALUES ('rules', ?)", (rules_version,))
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        self._finish(st)
        st.seconds = time.perf_counter() - t0
        return st

    def _finish(self, st: IndexStats) -> None:
        if st.letters > 5000:  # merge the FTS segments written by a large run: smaller, faster to query
            self.con.execute("INSERT INTO fts(fts) VALUES ('optimize')")
            self.con.commit()
        self.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        st.total_letters = self.con.execute("SELECT count(*) FROM letters").fetchone()[0]

    def index_units(self, units: list[Unit], jobs: int | None = None) -> IndexStats:
        """Index ready-made units (records already parsed), replacing what is stored under their paths."""
        t0 = time.perf_counter()
        st = IndexStats()
        try:
            for u in self._prepared([], units, jobs):
                st.seen += 1
                st.letters += self._write_unit(u)
            self.con.execute("INSERT OR REPLACE INTO meta VALUES ('tokenizer', ?)", (tokenizer_signature(),))
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        st.added = st.seen
        self._finish(st)
        st.seconds = time.perf_counter() - t0
        return st

    @staticmethod
    def _prepared(files: list[tuple[str, str, tuple[str, ...]]], units: list[Unit], jobs: int | None) -> Iterator[Unit]:
        n = len(files) + len(units)
        if jobs is None:
            jobs = min(os.cpu_count() or 1, 8) if n >= 400 else 1
        if jobs <= 1 or n < 2:
            for f in files:
                yield _parse_unit(f)
            for u in units:
                yield prepare_rows(u)
            return
        with ProcessPoolExecutor(max_workers=jobs) as ex:
            chunk = max(1, min(64, n // (jobs * 8) or 1))
            yield from ex.map(_parse_unit, files, chunksize=chunk)
            yield from ex.map(prepare_rows, units, chunksize=chunk)

    # ---- reading

    def search(self, query: str = "", *, issuer: str | None = None, year: int | None = None,
               body: str | None = None, category: str | None = None, actions: Iterable[str] = (),
               kind: str | None = None, min_allocated: float | None = None, min_requested: float | None = None,
               limit: int = 10, offset: int = 0, count: bool = True, mark: tuple[str, str] = ("«", "»"),
               snippet_width: int = 90) -> "SearchResult":
        _jieba()  # loaded once per process; not part of a query's time
        t0 = time.perf_counter()
        note = None
        if query and len(query) > MAX_QUERY_CHARS:  # the cost of a query grows faster than its length
            query = query[:MAX_QUERY_CHARS]
            note = f"the query was cut to its first {MAX_QUERY_CHARS} characters"
        expr = match_expression(query) if query and query.strip() else None
        if query and query.strip() and expr is None:
            return SearchResult(query=query, match=None, total=0, hits=[], ms=0.0,
                                note="the query has no word to look for (only punctuation or symbols)")
        where, params = [], {}
        if expr:
            where.append("fts MATCH :q")
            params["q"] = expr
        if issuer:
            where.append("l.issuer LIKE '%' || :issuer || '%'")
            params["issuer"] = normalise_query(issuer)
        if year is not None:
            where.append("l.year = :year")
            params["year"] = int(year)
        if body:
            where.append("l.body = :body")
            params["body"] = normalise_query(body)
        if category:
            where.append("l.handling_category = :cat")
            params["cat"] = category.strip().upper()
        if kind:
            where.append("l.proposal_kind = :kind")
            params["kind"] = normalise_query(kind)
        for i, a in enumerate(actions or ()):
            if a not in ACTION_CATEGORIES:
                raise ValueError(f"unknown action category {a!r}; one of {', '.join(ACTION_CATEGORIES)}")
            where.append(f"EXISTS (SELECT 1 FROM letter_actions a WHERE a.letter_id = l.id AND a.category = :a{i})")
            params[f"a{i}"] = a
        if min_allocated is not None:
            where.append("l.allocated_total_yuan >= :minalloc")
            params["minalloc"] = float(min_allocated)
        if min_requested is not None:
            where.append("l.requested_total_yuan >= :minreq")
            params["minreq"] = float(min_requested)
        # a query that is a doc number puts the letter with exactly that number first
        m = _DOCNO.search(normalise_query(query or ""))
        params["docno"] = f"{m[1]}〔{m[2]}〕{m[3]}号" if m else None
        wsql = (" WHERE " + " AND ".join(where)) if where else ""
        if expr:
            frm = "fts JOIN letters l ON l.id = fts.rowid"
            score = f"bm25(fts, {', '.join(map(str, BM25_WEIGHTS))})"
            order = "(l.doc_number = :docno) DESC, score"
        else:
            frm = "letters l"
            score = "0.0"
            order = "l.date IS NULL, l.date DESC, l.id"
        sql = (f"SELECT l.id, l.path, l.source, l.doc_number, l.date, l.issuer, l.title, l.proposal_title, "
               f"l.proposers, l.body, l.proposal_kind, l.handling_category, l.allocated_total_yuan, "
               f"l.requested_total_yuan, l.actions, l.text, {score} AS score FROM {frm}{wsql} "
               f"ORDER BY {order} LIMIT :limit OFFSET :offset")
        params.update(limit=int(limit), offset=int(offset))
        rows = self.con.execute(sql, params).fetchall()
        total = None
        if count:
            total = self.con.execute(f"SELECT count(*) FROM {frm}{wsql}", params).fetchone()[0]
        hits = []
        for r in rows:
            hits.append(Hit(
                score=float(f"{-r['score']:.4g}") + 0.0, path=r["path"], source=r["source"], doc_number=r["doc_number"],
                date=r["date"], issuer=r["issuer"], title=r["title"], proposal_title=r["proposal_title"],
                proposers=json.loads(r["proposers"] or "[]"), body=r["body"], proposal_kind=r["proposal_kind"],
                handling_category=r["handling_category"],
                allocated_total_yuan=_num(r["allocated_total_yuan"]),
                requested_total_yuan=_num(r["requested_total_yuan"]),
                actions=(r["actions"] or "").split(),
                snippet=snippet(r["text"], query or "", snippet_width, mark)))
        return SearchResult(query=query, match=expr, total=total, hits=hits,
                            ms=round((time.perf_counter() - t0) * 1000, 2), note=note)

    def records(self) -> Iterator[dict]:
        """Every indexed letter as its record (with text), in index order."""
        for r in self.con.execute("SELECT record, text FROM letters ORDER BY id"):
            rec = json.loads(r["record"])
            rec["text"] = r["text"]
            yield rec


def _num(v):
    if v is None:
        return None
    return int(v) if float(v).is_integer() else v


@dataclass
class Hit:
    score: float
    path: str
    source: str
    doc_number: str | None
    date: str | None
    issuer: str | None
    title: str | None
    proposal_title: str | None
    proposers: list[str]
    body: str | None
    proposal_kind: str | None
    handling_category: str | None
    allocated_total_yuan: float | None
    requested_total_yuan: float | None
    actions: list[str]
    snippet: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SearchResult:
    query: str
    match: str | None
    total: int | None
    hits: list[Hit]
    ms: float
    note: str | None = None  # why the query was changed or found nothing

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "match": self.match, "total": self.total, "ms": self.ms,
                "note": self.note, "hits": [h.to_dict() for h in self.hits]}


def parse_yuan(text: str | float | int) -> float:
    """``1000000``, ``100万``, ``1.2亿`` → yuan."""
    if isinstance(text, (int, float)):
        return float(text)
    s = unicodedata.normalize("NFKC", str(text)).strip().replace(",", "").rstrip("元")
    mult = 1.0
    if s.endswith("万"):
        s, mult = s[:-1], 1e4
    elif s.endswith("亿"):
        s, mult = s[:-1], 1e8
    return float(s) * mult


def format_yuan(v: float | int | None) -> str:
    if v is None:
        return "-"
    if v >= 1e8:
        return f"{v / 1e8:g}亿元"
    if v >= 1e4:
        return f"{v / 1e4:g}万元"
    return f"{v:g}元"


def format_hits(res: SearchResult) -> str:
    lines = [f"note: {res.note}"] if res.note else []
    if res.total is not None:
        lines.append(f"{res.total} letter(s) match" + (f"; top {len(res.hits)}" if res.total > len(res.hits) else "")
                     + f"  ({res.ms:.1f} ms)")
    for i, h in enumerate(res.hits, 1):
        head = "  ".join(x for x in (h.doc_number or "(no doc number)", h.date or "(no date)", h.issuer or "") if x)
        lines.append(f"{i:>2}. {head}")
        lines.append(f"    {h.title or h.proposal_title or h.source}")
        facts = [f"score {h.score:.3g}"] if res.match else []
        if h.body:
            facts.append(h.body + (h.proposal_kind or ""))
        if h.handling_category:
            facts.append(f"{h.handling_category}类")
        if h.proposers:
            facts.append("、".join(h.proposers))
        if h.allocated_total_yuan is not None:
            facts.append(f"allocated {format_yuan(h.allocated_total_yuan)}")
        if h.requested_total_yuan is not None:
            facts.append(f"requested {format_yuan(h.requested_total_yuan)}")
        if h.actions:
            facts.append(",".join(h.actions))
        lines.append("    " + " | ".join(facts))
        if h.snippet:
            lines.append(f"    {h.snippet}")
        lines.append(f"    {h.source}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line

def cmd_index(args) -> int:
    import sys

    from .errors import existing_inputs, output_file
    from .rules import load_rules

    existing_inputs(args.paths)
    output_file(args.db, "--db")
    load_rules(args.rules or [])  # a bad --rules folder stops here, before the index is touched
    with Index(args.db) as ix:
        st = ix.index_paths(args.paths, jobs=args.workers, prune=args.prune, rule_dirs=args.rules or ())
    for w in st.warnings:
        print(f"replyparse index: {w}", file=sys.stderr)
    if not args.quiet:
        print(st.summary())
    return 0


def cmd_search(args) -> int:
    import sys

    from .errors import UsageError

    if not os.path.isfile(args.db):
        raise UsageError(f"no index at {args.db}; build one with: replyparse index PATH... --db {args.db}")
    try:
        min_alloc = parse_yuan(args.min_allocated) if args.min_allocated is not None else None
        min_req = parse_yuan(args.min_requested) if args.min_requested is not None else None
    except ValueError:
        raise UsageError("--min-allocated/--min-requested take yuan, optionally with 万 or 亿 (100万)") from None
    try:
        ix = Index(args.db, readonly=True)
    except IndexUnreadable as e:
        raise UsageError(str(e)) from None
    with ix:
        try:
            res = ix.search(args.query or "", issuer=args.issuer, year=args.year, body=args.body,
                            category=args.category, actions=args.action or (), kind=args.kind,
                            min_allocated=min_alloc, min_requested=min_req, limit=args.limit, offset=args.offset)
        except ValueError as e:
            raise UsageError(str(e)) from None
    if args.show_query:
        groups = query_groups(args.query or "")
        print("tokens: " + " | ".join(" ".join(t) for _, t in groups), file=sys.stderr)
        print(f"match:  {res.match}", file=sys.stderr)
    if args.json:
        print(json.dumps(res.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(format_hits(res))
    return 0


def cmd_export(args) -> int:
    import sys

    from .errors import existing_inputs, output_file
    from .export import export_es_bulk
    from .rules import load_rules

    existing_inputs(args.paths)
    output_file(args.output)
    if args.mapping:
        output_file(args.mapping, "--mapping")
    rules = load_rules(args.rules or [])
    n, mapping = export_es_bulk(args.paths, args.output, args.mapping, index=args.index,
                                include_non_letters=args.all, rules=rules)
    print(f"{n} letters → {args.output} (bulk NDJSON), mapping → {mapping}", file=sys.stderr)
    return 0


def add_subcommands(sub) -> None:
    """The ``index``, ``search`` and ``export`` subcommands (README: Search)."""
    from .cli import add_rules_option, add_workers_option

    sp = sub.add_parser("index", help="build or update a full-text index (SQLite FTS5) of letters")
    sp.add_argument("paths", nargs="+", help="files, folders, or JSONL written by replyparse parse")
    sp.add_argument("--db", required=True, help="the index file (.sqlite); created when missing")
    add_workers_option(sp, "all cores for large runs, else 1; --jobs is the old name")
    add_rules_option(sp)
    sp.add_argument("--prune", action="store_true", help="also drop indexed files that no longer exist anywhere")
    sp.add_argument("--quiet", action="store_true")
    sp.set_defaults(func=cmd_index)

    sp = sub.add_parser("search", help="search an index built by replyparse index")
    sp.add_argument("query", nargs="?", default="",
                    help="words (space = AND); Traditional is converted; empty: filters only, newest first")
    sp.add_argument("--db", required=True)
    sp.add_argument("--issuer", help="issuer contains this text (民政局)")
    sp.add_argument("--year", type=int, help="year of the letter's date (or of its doc number)")
    sp.add_argument("--body", help="人大 or 政协")
    sp.add_argument("--kind", help="建议, 提案 or 议案")
    sp.add_argument("--category", help="handling category A/B/C/D")
    sp.add_argument("--action", action="append", choices=ACTION_CATEGORIES,
                    help="the letter shows this action (repeat: all of them)")
    sp.add_argument("--min-allocated", help="allocated total at least this (yuan; 100万 and 1.2亿 accepted)")
    sp.add_argument("--min-requested", help="requested total at least this")
    sp.add_argument("--limit", type=int, default=10)
    sp.add_argument("--offset", type=int, default=0)
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--show-query", action="store_true", help="print the query's tokens and FTS5 expression")
    sp.set_defaults(func=cmd_search)

    sp = sub.add_parser("export", help="write letters for a search engine (Elasticsearch/OpenSearch bulk)")
    sp.add_argument("paths", nargs="+", help="files, folders, or JSONL written by replyparse parse")
    sp.add_argument("--format", choices=["es-bulk"], default="es-bulk")
    sp.add_argument("-o", "--output", required=True, help="the NDJSON file")
    sp.add_argument("--mapping", help="where to write the index mapping (default: OUTPUT.mapping.json)")
    sp.add_argument("--index", default="replyparse", help="index name in the action lines")
    sp.add_argument("--all", action="store_true", help="include records that are not reply letters")
    add_rules_option(sp)
    sp.set_defaults(func=cmd_export)
