"""Read an input file into text and pages. One reader per format; every reader returns a
``Document`` and never raises for bad input: it sets ``status`` and ``reason`` instead."""
from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

TEXT_EXTS = {".txt", ".text"}
SUPPORTED_EXTS = set(TEXT_EXTS)
MAX_TEXT_BYTES = 50 * 1024 * 1024  # a letter is kilobytes; anything this big is not one letter


@dataclass
class Document:
    path: str
    format: str
    pages: list[str] = field(default_factory=list)  # raw text of each page (one page for .txt)
    encoding: str | None = None
    status: str = "ok"
    reason: str | None = None
    page_meta: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.pages)


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


def read_text_file(path: Path) -> Document:
    doc = Document(path=str(path), format="txt")
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        doc.status, doc.reason = "error", f"file too large: {size} bytes (limit {MAX_TEXT_BYTES})"
        return doc
    data = path.read_bytes()
    if not data.strip():
        doc.status, doc.reason = "error", "empty file"
        return doc
    try:
        text, enc = decode_bytes(data)
    except UnicodeDecodeError as e:
        doc.status, doc.reason = "error", f"undecodable text: {e.reason}"
        return doc
    doc.pages, doc.encoding = [text], enc
    return doc


READERS = {ext: read_text_file for ext in TEXT_EXTS}


def read_file(path: str | Path) -> Document:
    p = Path(path)
    reader = READERS.get(p.suffix.lower())
    if reader is None:
        return Document(path=str(p), format=p.suffix.lower().lstrip(".") or "unknown", status="error",
                        reason=f"unsupported file type {p.suffix or '(none)'}")
    try:
        return reader(p)
    except PermissionError:
        return Document(path=str(p), format=p.suffix.lower().lstrip("."), status="error",
                        reason="permission denied")
    except OSError as e:
        return Document(path=str(p), format=p.suffix.lower().lstrip("."), status="error",
                        reason=f"cannot read: {e.strerror or e}")
