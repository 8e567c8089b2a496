"""What a file's first bytes say it is, whatever its name."""
from __future__ import annotations

import codecs

import regex
from .document import DOCX_EXTS, LEGACY_WORD_EXTS, PDF_EXTS


SNIFF_BYTES = 4096
# what each extension promises; files named so but holding something else are read as what they hold
PROMISED = {**dict.fromkeys(PDF_EXTS, {"pdf"}), **dict.fromkeys(DOCX_EXTS, {"zip"}),
             **dict.fromkeys(LEGACY_WORD_EXTS, {"ole", "rtf"})}  # LibreOffice converts RTF saved as .doc
KIND_NAMES = {"pdf": "a PDF", "zip": "a zip archive (a Word .docx?)", "ole": "a legacy Word (.doc) file",
          "rtf": "an RTF document", "html": "a web page (HTML)"}
_HTML_START = regex.compile(rb"^<(?:!doctype\s+html|html|head|body|meta|title)[\s>/]"
                            rb"|^<[?!].{0,1000}?<(?:html|!doctype\s+html)[\s>]", regex.DOTALL)
_LOOKS = ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
          (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"), (b"Rar!", "a RAR archive"),
          (b"7z\xbc\xaf", "a 7-Zip archive"), (b"\x1f\x8b", "a gzip file"), (b"<?xml", "an XML file"))


def _is_mht(head: bytes) -> bool:
    return b"MIME-Version:" in head[:1024]


def _text_start(head: bytes) -> str | None:
    """The first words when the bytes are text, else None."""
    for enc in ("utf-8", "gb18030"):
        try:  # not final: the last character may be cut at SNIFF_BYTES
            s = codecs.getincrementaldecoder(enc)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        if regex.search(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", s):
            return None
        return regex.sub(r"\s+", " ", s).strip()[:30]
    return None


def sniff_format(head: bytes) -> str | None:
    """What a file's first bytes say it is: "pdf", "zip", "ole", "rtf", "html", or None when
    none of these (plain text, an image, an archive, a web archive, junk)."""
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"
    start = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if _HTML_START.match(start):
        return "html"
    if b"%PDF-" in head[:1024]:  # PDF readers accept junk before the header
        return "pdf"
    if start.startswith(b"{\\rtf"):
        return "rtf"
    return None


def looks_like(head: bytes) -> str:
    if not head.strip(b"\x00 \t\r\n"):
        return "it holds only blank or zero bytes"
    if _is_mht(head):
        return "it looks like a MIME web archive (.mht, Word's single-file web page)"
    for magic, what in _LOOKS:
        if head.startswith(magic):
            return f"it looks like {what}"
    text = _text_start(head)
    if text:
        return f"it looks like plain text: {text!r}"
    return f"it starts with {head[:16]!r}"
