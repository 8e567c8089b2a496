"""The ``Document`` every reader returns, and the file kinds replyparse reads by extension."""
from __future__ import annotations

from dataclasses import dataclass, field



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
    status: str = "ok"
    reason: str | None = None
    page_meta: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    ocr: bool = False  # some page's text was read by OCR
    ocr_confidence: list[float | None] = field(default_factory=list)  # mean of each page (None: not OCR)
    ocr_low_lines: list[tuple[int, str, float]] = field(default_factory=list)  # (page, line, confidence)

    @property
    def text(self) -> str:
        return "\n".join(self.pages)
