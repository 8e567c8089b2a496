"""An embedded full-text index of letter records: SQLite FTS5, a trigram index for fragments
and a jieba word index for one- and two-character queries.

Layout of the index file (one SQLite database):

- ``files``   one row per input file (or per source in a JSONL): path, content hash, status;
              re-indexing compares these to skip unchanged files and drop vanished ones.
- ``letters`` one row per reply letter: the structured fields as filterable columns, the
              normalised text (for snippets), the record as JSON and ``text_key``, the hash of
              the text without whitespace: copies of one letter (.txt and .pdf) share it and
              come back from a search as one hit listing all their sources.
- ``letter_actions`` (letter_id, category), for ``--action`` filters.
- ``tri``     FTS5 ``trigram`` table, contentless: title, proposal title, proposers, issuer, doc
              number, full text, each folded (``fold``). Any fragment of 3+ characters matches
              where it stands, whatever the word boundaries. rowid = letters.id.
- ``fts``     FTS5 table (unicode61) whose columns hold jieba search-mode tokens, space-separated,
              same columns. Used for queries of one or two characters (a trigram index cannot
              look them up) and when a fragment is not found as written (its words, ANDed).
- ``meta``    schema version, tokenizer signature (jieba version + user dictionary hash) and
              fold signature; when one changes the stale part is rebuilt by the next ``index``.

Chinese is cut with ``jieba.cut_for_search`` (search mode: a long word also yields its
sub-words, so 老旧小区 matches a query for 小区) using ``rules/jieba_userdict.txt`` on a private
``jieba.Tokenizer`` (the global jieba dictionary is left alone). jieba is imported only by
indexing: a query term of 3+ characters that no letter holds as written is cut into words with
the word index's own vocabulary (``Index._cut``), so ``search`` never waits for jieba's dictionary.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import regex

from .record import ACTION_CATEGORIES, letter_year
from .rules import builtin_rules_dir

USERDICT_NAME = "jieba_userdict.txt"  # in the built-in rule folder (package data)
TOKENIZER_VERSION = "1"  # bump when tokens() changes
SCHEMA_VERSION = "2"  # 2: trigram table, text_key; an index of another version is rebuilt by `index`
FOLD_VERSION = "2"  # bump when fold() or tri_values() change: the contentless trigram table is rebuilt
FTS_COLUMNS = ("title", "proposal_title", "proposers", "issuer", "doc_number", "text")
# bm25 weights, same order as FTS_COLUMNS: a hit in the title counts more than one in the body
BM25_WEIGHTS = (6.0, 5.0, 4.0, 2.0, 4.0, 1.0)
# a fragment found in one of these ranks above letters that have it only in the body or issuer
FIELD_COLUMNS = ("title", "proposal_title", "proposers", "doc_number")
MIN_TRIGRAM = 3  # shorter queries cannot be looked up in a trigram index
MIN_SQLITE = (3, 34, 0)  # the FTS5 trigram tokenizer
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


def _opencc_version() -> str:
    try:
        from importlib.metadata import version

        return version("opencc")
    except Exception:  # a vendored or renamed build: the fold still works, only the signature is vaguer
        return "?"


def fold_signature() -> str:
    return f"{FOLD_VERSION}|opencc {_opencc_version()}"


_DOCNO = regex.compile(r"(\p{Han}{1,15})\s*[\[【(（［〔]\s*((?:19|20)\d{2})\s*[\]】)）］〕]\s*0*(\d{1,5})\s*号")
# the bracketed year and serial of a doc number, whatever stands before it (the prefix may be cut
# off a pasted query, or written with a space before the bracket)
_DOCNO_TAIL = regex.compile(r"[ \t]*[\[【(（［〔]\s*((?:19|20)\d{2})\s*[\]】)）］〕]\s*0*(\d{1,5})\s*号")


def fold(s: str) -> str:
    """The form both the trigram index and queries are matched in: NFKC (full-width → ASCII, also
    full-width punctuation), Traditional → Simplified, doc numbers as 〔2023〕61号 (any bracket
    style, no leading zeros in the serial)."""
    s = _t2s().convert(unicodedata.normalize("NFKC", s))
    return _DOCNO_TAIL.sub(lambda m: f"〔{m[1]}〕{m[2]}号", s)


def normalise_query(q: str) -> str:
    """Full-width → half-width, Traditional → Simplified, doc numbers in canonical form."""
    return fold(q).strip()


_EDGE = regex.compile(r"^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$")


def query_terms(query: str) -> list[str]:
    """The query's whitespace-separated terms, folded and lower-cased, punctuation at their ends
    dropped (a pasted 村间公路。 is looked for as 村间公路); terms with no letter or digit go."""
    out = []
    for g in normalise_query(query).split():
        g = _EDGE.sub("", g).translate(_ASCII_LOWER)
        if g:
            out.append(g)
    return list(dict.fromkeys(out))


# a line break or padding next to Chinese text or punctuation is layout, not a space: a piece
# copied across it (的关切。感谢您对) is looked for without it
_CJK = r"[\p{Han}\u2010-\u2027\u2030-\u205e\u3001-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]"
_CJK_GAP = regex.compile(rf"\s+(?={_CJK})|(?<={_CJK})\s+")
_CJK_CHAR = regex.compile(_CJK)


def tri_text(text: str) -> str:
    """``text`` as the trigram index holds it: whitespace at Chinese text dropped, other runs one space, folded."""
    return fold(regex.sub(r"\s+", " ", _CJK_GAP.sub("", text)).strip())


def tri_values(row: dict) -> list[str]:
    """The trigram table's column values for a letter row (``proposers`` as stored: JSON). Deleting
    from a contentless FTS5 table needs the very values inserted, so both go through here."""
    def f(v):
        return tri_text(v) if v else ""
    names = json.loads(row.get("proposers") or "[]")
    return [f(row.get("title")), f(row.get("proposal_title")), " ".join(f(n).replace(" ", "") for n in names),
            f(row.get("issuer")), f(row.get("doc_number")), f(row.get("text"))]


def text_key(text: str | None) -> str | None:
    """Copies of one letter (a .txt and its .pdf) share this: the text without whitespace."""
    if not text:
        return None
    t = regex.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return hashlib.sha1(t.encode("utf-8")).hexdigest()[:20]


def _fts_string(t: str) -> str:
    return '"' + t.replace('"', '""') + '"'


@dataclass
class QueryPlan:
    """How a query is looked up: each term either as a fragment in the trigram index or as words
    (an FTS5 expression) in the word index; all terms must match."""
    terms: list[str]
    fragments: list[str]
    words: list[tuple[str, str]]  # (term, FTS5 expression on the word index)
    as_words: bool = False  # terms of 3+ characters were looked up as words (no letter holds them as written)
    pieces: dict[str, list[str]] = field(default_factory=dict)  # term → the words it was cut into
    impossible: bool = False  # a term holds a character no letter has: nothing can match
    loose: dict[str, str] = field(default_factory=dict)  # fragment → an FTS5 expression used instead

    def fragment_expression(self, t: str) -> str:
        return self.loose.get(t) or _fts_string(t)

    def describe(self) -> str | None:
        parts = []
        if self.fragments:
            parts.append("fragments: " + " AND ".join(self.fragment_expression(t) for t in self.fragments))
        if self.words:
            parts.append("words: " + " AND ".join(e for _, e in self.words))
        return " | ".join(parts) or None


def plan_query(query: str, as_words: bool = False, cut=None) -> QueryPlan:
    """``as_words``: terms of 3+ characters are cut into words by ``cut(term)`` (a list of words,
    or None when the term cannot be cut into words any letter has) and all must occur."""
    fragments, words, pieces, impossible = [], [], {}, False
    terms = query_terms(query)
    for t in terms:
        if len(t) >= MIN_TRIGRAM and not as_words:
            fragments.append(t)
        elif len(t) < MIN_TRIGRAM:
            # one or two letters/digits are one word as they stand; jieba is not needed to cut them
            words.append((t, f"({_fts_string(t)})"))
        else:
            ws = cut(t) if cut else None
            if not ws:
                impossible = True
                continue
            pieces[t] = ws
            words.append((t, "(" + " AND ".join(_fts_string(w) for w in ws) + ")"))
    return QueryPlan(terms, fragments, words, as_words and any(len(t) >= MIN_TRIGRAM for t in terms),
                     pieces, impossible)


_CANON_DOCNO = regex.compile(r"(.*?)〔((?:19|20)\d{2})〕(\d{1,5})号")


def loose_doc_numbers(plan: QueryPlan) -> QueryPlan | None:
    """``plan`` with each doc-number term (武民函〔2023〕61号) matching the number as a web page or a
    scan may have lost its marks: the brackets (武民函〔202361, 武民函202361) or 号 (武民函〔2023〕61,
    any bracket style, a zero before the serial). The prefix stays attached. None when no term is
    a doc number with a prefix."""
    loose, pieces = {}, {}
    for t in plan.fragments:
        m = _CANON_DOCNO.fullmatch(t)
        if not m or not m[1]:
            continue
        p, y, n = m[1], m[2], m[3]
        forms = [f"{p}{y}{n}", f"{p}〔{y}{n}"] + [f"{p}{a}{y}{b}{z}{n}" for a, b in ("〔〕", "[]", "()", "【】")
                                                 for z in ("", "0")]
        loose[t] = "(" + " OR ".join(_fts_string(x) for x in forms) + ")"
        pieces[t] = [p, f"{y}{n}"]
    if not loose:
        return None
    return QueryPlan(plan.terms, plan.fragments, plan.words, plan.as_words, {**plan.pieces, **pieces},
                     plan.impossible, loose)


def match_expression(query: str) -> str | None:
    """What the query is matched with (fragments in the trigram index, words in the word index)."""
    return plan_query(query).describe()


# --------------------------------------------------------------------------- snippets

_OPEN, _CLOSE = "[【(（［〔", "]】)）］〕"


def _term_pattern(term: str) -> str:
    """``term`` (folded) as the letter's text may write it: brackets of any style, ASCII
    punctuation also full-width, a doc number's serial with leading zeros."""
    out = []
    for c in term:
        if c in _OPEN:
            out.append("[" + regex.escape(_OPEN) + "]")
        elif c in _CLOSE:
            out.append("[" + regex.escape(_CLOSE) + r"]\s*0*")
        elif c.isascii() and not c.isalnum() and "!" <= c <= "~":
            out.append("[" + regex.escape(c + chr(ord(c) + 0xFEE0)) + "]")
        else:
            out.append(regex.escape(c))
    return "".join(out)


def snippet(text: str | None, query: str, width: int = 90, mark: tuple[str, str] = ("«", "»"),
            words: dict[str, list[str]] | None = None) -> str:
    """A window of the letter's text around the query's terms, with the terms marked.

    Each term is looked for as written (老旧小区, 武民函〔2023〕61号 also as 武民函[2023]061号);
    with ``words`` (term → the words it was matched as), a term not found whole has those words
    marked instead.
    """
    if not text:
        return ""
    # matching runs on the text with Han characters joined across line breaks; the snippet shows
    # the text with each run of whitespace as one space, so a term split over lines is «老旧 小区»
    body = regex.sub(r"\s+", " ", text).strip()
    keep = [i for i, c in enumerate(body)
            if not (c == " " and 0 < i < len(body) - 1 and (_CJK_CHAR.match(body[i - 1]) or _CJK_CHAR.match(body[i + 1])))]
    low = "".join(body[i] for i in keep).translate(_ASCII_LOWER)
    pats: list[tuple[int, str]] = []  # (length for ordering, pattern)
    for t in query_terms(query):
        p = _term_pattern(t)
        if regex.search(p, low):
            pats.append((len(t), p))
        elif words and words.get(t):
            ws = words[t]
            pats.extend((len(k), regex.escape(k)) for k in ([k for k in ws if len(k) > 1] or ws))
    spans: list[tuple[int, int, int]] = []  # start, end, term index
    taken = [False] * len(low)
    for i, (_, p) in sorted(enumerate(dict.fromkeys(pats)), key=lambda x: -x[1][0]):
        for m in regex.finditer(p, low):
            start, end = m.span()
            if end > start and not any(taken[start:end]):
                spans.append((keep[start], keep[end - 1] + 1, i))
                for k in range(start, end):
                    taken[k] = True
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


def record_year(rec: dict) -> int | None:
    return letter_year(rec.get("date"), rec.get("doc_number"))


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
        row = {
            "letter_no": n,
            "source": rec.get("source") or unit.path,
            "doc_number": rec.get("doc_number"),
            "date": rec.get("date"),
            "year": record_year(rec),
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
            "text_key": text_key(rec.get("text")),
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
        }
        row["tri"] = tri_values(row)
        unit.rows.append(row)
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

_LETTER_COLS = ("path", "letter_no", "source", "sha256", "doc_number", "date", "year", "issuer", "title",
                "proposal_title", "proposers", "body", "proposal_kind", "handling_category",
                "allocated_total_yuan", "requested_total_yuan", "actions", "text_key")
_FULL = "letters l JOIN letter_text t ON t.id = l.id"  # a letter with its text and record


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


class Index:
    def __init__(self, db: str | Path, readonly: bool = False):
        self.db = str(db)
        self.dropped_schema = None
        if readonly:
            self.con = connect_readonly(db)
        else:
            self.con, self.dropped_schema = connect(db)

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

    def _refold(self, st: "IndexStats") -> None:
        """Rebuild the trigram table from the stored letters when fold() changed since it was written
        (its rows could not even be deleted with the new values)."""
        row = self.con.execute("SELECT value FROM meta WHERE key='fold'").fetchone()
        sig = fold_signature()
        if row is not None and row[0] == sig:
            return
        n = 0
        if self.con.execute("SELECT 1 FROM letters LIMIT 1").fetchone():
            self.con.execute("INSERT INTO tri(tri) VALUES ('delete-all')")
            cols = ", ".join(FTS_COLUMNS)
            for r in self.con.execute("SELECT l.id, title, proposal_title, proposers, issuer, doc_number, text "
                                      f"FROM {_FULL}").fetchall():
                self.con.execute(f"INSERT INTO tri(rowid, {cols}) VALUES (?{', ?' * len(FTS_COLUMNS)})",
                                 [r["id"]] + tri_values(dict(r)))
                n += 1
            st.warnings.append(f"the fragment index was built by another version: rebuilt for {n} letters")
        self.con.execute("INSERT OR REPLACE INTO meta VALUES ('fold', ?)", (sig,))

    def _delete_path(self, path: str) -> None:
        rows = self.con.execute("SELECT l.id, title, proposal_title, proposers, issuer, doc_number, text "
                                f"FROM {_FULL} WHERE l.path=?", (path,)).fetchall()
        for r in rows:
            i = r["id"]
            self.con.execute("DELETE FROM fts WHERE rowid=?", (i,))
            # a contentless table forgets a row only when told the values it was given
            self.con.execute(f"INSERT INTO tri(tri, rowid, {', '.join(FTS_COLUMNS)}) "
                             f"VALUES ('delete', ?{', ?' * len(FTS_COLUMNS)})", [i] + tri_values(dict(r)))
            self.con.execute("DELETE FROM letter_actions WHERE letter_id=?", (i,))
            self.con.execute("DELETE FROM letter_text WHERE id=?", (i,))
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
            self.con.execute("INSERT INTO letter_text VALUES (?, ?, ?)", (lid, row["text"], row["record"]))
            self.con.execute(f"INSERT INTO fts(rowid, {', '.join(FTS_COLUMNS)}) VALUES (?{', ?' * len(FTS_COLUMNS)})",
                             [lid] + [row["tok"][c] for c in FTS_COLUMNS])
            self.con.execute(f"INSERT INTO tri(rowid, {', '.join(FTS_COLUMNS)}) VALUES (?{', ?' * len(FTS_COLUMNS)})",
                             [lid] + row["tri"])
            self.con.executemany("INSERT INTO letter_actions VALUES (?, ?)", [(lid, c) for c in row["actions"]])
        return len(u.rows)

    def _move(self, old: str, u: Unit) -> int:
        """A known content under a new path: copy its rows and tokens instead of parsing again."""
        self.con.execute("INSERT INTO files(path, sha256, origin, status, reason, letters, indexed_at) "
                         "SELECT ?, sha256, origin, status, reason, letters, ? FROM files WHERE path=?",
                         (u.path, time.time(), old))
        n = 0
        for r in self.con.execute(f"SELECT l.*, t.text, t.record FROM {_FULL} WHERE l.path=?", (old,)).fetchall():
            d = dict(r)
            old_id = d.pop("id")
            d["path"] = u.path
            src = u.given or u.path
            d["source"] = src + (f"#{d['letter_no'] + 1}" if "#" in (d["source"] or "") else "")
            cur = self.con.execute(
                f"INSERT INTO letters({', '.join(_LETTER_COLS)}) VALUES ({', '.join('?' * len(_LETTER_COLS))})",
                [d[c] for c in _LETTER_COLS])
            lid = cur.lastrowid
            self.con.execute("INSERT INTO letter_text VALUES (?, ?, ?)", (lid, d["text"], d["record"]))
            self.con.execute(f"INSERT INTO fts(rowid, {', '.join(FTS_COLUMNS)}) "
                             f"SELECT ?, {', '.join(FTS_COLUMNS)} FROM fts WHERE rowid=?", (lid, old_id))
            self.con.execute(f"INSERT INTO tri(rowid, {', '.join(FTS_COLUMNS)}) VALUES (?{', ?' * len(FTS_COLUMNS)})",
                             [lid] + tri_values(d))
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
        from .walk import display_path, iter_paths
        from .rules import load_rules_cached

        t0 = time.perf_counter()
        st = IndexStats()
        rule_dirs = tuple(str(d) for d in rule_dirs)
        rules_version = load_rules_cached(rule_dirs).version
        if self.dropped_schema:
            st.warnings.append(f"the index was built by an older replyparse (schema {self.dropped_schema}): "
                               "building it again from every file")
            self.dropped_schema = None
        self._refold(st)
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
            self.con.execute("INSERT INTO tri(tri) VALUES ('optimize')")
            self.con.commit()
        self.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        st.total_letters = self.con.execute("SELECT count(*) FROM letters").fetchone()[0]

    def index_units(self, units: list[Unit], jobs: int | None = None) -> IndexStats:
        """Index ready-made units (records already parsed), replacing what is stored under their paths."""
        t0 = time.perf_counter()
        st = IndexStats()
        try:
            self._refold(st)
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
        from concurrent.futures import ProcessPoolExecutor  # not on the search path: it costs start-up time

        with ProcessPoolExecutor(max_workers=jobs) as ex:
            chunk = max(1, min(64, n // (jobs * 8) or 1))
            yield from ex.map(_parse_unit, files, chunksize=chunk)
            yield from ex.map(prepare_rows, units, chunksize=chunk)

    # ---- reading

    def search(self, query: str = "", *, issuer: str | None = None, year: int | None = None,
               body: str | None = None, category: str | None = None, actions: Iterable[str] = (),
               kind: str | None = None, min_allocated: float | None = None, min_requested: float | None = None,
               limit: int = 10, offset: int = 0, count: bool = True, mark: tuple[str, str] = ("«", "»"),
               snippet_width: int = 90, facets: bool = False) -> "SearchResult":
        t0 = time.perf_counter()
        note = None
        if query and len(query) > MAX_QUERY_CHARS:  # the cost of a query grows faster than its length
            query = query[:MAX_QUERY_CHARS]
            note = f"the query was cut to its first {MAX_QUERY_CHARS} characters"
        plan = plan_query(query) if query and query.strip() else None
        if plan is not None and not plan.terms:
            return SearchResult(query=query, match=None, total=0, hits=[], ms=0.0,
                                note="the query has no word to look for (only punctuation or symbols)")
        where, params = [], {}
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
        params.update(limit=int(limit), offset=int(offset))

        rows, total = self._run(plan, where, params, count)
        if plan is not None and plan.fragments and not rows and not (total or self._run(plan, where, params, True)[1]):
            loose = loose_doc_numbers(plan)
            if loose is not None:
                rows, total = self._run(loose, where, params, count)
                if rows or total:
                    plan = loose
                    note = "; ".join(x for x in (note, "the doc number stands in the letter with its brackets or 号 lost")
                                     if x)
        if plan is not None and plan.fragments and not rows and not (total or self._run(plan, where, params, True)[1]):
            # no letter holds a term as written (a query typed with other words, or cut otherwise):
            # look its words up instead, in any order
            words = plan_query(query, as_words=True, cut=self._cut)
            if words.words and not words.impossible:
                plan = words
                rows, total = self._run(plan, where, params, count)
                if rows or total:
                    note = "; ".join(x for x in (note, "no letter holds the query as written: letters with all its words")
                                     if x)
        texts = {}
        if rows:
            ids = [r["id"] for r in rows]
            texts = dict(self.con.execute(f"SELECT id, text FROM letter_text WHERE id IN ({', '.join('?' * len(ids))})",
                                          ids).fetchall())
        sources: dict[str, list[tuple[str, str]]] = {}
        keys = [r["text_key"] for r in rows if r["text_key"]]
        if keys:
            for s in self.con.execute(f"SELECT text_key, source, path FROM letters WHERE text_key IN "
                                      f"({', '.join('?' * len(keys))}) ORDER BY id", keys):
                sources.setdefault(s["text_key"], []).append((s["source"], s["path"]))
        hits = []
        for r in rows:
            srcs = sources.get(r["text_key"]) or [(r["source"], r["path"])]
            hits.append(Hit(
                score=float(f"{-r['score']:.4g}") + 0.0, path=r["path"], source=r["source"], doc_number=r["doc_number"],
                date=r["date"], issuer=r["issuer"], title=r["title"], proposal_title=r["proposal_title"],
                proposers=json.loads(r["proposers"] or "[]"), body=r["body"], proposal_kind=r["proposal_kind"],
                handling_category=r["handling_category"],
                allocated_total_yuan=_num(r["allocated_total_yuan"]),
                requested_total_yuan=_num(r["requested_total_yuan"]),
                actions=(r["actions"] or "").split(),
                snippet=snippet(texts.get(r["id"]), query or "", snippet_width, mark, words=plan.pieces if plan else None),
                sources=[x[0] for x in srcs], paths=[x[1] for x in srcs], field_hit=bool(r["tier"])))
        return SearchResult(query=query, match=plan.describe() if plan else None, total=total, hits=hits,
                            ms=round((time.perf_counter() - t0) * 1000, 2), note=note,
                            facets=self._facets(plan, where, params) if facets else None,
                            terms=plan.terms if plan else [])

    _MAX_WORD = 8  # longest word looked up when cutting a query term

    def _doc_freq(self, word: str) -> int:
        """In how many letters the word index holds ``word`` (0: none)."""
        cache = self.__dict__.setdefault("_df", {})
        if word not in cache:
            if not self.__dict__.get("_vocab"):
                # a temp table: allowed on a read-only connection, gone when it closes
                self.con.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.word_vocab USING fts5vocab(main, 'fts', 'row')")
                self._vocab = True
                self._n_letters = self.con.execute("SELECT count(*) FROM letters").fetchone()[0] or 1
            row = self.con.execute("SELECT doc FROM temp.word_vocab WHERE term = ?", (word,)).fetchone()
            cache[word] = row[0] if row else 0
        return cache[word]

    def _cut(self, term: str) -> list[str] | None:
        """``term`` cut into words of the word index: the cut whose words are most common across
        the letters (a unigram model with the index's own document counts, as jieba does with its
        dictionary). Common two-character words win over rarer long ones, which search-mode
        tokens always contain; a cut through a word boundary (硬|化和|村) is rare, so it loses.
        No jieba to load. None when a run of the term cannot be cut into indexed words."""
        import math

        out: list[str] = []
        for run in regex.findall(r"[a-z0-9]+|[^\sa-z0-9\p{P}\p{S}]+", term):
            if run.isascii():  # the word index keeps a run of ASCII letters and digits whole
                if not self._doc_freq(run):
                    return None
                out.append(run)
                continue
            n = len(run)
            best: list[tuple[float, list[str]] | None] = [None] * (n + 1)
            best[0] = (0.0, [])
            for i in range(n):
                if best[i] is None:
                    continue
                for j in range(i + 1, min(n, i + self._MAX_WORD) + 1):
                    df = self._doc_freq(run[i:j])
                    if df:
                        cost = best[i][0] - math.log(df / (self._n_letters + 1))
                        if best[j] is None or cost < best[j][0]:
                            best[j] = (cost, best[i][1] + [run[i:j]])
            if best[n] is None:
                return None
            out.extend(best[n][1])
        return list(dict.fromkeys(out)) or None

    def _run(self, plan: QueryPlan | None, where: list[str], params: dict, count: bool):
        """One page of hits (one per letter text, its best-ranked copy) and the number of letters.

        Order: the letter whose doc number is the query, then letters with more terms in a title,
        proposer or doc number, then bm25 over all columns (weighted); without a query, newest first."""
        inner, params, keys = self._matching(plan, where, params)
        order = ", ".join(k.format("") for k in keys)
        sql = (f"WITH m AS ({inner}), "
               f"r AS (SELECT m.*, row_number() OVER (PARTITION BY k ORDER BY {order}) AS rn FROM m) "
               f"SELECT r.score, r.tier, count(*) OVER () AS n, l.id, l.path, l.source, l.doc_number, l.date, "
               f"l.issuer, l.title, l.proposal_title, l.proposers, l.body, l.proposal_kind, l.handling_category, "
               f"l.allocated_total_yuan, l.requested_total_yuan, l.actions, l.text_key "
               f"FROM r JOIN letters l ON l.id = r.id WHERE r.rn = 1 ORDER BY {', '.join(k.format('r.') for k in keys)} "
               f"LIMIT :limit OFFSET :offset")
        rows = self.con.execute(sql, params).fetchall()
        total = None
        if rows:
            total = rows[0]["n"]
        elif count:
            total = self.con.execute(f"WITH m AS ({inner}) SELECT count(DISTINCT k) FROM m", params).fetchone()[0]
        return rows, total

    def _facets(self, plan: QueryPlan | None, where: list[str], params: dict, top: int = 12) -> dict[str, list]:
        """Letters per issuer, year, body, kind and action among all the query's letters (one per text)."""
        inner, params, keys = self._matching(plan, where, params)
        order = ", ".join(k.format("") for k in keys)
        one = (f"WITH m AS ({inner}), r AS (SELECT m.id, row_number() OVER (PARTITION BY k ORDER BY {order}) AS rn "
               f"FROM m), ids AS (SELECT id FROM r WHERE rn = 1) ")
        out = {}
        for name, col in (("issuer", "l.issuer"), ("year", "l.year"), ("body", "l.body"), ("kind", "l.proposal_kind")):
            out[name] = [[v, n] for v, n in self.con.execute(
                f"{one}SELECT {col}, count(*) AS n FROM ids JOIN letters l ON l.id = ids.id WHERE {col} IS NOT NULL "
                f"GROUP BY {col} ORDER BY n DESC, {col} LIMIT {int(top)}", params)]
        out["action"] = [[v, n] for v, n in self.con.execute(
            f"{one}SELECT a.category, count(*) AS n FROM ids JOIN letter_actions a ON a.letter_id = ids.id "
            f"GROUP BY a.category ORDER BY n DESC, a.category", params)]
        return out

    def _matching(self, plan: QueryPlan | None, where: list[str], params: dict):
        """The SELECT of every matching letter copy (id, text group k, ranking columns), its
        parameters and the ranking order."""
        where, params = list(where), dict(params)
        tier = []
        weights = ", ".join(map(str, BM25_WEIGHTS))
        fields = "{" + " ".join(FIELD_COLUMNS) + "}"
        if plan is not None and plan.fragments:
            frm = "tri JOIN letters l ON l.id = tri.rowid"
            where.insert(0, "tri MATCH :fq")
            params["fq"] = " AND ".join(plan.fragment_expression(t) for t in plan.fragments)
            score = f"bm25(tri, {weights})"
            for i, t in enumerate(plan.fragments):
                params[f"ff{i}"] = f"{fields} : ({plan.fragment_expression(t)})"
                tier.append(f"(l.id IN (SELECT rowid FROM tri WHERE tri MATCH :ff{i}))")
            if plan.words:
                where.append("l.id IN (SELECT rowid FROM fts WHERE fts MATCH :wq)")
        elif plan is not None and plan.words:
            frm = "fts JOIN letters l ON l.id = fts.rowid"
            where.insert(0, "fts MATCH :wq")
            score = f"bm25(fts, {weights})"
        else:
            frm, score = "letters l", "0.0"
        if plan is not None and plan.words:
            params["wq"] = " AND ".join(e for _, e in plan.words)
            for i, (_, e) in enumerate(plan.words):
                params[f"wf{i}"] = f"{fields} : ({e})"
                tier.append(f"(l.id IN (SELECT rowid FROM fts WHERE fts MATCH :wf{i}))")
        keys = ("{}d DESC", "{}tier DESC", "{}score", "{}id") if plan is not None else \
            ("{}date IS NULL", "{}date DESC", "{}id")
        wsql = (" WHERE " + " AND ".join(where)) if where else ""
        inner = (f"SELECT l.id AS id, coalesce(l.text_key, 'id' || l.id) AS k, coalesce(l.doc_number = :docno, 0) AS d, "
                 f"{' + '.join(tier) or '0'} AS tier, {score} AS score, l.date AS date FROM {frm}{wsql}")
        return inner, params, keys

    def records(self) -> Iterator[dict]:
        """Every indexed letter as its record (with text), in index order."""
        for r in self.con.execute(f"SELECT t.record, t.text FROM {_FULL} ORDER BY l.id"):
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
    sources: list[str] = field(default_factory=list)  # every copy of this letter (same text) in the index
    paths: list[str] = field(default_factory=list)
    field_hit: bool = False  # a query term stands in the title, proposal title, a proposer or the doc number

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
    facets: dict[str, list] | None = None  # [value, letters] per issuer, year, body, kind, action
    terms: list[str] = field(default_factory=list)  # the query's terms as matched (folded)

    def to_dict(self) -> dict[str, Any]:
        d = {"query": self.query, "match": self.match, "total": self.total, "ms": self.ms,
             "note": self.note, "hits": [h.to_dict() for h in self.hits]}
        if self.facets is not None:
            d["facets"] = self.facets
        return d


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
        for other in h.sources:
            if other != h.source:
                lines.append(f"    = {other}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line

def cmd_index(args) -> int:
    import sys

    from .errors import UsageError, existing_inputs, output_file
    from .rules import load_rules

    existing_inputs(args.paths)
    output_file(args.db, "--db")
    load_rules(args.rules or [])  # a bad --rules folder stops here, before the index is touched
    try:
        ix = Index(args.db)
    except IndexUnreadable as e:
        raise UsageError(str(e)) from None
    except sqlite3.DatabaseError as e:
        raise UsageError(f"{args.db} is not a replyparse index, or it is damaged ({e}); give another --db") from None
    with ix:
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
        print(f"terms:  {' | '.join(query_terms(args.query or ''))}", file=sys.stderr)
        print(f"match:  {res.match}", file=sys.stderr)
        # the jieba tokens a search engine fed by `export --format es-bulk` needs (loads jieba)
        print(f"tokens: {' | '.join(' '.join(tokens(g)) for g in normalise_query(args.query or '').split())}",
              file=sys.stderr)
    if args.json:
        print(json.dumps(res.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(format_hits(res))
    return 0


def add_subcommands(sub) -> None:
    """The ``index``, ``search`` and ``serve`` subcommands (README: Search)."""
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
                    help="pieces of the letters as written, 3+ characters (any fragment: a name, a doc number, part of a "
                         "title), or 1-2 character words; space = AND; Traditional is converted; empty: filters only, "
                         "newest first")
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
    sp.add_argument("--show-query", action="store_true", help="print the query's terms and what they are matched with")
    sp.set_defaults(func=cmd_search)


    from .serve import add_subcommand as add_serve

    add_serve(sub)
