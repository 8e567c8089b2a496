"""Plain text files: the codec found (UTF-8, GB18030, UTF-16/32, a mix of UTF-8 and GBK lines), an
HTML fragment's markup decoded, a hard-wrapped text's paragraphs rebuilt."""
from __future__ import annotations

import codecs
from pathlib import Path

import regex

from .document import Document, MAX_TEXT_BYTES
from ..status import Reason


MIXED_ENCODING = "utf-8+gb18030"


def _decode_mixed(data: bytes) -> str | None:
    """A UTF-8 text with some lines in GBK (a paragraph pasted from an old file): each line in the
    codec that reads it, or None when the text is not mostly UTF-8. Whole-file GB18030 would turn
    every UTF-8 line into mojibake, and the letter would be rejected."""
    lines = data.split(b"\n")
    out, utf8_han, gbk = [], 0, 0
    for ln in lines:
        try:
            t = ln.decode("utf-8")
            utf8_han += not ln.isascii()
        except UnicodeDecodeError:
            try:
                t = ln.decode("gb18030")
            except UnicodeDecodeError:
                return None
            gbk += 1
        out.append(t)
    # UTF-8 lines with Chinese must outnumber the others: a GBK file has few lines that also
    # happen to be valid UTF-8
    if utf8_han < 2 or utf8_han < gbk:
        return None
    return "\n".join(out)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode letter bytes: BOMs first, then strict UTF-8, then GB18030, then detection."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                     (codecs.BOM_UTF16_BE, "utf-16"), (codecs.BOM_UTF32_LE, "utf-32")):
        if data.startswith(bom):
            return data.decode(enc), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    mixed = _decode_mixed(data)
    if mixed is not None:
        return mixed, MIXED_ENCODING
    # UTF-16 without BOM: every other byte of ASCII-range text is NUL
    if len(data) >= 4 and data[1::2].count(0) > len(data) // 4:
        try:
            return data.decode("utf-16-le"), "utf-16-le"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnicodeDecodeError("unknown", data[:1], 0, 1, "no encoding decodes this file")
    return str(best), best.encoding


def read_bounded(path: Path, doc: Document, limit: int = MAX_TEXT_BYTES) -> bytes | None:
    """The file's bytes, or None with ``doc`` set to an error when it is too large or empty."""
    size = path.stat().st_size
    if size > limit:
        doc.fail(Reason.TOO_LARGE, f"file too large: {size} bytes (limit {limit} for .{doc.format})")
        return None
    data = path.read_bytes()
    if not data.strip():
        doc.fail(Reason.EMPTY, "empty file")
        return None
    return data


# A letter copied from a page's source or a CMS editor: entities (&ldquo; &nbsp; &#65292;) and
# tags (<br/>, <p>) in plain text. Three or more of them make the text an HTML fragment.
_HTML_BITS = regex.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#\d{1,7}|#[xX][0-9A-Fa-f]{1,6});|<(?:br|p|/p|div|/div|span|/span)\b[^<>]{0,200}>",
                           regex.IGNORECASE)
_BLOCK_TAG = regex.compile(r"[ \t]*<(?:br|p|/p|div|/div)\b[^<>]{0,200}>[ \t]*\n?", regex.IGNORECASE)
_ANY_TAG = regex.compile(r"</?[A-Za-z][A-Za-z0-9]{0,15}\b[^<>]{0,200}>")
MIN_HTML_BITS = 3


def html_fragment_text(text: str) -> str | None:
    """The text of an HTML fragment (block tags become line breaks, other tags go, entities are
    decoded), or None when ``text`` is not one."""
    bits = 0
    for _ in _HTML_BITS.finditer(text):
        bits += 1
        if bits >= MIN_HTML_BITS:
            break
    else:
        return None
    import html

    return html.unescape(_ANY_TAG.sub("", _BLOCK_TAG.sub("\n", text)))


def _paragraphs(text: str, rules) -> tuple:
    from ..engine.rules import default_rules
    from .pdf import layout_cues
    from .wrapped import unwrap

    return unwrap(text, layout_cues(rules or default_rules()))


def read_text_file(path: Path, rules=None) -> Document:
    doc = Document(path=str(path), format="txt")
    data = read_bounded(path, doc)
    if data is None:
        return doc
    try:
        text, enc = decode_bytes(data)
    except UnicodeDecodeError as e:
        doc.fail(Reason.UNDECODABLE, f"undecodable text: {e.reason}")
        return doc
    fragment = html_fragment_text(text) if "&" in text or "<" in text else None
    if fragment is not None:
        text = fragment
        doc.warnings.append("HTML markup in the text (a page's source?): entities decoded, tags removed")
    text, wrap = _paragraphs(text, rules)
    doc.pages, doc.encoding = [text], enc
    if wrap is not None:
        doc.warnings.append(f"lines rejoined into paragraphs: the text was hard-wrapped at {wrap.width} "
                            f"{'columns' if wrap.measure is not len else 'characters'}")
    if enc == MIXED_ENCODING:
        doc.warnings.append("mixed encodings: most lines are UTF-8, some GBK/GB18030; each line was "
                            "read in the codec that decodes it")
    return doc
