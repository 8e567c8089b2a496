"""PDFs with a text layer, read with pdfium: lines in reading order, page furniture removed,
wrapped lines joined into paragraphs."""
from __future__ import annotations

import ctypes
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

import regex
from .document import Document
from ..status import Reason, Status
from ..engine.rules import RuleSet, bounded, default_rules, search


CUES = ("sentence_end", "mid_sentence", "paragraph_start", "salutation_line", "title_end", "page_number", "bare_number")


@dataclass(frozen=True)
class Cues:
    """The layout cues of a rule set (``rules/layout.yaml``, kind ``layout``) by name: a line shows
    a cue when one of the cue's rules matches it. The rule set is passed down to the reader, so a
    ``--rules`` folder reaches the paragraph joiner too."""
    patterns: dict

    def has(self, cue: str, text: str) -> bool:
        # a plain loop: this runs a few hundred times a letter, and a generator costs more than
        # the usual single pattern's search
        for p in self.patterns.get(cue, ()):
            if search(p, text) is not None:
                return True
        return False


def layout_cues(ruleset: RuleSet) -> Cues:
    def make() -> Cues:
        patterns: dict[str, list] = {}
        for r in ruleset.of_kind("layout"):
            if r.pattern is not None and r.field in CUES:
                patterns.setdefault(r.field, []).append(r.pattern)
        return Cues({k: tuple(v) for k, v in patterns.items()})

    return ruleset.memo("layout_cues", make)

@dataclass
class PdfLine:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    page: int


_GARBAGE_CHARS = regex.compile(r"[\ufffd\p{Co}\x00-\x08\x0b\x0c\x0e-\x1f]|\(cid:\d+\)")


_CJKISH = regex.compile(r"[\p{Han}，。、；：（）《》“”]")
_LATINISH = regex.compile(r"[0-9A-Za-z.%]")
_DATE_AHEAD = regex.compile(r"\d{4}(?:年|[-./]\d)")
_WORD_START = regex.compile(r"[A-Za-z0-9.,:%/'+\-()\[\]]+")
_NON_HAN_RUN = regex.compile(r"\P{Han}+")
_DIGITS = regex.compile(r"\d+")
_SPACES = regex.compile(r"\s+")
_LATIN = regex.compile(r"[A-Za-z]")
_LATIN_END = regex.compile(r"[A-Za-z]$")
_NON_BMP = regex.compile(r"[\U00010000-\U0010FFFF]")
_LINE_BREAK = regex.compile(r"(\r\n|\r|\n)")
# re, not regex, for the three below: its \s is exactly str.isspace (regex's leaves out \x1c-\x1f),
# so they skip what strip() and isspace() skip, and it runs the backreference scans 3x faster
_SPACE = re.compile(r"\s")
# a character whose next one, spaces aside, is the same: the second may be a fake-bold double
_DOUBLED = re.compile(r"(\S)\s*(?=\1)")
_REPEAT = re.compile(r"(.)\1")


def _AUTOSPACE_PAIR(a: str, b: str) -> bool:
    return bool(_CJKISH.match(a) and _LATINISH.match(b) or _LATINISH.match(a) and _CJKISH.match(b))


def _visual_order(seg: str, start: int, box, loose_box, fontsize, generated) -> tuple[str, list[int] | range]:
    """A line's characters left to right, with the text index of each (-1 for a space put back,
    which counts as generated like pdfium's own). pdfium gives characters in drawing order, and
    a producer that draws fallback-font glyphs (curly quotes, ○, ∶) or its spaces after the rest
    of the line leaves them at its end."""
    # Han text from the body font comes in order; what a producer draws late is punctuation,
    # symbols, spaces and the odd fallback glyph, which then sits at the end: probing those, their
    # neighbours and the line's ends saves a box lookup per character
    last = len(seg) - 1
    probe = {0, last}
    for m in _NON_HAN_RUN.finditer(seg):
        probe.update(range(max(m.start() - 1, 0), min(m.end(), last) + 1))
    xs = [box(start + j)[0] for j in sorted(probe) if not (seg[j].isspace() and generated(start + j))]
    if all(b >= a - 1.0 for a, b in zip(xs, xs[1:])):
        return seg, range(start, start + len(seg))  # in order: no list of indices to build
    drawn = [j for j, ch in enumerate(seg) if not (ch.isspace() and generated(start + j))]
    drawn.sort(key=lambda j: box(start + j)[0])
    chars: list[str] = []
    where: list[int] = []
    prev = None
    for j in drawn:
        if prev is not None and not seg[j].isspace() and not seg[prev].isspace():
            # advance boxes, not ink: the ink of ，、《 fills a fraction of its em
            a, b = loose_box(start + prev), loose_box(start + j)
            if b[0] - a[2] > 0.3 * max(fontsize(start + prev), fontsize(start + j), 1.0):
                chars.append(" ")
                where.append(-1)
        chars.append(seg[j])
        where.append(start + j)
        prev = j
    return "".join(chars), where


def _dropped(seg: str, where, box, generated) -> set[int]:
    """Positions in a line (in visual order) of characters that are not text: Word's generated
    space between CJK and Latin/digits, and fake-bold doubles. Only the spaces and the characters
    repeating the one before them are looked at, so a line costs no box lookup per character."""
    out: set[int] = set()
    # Word's gap between CJK and Latin/digits comes out as a generated space: 45 号 (kept before
    # a date: 某某局 2019年7月18日 is two things side by side). Such a space stands between two
    # characters, and most lines have none
    spaces = _SPACE.finditer(seg, 1, len(seg) - 1) if len(seg.split()) > 1 else ()
    for m in spaces:
        j = m.start()
        if _AUTOSPACE_PAIR(seg[j - 1], seg[j + 1]) and (where[j] < 0 or generated(where[j])) \
                and not _DATE_AHEAD.match(seg, j + 1):
            out.add(j)
    # fake bold: the same character drawn again a fraction of its width to the right; a run of
    # them (AAA) is measured against its first, the character kept
    kept_of: dict[int, int] = {}
    # most lines repeat no character: a quick test on the line without its spaces settles that
    doubles = _DOUBLED.finditer(seg) if _REPEAT.search("".join(seg.split())) else ()
    for m in doubles:
        p, j = m.start(), m.end()
        p = kept_of.get(p, p)
        a, b = box(where[p]), box(where[j])
        wid = max(a[2] - a[0], 1.0)
        if abs(a[0] - b[0]) < wid * 0.5 and abs(a[1] - b[1]) < wid * 0.5:
            out.add(j)
            kept_of[j] = p
    return out


def _page_garbled(text: str, raw, n: int, visible: int) -> bool:
    """Whether a page's text is unusable: more than a fifth of it (at least 5 characters) is
    glyphs without a Unicode map, counted as (cid:N), U+FFFD and private-use characters in the
    text plus pdfium's map-error flag on a sample of up to 61 characters."""
    import pypdfium2.raw as pr

    limit = max(5, 0.2 * visible)
    garbage = len(_GARBAGE_CHARS.findall(text))
    sample = range(0, n, max(1, n // 60))
    if garbage > limit or garbage + len(sample) <= limit:
        return garbage > limit  # the sample cannot change the answer: 61 calls saved
    try:
        garbage += sum(1 for i in sample if pr.FPDFText_HasUnicodeMapError(raw, i) == 1)
    except (AttributeError, OSError):
        pass
    return garbage > limit


def _pdf_page_lines(page, textpage, pno: int, H: float) -> tuple[list[PdfLine], bool, int]:
    """Lines of one page with their geometry; fake-bold doubles removed. Returns lines, whether
    the text is garbled (fonts without a Unicode map) and the count of its non-space characters."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pr

    n = textpage.count_chars()
    if n <= 0:
        return [], False, 0
    text = textpage.get_text_range(0, n)
    # pdfium counts UTF-16 units; a character outside the BMP takes two indices
    if _NON_BMP.search(text):
        units, u = [], 0
        for ch in text:
            units.append(u)
            u += 2 if ord(ch) > 0xFFFF else 1
    else:
        units, u = range(len(text)), len(text)
    aligned = u == n
    raw = textpage.raw
    lines: list[PdfLine] = []
    visible = len("".join(text.split()))
    garbled = _page_garbled(text, raw, n, visible)

    # a line asks for a few boxes more than once (its ends, a probed character that is also a
    # fake-bold candidate); pdfium's own call with buffers made once costs about half of
    # textpage.get_charbox, which makes four new ctypes doubles each time
    boxes: dict[int, tuple[float, float, float, float]] = {}
    left, right, bottom, top = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()

    def box(i):
        got = boxes.get(i)
        if got is None:
            if not pr.FPDFText_GetCharBox(raw, units[i], left, right, bottom, top):
                raise pdfium.PdfiumError("Failed to get charbox.")
            got = boxes[i] = (left.value, bottom.value, right.value, top.value)
        return got

    def loose_box(i):
        return textpage.get_charbox(units[i], loose=True)

    def generated(i):
        return pr.FPDFText_IsGenerated(raw, units[i]) == 1

    def fontsize(i):
        return pr.FPDFText_GetFontSize(raw, units[i])

    pos = 0
    for seg in _LINE_BREAK.split(text):
        start = pos
        pos += len(seg)
        if seg in ("\r\n", "\r", "\n") or not seg.strip():
            continue
        if not aligned:
            lines.append(PdfLine(seg.strip(), 0.0, 0.0, 0.0, 0.0, 0.0, pno))
            continue
        seg, where = _visual_order(seg, start, box, loose_box, fontsize, generated)
        drop = _dropped(seg, where, box, generated)
        # the first and last characters kept that are not spaces (a double is never the first)
        first, last = len(seg) - len(seg.lstrip()), len(seg.rstrip()) - 1
        while last >= first and (last in drop or seg[last].isspace()):
            last -= 1
        if last < first:
            continue
        s = "".join(c for j, c in enumerate(seg) if j not in drop) if drop else seg
        b0, b1 = box(where[first]), box(where[last])
        size = fontsize(where[first]) or (b0[3] - b0[1])
        s = s.strip()
        half = len(s) // 2
        if len(s) % 2 == 0 and half >= 2 and s[:half] == s[half:]:
            # a whole line drawn twice (another fake-bold style)
            idx = [where[j] for j, c in enumerate(seg) if j not in drop and not c.isspace()]
            mid = box(idx[half]) if half < len(idx) else b1
            if abs(mid[0] - b0[0]) < 2 * max(b0[2] - b0[0], 1.0):
                s = s[:half]
                b1 = box(idx[half - 1])
        lines.append(PdfLine(s, b0[0], max(b1[2], b0[2]), max(b0[3], b1[3]), min(b0[1], b1[1]), float(size), pno))
    return lines, garbled, visible


def _percentile(vals: list[float], q: float) -> float:
    vals = sorted(vals)
    return vals[min(len(vals) - 1, max(0, int(round(q * (len(vals) - 1)))))] if vals else 0.0


def page_furniture(pages: list[list[PdfLine]], heights: list[float], cues: Cues
                   ) -> tuple[list[list[PdfLine]], list[str], list[str]]:
    """Split running headers, footers and page numbers off the body lines."""
    def key(t):
        return _DIGITS.sub("#", _SPACES.sub("", t))

    # a running header repeats at the top of pages, a footer at the bottom; the letterhead on
    # top of page 1 and the same name signing on top of page 2 are neither: a running line also
    # keeps its place on the page
    tops: dict[str, list[tuple[float, float]]] = {}
    bottoms: dict[str, list[tuple[float, float]]] = {}
    for lines in pages:
        for edge, seen in ((lines[:2], tops), (lines[-2:], bottoms)):
            for ln in edge:
                seen.setdefault(key(ln.text), []).append((ln.bottom, ln.x0))
    need = max(2, (len(pages) + 1) // 2)

    def running(seen: dict[str, list[tuple[float, float]]]) -> set[str]:
        return {k for k, at in seen.items() if len(pages) >= 2 and max(
            sum(1 for y, x in at if abs(y - y0) < 3.0 and abs(x - x0) < 3.0) for y0, x0 in at) >= need}

    rep_top, rep_bottom = running(tops), running(bottoms)
    body, headers, footers = [], [], []
    for lines, H in zip(pages, heights):
        kept = []
        for i, ln in enumerate(lines):
            is_edge = i < 2 or i >= len(lines) - 2
            in_top = ln.size and ln.bottom > H * 0.93
            in_bottom = ln.size and ln.top < H * 0.07
            # where first, then what: most lines are in neither place, and the cue is a regex search
            if (is_edge or in_top or in_bottom) and cues.has("page_number", ln.text) \
                    or (in_top or in_bottom) and cues.has("bare_number", ln.text):
                continue
            if in_top or (i < 2 and key(ln.text) in rep_top):
                if ln.text not in headers:
                    headers.append(ln.text)
                continue
            if in_bottom or (i >= len(lines) - 2 and key(ln.text) in rep_bottom):
                if ln.text not in footers:
                    footers.append(ln.text)
                continue
            kept.append(ln)
        body.append(kept)
    return body, headers, footers


@dataclass
class _Layout:
    """The measures of a document's text block that decide whether a line runs on: body font
    size ``w``, left and right margins, line pitch, whether paragraphs are indented, and the
    lowest and highest line positions of a full page."""
    w: float
    left: float
    right: float
    pitch: float
    lowest: float
    highest: float
    cues: Cues
    uses_indent: bool = False

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2

    def is_indented(self, ln: PdfLine) -> bool:
        return self.left + 1.5 * self.w <= ln.x0 <= self.left + 2.6 * self.w

    def full(self, ln: PdfLine) -> bool:
        """A line that reaches the right margin. One that stops short without ending a sentence was
        still wrapped: line breaking rules (no “ at a line end, no break inside 2021-2022) leave a
        gap of a few characters (only a line at the margin or the paragraph indent: a centred title
        is as wide as it is)."""
        if not ln.x0 <= self.left + 3 * ln.size:
            return False
        near, short = ln.x1 >= self.right - 1.6 * ln.size, ln.x1 >= self.right - 3.2 * ln.size
        if near == short:
            return near  # the end of the line decides alone: no regex search for the cue
        ragged = (ln.x0 < self.left + 0.5 * self.w or self.is_indented(ln)) and not self.cues.has("sentence_end", ln.text)
        return short if ragged else near

    def centred(self, ln: PdfLine) -> bool:
        return (abs((ln.x0 + ln.x1) / 2 - self.centre) < self.w and ln.x0 > self.left + 1.2 * self.w
                and ln.x1 < self.right - 1.2 * self.w)

    def pushed(self, cur: PdfLine, nxt: PdfLine) -> bool:
        """A number or Latin word that did not fit went to the next line whole: 资金 / 1,234,500元."""
        m = _WORD_START.match(nxt.text)
        return bool(m) and cur.x1 + (len(m.group(0)) * 0.6 + 0.3) * cur.size >= self.right - 0.3 * cur.size

    def continues(self, cur: PdfLine, nxt: PdfLine) -> bool:
        """Whether ``nxt`` continues the paragraph of ``cur`` (the line above it)."""
        if not cur.size or not nxt.size or not (self.full(cur) or self.pushed(cur, nxt)):
            return False
        if abs(cur.size - nxt.size) > 0.5:
            return False  # a title and the text below it
        # the tests of position go before the cues' regex searches wherever the answer is no either way
        centred_title = self.centred(nxt) and abs((cur.x0 + cur.x1) / 2 - self.centre) < self.w
        if nxt.x0 > self.left + 1.2 * self.w and not centred_title:
            return False  # indented: a new paragraph
        cues = self.cues
        if starts_paragraph(cur.text, nxt.text, cues):
            return False
        if centred_title:
            return not cues.has("sentence_end", cur.text)  # a centred title wrapped over two lines
        if cues.has("mid_sentence", cur.text):
            return True
        if self.uses_indent:
            return True
        return not cues.has("sentence_end", cur.text)


def starts_paragraph(cur: str, nxt: str, cues: Cues) -> bool:
    """Whether the line ``nxt`` starts a paragraph after the full line ``cur``, by the layout cues
    alone: a numbered point, a label, a date; an addressee line, except where it ends a list of
    names that ran over the line (张三、李四、王\n五代表：) and no title stands before it."""
    if cues.has("paragraph_start", nxt):
        return True
    listing = ("、" in nxt or "、" in cur) and not cues.has("title_end", cur)
    return cues.has("salutation_line", nxt) and not cues.has("mid_sentence", cur) and not listing


def _measure(pages: list[list[PdfLine]], all_lines: list[PdfLine], cues: Cues) -> _Layout:
    w = statistics.median(ln.size for ln in all_lines) or 12.0
    wide = [ln.x1 for ln in all_lines if len(ln.text) >= 8]
    pitches = [a.bottom - b.bottom for lines in pages for a, b in zip(lines, lines[1:])
               if 0 < a.bottom - b.bottom < 4 * w]
    firsts = [lines[0].bottom for lines in pages if lines and lines[0].size]
    layout = _Layout(
        w=w, left=_percentile([ln.x0 for ln in all_lines], 0.1),
        right=_percentile(wide, 0.8) if wide else max(ln.x1 for ln in all_lines),
        pitch=_percentile(pitches, 0.2) if pitches else 1.5 * w,  # body line pitch, not the blank-line gaps
        lowest=min(ln.bottom for ln in all_lines),  # the last line of a full page
        highest=max(firsts) if firsts else 0.0, cues=cues)  # highest: the first line of a page
    layout.uses_indent = _uses_indent(pages, all_lines, layout)
    return layout


def _uses_indent(pages: list[list[PdfLine]], all_lines: list[PdfLine], layout: _Layout) -> bool:
    """Whether paragraphs are indented (then a full line ending in 。 still runs on when the next
    line is flush left). A letter of one long paragraph has a single indented line, so the certain
    paragraph starts count too: the first line, a line after a short one that ends a sentence."""
    indented = sum(1 for ln in all_lines if layout.is_indented(ln))
    starts = [b for lines in pages for a, b in zip(lines, lines[1:])
              if a.size and b.size and len(b.text) >= 4 and b.x0 < layout.left + 2.6 * layout.w
              and not layout.full(a) and layout.cues.has("sentence_end", a.text)]
    if all_lines[0].x0 < layout.left + 2.6 * layout.w:
        starts.append(all_lines[0])
    indented_starts = sum(1 for ln in starts if layout.is_indented(ln))
    return indented >= 2 or indented_starts > len(starts) - indented_starts


def glue(a: str, b: str) -> str:
    """A wrapped line joined to the one before: no space between Chinese, one between two words."""
    return a + (" " if _LATIN_END.search(a) and _LATIN.match(b) else "") + b


def join_pdf_lines(pages: list[list[PdfLine]], cues: Cues) -> list[list[str]]:
    """Rebuild paragraphs from wrapped lines: a full-width line that does not end a sentence
    continues on the next line unless that one starts a new paragraph (indent, numbered point,
    salutation, date); a wide vertical gap is a blank line. Returns each page's lines."""
    all_lines = [ln for lines in pages for ln in lines if ln.size]
    out: list[list[str]] = [[] for _ in pages]
    if not all_lines:
        for i, lines in enumerate(pages):
            out[i] = [ln.text for ln in lines]
        return out
    layout = _measure(pages, all_lines, cues)
    pitch = layout.pitch
    prev: PdfLine | None = None
    last_page = -1  # the page of the last line written out
    for pi, lines in enumerate(pages):
        if not lines:
            prev = None  # an unreadable page breaks any paragraph
        for ln in lines:
            same = prev is not None and prev.page == ln.page
            gap = prev.bottom - ln.bottom if same else 0.0
            if prev is not None and not same and prev.size and ln.size and (
                    prev.bottom - layout.lowest > 1.5 * pitch or layout.highest - ln.bottom > 0.8 * pitch):
                out[pi].append("")  # the page ended early or the next starts low: a blank line between
                out[pi].append(ln.text)
                last_page, prev = pi, ln
                continue
            if prev is not None and (not same or gap < 1.8 * pitch) and layout.continues(prev, ln):
                # a wrapped line: glue it to its paragraph, kept on the page where that began
                out[last_page][-1] = glue(out[last_page][-1], ln.text)
            else:
                if same and ln.size and prev.size and gap > 1.8 * pitch:
                    out[pi].append("")
                out[pi].append(ln.text)
                last_page = pi
            prev = ln
    return out


def lay_out(pages: list[list[PdfLine]], heights: list[float], cues: Cues
            ) -> tuple[list[list[str]], list[str], list[str]]:
    """Each page's lines with running headers, footers and page numbers split off and wrapped lines
    joined (``page_furniture``, ``join_pdf_lines``), and the headers and footers. Run under one time
    limit (``rules.bounded``), like a letter's extraction: the layout rules' regexes are then
    called without a limit each, which costs two system calls a call, a few hundred a document."""
    def run():
        body, headers, footers = page_furniture(pages, heights, cues)
        return join_pdf_lines(body, cues), headers, footers

    return bounded(run)


def read_pdf(path: Path, rules: RuleSet | None = None) -> Document:
    """A PDF with a text layer, read with pdfium: running headers, footers and page numbers
    removed, wrapped lines joined, Word's CJK–digit spaces and fake-bold doubles removed; a page
    without usable text is reported in ``warnings``; no text layer at all gives ``needs_ocr``."""
    import pypdfium2 as pdfium

    doc = Document(path=str(path), format="pdf", encoding="utf-8")
    truncated = _pdf_truncated(path)
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        msg = str(e)
        if "password" in msg.lower():
            return doc.fail(Reason.PASSWORD, "the PDF is password-protected: it needs a password to open")
        if truncated:
            return doc.fail(Reason.DAMAGED, "damaged PDF: the file is truncated (no %%EOF at its end; an unfinished "
                                            f"download?): {msg}")
        return doc.fail(Reason.DAMAGED, f"not a readable PDF (damaged or not a PDF): {msg}")
    if truncated:
        doc.warnings.append("the PDF file is truncated (no %%EOF at its end): pages or text may be missing")
    if pdfium.raw.FPDF_GetSecurityHandlerRevision(pdf) != -1:
        # opened without a password, so only an owner password (copy/print limits) is set
        doc.warnings.append("the PDF is encrypted with an owner password only (no password needed to open it)")
    try:
        pages, heights, bad, empty = [], [], [], []
        for i in range(len(pdf)):
            page = pdf[i]
            H = page.get_height()
            tp = page.get_textpage()
            lines, garbled, visible = _pdf_page_lines(page, tp, i + 1, H)
            tp.close()
            page.close()
            if visible == 0:
                empty.append(i + 1)
                lines = []
            elif garbled:
                bad.append(i + 1)
                lines = []
            pages.append(lines)
            heights.append(H)
        n_pages = len(pages)
    finally:
        pdf.close()
    if n_pages == 0:
        return doc.fail(Reason.NO_TEXT, "the PDF has no pages")
    if len(empty) == n_pages:
        doc.pages = [""] * n_pages
        return doc.fail(Reason.SCAN, f"no text layer on any of the {n_pages} pages (a scan): needs OCR", Status.NEEDS_OCR)
    if len(empty) + len(bad) == n_pages:
        doc.pages = [""] * n_pages
        return doc.fail(Reason.SCAN, "no usable text layer: the fonts have no Unicode map (text extracts as (cid:N) "
                                     "garbage); needs OCR", Status.NEEDS_OCR)
    doc.empty_pages, doc.unreadable_pages = empty, bad  # warnings once OCR (parse --ocr) has had its go
    joined, headers, footers = lay_out(pages, heights, layout_cues(rules or default_rules()))
    doc.pages = ["\n".join(lines) for lines in joined]
    if headers:
        doc.page_meta["页眉"] = " / ".join(headers[:5])
    if footers:
        doc.page_meta["页脚"] = " / ".join(footers[:5])
    return doc


# ---------------------------------------------------------------- web pages


def _pdf_truncated(path: Path) -> bool:
    """No %%EOF in the last 1 KB (where readers look for it): the file was cut short."""
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        f.seek(max(0, size - 1024))
        return b"%%EOF" not in f.read()
