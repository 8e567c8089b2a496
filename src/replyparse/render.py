"""Render a letter's plain text as the files replyparse meets in the wild: a Word document with
real list numbering, a Word-like PDF (wrapped lines, running header, page numbers, fake-bold
title, spaces between CJK and digits) and a government web page (menus, breadcrumb, metadata
table, footer around the letter). Used by tests and benchmarks to check that every format
gives the same record as the .txt; not part of parsing.

``to_docx`` needs python-docx, ``to_pdf`` needs reportlab and a CJK TrueType font
(fonts-wqy-microhei or Noto CJK), ``to_html`` needs nothing."""
from __future__ import annotations

import html
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import regex

RUNNING_HEADER = "建议提案办理答复"  # drawn on every page; a reader must keep it out of the letter text

# ---------------------------------------------------------------- line roles

_CN_DIGITS = "零一二三四五六七八九"
_SALUTATION = regex.compile(r"^[^。，！？]{1,40}[：:]$")
_DATE_LINE = regex.compile(r"^\s*(?:\d{4}|[〇○零0一二三四五六七八九]{4})\s*年\s*[\d一二三四五六七八九十]{1,3}\s*月"
                           r"\s*[\d一二三四五六七八九十]{1,3}\s*日?\s*$")
_TITLE_WORDS = regex.compile(r"答复|复函|的函|回复|答覆|答復|意见$")


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 11 → 十一, 21 → 二十一 (Word's chineseCounting), up to 99."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def cn_value(s: str) -> int | None:
    for n in range(1, 100):
        if cn_number(n) == s:
            return n
    return None


@dataclass
class Numbered:
    value: int
    num_fmt: str  # decimal / chineseCounting
    lvl_text: str  # e.g. "%1、"
    suff: str  # "nothing" or "space"
    rest: str


_NUMBERED = [
    (regex.compile(r"^([一二三四五六七八九十]{1,3})(、)(\s*)"), "chineseCounting", "%1{}"),
    (regex.compile(r"^([（(])([一二三四五六七八九十]{1,3})([）)])(\s*)"), "chineseCounting", "{}%1{}"),
    (regex.compile(r"^(\d{1,2})([、.．])(?!\d)(\s*)"), "decimal", "%1{}"),
    (regex.compile(r"^([（(])(\d{1,2})([）)])(\s*)"), "decimal", "{}%1{}"),
]


def numbered(line: str) -> Numbered | None:
    for pat, fmt, tmpl in _NUMBERED:
        m = pat.match(line)
        if not m:
            continue
        g = m.groups()
        if len(g) == 3:
            raw, lvl, space = g[0], tmpl.format(g[1]), g[2]
        else:
            raw, lvl, space = g[1], tmpl.format(g[0], g[2]), g[3]
        value = int(raw) if fmt == "decimal" else cn_value(raw)
        if not value or (fmt == "decimal" and str(value) != raw):
            return None
        rest = line[m.end():]
        if not rest.strip() or len(space) > 1:
            return None
        return Numbered(value, fmt, lvl, "space" if space == " " else "nothing", rest)
    return None


def line_roles(text: str) -> list[tuple[str, str]]:
    """(role, line) for each line: blank, title, salutation, signature, body."""
    lines = [ln.strip().replace("\u3000", " ").strip() for ln in text.replace("\r\n", "\n").split("\n")]
    roles = ["blank" if not ln else "body" for ln in lines]
    first_sal = next((i for i, ln in enumerate(lines) if _SALUTATION.match(ln)), None)
    head_end = first_sal if first_sal is not None and first_sal < 15 else min(6, len(lines))
    for i in range(head_end):
        ln = lines[i]
        if ln and len(ln) <= 60 and _TITLE_WORDS.search(ln) and not regex.search(r"[。；]", ln):
            roles[i] = "title"
            # a short organisation name right above the title is letterhead, centred too
            if i > 0 and roles[i - 1] == "body" and len(lines[i - 1]) <= 20 and not regex.search(r"[\d：:。，]", lines[i - 1]):
                roles[i - 1] = "title"
    if first_sal is not None and first_sal < 15:
        roles[first_sal] = "salutation"
    # closing block: the date line and a short organisation line just above it
    for i in range(len(lines) - 1, max(-1, len(lines) - 8), -1):
        if _DATE_LINE.match(lines[i]):
            roles[i] = "signature"
            j = i - 1
            while j >= 0 and roles[j] == "blank":
                j -= 1
            if j >= 0 and len(lines[j]) <= 25 and not regex.search(r"[。，：:！]", lines[j]):
                roles[j] = "signature"
            break
    return list(zip(roles, lines))


# ---------------------------------------------------------------- docx

def _w(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(tag)


def to_docx(text: str, path: str | Path) -> Path:
    """A Word document: one paragraph per line; numbered points use Word list numbering
    (numbering.xml), so the number is not in the run text."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.shared import Pt

    d = docx.Document()
    numbering = d.part.numbering_part.element
    abstract_ids: dict[tuple, int] = {}
    last_num: dict[tuple, tuple[int, int]] = {}  # style key -> (numId, next value)
    next_num_id = [100]

    def abstract_for(key) -> int:
        if key in abstract_ids:
            return abstract_ids[key]
        aid = 100 + len(abstract_ids)
        fmt, lvl_text, suff = key
        a = OxmlElement("w:abstractNum")
        a.set(_w("w:abstractNumId"), str(aid))
        lvl = OxmlElement("w:lvl")
        lvl.set(_w("w:ilvl"), "0")
        for tag, val in (("w:start", "1"), ("w:numFmt", fmt), ("w:suff", suff), ("w:lvlText", lvl_text),
                         ("w:lvlJc", "left")):
            e = OxmlElement(tag)
            e.set(_w("w:val"), val)
            lvl.append(e)
        a.append(lvl)
        first_num = numbering.find(_w("w:num"))
        if first_num is not None:
            first_num.addprevious(a)
        else:
            numbering.append(a)
        abstract_ids[key] = aid
        return aid

    def num_for(n: Numbered) -> int:
        key = (n.num_fmt, n.lvl_text, n.suff)
        aid = abstract_for(key)
        prev = last_num.get(key)
        if prev and prev[1] == n.value:
            num_id = prev[0]
        else:
            num_id = next_num_id[0]
            next_num_id[0] += 1
            num = OxmlElement("w:num")
            num.set(_w("w:numId"), str(num_id))
            an = OxmlElement("w:abstractNumId")
            an.set(_w("w:val"), str(aid))
            num.append(an)
            if n.value != 1:
                # a list that starts elsewhere (a letter cut off mid-list); a redundant override
                # makes LibreOffice's .doc export restart the list at every item
                ov = OxmlElement("w:lvlOverride")
                ov.set(_w("w:ilvl"), "0")
                so = OxmlElement("w:startOverride")
                so.set(_w("w:val"), str(n.value))
                ov.append(so)
                num.append(ov)
            numbering.append(num)
        last_num[key] = (num_id, n.value + 1)
        return num_id

    style = d.styles["Normal"]
    style.font.size = Pt(14)
    for role, line in line_roles(text):
        p = d.add_paragraph()
        if role == "blank":
            continue
        n = numbered(line) if role == "body" else None
        content = n.rest if n else line
        run = p.add_run(content)
        if role == "title":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run.bold = True
        elif role == "signature":
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif role == "body":
            p.paragraph_format.first_line_indent = Pt(28)
        if n:
            ppr = p._p.get_or_add_pPr()
            numpr = OxmlElement("w:numPr")
            ilvl = OxmlElement("w:ilvl")
            ilvl.set(_w("w:val"), "0")
            nid = OxmlElement("w:numId")
            nid.set(_w("w:val"), str(num_for(n)))
            numpr.append(ilvl)
            numpr.append(nid)
            ppr.insert(0, numpr) if ppr.find(_w("w:pStyle")) is None else ppr.find(_w("w:pStyle")).addnext(numpr)
    sec = d.sections[0]
    sec.header.paragraphs[0].text = RUNNING_HEADER
    sec.footer.paragraphs[0].text = "— 1 —"
    path = Path(path)
    d.save(path)
    return path


# ---------------------------------------------------------------- pdf

FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/simhei.ttf",
]


def find_cjk_font() -> str | None:
    """A CJK TrueType font file: known paths first, then fontconfig."""
    env = os.environ.get("REPLYPARSE_CJK_FONT")
    if env and Path(env).is_file():
        return env
    for p in FONT_CANDIDATES:
        if Path(p).is_file():
            return p
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        f = line.split(":")[0].strip()
        if f.lower().endswith((".ttf", ".ttc")) and "wqy" in f.lower() or "cjk" in f.lower() and f.endswith(".ttc"):
            return f
    return None


_FONT_NAME = "ReplyparseCJK"
_NO_LINE_START = set("，。、；：？！）」》”’…%,.;:?!)]】〕")
_HAN = regex.compile(r"\p{Han}")
_TOKENS = regex.compile(r"[A-Za-z0-9.,:%/'+\-()]+|\s+|.", regex.DOTALL)
_ALNUM = regex.compile(r"[0-9A-Za-z]")


def _register_font():
    """The primary CJK font's reportlab name (registered once)."""
    from reportlab.pdfbase import pdfmetrics

    if _FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return _FONT_NAME
    path = find_cjk_font()
    if not path:
        raise RuntimeError("no CJK font found: install fonts-wqy-microhei (apt) or set REPLYPARSE_CJK_FONT")
    _register(_FONT_NAME, path)
    return _FONT_NAME


def _utf16_to_unicode_cmap(make):
    """reportlab (5.x) writes a ToUnicode target above U+FFFF as five hex digits, which readers
    truncate (𫖯 U+2B5AF comes back as ⭚ U+2B5A); PDF wants UTF-16BE, i.e. a surrogate pair."""
    def fixed(fontname, subset):
        return regex.sub(r"(?<=> )<([0-9A-F]{5,6})>",
                         lambda m: "<" + chr(int(m[1], 16)).encode("utf-16-be").hex().upper() + ">",
                         make(fontname, subset))
    fixed.replyparse = True
    return fixed


def _register(name: str, path: str):
    from reportlab.pdfbase import pdfmetrics, ttfonts
    from reportlab.pdfbase.ttfonts import TTFont

    if not getattr(ttfonts.makeToUnicodeCMap, "replyparse", False):
        ttfonts.makeToUnicodeCMap = _utf16_to_unicode_cmap(ttfonts.makeToUnicodeCMap)

    kw = {"subfontIndex": 0} if path.lower().endswith(".ttc") else {}
    font = TTFont(name, path, **kw)
    pdfmetrics.registerFont(font)
    _CHAIN.append((name, font.face))


def _drawable(face, ch: str) -> bool:
    gid = face.charToGlyph.get(ord(ch))
    # wqy-microhei maps pinyin tone letters (ǎ ǒ ǔ) to empty glyphs; pdfium drops such characters
    # on extraction, so an empty outline counts as missing
    return gid is not None and face.glyphPos[gid + 1] > face.glyphPos[gid]


def _fontconfig_files(ch: str) -> list[str]:
    """TrueType files fontconfig says cover ``ch`` (reportlab cannot embed CFF .otf fonts)."""
    try:
        out = subprocess.run(["fc-list", f":charset={ord(ch):x}", "file"], capture_output=True, text=True,
                             timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = sorted({ln.split(":")[0].strip() for ln in out.splitlines()})
    return [f for f in files if f.lower().endswith((".ttf", ".ttc"))]


def font_for(ch: str) -> str | None:
    """The first font of the chain that draws ``ch``: the CJK font, then any TrueType font that
    fontconfig finds for it (DejaVu for tone-marked pinyin, HanaMin for rare extension-B+ Han).
    None when no installed font can draw it."""
    if ch in _FONT_OF:
        return _FONT_OF[ch]
    primary = _register_font()
    if ch.isspace() or ord(ch) < 32:
        _FONT_OF[ch] = primary
        return primary
    found = next((name for name, face in _CHAIN if _drawable(face, ch)), None)
    if found is None:
        known = {path for path, _ in _FALLBACK_FILES}
        for path in _fontconfig_files(ch):
            if path in known:
                continue
            name = f"ReplyparseFallback{len(_FALLBACK_FILES)}"
            _FALLBACK_FILES.append((path, name))
            try:
                _register(name, path)
            except Exception:  # a font reportlab cannot read is simply not a candidate
                continue
            if _drawable(_CHAIN[-1][1], ch):
                found = name
                break
    _FONT_OF[ch] = found
    return found


_CHAIN: list[tuple[str, object]] = []  # (reportlab font name, face), the CJK font first
_FALLBACK_FILES: list[tuple[str, str]] = []
_FONT_OF: dict[str, str | None] = {}


def missing_glyphs(text: str) -> set[str]:
    """Characters of ``text`` no installed font can draw (they would vanish from the PDF)."""
    return {ch for ch in set(text) if font_for(ch) is None}


def to_pdf(text: str, path: str | Path, autospace: bool = True, fake_bold: bool = True) -> Path:
    """A Word-like A4 PDF: body paragraphs indented two characters and wrapped at the page
    width, title centred in fake bold (drawn twice), signature right-aligned, a running header
    and ``— N —`` page numbers; with ``autospace`` a gap between CJK and digits as Word leaves."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    font = _register_font()
    W, H = A4
    left, right, top, bottom = 79.0, 79.0, 100.0, 90.0
    fs, title_fs = 14.0, 18.0
    width = W - left - right
    path = Path(path)
    c = canvas.Canvas(str(path), pagesize=A4, pageCompression=0)
    c.setTitle("letter")
    page = [1]
    y = [H - top]
    widths: dict[tuple[str, float], float] = {}

    def cw(ch, size):
        k = (ch, size)
        if k not in widths:
            widths[k] = stringWidth(ch, font_for(ch) or font, size)
        return widths[k]

    def gap(a, b, size):
        if autospace and a and b and (_HAN.match(a) and _ALNUM.match(b) or _ALNUM.match(a) and _HAN.match(b)):
            return size * 0.25
        return 0.0

    def furniture():
        c.setFont(font, 10.5)
        c.drawCentredString(W / 2, H - 50, RUNNING_HEADER)
        c.drawCentredString(W / 2, 45, f"— {page[0]} —")

    def new_page():
        c.showPage()
        page[0] += 1
        y[0] = H - top
        furniture()

    def wrap(s, size, first_indent):
        lines, cur, cur_w, limit = [], "", 0.0, width - first_indent
        # break between characters, as Word does for CJK, but not inside a Latin word or a
        # number, not before closing punctuation, and never at a space (it hangs in the margin)
        for tok in _TOKENS.findall(s):
            w = sum(cw(ch, size) for ch in tok) + gap(cur[-1:] if cur else "", tok[0], size) + \
                sum(gap(a, b, size) for a, b in zip(tok, tok[1:]))
            if cur and cur_w + w > limit and tok[0] not in _NO_LINE_START and not tok.isspace() \
                    and w <= width:
                lines.append(cur.rstrip())
                cur, cur_w, limit = tok, w, width
            else:
                cur += tok
                cur_w += w
        lines.append(cur.rstrip())
        return lines

    def draw(s, x, size, bold=False):
        prev = ""
        for ch in s:
            x += gap(prev, ch, size)
            c.setFont(font_for(ch) or font, size)
            c.drawString(x, y[0], ch)
            if bold:
                c.drawString(x + 0.4, y[0], ch)
            x += cw(ch, size)
            prev = ch

    def line_width(s, size):
        return sum(cw(ch, size) for ch in s) + sum(gap(a, b, size) for a, b in zip(s, s[1:]))

    furniture()
    for role, line in line_roles(text):
        size = title_fs if role == "title" else fs
        lead = size * 1.6
        if role == "blank":
            y[0] -= fs * 1.6
            if y[0] - fs * 1.6 < bottom:
                new_page()
                y[0] -= fs * 1.6  # the gap is kept at the top of the next page
            continue
        indent = 2 * fs if role == "body" else 0.0
        for k, seg in enumerate(wrap(line, size, indent)):
            y[0] -= lead
            if y[0] < bottom:
                new_page()
                y[0] -= lead
            lw = line_width(seg, size)
            if role == "title":
                x = left + (width - lw) / 2
            elif role == "signature":
                x = left + width - lw
            else:
                x = left + (indent if k == 0 else 0.0)
            draw(seg, x, size, bold=fake_bold and role == "title")
    c.showPage()
    c.save()
    return path


# ---------------------------------------------------------------- html

_HTML = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{title} - 某市人民政府门户网站</title>
<meta name="SiteName" content="某市人民政府门户网站">
<meta name="ColumnName" content="建议提案办理">
{metatags}
<style>.nav li{{display:inline}}</style>
<script>var _hmt = _hmt || []; function search(){{ return false; }}</script>
</head><body>
<div class="header"><div class="top-bar">无障碍浏览 | 长者模式 | 登录 | 注册</div>
<div class="logo">某市人民政府门户网站</div>
<ul class="nav" id="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li>
<li><a href="/zwfw/">政务服务</a></li><li><a href="/hdjl/">互动交流</a></li><li><a href="/zjsz/">走进本市</a></li></ul>
<form class="search"><input name="q" placeholder="请输入关键字"><button>搜索</button></form></div>
<div class="main">
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; <a href="/zwgk/jytabl/">建议提案办理</a></div>
<table class="xxgk-meta">
<tr><td>索引号：</td><td>{index}</td><td>主题分类：</td><td>综合政务</td></tr>
<tr><td>发布机构：</td><td>{issuer}</td><td>发布日期：</td><td>{date}</td></tr>
<tr><td>标题：</td><td colspan="3">{title}</td></tr>
<tr><td>文号：</td><td>{doc_number}</td><td>有效性：</td><td>有效</td></tr>
</table>
<div class="article">
<h1 class="article-title">{title}</h1>
<div class="article-info">来源：{issuer}　　发布时间：{date}　　浏览次数：1024　【字体：大 中 小】</div>
<div class="TRS_Editor" id="zoom">
{paragraphs}
</div>
<div class="share">分享到：微信 微博 QQ空间</div>
<div class="print"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
</div>
<div class="related"><h3>相关链接</h3><ul><li><a href="/a/1.html">关于做好建议提案办理工作的通知</a></li>
<li><a href="/a/2.html">2023年建议提案办理工作情况</a></li></ul></div>
</div>
<div class="footer"><p>主办单位：某市人民政府办公室　承办单位：某市大数据中心</p>
<p>网站标识码：1234000001　备案号：某ICP备12345678号　公安机关备案号：12345678901234</p>
<p>联系电话：0000-12345678　建议使用1920*1080分辨率浏览</p></div>
</body></html>
"""


def to_html(text: str, path: str | Path, meta: dict | None = None) -> Path:
    """A government-site page around the letter: nav menu, breadcrumb, metadata table (from
    ``meta``: issuer, date, doc_number, title, index — empty cells when not given), share
    links and a site footer. Each line of the letter is one ``<p>``; a blank line an empty one."""
    meta = {k: (v or "") for k, v in (meta or {}).items()}
    e = {k: html.escape(str(meta.get(k, ""))) for k in ("issuer", "date", "doc_number", "title", "index")}
    paras = []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.strip()
        paras.append(f"<p>{html.escape(line)}</p>" if line else "<p><br></p>")
    tags = []
    if meta.get("title"):
        tags.append(f'<meta name="ArticleTitle" content="{e["title"]}">')
    if meta.get("date"):
        tags.append(f'<meta name="PubDate" content="{e["date"]} 09:30">')
    if meta.get("issuer"):
        tags.append(f'<meta name="ContentSource" content="{e["issuer"]}">')
    page = _HTML.format(paragraphs="\n".join(paras), metatags="\n".join(tags), **e)
    path = Path(path)
    path.write_text(page, "utf-8")
    return path
