"""Queries: how a pasted fragment becomes an FTS5 match expression, and the hits that come back."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

import regex

from .tokenise import fts_string, query_terms


MIN_TRIGRAM = 3  # shorter queries cannot be looked up in a trigram index


MAX_QUERY_CHARS = 200  # a pasted paragraph is cut here: longer queries only cost time


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
        return self.loose.get(t) or fts_string(t)

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
            words.append((t, f"({fts_string(t)})"))
        else:
            ws = cut(t) if cut else None
            if not ws:
                impossible = True
                continue
            pieces[t] = ws
            words.append((t, "(" + " AND ".join(fts_string(w) for w in ws) + ")"))
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
        loose[t] = "(" + " OR ".join(fts_string(x) for x in forms) + ")"
        pieces[t] = [p, f"{y}{n}"]
    if not loose:
        return None
    return QueryPlan(plan.terms, plan.fragments, plan.words, plan.as_words, {**plan.pieces, **pieces},
                     plan.impossible, loose)


def match_expression(query: str) -> str | None:
    """What the query is matched with (fragments in the trigram index, words in the word index)."""
    return plan_query(query).describe()


def plain_number(v):
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
