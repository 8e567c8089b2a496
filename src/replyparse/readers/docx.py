"""Word 2007+ files (.docx, .docm): paragraphs and tables in order, list numbering restored as text."""
from __future__ import annotations

import codecs
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import regex

from .document import Document
from .opc import CT_STYLES, LATER, R_NS, RT_NUMBERING, RT_STYLES, Package, open_main, parse_xml, related_part
from ..status import Reason


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
            return False  # an image or other binary part: never parsed as XML
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
    """Why a .docx must not be read, or None. Checked on the zip directory and raw
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


# w:sectPr children naming the header and footer parts, as python-docx read them (its
# .header, .first_page_header, .footer, .first_page_footer; the even-page ones were never read)
_HDR_FTR = (("headerReference", "default", "header"), ("headerReference", "first", "header"),
            ("footerReference", "default", "footer"), ("footerReference", "first", "footer"))


def _needs_styles(root, num_root) -> bool:
    """Whether list numbers can depend on the styles: a paragraph names a style (which may carry
    a w:numPr), or a list is defined through a numbering style (w:numStyleLink). Otherwise
    ``_Numbering`` gives the same labels without them."""
    if next(root.iter(_wq("pStyle")), None) is not None:
        return True
    return num_root is not None and next(num_root.iter(_wq("numStyleLink")), None) is not None


_BAD = "not a readable .docx (damaged or not a Word 2007+ file): "


def read_docx(path: Path, rules=None) -> Document:
    """A Word document: paragraphs and tables in order, list numbering restored as text,
    text boxes read; each section's own headers and footers go to ``page_meta`` (页眉/页脚), not
    the letter. The zip is checked first (``_docx_problem``: bombs, DTDs), then read part by part
    (``opc.py``)."""
    doc = Document(path=str(path), format="docx")
    problem = _docx_problem(path)
    if problem:
        return doc.fail(Reason.DAMAGED, problem)
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        doc.fail(Reason.DAMAGED, _BAD + str(e))
        return doc
    with z:
        try:
            pkg = Package(z)
            root, rels, parts = open_main(path, pkg)
        except (zipfile.BadZipFile, KeyError, ValueError) as e:
            doc.fail(Reason.DAMAGED, _BAD + str(e))
            return doc
        _, (_, num_root) = related_part(rels, parts, RT_NUMBERING)
        styles_name, (styles_ct, styles_root) = related_part(rels, parts, RT_STYLES)
        if styles_ct != CT_STYLES:
            styles_root = None  # python-docx read styles only from a styles part
        elif not _needs_styles(root, num_root):
            styles_root = None
        else:
            try:
                styles_root = parse_xml(pkg.read(styles_name))
            except (zipfile.BadZipFile, KeyError, ValueError) as e:
                doc.fail(Reason.DAMAGED, _BAD + str(e))
                return doc
    numbering = _Numbering(num_root, styles_root)
    lines = _block_lines(root.find(_wq("body")), numbering)
    doc.pages = ["\n".join(lines)]
    doc.encoding = "utf-8"
    header: list[str] = []
    footer: list[str] = []
    buckets = {"header": header, "footer": footer}
    for sect in root.xpath("./w:body/w:p/w:pPr/w:sectPr | ./w:body/w:sectPr", namespaces={"w": _W_NS}):
        for tag, kind, bucket in _HDR_FTR:
            try:
                ref = next((e for e in sect.iterchildren(_wq(tag)) if e.get(_wq("type")) == kind), None)
                if ref is None:
                    continue  # linked to the previous section's: already read there
                r = rels[ref.attrib[f"{{{R_NS}}}id"]]
                if r.external:
                    continue
                _ct, hf_root = parts[r.target]
                if hf_root is None or hf_root is LATER:
                    continue
                for ln in _block_lines(hf_root, _Numbering(None)):
                    ln = ln.strip()
                    if ln and ln not in buckets[bucket]:
                        buckets[bucket].append(ln)
            except Exception:  # a strange header must not lose the letter
                continue
    if header:
        doc.page_meta["页眉"] = " / ".join(header)
    if footer:
        doc.page_meta["页脚"] = " / ".join(footer)
    if not "".join(lines).strip():
        doc.fail(Reason.NO_TEXT, "no text in the Word document (only images?)")
    return doc
