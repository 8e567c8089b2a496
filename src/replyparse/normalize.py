"""Normalise letter text once, before any extraction; every offset in a record refers to the result."""
from __future__ import annotations

import functools

import regex

# Full-width digits and letters become ASCII; full-width punctuation stays, because
# the spec keeps it inside values (a proposal title's ，) and rules match either form.
_FW = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)}
_FW.update({c: c - 0xFEE0 for c in range(0xFF21, 0xFF3B)})
_FW.update({c: c - 0xFEE0 for c in range(0xFF41, 0xFF5B)})
_FW.update({0x3000: 0x20, 0x00A0: 0x20, 0x200B: None, 0x200C: None, 0x200D: None, 0xFEFF: None,
            0x2002: 0x20, 0x2003: 0x20, 0x2009: 0x20, 0x00AD: None,
            # line and page breaks other than \n: Word's soft break (\v) and page break (\f) in
            # plain-text exports, Unicode line/paragraph separators from web pages, NEL
            0x000B: 0x0A, 0x000C: 0x0A, 0x2028: 0x0A, 0x2029: 0x0A, 0x0085: 0x0A})
_FW_DOT = regex.compile(r"(?<=\d)．(?=\d)")
_FW_PERCENT = regex.compile(r"(?<=\d)％")

# Web mirrors insert the pinyin of a character after it: 答復(fù), 會(huì ).
_PINYIN_JUNK = regex.compile(r"(?<=\p{Han}|\p{Han}\s)\((?=[a-zü ]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ])[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ ]{1,8}\)")

# Page furniture: page numbers on their own line, embedded-object names.
_FURNITURE_LINE = regex.compile(
    r"^[ \t]*(?:[—\-–－─]{1,2}[ \t]*\d{1,3}[ \t]*[—\-–－─]{1,2}"
    r"|第[ \t]*\d{1,3}[ \t]*页(?:[ \t]*[,，/]?[ \t]*共[ \t]*\d{1,3}[ \t]*页)?"
    r"|\d{1,3}[ \t]*/[ \t]*\d{1,3}"
    r"|[\w\-]{1,40}\.(?:wmf|emf|png|jpe?g|gif|bmp|tiff?))[ \t]*(?:\n|$)",
    regex.MULTILINE | regex.IGNORECASE)
_TRAILING_WS = regex.compile(r"[ \t]+$", regex.MULTILINE)
_BLANK_RUNS = regex.compile(r"\n{3,}")


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> tuple[str, bool]:
    """Convert Traditional to Simplified when the text is Traditional.

    Converting Simplified text as well would rewrite a few characters that are
    correct in Simplified names (乾, 於), so only texts with a clear share of
    Traditional-only characters are converted.
    """
    probe = text[:600]
    if _t2s().convert(probe) == probe and len(text) > 600:
        # the opening of a Traditional letter already shows Traditional characters
        probe_tail = text[-300:]
        if _t2s().convert(probe_tail) == probe_tail:
            return text, False
    converted = _t2s().convert(text)
    if len(converted) != len(text):
        changed = sum(1 for a, b in zip(text, converted) if a != b)
    else:
        changed = sum(a != b for a, b in zip(text, converted))
    han = len(regex.findall(r"\p{Han}", text)) or 1
    if changed >= 3 and changed / han > 0.01:
        return converted, True
    return text, False


def normalise(raw: str) -> str:
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_FW)
    text = _FW_DOT.sub(".", text)
    text = _FW_PERCENT.sub("%", text)
    text, _ = to_simplified(text)
    text = _PINYIN_JUNK.sub("", text)
    text = _FURNITURE_LINE.sub("", text)
    text = _TRAILING_WS.sub("", text)
    text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip("\n ")
