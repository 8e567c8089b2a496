"""The ``Document`` every reader returns, and the file kinds replyparse reads by extension."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..status import Reason, Status

TEXT_EXTS = {".txt", ".text"}
DOCX_EXTS = {".docx", ".docm"}
LEGACY_WORD_EXTS = {".doc", ".wps"}
PDF_EXTS = {".pdf"}
HTML_EXTS = {".html", ".htm", ".shtml", ".xhtml"}
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"}  # scans: read only with OCR
SUPPORTED_EXTS = TEXT_EXTS | DOCX_EXTS | LEGACY_WORD_EXTS | PDF_EXTS | HTML_EXTS | IMAGE_EXTS
MAX_TEXT_BYTES = 50 * 1024 * 1024  # a letter is kilobytes; anything this big is not one letter
# a letter's web page is tens of kB; lxml's tree takes ~15 times the page's size in memory
MAX_HTML_BYTES = 10 * 1024 * 1024


@dataclass
class Document:
    path: str
    format: str
    pages: list[str] = field(default_factory=list)  # raw text of each page (one page for .txt)
    encoding: str | None = None
    status: str = Status.OK
    reason: str | None = None  # why status is not ok, in words
    reason_code: str | None = None  # the same as a code (status.Reason): what code decides on
    page_meta: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    ocr: bool = False  # some page's text was read by OCR
    ocr_confidence: list[float | None] = field(default_factory=list)  # mean of each page (None: not OCR)
    ocr_low_lines: list[tuple[int, str, float]] = field(default_factory=list)  # (page, line, confidence)
    # PDF pages without text (a scanned page) or with unreadable text ((cid:N) fonts), 1-based:
    # read_file turns what is left of them after OCR into warnings
    empty_pages: list[int] = field(default_factory=list)
    unreadable_pages: list[int] = field(default_factory=list)

    def fail(self, code: Reason, reason: str, status: Status = Status.ERROR) -> "Document":
        """This document, not read: its status, the reason's code and the reason in words."""
        self.status, self.reason_code, self.reason = status, code, reason
        return self

    @property
    def text(self) -> str:
        return "\n".join(self.pages)
