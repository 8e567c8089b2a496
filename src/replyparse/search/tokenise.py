"""How the index cuts and folds text: jieba search-mode tokens, folded trigram text, text keys."""
from __future__ import annotations

import functools
import hashlib
import json
import threading
import unicodedata

import regex

from ..engine.rules import builtin_rules_dir
from .schema import FOLD_VERSION


USERDICT_NAME = "jieba_userdict.txt"  # in the built-in rule folder (package data)
TOKENIZER_VERSION = "1"  # bump when tokens() changes


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
ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def flat(text: str) -> str:
    """Text as read: Han characters joined across line breaks, other breaks become one space."""
    text = _HAN_GAP.sub("", text)
    return regex.sub(r"\s+", " ", text).strip()


def tokens(text: str | None) -> list[str]:
    """jieba search-mode tokens of ``text`` (punctuation dropped, ASCII lower-cased)."""
    if not text:
        return []
    out = []
    for t in _jieba().cut_for_search(flat(text).translate(ASCII_LOWER)):
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


DOCNO = regex.compile(r"(\p{Han}{1,15})\s*[\[【(（［〔]\s*((?:19|20)\d{2})\s*[\]】)）］〕]\s*0*(\d{1,5})\s*号")
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
        g = _EDGE.sub("", g).translate(ASCII_LOWER)
        if g:
            out.append(g)
    return list(dict.fromkeys(out))


# a line break or padding next to Chinese text or punctuation is layout, not a space: a piece
# copied across it (的关切。感谢您对) is looked for without it
_CJK = r"[\p{Han}\u2010-\u2027\u2030-\u205e\u3001-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]"
_CJK_GAP = regex.compile(rf"\s+(?={_CJK})|(?<={_CJK})\s+")
CJK_CHAR = regex.compile(_CJK)


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


def fts_string(t: str) -> str:
    return '"' + t.replace('"', '""') + '"'
