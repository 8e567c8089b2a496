"""Normalise letter text once, before any extraction; every offset in a record refers to the result."""
from __future__ import annotations

import functools
import re

import regex

from ..status import Reason

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
# str.translate looks up every character in the dict (~50 µs a letter); most letters have none of them
_FW_ANY = re.compile("[" + re.escape("".join(sorted(map(chr, _FW)))) + "]")
_FW_DOT = regex.compile(r"(?<=\d)．(?=\d)")
_FW_PERCENT = regex.compile(r"(?<=\d)％")

# Web mirrors insert the pinyin of a character after it: 答復(fù), 會(huì ), 對（duì）.
_PINYIN_JUNK = regex.compile(r"(?<=\p{Han}|\p{Han}\s)[(（](?=[a-zü ]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ])[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ ]{1,8}[)）]")

# Page furniture: page numbers on their own line, embedded-object names, and a web page's links to
# the pages before and after (上一篇：… / 下一条：…), which name other letters, their numbers and titles.
_FURNITURE_LINE = regex.compile(
    r"^[ \t]*(?:[—\-–－─]{1,2}[ \t]*\d{1,3}[ \t]*[—\-–－─]{1,2}"
    r"|[【\[]?[上下][ \t]*一?[ \t]*[篇条][】\]]?(?:[ \t]*[：:][^\n]*)?"
    r"|第[ \t]*\d{1,3}[ \t]*页(?:[ \t]*[,，/]?[ \t]*共[ \t]*\d{1,3}[ \t]*页)?"
    r"|\d{1,3}[ \t]*/[ \t]*\d{1,3}"
    r"|[\w\-]{1,40}\.(?:wmf|emf|png|jpe?g|gif|bmp|tiff?))[ \t]*(?:\n|$)",
    regex.MULTILINE | regex.IGNORECASE)
_TRAILING_WS = regex.compile(r"[ \t]+$", regex.MULTILINE)
# One plain space between a Han character and a number, as web pages' auto-spacing (and Word's
# CJK-Latin gap in PDFs) put it: 资金 200 多万元, 2017 年. Alignment (two or more spaces, the
# ideographic space) is left alone, and so is the space that sets off a phone number (a run of 7 or
# more digits, or an area code and a dash): 城市管理局 68118611 keeps the unit and the number apart.
_HAN_DIGIT_SPACE = regex.compile(r"(?<=[\p{Han}，。、；：（）《》“”])[ ](?=\d)(?!\d{7}|\d{3,4}-\d)"
                                 r"|(?<=\d)(?<!\d{7})[ ](?=[\p{Han}，。、；：（）《》“”])")
_BLANK_RUNS = regex.compile(r"\n{3,}")
# A letter-spaced line: a heading, signature or name set with a space after every character (宁 陕 县
# 交 通 局, 答 复 函), as Word's distributed alignment and PDF extraction of it give. Every word of
# such a line is one Han character (a colon may close it); a line of names (张三 李四) is not one.
_LETTER_SPACED = regex.compile(r"^([ \t]*)(\p{Han}(?:[ \t]+\p{Han})+[ \t]*[：:]?)[ \t]*$", regex.MULTILINE)


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
    converted = _t2s().convert(probe)
    if converted == probe:
        if len(text) <= 600:  # the probe was the whole text: nothing changes
            return text, False
        # the opening of a Traditional letter already shows Traditional characters
        probe_tail = text[-300:]
        if _t2s().convert(probe_tail) == probe_tail:
            return text, False
    if len(text) > 600:
        converted = _t2s().convert(text)
    if converted == text:  # nothing to count (most letters): changed would be 0
        return text, False
    if len(converted) != len(text):
        changed = sum(1 for a, b in zip(text, converted) if a != b)
    else:
        changed = sum(a != b for a, b in zip(text, converted))
    han = len(regex.findall(r"\p{Han}", text)) or 1
    if changed >= 3 and changed / han > 0.01:
        return _after_t2s(converted), True
    return text, False


# Words OpenCC's t2s leaves Traditional because their character is also Simplified: a Traditional
# reply is a 覆函 (Simplified 复函), which no title or doc-number rule would read as a reply.
_T2S_WORDS = (("覆函", "复函"),)


def _after_t2s(text: str) -> str:
    for traditional, simplified in _T2S_WORDS:
        text = text.replace(traditional, simplified)
    return text


def normalise(raw: str) -> str:
    """One page's raw text in the form every extractor reads: newlines unified; full-width ASCII,
    dots and percent signs made half-width; Traditional Chinese converted to Simplified
    (``to_simplified``); pinyin junk and page-furniture lines dropped; trailing spaces and runs of
    blank lines collapsed. Offsets in a record are offsets into this text."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if " " in text:
        text = _HAN_DIGIT_SPACE.sub("", text)
    if _FW_ANY.search(text):
        text = text.translate(_FW)
    text = _FW_DOT.sub(".", text)
    text = _FW_PERCENT.sub("%", text)
    text, _ = to_simplified(text)
    text = _PINYIN_JUNK.sub("", text)
    text = _FURNITURE_LINE.sub("", text)
    text = _TRAILING_WS.sub("", text)
    if " " in text or "\t" in text:
        text = _LETTER_SPACED.sub(lambda m: m[1] + "".join(m[2].split()), text)
    text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip("\n ")


# ---------------------------------------------------------------- is this a letter's text at all

# control characters, U+FFFD, private use (\p{Co}: its three ranges) and lone surrogates (\p{Cs}); re,
# not regex: a class of ranges is one fast C scan there, where regex's property test costs ~25 ns a character
_BINARY_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ue000-\uf8ff\U000f0000-\U000ffffd"
                           "\U00100000-\U0010fffd\ud800-\udfff]")
# every match of _MOJIBAKE holds one of these: a text without any (nearly all) is passed over by one
# scan of a simple class (``re``: ~15x faster than the alternation above, which regex tries at each
# position)
_MOJIBAKE_CHARS = re.compile("[锟烫屯À-ÿ]")
_MOJIBAKE = regex.compile(r"锟斤拷|烫烫烫|屯屯屯|[ÃÂâäåæçèé][\x80-\xbf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ¡-¿]|[À-ÿ]{3,}")
# The most frequent Chinese characters make up a third or more of any real letter's Han
# characters; text decoded with the wrong CJK codec is made of rare ones (鍏充簬绗).
_COMMON_HAN = frozenset(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方"
    "后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它"
    "合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条"
    "只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资"
    "边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研")
_HAN_RUN = regex.compile(r"\p{Han}+")
_COMMON_HAN_CHAR = re.compile("[" + "".join(sorted(_COMMON_HAN)) + "]")  # re: a set of 300 in one C scan


def text_problem(text: str) -> tuple[Reason, str] | None:
    """Why this decoded text is not a letter's text at all (the reason's code and words), or None."""
    if not text.strip():
        return Reason.EMPTY, "no text in file"
    sample = text[:20000]
    bad = len(_BINARY_CHARS.findall(sample))
    if bad > max(8, len(sample) * 0.02):
        return Reason.BINARY, f"binary data, not text ({bad} control or undecodable characters in the first {len(sample)})"
    return None


def mojibake_warning(text: str) -> str | None:
    sample = text[:20000]
    hits = _MOJIBAKE.findall(sample) if _MOJIBAKE_CHARS.search(sample) else []
    if len(hits) >= 3:
        return f"text looks mis-decoded (mojibake such as {hits[0]!r}); fields may be missing"
    # counted by runs and by a set test: regex takes ~80 ns a character on \p{Han} one at a time
    # and more on a class of 300 characters, the slowest step of a short letter
    han = sum(map(len, _HAN_RUN.findall(sample)))
    if han < 100:
        return None
    # the common characters of a quarter of the text already reach the share in a real letter: the
    # count of the whole can only be higher
    if len(_COMMON_HAN_CHAR.findall(sample, 0, len(sample) // 4)) / han >= 0.12:
        return None
    if len(_COMMON_HAN_CHAR.findall(sample)) / han < 0.12:
        return "text looks mis-decoded (almost no common Chinese characters: a wrong codec upstream?)"
    return None
