"""Read an input file into text and pages. One reader per format (one module each); every reader
returns a ``Document`` and never raises for bad input: it sets ``status`` and ``reason`` instead.
``read_file`` picks the reader by extension and, for .pdf/.docx/.doc, checks the first bytes
(``sniff``): a file named for one format but holding another is read as what it holds. Every
reader is called as ``reader(path, rules)``: the rule set reaches the readers that use rules
(the PDF paragraph joiner's layout cues, ``rules/layout.yaml``)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from importlib import import_module

from .document import DOCX_EXTS, Document, HTML_EXTS, IMAGE_EXTS, LEGACY_WORD_EXTS, PDF_EXTS, TEXT_EXTS
from .sniff import SNIFF_BYTES, KIND_NAMES, PROMISED, looks_like, sniff_format
from .text import read_text_file
from ..status import Reason, Status


def _lazy(module: str, name: str):
    """The function ``name`` of the reader module ``module``, imported on its first call: a run
    over .txt letters, or one letter parsed from the command line, does not load lxml, pypdfium2
    and the OCR modules (~35 ms of every start)."""
    def call(*args):
        return getattr(import_module(f"{__name__}.{module}"), name)(*args)

    call.__name__ = call.__qualname__ = name
    return call


read_docx = _lazy("docx", "read_docx")
read_html = _lazy("html", "read_html")
read_image = _lazy("image", "read_image")
ocr_scan = _lazy("image", "ocr_scan")
ocr_missing_pages = _lazy("image", "ocr_missing_pages")
read_legacy_word = _lazy("legacy_doc", "read_legacy_word")
read_pdf = _lazy("pdf", "read_pdf")

READERS = {ext: read_text_file for ext in TEXT_EXTS}
READERS.update({ext: read_docx for ext in DOCX_EXTS})
READERS.update({ext: read_legacy_word for ext in LEGACY_WORD_EXTS})
READERS.update({ext: read_pdf for ext in PDF_EXTS})
READERS.update({ext: read_html for ext in HTML_EXTS})


READERS.update({ext: read_image for ext in IMAGE_EXTS})


def _read_as(path: Path, suffix: str) -> Document:
    """Read a misnamed file through the converter for ``suffix``: LibreOffice goes by the name."""
    with tempfile.TemporaryDirectory(prefix="replyparse-") as tmp:
        copy = Path(tmp) / ("in" + suffix)
        shutil.copyfile(path, copy)
        return read_legacy_word(copy)


_KIND_READERS = {"pdf": read_pdf, "zip": read_docx, "ole": lambda p, rules: _read_as(p, ".doc"),
                 "rtf": lambda p, rules: _read_as(p, ".rtf"), "html": read_html}


def _read_by_content(p: Path, ext: str, rules) -> Document:
    """A .pdf/.docx/.doc read as what its first bytes say it is: a web page saved as .pdf is read
    as HTML with a warning; a file that is nothing we read is an error saying what it looks like."""
    with open(p, "rb") as f:
        head = f.read(SNIFF_BYTES)
    fmt = ext.lstrip(".")
    if not head:
        return Document(path=str(p), format=fmt).fail(Reason.EMPTY, "empty file")
    kind = sniff_format(head)
    if kind in PROMISED[ext]:
        return READERS[ext](p, rules)
    if kind is None:
        looks = looks_like(head)
        if ext in PDF_EXTS:
            reason = f"not a PDF: the file does not start with %PDF ({looks})"
        elif ext in DOCX_EXTS:
            reason = f"not a Word {ext} file: it is not a zip archive ({looks})"
        else:
            reason = f"not a Word {ext} file: neither a .doc (OLE) nor an RTF file ({looks})"
        return Document(path=str(p), format=fmt).fail(Reason.WRONG_FORMAT, reason)
    note = f"named {ext} but is {KIND_NAMES[kind]}"
    doc = _KIND_READERS[kind](p, rules)
    doc.path = str(p)
    how = doc.format.upper() if doc.format in ("pdf", "html") else "." + doc.format
    doc.warnings.insert(0, f"{note}: read as {how}")
    if doc.status == Status.ERROR:
        doc.reason = f"{note}: {doc.reason}"
    return doc


def page_warnings(doc: Document) -> list[str]:
    """Warnings for the PDF pages whose content is missing (without text, or unreadable)."""
    out = []
    if doc.empty_pages:
        out.append(f"no text on page{'s' if len(doc.empty_pages) > 1 else ''} {', '.join(map(str, doc.empty_pages))} "
                   "(a scanned or image-only page?): its content is missing")
    if doc.unreadable_pages:
        out.append(f"unreadable text on page{'s' if len(doc.unreadable_pages) > 1 else ''} "
                   f"{', '.join(map(str, doc.unreadable_pages))} (font without Unicode map, (cid:N) garbage): its content "
                   "is missing")
    return out


def read_file(path: str | Path, ocr: bool | str = False, rules=None) -> Document:
    """Read one input file; never raises. With ``ocr`` (True or an engine name: ``rapidocr``,
    ``tesseract``), a scan (a PDF without a text layer, an image) is read by OCR, and so are the
    pages without text of a PDF that mixes text and scanned pages."""
    doc = _read_file(path, rules)
    engine = ocr if isinstance(ocr, str) else "rapidocr"
    try:
        if ocr and doc.status == Status.NEEDS_OCR:
            doc = ocr_scan(Path(path), doc, engine, rules)
        elif ocr and doc.status == Status.OK and doc.format == "pdf" and engine == "rapidocr" and len(doc.pages) > 1:
            doc = ocr_missing_pages(Path(path), doc, rules)
    except Exception as e:  # OCR trouble leaves the file as it was: needs_ocr, with the reason
        doc.warnings.append(f"OCR failed: {type(e).__name__}: {e}")
    doc.warnings.extend(page_warnings(doc))
    return doc


def _read_file(path: str | Path, rules) -> Document:
    p = Path(path)
    ext = p.suffix.lower()
    reader = READERS.get(ext)
    if reader is None:
        return Document(path=str(p), format=ext.lstrip(".") or "unknown").fail(
            Reason.UNSUPPORTED, f"unsupported file type {p.suffix or '(none)'}")
    unread = Document(path=str(p), format=ext.lstrip("."))
    try:
        return _read_by_content(p, ext, rules) if ext in PROMISED else reader(p, rules)
    except PermissionError:
        return unread.fail(Reason.PERMISSION_DENIED, "permission denied")
    except OSError as e:
        return unread.fail(Reason.CANNOT_READ, f"cannot read: {e.strerror or e}")
    except Exception as e:  # a damaged file of any format is one error row, never a crash
        return unread.fail(Reason.DAMAGED, f"cannot read {ext or 'file'}: {type(e).__name__}: {e}")
