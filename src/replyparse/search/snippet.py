"""Snippets: the window of a letter's text holding the query's terms, marked."""
from __future__ import annotations


import regex

from .tokenise import ASCII_LOWER, CJK_CHAR, query_terms


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
            if not (c == " " and 0 < i < len(body) - 1 and (CJK_CHAR.match(body[i - 1]) or CJK_CHAR.match(body[i + 1])))]
    low = "".join(body[i] for i in keep).translate(ASCII_LOWER)
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
