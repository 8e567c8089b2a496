"""Read an input file into text and pages. One reader per format; every reader returns a
``Document`` and never raises for bad input: it sets ``status`` and ``reason`` instead."""
from __future__ import annotations

import codecs
import os
import shutil
import statistics
import subprocess
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import regex

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


def _read_bounded(path: Path, doc: Document, limit: int = MAX_TEXT_BYTES) -> bytes | None:
    """The file's bytes, or None with ``doc`` set to an error when it is too large or empty."""
    size = path.stat().st_size
    if size > limit:
        doc.status, doc.reason = "error", f"file too large: {size} bytes (limit {limit} for .{doc.format})"
        return None
    data = path.read_bytes()
    if not data.strip():
        doc.status, doc.reason = "error", "empty file"
        return None
    return data


def read_text_file(path: Path) -> Document:
    doc = Document(path=str(path), format="txt")
    data = _read_bounded(path, doc)
    if data is None:
        return doc
    try:
        text, enc = decode_bytes(data)
    except UnicodeDecodeError as e:
        doc.status, doc.reason = "error", f"undecodable text: {e.reason}"
        return doc
    doc.pages, doc.encoding = [text], enc
    if enc == MIXED_ENCODING:
        doc.warnings.append("mixed encodings: most lines are UTF-8, some GBK/GB18030; each line was "
                            "read in the codec that decodes it")
    return doc


# ---------------------------------------------------------------- Word (.docx, .doc/.wps)

_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _wq(tag: str) -> str:
    return f"{{{_W_NS}}}{tag}"


_CN_DIGITS = "零一二三四五六七八九"


def _cn_counting(n: int) -> str:
    """Word's chineseCounting: 1 一, 10 十, 11 十一, 20 二十, 105 一百零五."""
    if n <= 0:
        return str(n)
    if n < 10:
        return _CN_DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")
    if n < 1000:
        h, rest = divmod(n, 100)
        if not rest:
            return _CN_DIGITS[h] + "百"
        return _CN_DIGITS[h] + "百" + ("零" + _CN_DIGITS[rest] if rest < 10 else
                                      (_CN_DIGITS[rest // 10] + "十" + (_CN_DIGITS[rest % 10] if rest % 10 else "")))
    return str(n)


def _roman(n: int) -> str:
    out = ""
    for v, s in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
                 (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= v:
            out += s
            n -= v
    return out


def _letters(n: int) -> str:
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1) if n > 0 else ""


def format_number(n: int, fmt: str) -> str:
    """A list counter in one of Word's w:numFmt formats."""
    # LibreOffice writes 一、 lists as taiwaneseCountingThousand
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "japaneseDigitalTenThousand",
               "taiwaneseCounting", "taiwaneseCountingThousand"):
        return _cn_counting(n)
    if fmt in ("ideographDigital", "taiwaneseDigital"):
        return "".join("〇一二三四五六七八九"[int(d)] for d in str(n))
    if fmt == "chineseLegalSimplified":
        return _cn_counting(n).translate(str.maketrans("一二三四五六七八九十百", "壹贰叁肆伍陆柒捌玖拾佰"))
    if fmt in ("ideographLegalTraditional", "japaneseLegal"):
        return _cn_counting(n).translate(str.maketrans("一二三四五六七八九十百", "壹貳參肆伍陸柒捌玖拾佰"))
    if fmt == "ideographTraditional":
        return "甲乙丙丁戊己庚辛壬癸"[(n - 1) % 10]
    if fmt == "ideographZodiac":
        return "子丑寅卯辰巳午未申酉戌亥"[(n - 1) % 12]
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt == "decimalFullWidth" or fmt == "decimalFullWidth2":
        return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if fmt == "decimalEnclosedCircle" or fmt == "decimalEnclosedCircleChinese":
        return chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n)
    if fmt in ("decimalEnclosedParen",):
        return chr(0x2474 + n - 1) if 1 <= n <= 20 else f"({n})"
    if fmt == "decimalEnclosedFullstop":
        return chr(0x2488 + n - 1) if 1 <= n <= 20 else f"{n}."
    if fmt == "upperLetter":
        return _letters(n)
    if fmt == "lowerLetter":
        return _letters(n).lower()
    if fmt == "upperRoman":
        return _roman(n)
    if fmt == "lowerRoman":
        return _roman(n).lower()
    if fmt in ("none", "bullet"):
        return ""
    return str(n)


@dataclass
class _Level:
    fmt: str = "decimal"
    text: str = "%1."
    start: int = 1
    suff: str = "tab"
    restart: int | None = None  # w:lvlRestart
    legal: bool = False


class _Numbering:
    """Word list numbering (numbering.xml): counters per list and level, as Word shows them."""

    def __init__(self, root, styles_root=None):
        self.abstract: dict[str, dict[int, _Level]] = {}
        self.nums: dict[str, tuple[str, dict[int, int], dict[int, _Level]]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        self.style_num: dict[str, tuple[str | None, int | None]] = {}
        self.style_based: dict[str, str] = {}
        # a template's numbering.xml defines dozens of lists a letter never uses: levels are read
        # when a paragraph first asks for them
        self._abstract_el: dict[str, object] = {}
        if root is not None:
            for a in root.iter(_wq("abstractNum")):
                self._abstract_el[a.get(_wq("abstractNumId"))] = a
            for n in root.iter(_wq("num")):
                nid = n.get(_wq("numId"))
                an = n.find(_wq("abstractNumId"))
                starts, overrides = {}, {}
                for ov in n.iter(_wq("lvlOverride")):
                    il = int(ov.get(_wq("ilvl"), "0"))
                    so = ov.find(_wq("startOverride"))
                    if so is not None:
                        starts[il] = int(so.get(_wq("val"), "1"))
                    lv = ov.find(_wq("lvl"))
                    if lv is not None:
                        overrides[il] = self._level(lv)
                self.nums[nid] = (an.get(_wq("val")) if an is not None else None, starts, overrides)
        if styles_root is not None:
            for s in styles_root.iter(_wq("style")):
                sid = s.get(_wq("styleId"))
                ppr = s.find(_wq("pPr"))
                based = s.find(_wq("basedOn"))
                if based is not None:
                    self.style_based[sid] = based.get(_wq("val"))
                if ppr is not None and ppr.find(_wq("numPr")) is not None:
                    np_ = ppr.find(_wq("numPr"))
                    nid = np_.find(_wq("numId"))
                    il = np_.find(_wq("ilvl"))
                    self.style_num[sid] = (nid.get(_wq("val")) if nid is not None else None,
                                           int(il.get(_wq("val"))) if il is not None else None)

    @staticmethod
    def _level(lv) -> _Level:
        def val(tag, default=None):
            e = lv.find(_wq(tag))
            return e.get(_wq("val"), default) if e is not None else default

        restart = val("lvlRestart")
        return _Level(fmt=val("numFmt", "decimal"), text=val("lvlText", ""), start=int(val("start", "1") or 1),
                      suff=val("suff", "tab"), restart=int(restart) if restart is not None else None,
                      legal=lv.find(_wq("isLgl")) is not None)

    def _abstract_levels(self, aid: str) -> dict:
        if aid not in self.abstract and aid in self._abstract_el:
            a = self._abstract_el[aid]
            levels = {int(lv.get(_wq("ilvl"), "0")): self._level(lv) for lv in a.iter(_wq("lvl"))}
            link = a.find(_wq("numStyleLink"))
            if link is not None:
                levels["_link"] = link.get(_wq("val"))
            self.abstract[aid] = levels
        return self.abstract.get(aid, {})

    def levels(self, num_id: str) -> tuple[dict[int, _Level], dict[int, int]]:
        aid, starts, overrides = self.nums.get(num_id, (None, {}, {}))
        levels = dict(self._abstract_levels(aid)) if aid is not None else {}
        link = levels.pop("_link", None)  # type: ignore[call-overload]
        if link and link in self.style_num and self.style_num[link][0] and self.style_num[link][0] != num_id:
            levels, _ = self.levels(self.style_num[link][0])
        levels.update(overrides)
        return levels, starts

    def para_numpr(self, p) -> tuple[str | None, int]:
        ppr = p.find(_wq("pPr"))
        num_id, ilvl, style = None, None, None
        if ppr is not None:
            np_ = ppr.find(_wq("numPr"))
            if np_ is not None:
                nid, il = np_.find(_wq("numId")), np_.find(_wq("ilvl"))
                num_id = nid.get(_wq("val")) if nid is not None else None
                ilvl = int(il.get(_wq("val"))) if il is not None else None
            ps = ppr.find(_wq("pStyle"))
            style = ps.get(_wq("val")) if ps is not None else None
        seen = set()
        while style and (num_id is None or ilvl is None) and style not in seen:
            seen.add(style)
            snid, silvl = self.style_num.get(style, (None, None))
            num_id = num_id if num_id is not None else snid
            ilvl = ilvl if ilvl is not None else silvl
            style = self.style_based.get(style)
        return num_id, ilvl or 0

    def label(self, p) -> str:
        """The number Word shows before this paragraph ('' when none), and advance the counters."""
        num_id, ilvl = self.para_numpr(p)
        if not num_id or num_id == "0" or num_id not in self.nums:
            return ""
        levels, starts = self.levels(num_id)
        lvl = levels.get(ilvl)
        if lvl is None:
            return ""
        counters = self.counters.setdefault(num_id, {})
        if ilvl in counters:
            counters[ilvl] += 1
        else:
            counters[ilvl] = starts.get(ilvl, lvl.start)
        for deeper in [k for k in counters if k > ilvl]:
            # a deeper level restarts after a shallower one (unless its lvlRestart says otherwise)
            lr = levels.get(deeper).restart if levels.get(deeper) else None
            if lr is None or lr != 0 and ilvl < lr:
                del counters[deeper]
        if lvl.fmt == "bullet" or lvl.fmt == "none":
            return ""

        def sub(m):
            k = int(m.group(1)) - 1
            lv = levels.get(k, lvl)
            n = counters.get(k, starts.get(k, lv.start))
            return str(n) if lvl.legal and k < ilvl else format_number(n, lv.fmt)

        text = regex.sub(r"%([1-9])", sub, lvl.text)
        if not text:
            return ""
        sep = " " if lvl.suff == "space" or (lvl.suff == "tab" and not regex.search(r"[\p{P}\p{S}]$", text)) else ""
        return text + sep


def _para_text(p, out_boxes: list) -> str:
    """Text of a w:p as Word shows it: runs, tabs, breaks, symbols, hyperlinks and field
    results; deleted revisions, field codes and the VML fallback copy of a text box skipped.
    Text-box paragraphs found inside are collected in ``out_boxes``."""
    parts: list[str] = []

    def walk(el):
        for ch in el:
            tag = ch.tag if isinstance(ch.tag, str) else ""
            local = tag.rsplit("}", 1)[-1]
            if tag == f"{{{_MC_NS}}}Fallback" or local in ("delText", "instrText", "del", "rPr", "pPr", "fldData"):
                continue
            if local == "txbxContent":
                out_boxes.append(ch)
                continue
            if local == "t":
                parts.append(ch.text or "")
            elif local == "tab" and tag == _wq("tab"):
                parts.append("\t")
            elif local in ("br", "cr") and tag in (_wq("br"), _wq("cr")):
                if ch.get(_wq("type")) != "page":
                    parts.append("\n")
            elif local == "noBreakHyphen":
                parts.append("-")
            elif local == "sym":
                code = ch.get(_wq("char"))
                try:
                    c = chr(int(code, 16))
                    if 0xF000 <= ord(c) <= 0xF0FF:  # symbol-font private range: no text meaning
                        c = ""
                    parts.append(c)
                except (TypeError, ValueError):
                    pass
            else:
                walk(ch)

    walk(p)
    return "".join(parts)


def _block_lines(container, numbering: _Numbering) -> list[str]:
    """Lines of a body, table cell or text box, in document order."""
    lines: list[str] = []
    for el in container:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == _wq("p"):
            boxes: list = []
            text = _para_text(el, boxes)
            label = numbering.label(el) if text.strip() else ""
            lines.append(label + text)
            for b in boxes:
                lines.extend(_block_lines(b, numbering))
        elif tag == _wq("tbl"):
            for row in el.iter(_wq("tr")):
                if row.getparent() is not el:
                    continue  # rows of nested tables come with their cell
                for cell in row.findall(_wq("tc")):
                    cell_lines = [ln for ln in _block_lines(cell, numbering) if ln.strip()]
                    lines.extend(cell_lines)
        elif tag in (_wq("sdt"),):
            content = el.find(_wq("sdtContent"))
            if content is not None:
                lines.extend(_block_lines(content, numbering))
        elif tag in (_wq("customXml"), _wq("ins"), _wq("smartTag")):
            lines.extend(_block_lines(el, numbering))
    return lines


MAX_DOCX_UNZIPPED = 200 * 1024 * 1024  # a letter's .docx unzips to a few MB, even with photos in it
MAX_DOCX_RATIO = 100  # Word's XML compresses 5-30:1; a big part far beyond that is padding made to blow up
_RATIO_FLOOR = 10 * 1024 * 1024  # a small part may compress better than that and still do no harm
# a DTD is what entity expansion (billion laughs) and external entities (file:///etc/passwd) need;
# UTF-16 forms too, as lxml reads UTF-16 XML
_DTD_MARKS = tuple(s.encode(enc) for s in ("<!DOCTYPE", "<!ENTITY")
                   for enc in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"))
_PROLOG = regex.compile(r"\ufeff?(?:\s+|<\?.*?\?>|<!--.*?-->)*", regex.DOTALL)
_ROOT_START = regex.compile(r"<[^!?]")


def _declares_dtd(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    with z.open(info) as f:
        chunk = f.read(4096)
        if not chunk.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").startswith(b"<"):
            return False  # an image or other binary part: python-docx never parses it as XML
        # a DTD can only come before the root element: once that is reached, the part is clean
        two, four = chunk[:2], chunk[:4]
        # XML 1.0 appendix F: UTF-32 first (its BOM and its '<' begin like UTF-16's)
        enc = ("utf-32" if four in (b"\xff\xfe\0\0", b"\0\0\xfe\xff") else "utf-32-le" if four == b"<\0\0\0"
               else "utf-32-be" if four == b"\0\0\0<"
               else "utf-16" if two in (b"\xff\xfe", b"\xfe\xff") else "utf-16-le" if two == b"<\0"
               else "utf-16-be" if two == b"\0<" else "utf-8")
        head = codecs.getincrementaldecoder(enc)(errors="replace").decode(chunk)
        rest = head[_PROLOG.match(head).end():]
        if _ROOT_START.match(rest):
            return False
        if rest.startswith("<!") and not rest.startswith("<!--"):
            return True
        # a prolog longer than the first read (comments as padding?): look through the whole part
        tail = b""
        while chunk:
            buf = tail + chunk
            if any(m in buf for m in _DTD_MARKS):
                return True
            tail = buf[-20:]  # a mark split across two chunks
            chunk = f.read(1 << 16)
    return False


def _docx_problem(path: Path) -> str | None:
    """Why a .docx must not reach python-docx, or None. Checked on the zip directory and raw
    bytes only, so a zip bomb or entity bomb is refused before anything is expanded or parsed.
    Declared sizes bound what zipfile will ever inflate, so checking them is enough."""
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        return f"not a readable .docx (damaged or not a Word 2007+ file): {e}"
    with z:
        infos = z.infolist()
        names = sorted(i.filename for i in infos)
        if "[Content_Types].xml" not in names:
            return (f"not a Word document: a zip archive without [Content_Types].xml "
                    f"(holds {', '.join(names[:4]) or 'nothing'}{', …' if len(names) > 4 else ''})")
        total = sum(i.file_size for i in infos)
        if total > MAX_DOCX_UNZIPPED:
            return (f"the .docx expands to {total // 2**20} MB when unzipped, over the limit of "
                    f"{MAX_DOCX_UNZIPPED // 2**20} MB (a zip bomb?): refused")
        for i in infos:
            if i.file_size > _RATIO_FLOOR and i.file_size > MAX_DOCX_RATIO * max(1, i.compress_size):
                return (f"the .docx part {i.filename} expands to {i.file_size // 2**20} MB from "
                        f"{i.compress_size // 1024} KB ({i.file_size // max(1, i.compress_size)}:1), over the "
                        f"limit of {MAX_DOCX_RATIO}:1 (a zip bomb?): refused")
            if i.flag_bits & 0x1:
                return "the .docx is password-protected (encrypted zip parts)"
        try:
            for i in infos:
                # SVG images may carry a DOCTYPE and are never parsed
                if not i.is_dir() and not i.filename.lower().endswith(".svg") and _declares_dtd(z, i):
                    return (f"the .docx part {i.filename} declares XML entities (<!DOCTYPE>), which Word "
                            "never writes: refused")
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as e:
            return f"not a readable .docx (damaged zip): {e}"
    return None


def read_docx(path: Path) -> Document:
    """A Word document: paragraphs and tables in order, list numbering restored as text,
    text boxes read; headers and footers go to ``page_meta`` (页眉/页脚), not the letter."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    doc = Document(path=str(path), format="docx")
    problem = _docx_problem(path)
    if problem:
        doc.status, doc.reason = "error", problem
        return doc
    try:
        d = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        doc.status, doc.reason = "error", f"not a readable .docx (damaged or not a Word 2007+ file): {e}"
        return doc
    part = d.part
    num_root = None
    try:
        num_root = part.numbering_part.element
    except (NotImplementedError, KeyError, AttributeError):
        pass
    styles_root = None
    try:
        styles_root = part.styles.element
    except (NotImplementedError, KeyError, AttributeError):
        pass
    numbering = _Numbering(num_root, styles_root)
    lines = _block_lines(d.element.body, numbering)
    doc.pages = ["\n".join(lines)]
    doc.encoding = "utf-8"
    header, footer = [], []
    for sec in d.sections:
        for hf, bucket in ((sec.header, header), (sec.first_page_header, header), (sec.footer, footer),
                           (sec.first_page_footer, footer)):
            try:
                if hf.is_linked_to_previous and sec is not d.sections[0]:
                    continue
                for ln in _block_lines(hf._element, _Numbering(None)):
                    ln = ln.strip()
                    if ln and ln not in bucket:
                        bucket.append(ln)
            except Exception:  # a strange header must not lose the letter
                continue
    if header:
        doc.page_meta["页眉"] = " / ".join(header)
    if footer:
        doc.page_meta["页脚"] = " / ".join(footer)
    if not "".join(lines).strip():
        doc.status, doc.reason = "error", "no text in the Word document (only images?)"
    return doc


SOFFICE_TIMEOUT = 180


def find_soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        p = shutil.which(name)
        if p:
            return p
    for p in ("/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice", "/opt/libreoffice/program/soffice",
              "/Applications/LibreOffice.app/Contents/MacOS/soffice"):
        if Path(p).is_file():
            return p
    return None


def read_legacy_word(path: Path) -> Document:
    """.doc / .wps: converted to .docx by LibreOffice (headless), then read as .docx."""
    fmt = path.suffix.lower().lstrip(".")
    soffice = find_soffice()
    if soffice is None:
        return Document(path=str(path), format=fmt, status="error",
                        reason=f"a legacy .{fmt} file needs LibreOffice to convert it: install it "
                               "(apt-get install libreoffice-writer) or save the file as .docx")
    with tempfile.TemporaryDirectory(prefix="replyparse-") as tmp:
        src = Path(tmp) / ("in" + path.suffix.lower())
        shutil.copyfile(path, src)  # a copy with a plain name: soffice dislikes odd file names
        env = dict(os.environ, HOME=tmp)  # its own profile, so parallel conversions do not collide
        try:
            proc = subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp}/profile",
                                   "--convert-to", "docx", "--outdir", tmp, str(src)],
                                  capture_output=True, text=True, timeout=SOFFICE_TIMEOUT, env=env)
        except subprocess.TimeoutExpired:
            return Document(path=str(path), format=fmt, status="error",
                            reason=f"LibreOffice did not convert the .{fmt} file within {SOFFICE_TIMEOUT} s")
        out = Path(tmp) / "in.docx"
        if not out.is_file():
            return Document(path=str(path), format=fmt, status="error",
                            reason=f"LibreOffice could not convert the .{fmt} file: "
                                   f"{(proc.stderr or proc.stdout).strip()[:200] or 'no output'}")
        doc = read_docx(out)
    doc.path, doc.format = str(path), fmt
    doc.warnings.append(f"converted from .{fmt} by LibreOffice")
    return doc


# ---------------------------------------------------------------- PDF

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
_PAGE_NO = regex.compile(r"^\s*(?:[—\-–－─]{1,2}\s*\d{1,4}\s*[—\-–－─]{1,2}|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
                         r"|\d{1,4}\s*/\s*\d{1,4}|[-–—]\s*\d{1,4}\s*[-–—]|page\s*\d+(?:\s*of\s*\d+)?)\s*$",
                         regex.IGNORECASE)
_BARE_NUMBER = regex.compile(r"^\s*\d{1,4}\s*$")
_SENTENCE_END = regex.compile(r"[。！？!?；;：:…”」』）)》]$")
_MID_SENTENCE = regex.compile(r"[，、（(《“—\-]$")
_POINT_START = regex.compile(r"^(?:[一二三四五六七八九十]{1,3}[、.．]|[（(][一二三四五六七八九十\d]{1,3}[）)]|\d{1,2}[、.．](?!\d)"
                             r"|[①-⑳]|第[一二三四五六七八九十\d]{1,3}[条章节]|附件|抄送|联系人|联系电话|[（(]?此件|主题词"
                             # a web page's metadata labels; a document number alone under a title
                             r"|(?:发布)?(?:时间|日期)\s*[:：]|来\s*源\s*[:：]|发布机构|索\s*引\s*号|文\s*号\s*[:：]|浏览次数|阅读次数"
                             r"|\S{0,12}[〔\[［【(（]\s*\d{4}\s*[〕\]］】)）]\s*\S{0,8}?\d{1,4}\s*号(?:\s*[(（]\S{1,4}[)）])?\s*$)")
_SALUTATION_LINE = regex.compile(r"^[^。，！？]{1,40}(?:代表|委员|同志|先生|女士|老师|领衔人|们|局|委|会|办|室|处|院|厅|部|中心|公司"
                              r"|单位|政府|组)[：:]$")
_TITLE_END = regex.compile(r"(?:答复|复函|的函|回复|办理情况)[)）]?$")
_DATE_ONLY = regex.compile(r"^\s*(?:\d{4}|[〇○零0一二三四五六七八九]{4})\s*年.{1,8}日\s*$")
# Word leaves a gap between CJK and Latin/digits that extraction turns into a space: 45 号, 282.68 万元
_CJK_DIGIT_SPACE = regex.compile(r"(?<=[\p{Han}，。、；：（）《》“”])[ \t]+(?=[0-9A-Za-z.%])|(?<=[0-9A-Za-z%])[ \t]+(?=[\p{Han}，。、；：（）《》“”])")


_CJKISH = regex.compile(r"[\p{Han}，。、；：（）《》“”]")
_LATINISH = regex.compile(r"[0-9A-Za-z.%]")
_DATE_AHEAD = regex.compile(r"\d{4}(?:年|[-./]\d)")
_WORD_START = regex.compile(r"[A-Za-z0-9.,:%/'+\-()\[\]]+")


def _AUTOSPACE_PAIR(a: str, b: str) -> bool:
    return bool(_CJKISH.match(a) and _LATINISH.match(b) or _LATINISH.match(a) and _CJKISH.match(b))


def _visual_order(seg: str, start: int, box, loose_box, fontsize, generated) -> tuple[str, list[int]]:
    """A line's characters left to right, with the text index of each (-1 for a space put back,
    which counts as generated like pdfium's own). pdfium gives characters in drawing order, and
    a producer that draws fallback-font glyphs (curly quotes, ○, ∶) or its spaces after the rest
    of the line leaves them at its end."""
    # Han text from the body font comes in order; what a producer draws late is punctuation,
    # symbols, spaces and the odd fallback glyph, which then sits at the end: probing those, their
    # neighbours and the line's ends saves a box lookup per character
    probe = {0, len(seg) - 1}
    for j, ch in enumerate(seg):
        if not _HAN_RE.match(ch):
            probe.update((j - 1, j, j + 1))
    probe = [j for j in sorted(probe) if 0 <= j < len(seg) and not (seg[j].isspace() and generated(start + j))]
    xs = [box(start + j)[0] for j in probe]
    if all(b >= a - 1.0 for a, b in zip(xs, xs[1:])):
        return seg, [start + j for j in range(len(seg))]
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


def _pdf_page_lines(page, textpage, pno: int, H: float) -> tuple[list[PdfLine], int, int]:
    """Lines of one page with their geometry; fake-bold doubles removed. Returns lines,
    garbage character count and text character count."""
    import pypdfium2.raw as pr

    n = textpage.count_chars()
    if n <= 0:
        return [], 0, 0
    text = textpage.get_text_range(0, n)
    # pdfium counts UTF-16 units; a character outside the BMP takes two indices
    units, u = [], 0
    for ch in text:
        units.append(u)
        u += 2 if ord(ch) > 0xFFFF else 1
    aligned = u == n
    raw = textpage.raw
    lines: list[PdfLine] = []
    garbage = len(_GARBAGE_CHARS.findall(text))
    try:
        garbage += sum(1 for i in range(0, n, max(1, n // 60)) if pr.FPDFText_HasUnicodeMapError(raw, i) == 1)
    except (AttributeError, OSError):
        pass
    visible = sum(1 for ch in text if not ch.isspace())

    def box(i):
        return textpage.get_charbox(units[i])

    def loose_box(i):
        return textpage.get_charbox(units[i], loose=True)

    def generated(i):
        return pr.FPDFText_IsGenerated(raw, units[i]) == 1

    def fontsize(i):
        return pr.FPDFText_GetFontSize(raw, units[i])

    pos = 0
    for seg in regex.split(r"(\r\n|\r|\n)", text):
        start = pos
        pos += len(seg)
        if seg in ("\r\n", "\r", "\n") or not seg.strip():
            continue
        if not aligned:
            lines.append(PdfLine(seg.strip(), 0.0, 0.0, 0.0, 0.0, 0.0, pno))
            continue
        seg, where = _visual_order(seg, start, box, loose_box, fontsize, generated)
        chars = list(seg)
        # fake bold: the same character drawn again a fraction of its width to the right
        keep = [True] * len(chars)
        prev_i = None
        for j, ch in enumerate(chars):
            if ch.isspace():
                # Word's gap between CJK and Latin/digits comes out as a generated space: 45 号
                # (kept before a date: 某某局 2019年7月18日 is two things side by side)
                if 0 < j < len(chars) - 1 and _AUTOSPACE_PAIR(chars[j - 1], chars[j + 1]) \
                        and (where[j] < 0 or generated(where[j])) and not _DATE_AHEAD.match(seg, j + 1):
                    keep[j] = False
                continue
            if prev_i is not None and chars[prev_i] == ch:
                a, b = box(where[prev_i]), box(where[j])
                wid = max(a[2] - a[0], 1.0)
                if abs(a[0] - b[0]) < wid * 0.5 and abs(a[1] - b[1]) < wid * 0.5:
                    keep[j] = False
                    continue
            prev_i = j
        s = "".join(c for c, k in zip(chars, keep) if k)
        idx = [where[j] for j, (c, k) in enumerate(zip(chars, keep)) if k and not c.isspace()]
        if not idx:
            continue
        b0, b1 = box(idx[0]), box(idx[-1])
        size = fontsize(idx[0]) or (b0[3] - b0[1])
        s = s.strip()
        half = len(s) // 2
        if len(s) % 2 == 0 and half >= 2 and s[:half] == s[half:]:
            # a whole line drawn twice (another fake-bold style)
            mid = box(idx[half]) if half < len(idx) else b1
            if abs(mid[0] - b0[0]) < 2 * max(b0[2] - b0[0], 1.0):
                s = s[:half]
                b1 = box(idx[half - 1])
        lines.append(PdfLine(s, b0[0], max(b1[2], b0[2]), max(b0[3], b1[3]), min(b0[1], b1[1]), float(size), pno))
    return lines, garbage, visible


def _percentile(vals: list[float], q: float) -> float:
    vals = sorted(vals)
    return vals[min(len(vals) - 1, max(0, int(round(q * (len(vals) - 1)))))] if vals else 0.0


def page_furniture(pages: list[list[PdfLine]], heights: list[float]) -> tuple[list[list[PdfLine]], list[str], list[str]]:
    """Split running headers, footers and page numbers off the body lines."""
    def key(t):
        return regex.sub(r"\d+", "#", regex.sub(r"\s+", "", t))

    # a running header repeats at the top of pages, a footer at the bottom; the letterhead on
    # top of page 1 and the same name signing at the bottom of the last page are neither
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
            if _PAGE_NO.match(ln.text) and (is_edge or in_top or in_bottom) or _BARE_NUMBER.match(ln.text) and (in_top or in_bottom):
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


def join_pdf_lines(pages: list[list[PdfLine]]) -> list[list[str]]:
    """Rebuild paragraphs from wrapped lines: a full-width line that does not end a sentence
    continues on the next line unless that one starts a new paragraph (indent, numbered point,
    salutation, date); a wide vertical gap is a blank line."""
    all_lines = [ln for lines in pages for ln in lines if ln.size]
    out: list[list[str]] = [[] for _ in pages]
    if not all_lines:
        for i, lines in enumerate(pages):
            out[i] = [ln.text for ln in lines]
        return out
    w = statistics.median(ln.size for ln in all_lines) or 12.0
    left = _percentile([ln.x0 for ln in all_lines], 0.1)
    wide = [ln.x1 for ln in all_lines if len(ln.text) >= 8]
    right = _percentile(wide, 0.8) if wide else max(ln.x1 for ln in all_lines)
    def is_indented(ln: PdfLine) -> bool:
        return left + 1.5 * w <= ln.x0 <= left + 2.6 * w

    centre = (left + right) / 2
    pitches = []
    for lines in pages:
        for a, b in zip(lines, lines[1:]):
            d = a.bottom - b.bottom
            if 0 < d < 4 * w:
                pitches.append(d)
    pitch = _percentile(pitches, 0.2) if pitches else 1.5 * w  # body line pitch, not the blank-line gaps

    def full(ln: PdfLine) -> bool:
        # a line that stops short of the margin without ending a sentence was still wrapped: line
        # breaking rules (no “ at a line end, no break inside 2021-2022) leave a gap of a few characters
        # (only a line at the margin or the paragraph indent: a centred title is as wide as it is)
        ragged = not _SENTENCE_END.search(ln.text) and (ln.x0 < left + 0.5 * w or is_indented(ln))
        return ln.x1 >= right - (3.2 if ragged else 1.6) * ln.size and ln.x0 <= left + 3 * ln.size

    indented = sum(1 for ln in all_lines if is_indented(ln))
    # where paragraphs are indented, a full line ending in 。 still runs on when the next line is
    # flush left; a letter of one long paragraph has a single indented line, so also count the
    # certain paragraph starts (the first line, a line after a short one that ends a sentence)
    starts = [b for lines in pages for a, b in zip(lines, lines[1:])
              if a.size and b.size and len(b.text) >= 4 and _SENTENCE_END.search(a.text) and not full(a)
              and b.x0 < left + 2.6 * w]
    if all_lines[0].x0 < left + 2.6 * w:
        starts.append(all_lines[0])
    indented_starts = sum(1 for ln in starts if is_indented(ln))
    uses_indent = indented >= 2 or indented_starts > len(starts) - indented_starts

    def centred(ln: PdfLine) -> bool:
        return abs((ln.x0 + ln.x1) / 2 - centre) < w and ln.x0 > left + 1.2 * w and ln.x1 < right - 1.2 * w

    def pushed(cur: PdfLine, nxt: PdfLine) -> bool:
        # a number or Latin word that did not fit went to the next line whole: 资金 / 1,234,500元
        m = _WORD_START.match(nxt.text)
        return bool(m) and cur.x1 + (len(m.group(0)) * 0.6 + 0.3) * cur.size >= right - 0.3 * cur.size

    def continues(cur: PdfLine, nxt: PdfLine) -> bool:
        if not cur.size or not nxt.size or not (full(cur) or pushed(cur, nxt)):
            return False
        t = nxt.text
        if _POINT_START.match(t) or _DATE_ONLY.match(t):
            return False
        # an addressee line; one listing names (张三、李四代表：) may also be a wrapped list, so
        # only after a title
        if _SALUTATION_LINE.match(t) and not _MID_SENTENCE.search(cur.text) \
                and ("、" not in t or _TITLE_END.search(cur.text)):
            return False
        if abs(cur.size - nxt.size) > 0.5:
            return False  # a title and the text below it
        if centred(nxt) and abs((cur.x0 + cur.x1) / 2 - centre) < w:
            return not _SENTENCE_END.search(cur.text)  # a centred title wrapped over two lines
        if nxt.x0 > left + 1.2 * w:
            return False  # indented: a new paragraph
        if _MID_SENTENCE.search(cur.text):
            return True
        if uses_indent:
            return True
        return not _SENTENCE_END.search(cur.text)

    def glue(a: str, b: str) -> str:
        return a + (" " if regex.search(r"[A-Za-z]$", a) and regex.match(r"[A-Za-z]", b) else "") + b

    lowest = min(ln.bottom for ln in all_lines)  # the last line of a full page
    firsts = [lines[0].bottom for lines in pages if lines and lines[0].size]
    highest = max(firsts) if firsts else 0.0  # the first line of a page
    prev: PdfLine | None = None
    last_page = -1  # the page of the last line written out
    for pi, lines in enumerate(pages):
        if not lines:
            prev = None  # an unreadable page breaks any paragraph
        for ln in lines:
            same = prev is not None and prev.page == ln.page
            gap = prev.bottom - ln.bottom if same else 0.0
            if prev is not None and not same and prev.size and ln.size and (
                    prev.bottom - lowest > 1.5 * pitch or highest - ln.bottom > 0.8 * pitch):
                out[pi].append("")  # the page ended early or the next starts low: a blank line between
                out[pi].append(ln.text)
                last_page, prev = pi, ln
                continue
            if prev is not None and continues(prev, ln) and (not same or gap < 1.8 * pitch):
                # a wrapped line: glue it to its paragraph, kept on the page where that began
                out[last_page][-1] = glue(out[last_page][-1], ln.text)
            else:
                if same and ln.size and prev.size and gap > 1.8 * pitch:
                    out[pi].append("")
                out[pi].append(ln.text)
                last_page = pi
            prev = ln
    return out


def read_pdf(path: Path) -> Document:
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
        doc.status = "error"
        if "password" in msg.lower():
            doc.reason = "the PDF is password-protected: it needs a password to open"
        elif truncated:
            doc.reason = f"damaged PDF: the file is truncated (no %%EOF at its end; an unfinished download?): {msg}"
        else:
            doc.reason = f"not a readable PDF (damaged or not a PDF): {msg}"
        return doc
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
            lines, garbage, visible = _pdf_page_lines(page, tp, i + 1, H)
            tp.close()
            page.close()
            if visible == 0:
                empty.append(i + 1)
                lines = []
            elif garbage > max(5, 0.2 * visible):
                bad.append(i + 1)
                lines = []
            pages.append(lines)
            heights.append(H)
        n_pages = len(pages)
    finally:
        pdf.close()
    if n_pages == 0:
        doc.status, doc.reason = "error", "the PDF has no pages"
        return doc
    if len(empty) == n_pages:
        doc.status, doc.reason = "needs_ocr", f"no text layer on any of the {n_pages} pages (a scan): needs OCR"
        doc.pages = [""] * n_pages
        return doc
    if len(empty) + len(bad) == n_pages:
        doc.status = "needs_ocr"
        doc.reason = ("no usable text layer: the fonts have no Unicode map (text extracts as (cid:N) garbage); "
                      "needs OCR")
        doc.pages = [""] * n_pages
        return doc
    if empty:
        doc.warnings.append(f"no text on page{'s' if len(empty) > 1 else ''} {', '.join(map(str, empty))} "
                            "(a scanned or image-only page?): its content is missing")
    if bad:
        doc.warnings.append(f"unreadable text on page{'s' if len(bad) > 1 else ''} {', '.join(map(str, bad))} "
                            "(font without Unicode map, (cid:N) garbage): its content is missing")
    body, headers, footers = page_furniture(pages, heights)
    joined = join_pdf_lines(body)
    doc.pages = ["\n".join(lines) for lines in joined]
    if headers:
        doc.page_meta["页眉"] = " / ".join(headers[:5])
    if footers:
        doc.page_meta["页脚"] = " / ".join(footers[:5])
    return doc


# ---------------------------------------------------------------- web pages

_META_LABELS = {
    "索引号": ("索引号", "索 引 号", "信息索引号"),
    "发布机构": ("发布机构", "发文机构", "发文机关", "发布单位", "发布部门", "信息来源", "来源", "公开责任部门", "文件来源"),
    "发布日期": ("发布日期", "发文日期", "成文日期", "公开日期", "发布时间", "生成日期", "日期"),
    "文号": ("文号", "发文字号", "文件编号", "文　　号"),
    "标题": ("标题", "文件名称", "名称", "信息名称"),
}
_LABEL_TO_KEY = {}
for _k, _labels in _META_LABELS.items():
    for _lab in _labels:
        _LABEL_TO_KEY[regex.sub(r"\s+", "", _lab)] = _k
_META_TAGS = {
    "articletitle": "标题", "title": "标题", "og:title": "标题", "dc.title": "标题",
    "pubdate": "发布日期", "firstpublishedtime": "发布日期", "publishdate": "发布日期", "dc.date": "发布日期",
    "contentsource": "发布机构", "source": "发布机构", "author": "发布机构", "dc.publisher": "发布机构",
}
_NOISE = regex.compile(r"(?:^|[\s_-])(?:nav|navbar|menu|breadcrumb|crumbs?|position|location|dqwz|footer|foot|"
                       r"copyright|header|head|top|topbar|top-bar|logo|search|share|sharebox|bdshare|print|related|"
                       r"sidebar|side|aside|links?|friendlink|toolbar|banner|pager|comment|ad|ads|xxgk-meta|"
                       r"article-info|info|subtitle|fontsize|zitiao)(?:$|[\s_-])", regex.IGNORECASE)
_CONTENT_HINT = regex.compile(r"^(?:zoom|ucap-content|trs_editor|trs_ueditor|article-?content|art_?con|content_?text|"
                              r"pages_content|xxgk_content|detail-?content|contentText|con_?text|view|main-?text|"
                              r"article_?body|Custom_UnionStyle|cont|wzcon|nr)$", regex.IGNORECASE)
_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article",
          "blockquote", "pre", "ul", "ol", "dl", "dt", "dd", "hr", "center", "form", "header", "footer"}
_HAN_RE = regex.compile(r"\p{Han}")


def _html_decode(data: bytes) -> tuple[str, str]:
    m = regex.search(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", data[:4096], regex.IGNORECASE)
    if m:
        enc = m.group(1).decode("ascii", "ignore").lower()
        if enc in ("gb2312", "gbk", "gb_2312-80"):
            enc = "gb18030"
        try:
            return data.decode(enc), enc
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_bytes(data)


def _node_lines(el) -> list[str]:
    """Visible text of an element, one line per block (paragraph, row, cell, <br>)."""
    buf: list[str] = []

    def ws(s):  # source line breaks inside HTML text are only spaces
        return s.replace("\r", " ").replace("\n", " ").replace("\t", " ")

    def walk(e):
        tag = e.tag.lower() if isinstance(e.tag, str) else ""
        if tag in ("script", "style", "noscript", "template", "select", "option", "button", "input", "textarea"):
            if e.tail:
                buf.append(ws(e.tail))
            return
        if not tag:  # comment or processing instruction
            if e.tail:
                buf.append(ws(e.tail))
            return
        block = tag in _BLOCK or tag in ("td", "th")
        if tag == "br":
            buf.append("\n")
        elif block:
            buf.append("\x1e")
        if e.text:
            buf.append(ws(e.text))
        for c in e:
            walk(c)
        if block and tag != "br":
            buf.append("\x1e")
        if e.tail:
            buf.append(ws(e.tail))

    walk(el)
    text = "".join(buf).replace("\xa0", " ")
    text = regex.sub(r"\n?\x1e[\x1e\s]*?(?=[^\x1e\s]|$)", lambda m: "\n\n" if m.group(0).count("\n") else "\n", text)
    return [regex.sub(r"[ \t\r\f\v]+", " ", ln).strip() for ln in text.split("\n")]


def _page_meta(root) -> dict[str, str]:
    meta: dict[str, str] = {}
    for m in root.iter("meta"):
        name = (m.get("name") or m.get("property") or "").strip().lower()
        content = (m.get("content") or "").strip()
        key = _META_TAGS.get(name)
        if key and content and key not in meta and not (name in ("author",) and len(content) > 40):
            if key == "发布日期":
                d = regex.search(r"\d{4}-\d{1,2}-\d{1,2}", content)
                content = d.group(0) if d else content
            meta[key] = content
    # the metadata table gov sites show: label cell, value cell; or "label：value" in one cell
    table: dict[str, str] = {}
    cells = [c for c in root.iter("td", "th", "li", "span", "p", "div", "dt", "dd", "label", "em", "b", "strong")
             if len(c) == 0 or c.tag in ("td", "th", "li", "dt", "dd")]
    texts = [regex.sub(r"\s+", " ", "".join(c.itertext())).strip() for c in cells]
    for i, t in enumerate(texts):
        if not t or len(t) > 80:
            continue
        m = regex.match(r"^([^：:]{1,8})\s*[：:]\s*(.*)$", t)
        label = regex.sub(r"\s+", "", m.group(1) if m else t.rstrip("：: "))
        key = _LABEL_TO_KEY.get(label)
        if not key or key in table:
            continue
        value = m.group(2).strip() if m and m.group(2).strip() else ""
        if not value and i + 1 < len(texts) and not m or (m and not m.group(2).strip() and i + 1 < len(texts)):
            nxt = texts[i + 1]
            nl = regex.match(r"^([^：:]{1,8})\s*[：:]", nxt)
            if nxt and not (nl and regex.sub(r"\s+", "", nl.group(1)) in _LABEL_TO_KEY) \
                    and regex.sub(r"\s+", "", nxt.rstrip("：: ")) not in _LABEL_TO_KEY:
                value = nxt
        # "来源：XX  发布时间：YYYY" in one line: cut at the next label
        value = regex.split(r"\s+(?:" + "|".join(map(regex.escape, _LABEL_TO_KEY)) + r"|浏览次数|点击数|字体)\s*[：:]",
                            value)[0].strip()
        if value and len(value) <= 60:
            table[key] = value
    for k, v in table.items():
        if k == "发布日期":
            d = regex.search(r"\d{4}\s*[-年/.]\s*\d{1,2}\s*[-月/.]\s*\d{1,2}", v)
            v = regex.sub(r"\s+", "", d.group(0)) if d else v
        meta.setdefault(k, v) if k == "标题" else meta.__setitem__(k, v)
    if "标题" not in meta:
        t = root.find(".//title")
        if t is not None and t.text and t.text.strip():
            meta["标题"] = regex.split(r"\s*[-_|—]\s*(?=[^-_|—]*(?:网|政府|门户|官网))", t.text.strip())[0]
    return {k: v for k, v in meta.items() if v}


def _score(el) -> float:
    text = "".join(el.itertext())
    han = len(_HAN_RE.findall(text))
    link = sum(len(_HAN_RE.findall("".join(a.itertext()))) for a in el.iter("a"))
    return han - 2 * link


def read_html(path: Path) -> Document:
    """A page saved from a government site: the article text without menus, breadcrumbs,
    metadata table and footers; the page's metadata (发布机构, 发布日期, 索引号, 文号, 标题)
    from its meta tags and metadata table in ``page_meta``."""
    import lxml.html

    doc = Document(path=str(path), format="html")
    data = _read_bounded(path, doc, MAX_HTML_BYTES)
    if data is None:
        return doc
    text, enc = _html_decode(data)
    doc.encoding = enc
    try:
        root = lxml.html.document_fromstring(text)
    except Exception as e:  # lxml raises ParserError on empty documents
        doc.status, doc.reason = "error", f"not a readable web page: {e}"
        return doc
    doc.page_meta = _page_meta(root)
    for bad in root.xpath("//script|//style|//noscript|//nav|//header|//footer|//aside|//form|//select|//iframe"):
        bad.drop_tree()
    # the article: a known content container with enough text, else the densest block
    cand = None
    for el in root.iter("div", "td", "article", "section", "span", "font"):
        ident = f"{el.get('id') or ''} {el.get('class') or ''}".strip()
        if any(_CONTENT_HINT.match(tok) for tok in ident.split()) and _score(el) >= 30:
            cand = el
            break
    if cand is None:
        for el in list(root.iter("div", "ul", "table", "td", "p", "span", "section")):
            ident = f"{el.get('id') or ''} {el.get('class') or ''}"
            if _NOISE.search(ident) and el.getparent() is not None and el.tag != "body":
                el.drop_tree()
        best, best_score = None, 0.0
        body = root.find("body")
        for el in (body if body is not None else root).iter("div", "td", "article", "section", "main"):
            # a block's own share: text in its paragraphs and direct text, not in nested blocks' links
            s = _score(el)
            children = [c for c in el if isinstance(c.tag, str) and c.tag in ("div", "td", "table", "section", "article")]
            top_child = max((_score(c) for c in children), default=0.0)
            if top_child > 0.8 * s:
                continue  # a wrapper: its child holds the text
            if s > best_score:
                best, best_score = el, s
        cand = best if best is not None else (body if body is not None else root)
    else:
        for el in list(cand.iter("div", "ul", "table", "p", "span")):
            ident = f"{el.get('id') or ''} {el.get('class') or ''}"
            if el is not cand and _NOISE.search(ident):
                el.drop_tree()
    lines = _node_lines(cand)
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    body_text = "\n".join(out).strip("\n")
    # a blank <p><br></p> and the block breaks around it give two blank lines: one is enough
    body_text = regex.sub(r"\n{3,}", "\n\n", body_text)
    if not body_text.strip():
        doc.status, doc.reason = "error", "no article text found in the web page"
        return doc
    doc.pages = [body_text]
    return doc


READERS = {ext: read_text_file for ext in TEXT_EXTS}
READERS.update({ext: read_docx for ext in DOCX_EXTS})
READERS.update({ext: read_legacy_word for ext in LEGACY_WORD_EXTS})
READERS.update({ext: read_pdf for ext in PDF_EXTS})
READERS.update({ext: read_html for ext in HTML_EXTS})

SNIFF_BYTES = 4096
# what each extension promises; files named so but holding something else are read as what they hold
_PROMISED = {**dict.fromkeys(PDF_EXTS, {"pdf"}), **dict.fromkeys(DOCX_EXTS, {"zip"}),
             **dict.fromkeys(LEGACY_WORD_EXTS, {"ole", "rtf"})}  # LibreOffice converts RTF saved as .doc
_KINDS = {"pdf": "a PDF", "zip": "a zip archive (a Word .docx?)", "ole": "a legacy Word (.doc) file",
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


def _looks_like(head: bytes) -> str:
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


def _pdf_truncated(path: Path) -> bool:
    """No %%EOF in the last 1 KB (where readers look for it): the file was cut short."""
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        f.seek(max(0, size - 1024))
        return b"%%EOF" not in f.read()


def _read_as(path: Path, suffix: str) -> Document:
    """Read a misnamed file through the converter for ``suffix``: LibreOffice goes by the name."""
    with tempfile.TemporaryDirectory(prefix="replyparse-") as tmp:
        copy = Path(tmp) / ("in" + suffix)
        shutil.copyfile(path, copy)
        return read_legacy_word(copy)


_KIND_READERS = {"pdf": read_pdf, "zip": read_docx, "ole": lambda p: _read_as(p, ".doc"),
                 "rtf": lambda p: _read_as(p, ".rtf"), "html": read_html}


def _read_by_content(p: Path, ext: str) -> Document:
    """A .pdf/.docx/.doc read as what its first bytes say it is: a web page saved as .pdf is read
    as HTML with a warning; a file that is nothing we read is an error saying what it looks like."""
    with open(p, "rb") as f:
        head = f.read(SNIFF_BYTES)
    fmt = ext.lstrip(".")
    if not head:
        return Document(path=str(p), format=fmt, status="error", reason="empty file")
    kind = sniff_format(head)
    if kind in _PROMISED[ext]:
        return READERS[ext](p)
    if kind is None:
        looks = _looks_like(head)
        if ext in PDF_EXTS:
            reason = f"not a PDF: the file does not start with %PDF ({looks})"
        elif ext in DOCX_EXTS:
            reason = f"not a Word {ext} file: it is not a zip archive ({looks})"
        else:
            reason = f"not a Word {ext} file: neither a .doc (OLE) nor an RTF file ({looks})"
        return Document(path=str(p), format=fmt, status="error", reason=reason)
    note = f"named {ext} but is {_KINDS[kind]}"
    doc = _KIND_READERS[kind](p)
    doc.path = str(p)
    how = doc.format.upper() if doc.format in ("pdf", "html") else "." + doc.format
    doc.warnings.insert(0, f"{note}: read as {how}")
    if doc.status == "error":
        doc.reason = f"{note}: {doc.reason}"
    return doc


def read_image(path: Path) -> Document:
    """A scanned page as an image file: no text without OCR (``needs_ocr``); a file that is not
    a readable image is an error."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    fmt = path.suffix.lower().lstrip(".")
    try:
        with Image.open(path) as im:
            n = sum(1 for _ in ImageSequence.Iterator(im))
    except (UnidentifiedImageError, OSError, ValueError) as e:
        return Document(path=str(path), format=fmt, status="error", reason=f"not a readable image: {e}")
    return Document(path=str(path), format=fmt, status="needs_ocr", pages=[""] * n,
                    reason=f"an image ({n} page{'s' if n > 1 else ''} of a scan): needs OCR")


READERS.update({ext: read_image for ext in IMAGE_EXTS})

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


def ocr_scan(path: Path, doc: Document, engine: str = "rapidocr") -> Document:
    """A scan (a PDF without a text layer, or an image) read by OCR: RapidOCR by default
    (``ocr.py``), Tesseract with ``engine="tesseract"``. Without the engine installed the
    document stays ``needs_ocr`` and the reason says what to install."""
    if engine == "tesseract":
        return _ocr_scan_tesseract(path, doc)
    from . import ocr as ocr_mod

    problem = ocr_mod.rapidocr_problem()
    if problem:
        doc.reason = (doc.reason or "needs OCR") + f" ({problem})"
        return doc
    pages = ocr_mod.ocr_pages(path)
    texts, furniture = ocr_mod.page_texts(pages)
    if not any(t.strip() for t in texts):
        doc.reason = (doc.reason or "") + "; OCR found no text"
        return doc
    doc.pages, doc.status, doc.reason = texts, "ok", None
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


def _ocr_missing_pages(path: Path, doc: Document) -> Document:
    """A PDF mixing text and scanned pages: the pages without text read by OCR."""
    from . import ocr as ocr_mod

    empty = [i for i, t in enumerate(doc.pages) if not t.strip()]
    if not empty or ocr_mod.rapidocr_problem():
        return doc
    pages = ocr_mod.ocr_pages(path, empty)
    texts, furniture = ocr_mod.page_texts(pages)
    for i, t in zip(empty, texts):
        doc.pages[i] = t
    read = [i + 1 for i, t in zip(empty, texts) if t.strip()]
    if read:
        doc.warnings = [w for w in doc.warnings if not w.startswith(("no text on page", "unreadable text on page"))]
        _ocr_notes(doc, pages, empty, furniture)
    return doc


def _ocr_scan_tesseract(path: Path, doc: Document) -> Document:
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
    doc.status, doc.reason = "ok", None
    doc.ocr, doc.ocr_confidence = True, [None] * len(pages)
    doc.warnings.append(f"text read by OCR (Tesseract {OCR_LANGS}) from {len(pages)} scanned "
                        f"page{'s' if len(pages) > 1 else ''}: characters may be misread")
    return doc


def read_file(path: str | Path, ocr: bool | str = False) -> Document:
    """Read one input file; never raises. With ``ocr`` (True or an engine name: ``rapidocr``,
    ``tesseract``), a scan (a PDF without a text layer, an image) is read by OCR, and so are the
    pages without text of a PDF that mixes text and scanned pages."""
    doc = _read_file(path)
    engine = ocr if isinstance(ocr, str) else "rapidocr"
    try:
        if ocr and doc.status == "needs_ocr":
            doc = ocr_scan(Path(path), doc, engine)
        elif ocr and doc.status == "ok" and doc.format == "pdf" and engine == "rapidocr" and len(doc.pages) > 1:
            doc = _ocr_missing_pages(Path(path), doc)
    except Exception as e:  # OCR trouble leaves the file as it was: needs_ocr, with the reason
        doc.warnings.append(f"OCR failed: {type(e).__name__}: {e}")
    return doc


def _read_file(path: str | Path) -> Document:
    p = Path(path)
    ext = p.suffix.lower()
    reader = READERS.get(ext)
    if reader is None:
        return Document(path=str(p), format=ext.lstrip(".") or "unknown", status="error",
                        reason=f"unsupported file type {p.suffix or '(none)'}")
    try:
        return _read_by_content(p, ext) if ext in _PROMISED else reader(p)
    except PermissionError:
        return Document(path=str(p), format=p.suffix.lower().lstrip("."), status="error",
                        reason="permission denied")
    except OSError as e:
        return Document(path=str(p), format=p.suffix.lower().lstrip("."), status="error",
                        reason=f"cannot read: {e.strerror or e}")
    except Exception as e:  # a damaged file of any format is one error row, never a crash
        return Document(path=str(p), format=p.suffix.lower().lstrip("."), status="error",
                        reason=f"cannot read {p.suffix.lower() or 'file'}: {type(e).__name__}: {e}")
