"""Web pages: the letter's block found among navigation and footers, the page's metadata table
(文号, 发布机构, 成文日期 …) kept as ``page_meta``."""
from __future__ import annotations

from pathlib import Path

import regex
from .document import Document, MAX_HTML_BYTES
from .text import read_bounded, decode_bytes
from ..status import Reason


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


def read_html(path: Path, rules=None) -> Document:
    """A page saved from a government site: the article text without menus, breadcrumbs,
    metadata table and footers; the page's metadata (发布机构, 发布日期, 索引号, 文号, 标题)
    from its meta tags and metadata table in ``page_meta``."""
    import lxml.html

    doc = Document(path=str(path), format="html")
    data = read_bounded(path, doc, MAX_HTML_BYTES)
    if data is None:
        return doc
    text, enc = _html_decode(data)
    doc.encoding = enc
    try:
        root = lxml.html.document_fromstring(text)
    except Exception as e:  # lxml raises ParserError on empty documents
        doc.fail(Reason.DAMAGED, f"not a readable web page: {e}")
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
        doc.fail(Reason.NO_TEXT, "no article text found in the web page")
        return doc
    doc.pages = [body_text]
    return doc
