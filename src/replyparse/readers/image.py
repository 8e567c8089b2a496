"""Scans: image files (``needs_ocr`` without OCR) and the OCR of scanned pages and images
(``parse --ocr``), RapidOCR by default (``ocr.py``) or Tesseract (``tesseract.py``)."""
from __future__ import annotations

from pathlib import Path

from .document import Document
from .tesseract import ocr_scan_tesseract
from ..status import Reason, Status


def read_image(path: Path, rules=None) -> Document:
    """A scanned page as an image file: no text without OCR (``needs_ocr``); a file that is not
    a readable image is an error."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    fmt = path.suffix.lower().lstrip(".")
    try:
        with Image.open(path) as im:
            n = sum(1 for _ in ImageSequence.Iterator(im))
    except (UnidentifiedImageError, OSError, ValueError) as e:
        return Document(path=str(path), format=fmt).fail(Reason.DAMAGED, f"not a readable image: {e}")
    return Document(path=str(path), format=fmt, pages=[""] * n).fail(
        Reason.SCAN, f"an image ({n} page{'s' if n > 1 else ''} of a scan): needs OCR", Status.NEEDS_OCR)


def ocr_scan(path: Path, doc: Document, engine: str = "rapidocr", rules=None) -> Document:
    """A scan (a PDF without a text layer, or an image) read by OCR: RapidOCR by default
    (``ocr.py``), Tesseract with ``engine="tesseract"``. Without the engine installed the
    document stays ``needs_ocr`` and the reason says what to install."""
    if engine == "tesseract":
        return ocr_scan_tesseract(path, doc)
    from . import ocr as ocr_mod

    problem = ocr_mod.rapidocr_problem()
    if problem:
        doc.reason = (doc.reason or "needs OCR") + f" ({problem})"
        return doc
    pages = ocr_mod.ocr_pages(path)
    texts, furniture = ocr_mod.page_texts(pages, rules)
    if not any(t.strip() for t in texts):
        doc.reason = (doc.reason or "") + "; OCR found no text"
        return doc
    doc.pages, doc.status, doc.reason, doc.reason_code = texts, Status.OK, None, None
    _ocr_notes(doc, pages, list(range(len(pages))), furniture)
    return doc


def _ocr_notes(doc: Document, pages, numbers: list[int], furniture: dict) -> None:
    """OCR results on ``doc``: flag, per-page mean confidence, low-confidence lines, warnings."""
    from . import ocr as ocr_mod

    if not doc.ocr_confidence:
        doc.ocr_confidence = [None] * len(doc.pages)
    for i, pg in zip(numbers, pages):
        doc.ocr_confidence[i] = pg.confidence
        if pg.turned:
            doc.warnings.append(f"OCR: page {i + 1} was turned {pg.turned}° to read it")
    doc.ocr = True
    doc.ocr_low_lines += [(numbers[p - 1] + 1, t, c) for p, t, c in ocr_mod.low_confidence_lines(pages)]
    for k, vals in furniture.items():
        if k not in doc.page_meta:
            doc.page_meta[k] = " / ".join(vals[:5])
    confs = [c for c in (doc.ocr_confidence[i] for i in numbers) if c is not None]
    mean = f"mean confidence {sum(confs) / len(confs):.3f}" if confs else "no text found"
    doc.warnings.append(f"text read by OCR (RapidOCR PP-OCRv6) from {len(numbers)} scanned "
                        f"page{'s' if len(numbers) > 1 else ''} ({mean}): characters may be misread")


def ocr_missing_pages(path: Path, doc: Document, rules=None) -> Document:
    """A PDF mixing text and scanned pages: the pages without text read by OCR."""
    from . import ocr as ocr_mod

    empty = [i for i, t in enumerate(doc.pages) if not t.strip()]
    if not empty or ocr_mod.rapidocr_problem():
        return doc
    pages = ocr_mod.ocr_pages(path, empty)
    texts, furniture = ocr_mod.page_texts(pages, rules)
    for i, t in zip(empty, texts):
        doc.pages[i] = t
    read = [i + 1 for i, t in zip(empty, texts) if t.strip()]
    if read:
        doc.empty_pages = [n for n in doc.empty_pages if n not in read]
        doc.unreadable_pages = [n for n in doc.unreadable_pages if n not in read]
        _ocr_notes(doc, pages, empty, furniture)
    return doc
