"""OCR with Tesseract (``--ocr-engine tesseract``), the fallback where onnxruntime cannot be installed."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import regex
from .document import Document, PDF_EXTS
from ..status import Status


# ---------------------------------------------------------------- OCR (opt-in)

OCR_LANGS = "chi_sim"  # it reads digits and Latin too; adding eng makes it guess English words in Chinese lines
OCR_DPI = 300
OCR_PAGE_TIMEOUT = 180
_OCR_CJK_GAP = regex.compile(r"(?<=[\p{Han}，。、；：（）《》“”！？])[ \t]+(?=[\p{Han}，。、；：（）《》“”！？0-9A-Za-z%])"
                             r"|(?<=[0-9A-Za-z%.])[ \t]+(?=[\p{Han}，。、；：（）《》“”！？])")
# a page number read back from a scan: — 2 —, 一2一, -2-, 第2页, 2/3, or the number alone
_OCR_PAGE_NO = regex.compile(r"^\s*[_.·•,，'\"|]{0,3}\s*(?:[—一\-–－─~]{1,2}\s*\d{1,4}\s*[—一\-–－─~]{1,2}|第\s*\d{1,4}\s*页.{0,8}"
                           r"|\d{1,4}\s*/\s*\d{1,4}|\d{1,3})\s*[_.·•,，'\"|]{0,3}\s*$")
_OCR_SENTENCE_END = regex.compile(r"[。！？!?；;：:”」』）)》]$")


def find_tesseract() -> str | None:
    return shutil.which("tesseract")


def _ocr_lines(text: str) -> list[str]:
    """Tesseract's lines with the spaces it puts between CJK characters (and around digits in
    CJK text: 第 71 号) taken out, and lines it wrapped at the page width joined back."""
    lines = [_OCR_CJK_GAP.sub("", ln).strip() for ln in text.splitlines()]

    def width(t: str) -> float:  # in CJK characters: digits and Latin are half as wide
        return sum(0.5 if ord(c) < 0x2000 else 1.0 for c in t)

    longest = max((width(ln) for ln in lines), default=0.0)
    out: list[str] = []
    last_width = 0.0  # of the last physical line, not of the paragraph it was joined into
    for ln in lines:
        if not ln:
            if out and out[-1]:
                out.append("")
            continue
        prev = out[-1] if out else ""
        # a line as wide as the page's widest that does not end a sentence was wrapped
        if prev and longest >= 12 and last_width >= 0.85 * longest and not _OCR_SENTENCE_END.search(prev):
            out[-1] = prev + ln
        else:
            out.append(ln)
        last_width = width(ln)
    return out


def _page_images(path: Path, tmp: Path) -> list[Path]:
    """The pages of a scan as image files Tesseract reads: a PDF's pages rendered at 300 dpi,
    each frame of a (multi-page) TIFF, or the image itself."""
    if path.suffix.lower() in PDF_EXTS:
        import pypdfium2 as pdfium

        out = []
        pdf = pdfium.PdfDocument(str(path))
        try:
            for i in range(len(pdf)):
                img = tmp / f"p{i}.png"
                pdf[i].render(scale=OCR_DPI / 72, grayscale=True).to_pil().save(img)
                out.append(img)
        finally:
            pdf.close()
        return out
    from PIL import Image, ImageSequence

    with Image.open(path) as im:
        frames = list(ImageSequence.Iterator(im))
        if len(frames) == 1:
            return [path]
        out = []
        for i, fr in enumerate(frames):
            img = tmp / f"p{i}.png"
            fr.convert("L").save(img)
            out.append(img)
        return out


def ocr_scan_tesseract(path: Path, doc: Document) -> Document:
    """A scan (a PDF without a text layer, or an image) read with Tesseract (``chi_sim``): each
    page recognised, cleaned of the spaces OCR puts between CJK characters and of running
    headers, footers and page numbers. Without Tesseract the document stays ``needs_ocr`` and
    says what to install."""
    import tempfile

    exe = find_tesseract()
    if exe is None:
        doc.reason = (doc.reason or "needs OCR") + " (for --ocr install Tesseract: apt-get install tesseract-ocr " \
                                                   "tesseract-ocr-chi-sim)"
        return doc
    pages: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="replyparse-ocr-") as tmp:
        for i, img in enumerate(_page_images(path, Path(tmp))):
            try:
                proc = subprocess.run([exe, str(img), "-", "-l", OCR_LANGS, "--psm", "6",
                                       "-c", "preserve_interword_spaces=1"],
                                      capture_output=True, text=True, timeout=OCR_PAGE_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc = None
            if proc is None or proc.returncode != 0:
                doc.warnings.append(f"OCR failed on page {i + 1}: "
                                    f"{'timeout' if proc is None else (proc.stderr or '').strip()[:120]}")
                pages.append([])
                continue
            pages.append(_ocr_lines(proc.stdout))
    # running headers and footers: the same first or last line on most pages
    def key(t):
        return regex.sub(r"\d+", "#", regex.sub(r"\s+", "", t))

    if len(pages) >= 2:
        for pick in (0, -1):
            counts: dict[str, int] = {}
            for lines in pages:
                body = [ln for ln in lines if ln and not _OCR_PAGE_NO.match(ln)]
                if body:
                    counts[key(body[pick])] = counts.get(key(body[pick]), 0) + 1
            running = {k for k, c in counts.items() if c >= max(2, (len(pages) + 1) // 2)}
            for lines in pages:
                idx = [j for j, ln in enumerate(lines) if ln and not _OCR_PAGE_NO.match(ln)]
                if idx and key(lines[idx[pick]]) in running:
                    del lines[idx[pick]]
    for lines in pages:
        while lines and (not lines[0] or _OCR_PAGE_NO.match(lines[0])):
            lines.pop(0)
        while lines and (not lines[-1] or _OCR_PAGE_NO.match(lines[-1])):
            lines.pop()
    if not any(pages):
        doc.reason = (doc.reason or "") + "; OCR found no text"
        return doc
    doc.pages = ["\n".join(lines) for lines in pages]
    doc.status, doc.reason, doc.reason_code = Status.OK, None, None
    doc.ocr, doc.ocr_confidence = True, [None] * len(pages)
    doc.warnings.append(f"text read by OCR (Tesseract {OCR_LANGS}) from {len(pages)} scanned "
                        f"page{'s' if len(pages) > 1 else ''}: characters may be misread")
    return doc
