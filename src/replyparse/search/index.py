"""The index: building it from files and JSONL, and searching it."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Iterable, Iterator

import regex

from ..record import ACTION_CATEGORIES
from .query import plain_number, Hit, MAX_QUERY_CHARS, QueryPlan, SearchResult, loose_doc_numbers, plan_query
from .schema import BM25_WEIGHTS, FIELD_COLUMNS, FTS_COLUMNS, IndexStats, LETTER_JOIN, LETTER_COLUMNS, connect, connect_readonly
from .snippet import snippet
from .tokenise import DOCNO, fold_signature, normalise_query, tokenizer_signature, tri_values
from .units import Unit, index_rows, is_jsonl, prepare_rows, read_jsonl_units


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
                                      f"FROM {LETTER_JOIN}").fetchall():
                self.con.execute(f"INSERT INTO tri(rowid, {cols}) VALUES (?{', ?' * len(FTS_COLUMNS)})",
                                 [r["id"]] + tri_values(dict(r)))
                n += 1
            st.warnings.append(f"the fragment index was built by another version: rebuilt for {n} letters")
        self.con.execute("INSERT OR REPLACE INTO meta VALUES ('fold', ?)", (sig,))

    def _delete_path(self, path: str) -> None:
        rows = self.con.execute("SELECT l.id, title, proposal_title, proposers, issuer, doc_number, text "
                                f"FROM {LETTER_JOIN} WHERE l.path=?", (path,)).fetchall()
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
                f"INSERT INTO letters({', '.join(LETTER_COLUMNS)}) VALUES ({', '.join('?' * len(LETTER_COLUMNS))})",
                [vals[c] for c in LETTER_COLUMNS])
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
        for r in self.con.execute(f"SELECT l.*, t.text, t.record FROM {LETTER_JOIN} WHERE l.path=?", (old,)).fetchall():
            d = dict(r)
            old_id = d.pop("id")
            d["path"] = u.path
            src = u.given or u.path
            d["source"] = src + (f"#{d['letter_no'] + 1}" if "#" in (d["source"] or "") else "")
            cur = self.con.execute(
                f"INSERT INTO letters({', '.join(LETTER_COLUMNS)}) VALUES ({', '.join('?' * len(LETTER_COLUMNS))})",
                [d[c] for c in LETTER_COLUMNS])
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

    def index_paths(self, paths: Iterable[str | Path], options=None, prune: bool = False,
                    rule_dirs: Iterable[str] = ()) -> IndexStats:
        """Index files, folders and JSONL record files; update changed, drop vanished, skip unchanged.
        Files are parsed by the one executor (``run.runner.run`` with ``options``, a ``RunOptions``:
        workers, timeouts, cache, progress), with the built-in rules and ``rule_dirs`` over them;
        when that rule set differs from the one the index was built with, every file is parsed again."""
        from ..run.batch import file_sha256
        from ..run.walk import display_path, iter_paths
        from ..engine.rules import load_rules_cached

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
        todo_files: dict[str, str] = {}  # path as given -> index key, of the files to parse
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
                    todo_files[str(fp)] = key

        try:
            for old, u in moves:
                st.letters += self._move(old, u)
                st.moved += 1
            n_new = 0
            for u in self._parsed(todo_files, load_rules_cached(rule_dirs), options):
                st.added += u.path not in known
                st.updated += u.path in known
                st.letters += self._write_unit(u)
                n_new += 1
                if n_new % 2000 == 0:
                    self.con.commit()
            for u in todo_units:
                st.added += u.path not in known
                st.updated += u.path in known
                st.letters += self._write_unit(prepare_rows(u))
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

    def index_units(self, units: list[Unit]) -> IndexStats:
        """Index ready-made units (records already parsed), replacing what is stored under their paths."""
        t0 = time.perf_counter()
        st = IndexStats()
        try:
            self._refold(st)
            for u in units:
                st.seen += 1
                st.letters += self._write_unit(prepare_rows(u))
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
    def _parsed(files: dict[str, str], rules, options) -> Iterator[Unit]:
        """The files parsed and tokenised by the one executor (tokens made in its workers)."""
        import dataclasses

        from ..run.options import RunOptions
        from ..run.runner import run
        from ..run.walk import display_path

        if not files:
            return
        options = dataclasses.replace(options or RunOptions(workers=1 if len(files) < 400 else None, quiet=True),
                                      finish=index_rows)
        results = run(list(files), rules, options)
        try:
            for res in results:
                yield Unit(path=files.get(res.path) or display_path(os.path.abspath(res.path)), sha256=res.sha256,
                           origin="fs", status=res.status, reason=res.reason, rows=res.payload or [])
        finally:
            results.close()

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
        m = DOCNO.search(normalise_query(query or ""))
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
                allocated_total_yuan=plain_number(r["allocated_total_yuan"]),
                requested_total_yuan=plain_number(r["requested_total_yuan"]),
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
        for r in self.con.execute(f"SELECT t.record, t.text FROM {LETTER_JOIN} ORDER BY l.id"):
            rec = json.loads(r["record"])
            rec["text"] = r["text"]
            yield rec
