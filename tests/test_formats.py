"""Word, PDF and web-page letters: every letter rendered to .docx, PDF and HTML must give the
same record as its .txt. Letters are rendered once per module into a temporary folder (the real
letters are read in place and never copied into the repository)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from fixtures import render
from replyparse.evaluate import evaluate
from replyparse.pipeline import parse_document, parse_file
from replyparse.readers.document import Document
from replyparse.readers import read_file
from replyparse.record import HEADER_FIELDS

REPO = Path(__file__).resolve().parents[1]
REAL = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real"
CORPUS = REPO / "corpus"


def record_key(rec) -> dict:
    """The spec fields a format must not change."""
    d = {f: getattr(rec, f) for f in HEADER_FIELDS}
    d["is_reply_letter"] = rec.is_reply_letter
    d["amounts"] = [(a.text, a.value_yuan, a.role) for a in rec.amounts]
    d["actions"] = sorted({a.category for a in rec.actions})
    return d


def _letters() -> list[tuple[str, Path]]:
    out = [("corpus", p) for p in sorted(CORPUS.glob("*.txt"))]
    if REAL.is_dir():
        out += [("real", p) for p in sorted(REAL.glob("*.txt"))]
    return out


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """{format: {name: (txt record key, rendered record key or error)}}, rendered and parsed once."""
    pytest.importorskip("docx")
    have_pdf = True
    try:
        import reportlab  # noqa: F401
        have_pdf = render.find_cjk_font() is not None
    except ImportError:
        have_pdf = False
    base = tmp_path_factory.mktemp("formats")
    dirs = {"docx": base / "docx", "pdf": base / "pdf"}
    for d in dirs.values():
        d.mkdir()
    results: dict[str, dict] = {"docx": {}, "pdf": {}}
    missing_glyphs: dict[str, str] = {}
    for origin, path in _letters():
        name = f"{origin}-{path.stem}"
        doc = read_file(path)
        base_key = record_key(parse_file(path)[0])
        text = doc.text
        gold = path.with_name(path.stem + ".gold.json")
        for fmt in ("docx", "pdf"):
            if fmt == "pdf":
                if not have_pdf:
                    continue
                missing = render.missing_glyphs(text)
                if missing:
                    missing_glyphs[name] = "".join(sorted(missing))
                    continue
            out = dirs[fmt] / f"{name}.{fmt}"
            getattr(render, f"to_{fmt}")(text, out)
            if gold.is_file():
                shutil.copyfile(gold, dirs[fmt] / f"{name}.gold.json")
                # the .txt beside its rendering (in tmp, deleted after the run) for the eval comparison
                shutil.copyfile(path, dirs[fmt] / f"{name}.txt")
            rec = parse_file(out)[0]
            results[fmt][name] = (base_key, record_key(rec) if rec.status in ("ok", "not_letter") else rec.reason)
    return {"results": results, "dirs": dirs, "have_pdf": have_pdf,
            "missing_glyphs": missing_glyphs}


def _mismatches(results: dict) -> dict:
    bad = {}
    for name, (want, got) in results.items():
        if not isinstance(got, dict):
            bad[name] = got
            continue
        diff = {k: (want[k], got[k]) for k in want if want[k] != got[k]}
        if diff:
            bad[name] = diff
    return bad


def test_docx_gives_the_txt_record(rendered):
    res = rendered["results"]["docx"]
    assert len(res) >= 200 or not REAL.is_dir()
    bad = _mismatches(res)
    assert not bad, json.dumps(bad, ensure_ascii=False, indent=1)[:3000]


def test_pdf_gives_the_txt_record(rendered):
    if not rendered["have_pdf"]:
        pytest.skip("reportlab or a CJK font (fonts-wqy-microhei) is missing")
    res = rendered["results"]["pdf"]
    bad = _mismatches(res)
    print(f"\nPDF: {len(res) - len(bad)}/{len(res)} letters give the .txt record")
    # tools/test.sh installs HanaMin (rare Han) and DejaVu (pinyin tone marks) beside the CJK font
    assert not rendered["missing_glyphs"], f"no installed font draws {rendered['missing_glyphs']}"
    assert len(res) >= 200 or not REAL.is_dir()
    assert not bad, json.dumps(bad, ensure_ascii=False, indent=1)[:4000]


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_eval_scores_equal_txt(rendered, fmt):
    """``replyparse eval`` gives the same scores on the renderings as on the .txt letters."""
    if fmt == "pdf" and not rendered["have_pdf"]:
        pytest.skip("reportlab or a CJK font is missing")
    d = rendered["dirs"][fmt]
    a = evaluate(d, "all", formats={"txt"}).as_dict()
    b = evaluate(d, "all", formats={fmt}).as_dict()
    assert a["letters"] == b["letters"] >= (150 if REAL.is_dir() else 30)
    assert a == b


# ---------------------------------------------------------------- HTML

def test_html_page_gives_the_txt_record_and_page_meta(tmp_path):
    letters = sorted(CORPUS.glob("*.txt"))[:12]
    assert letters
    for path in letters:
        text = read_file(path).text
        out = render.to_html(text, tmp_path / f"{path.stem}.html",
                             {"issuer": "某市某局", "date": "2023-05-06", "doc_number": "某函〔2023〕7号",
                              "title": "页面标题", "index": "000-2023-1"})
        doc = read_file(out)
        assert doc.status == "ok", doc.reason
        for junk in ("首页", "政务公开", "网站标识码", "分享到", "打印本页", "相关链接", "浏览次数"):
            assert junk not in doc.text, (path.name, junk)
        assert doc.page_meta["发布机构"] == "某市某局"
        assert doc.page_meta["文号"] == "某函〔2023〕7号"
        assert doc.page_meta["发布日期"] == "2023-05-06"
        assert doc.page_meta["索引号"] == "000-2023-1"
        want, got = record_key(parse_file(path)[0]), record_key(parse_file(out)[0])
        for f in want:
            if f in ("issuer", "doc_number") and want[f] is None:
                continue  # filled from the page's metadata: checked below
            assert want[f] == got[f], (path.name, f, want[f], got[f])


def test_page_meta_fills_only_missing_issuer_and_doc_number():
    text = "关于区人大五次会议第12号建议的答复\n\n张三代表：\n你提出的《关于修路的建议》收悉，现答复如下：我们已将道路列入明年计划。\n"
    doc = Document(path="x.html", format="html", pages=[text],
                   page_meta={"发布机构": "某县交通运输局", "文号": "某交函[2021]08号"})
    rec = parse_document(doc)[0]
    if rec.is_reply_letter:
        assert rec.issuer == "某县交通运输局" and rec.evidence["issuer"].rule == "page_meta.issuer"
        assert rec.doc_number == "某交函〔2021〕8号"


# ---------------------------------------------------------------- readers on hand-made files

def test_docx_numbering_headers_and_text_boxes(tmp_path):
    docx = pytest.importorskip("docx")
    text = "关于第5号建议的答复\n\n李四代表：\n现答复如下：\n一、修路情况\n（一）已完成\n（二）在建\n二、下一步\n1. 列入计划\n2. 争取资金\n"
    p = render.to_docx(text, tmp_path / "n.docx")
    d = docx.Document(str(p))
    # the numbers are Word numbering, not text
    assert "一、" not in "\n".join(par.text for par in d.paragraphs)
    # a text box
    from docx.oxml import parse_xml
    box = parse_xml(
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent>'
        '<w:p><w:r><w:t>某县交通运输局文件</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice>'
        '<mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>某县交通运输局文件</w:t></w:r></w:p>'
        '</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r>')
    d.paragraphs[0]._p.append(box)
    d.save(str(p))
    doc = read_file(p)
    assert doc.status == "ok"
    lines = doc.text.split("\n")
    for want in ("一、修路情况", "（一）已完成", "（二）在建", "二、下一步", "1. 列入计划", "2. 争取资金"):
        assert want in lines, (want, lines)
    assert doc.text.count("某县交通运输局文件") == 1  # the fallback copy is not read twice
    assert render.RUNNING_HEADER not in doc.text and doc.page_meta.get("页眉") == render.RUNNING_HEADER


def test_a_macro_enabled_docm_is_read_like_a_docx(tmp_path):
    """A .docm is the same WordprocessingML with a macro-enabled content type; its macros are never
    read. The same letter gives the same record either way."""
    text = "关于第1号建议的答复\n张三代表：\n您提出的《关于修缮老街排水沟的建议》收悉，现答复如下：已安排资金5万元。\n某镇建设办\n2021年6月1日\n"
    docx = render.to_docx(text, tmp_path / "a.docx")
    docm = tmp_path / "a.docm"
    with zipfile.ZipFile(docx) as src, zipfile.ZipFile(docm, "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
                                    b"application/vnd.ms-word.document.macroEnabled.main+xml")
                assert b"macroEnabled" in data
            out.writestr(info, data)
        out.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 not run")
    a, b = parse_file(docx)[0].to_dict(), parse_file(docm)[0].to_dict()
    assert b["status"] == "ok" and b["format"] == "docx"
    assert {k: v for k, v in a.items() if k != "source"} == {k: v for k, v in b.items() if k != "source"}


def test_docx_parts_are_found_through_the_relationships(tmp_path):
    """The main document, its numbering and its header wherever the package puts them: the
    reader follows _rels/.rels and the main part's relationships, and a word/document.xml that
    no relationship names is not the letter."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    r = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    wml = "application/vnd.openxmlformats-officedocument.wordprocessingml."

    def para(text, num_id=None):
        ppr = f'<w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="{num_id}"/></w:numPr></w:pPr>' if num_id else ""
        return f"<w:p>{ppr}<w:r><w:t>{text}</w:t></w:r></w:p>"

    def document(body):
        return (f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}" xmlns:r="{r}">'
                f'<w:body>{body}</w:body></w:document>')

    p = tmp_path / "moved.docx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?>'
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   f'<Override PartName="/content/main.xml" ContentType="{wml}document.main+xml"/>'
                   f'<Override PartName="/lists/nums.xml" ContentType="{wml}numbering+xml"/>'
                   f'<Override PartName="/content/top.xml" ContentType="{wml}header+xml"/></Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8"?>'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{r}/officeDocument" Target="/content/main.xml"/></Relationships>')
        z.writestr("content/_rels/main.xml.rels",
                   '<?xml version="1.0" encoding="UTF-8"?>'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   f'<Relationship Id="rId7" Type="{r}/numbering" Target="../lists/nums.xml"/>'
                   f'<Relationship Id="rId8" Type="{r}/header" Target="top.xml"/></Relationships>')
        z.writestr("content/main.xml", document(
            para("关于第5号建议的答复") + para("现答复如下：") + para("修路情况", 1) + para("下一步", 1) +
            '<w:sectPr><w:headerReference w:type="default" r:id="rId8"/></w:sectPr>'))
        z.writestr("lists/nums.xml",
                   f'<?xml version="1.0" encoding="UTF-8"?><w:numbering xmlns:w="{w}">'
                   '<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
                   '<w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/></w:lvl></w:abstractNum>'
                   '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num></w:numbering>')
        z.writestr("content/top.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:hdr xmlns:w="{w}">'
                                      f'{para("某县交通运输局文件")}</w:hdr>')
        z.writestr("word/document.xml", document(para("不是正文：没有关系指向这一部分")))
    doc = read_file(p)
    assert doc.status == "ok", doc.reason
    assert doc.text.split("\n") == ["关于第5号建议的答复", "现答复如下：", "一、修路情况", "二、下一步"]
    assert doc.page_meta == {"页眉": "某县交通运输局文件"}


def test_pdf_furniture_joins_and_spaces(tmp_path):
    pytest.importorskip("reportlab")
    if render.find_cjk_font() is None:
        pytest.skip("no CJK font")
    text = ("关于区十六届人大四次会议第270号建议答复的函\n\n陈锦代表：\n" +
            "您提出的关于推行社会治理工作的建议收悉，现答复如下：区财政已在年初预算中安排社区工作经费282.68万元，" * 6 +
            "\n感谢您的关心。\n\n某区民政局\n2020年11月20日\n")
    p = render.to_pdf(text, tmp_path / "l.pdf")
    doc = read_file(p)
    assert doc.status == "ok" and len(doc.pages) >= 1
    t = doc.text
    assert render.RUNNING_HEADER not in t and "— 1 —" not in t
    assert "282.68万元" in t and "270号" in t  # no Word gap spaces left
    body = [ln for ln in t.split("\n") if ln.startswith("您提出的")]
    assert len(body) == 1 and body[0].endswith("282.68万元，")  # one paragraph again
    assert "关于区十六届人大四次会议第270号建议答复的函" in t.split("\n")  # fake bold undone


def test_pdf_layout_cues_come_from_the_rules(tmp_path):
    """The PDF reader's layout cues are rules (rules/layout.yaml): a --rules folder that redefines
    the page-number cue changes what the reader drops, through the real command: the page number
    is then kept as the page's footer."""
    pytest.importorskip("reportlab")
    if render.find_cjk_font() is None:
        pytest.skip("no CJK font")
    text = "关于第12号建议的答复\n\n陈某代表：\n您提出的建议收悉，现答复如下：已安排资金。\n\n某区民政局\n2020年11月20日\n"
    p = render.to_pdf(text, tmp_path / "l.pdf")
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "layout.yaml").write_text(
        "kind: layout\nrules:\n  - id: layout.page_number\n    field: page_number\n"
        "    pattern: '^page (?P<n>\\d+)$'\n", "utf-8")  # this region numbers pages otherwise
    cmd = [sys.executable, "-m", "replyparse", "parse", str(p)]
    plain = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    local = json.loads(subprocess.run(cmd + ["--rules", str(tmp_path / "r")], capture_output=True, text=True,
                                      check=True).stdout)
    assert "— 1 —" not in plain["text"] and "页脚" not in plain["page_meta"]
    assert "— 1 —" not in local["text"] and local["page_meta"]["页脚"] == "— 1 —"
    assert plain["issuer"] == local["issuer"] == "某区民政局"


def test_pdf_without_text_layer_needs_ocr(tmp_path):
    pytest.importorskip("reportlab")
    from reportlab.pdfgen import canvas

    p = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(p))
    c.rect(100, 100, 300, 400, fill=1)
    c.showPage()
    c.save()
    doc = read_file(p)
    assert doc.status == "needs_ocr" and "OCR" in doc.reason
    rec = parse_file(p)[0]
    assert rec.status == "needs_ocr"


def test_broken_files_give_error_records(tmp_path):
    for name, data in (("bad.docx", b"not a zip"), ("bad.pdf", b"%PDF-1.4 garbage"), ("empty.html", b"")):
        p = tmp_path / name
        p.write_bytes(data)
        doc = read_file(p)
        assert doc.status == "error" and doc.reason, name


@pytest.mark.parametrize("fmt, n, want", [("chineseCounting", 11, "十一"), ("taiwaneseCountingThousand", 2, "二"),
                                          ("chineseCountingThousand", 105, "一百零五"), ("ideographDigital", 10, "一〇"),
                                          ("chineseLegalSimplified", 3, "叁"), ("ideographLegalTraditional", 3, "參"),
                                          ("ideographTraditional", 2, "乙"), ("decimalEnclosedCircle", 3, "③"),
                                          ("upperRoman", 4, "IV"), ("bullet", 1, "")])
def test_word_number_formats(fmt, n, want):
    from replyparse.readers.docx import format_number

    assert format_number(n, fmt) == want


def test_legacy_doc_without_libreoffice_says_what_to_install(tmp_path, monkeypatch):
    from replyparse.readers import legacy_doc

    monkeypatch.setattr(legacy_doc, "find_soffice", lambda: None)
    p = tmp_path / "old.doc"
    p.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    doc = read_file(p)
    assert doc.status == "error" and "LibreOffice" in doc.reason


# ---------------------------------------------------------------- LibreOffice: another producer

@pytest.fixture(scope="module")
def soffice_converted(rendered, tmp_path_factory):
    """The .docx renderings converted by LibreOffice: every one to PDF (a producer with its own
    page size, line breaking, font fallback and drawing order), a dozen to legacy .doc."""
    from replyparse.readers.legacy_doc import find_soffice

    soffice = find_soffice()
    if soffice is None:
        pytest.skip("LibreOffice is not installed (tools/test.sh installs libreoffice-writer-nogui)")
    import subprocess

    src = rendered["dirs"]["docx"]
    base = tmp_path_factory.mktemp("soffice")
    out = {"pdf": base / "pdf", "doc": base / "doc"}
    docs = sorted(src.glob("*.docx"))
    for fmt, files in (("pdf", docs), ("doc", docs[::max(1, len(docs) // 12)])):
        out[fmt].mkdir()
        subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{base}/profile",
                        "--convert-to", fmt, "--outdir", str(out[fmt]), *map(str, files)],
                       capture_output=True, timeout=900, check=True)
    return out


@pytest.mark.parametrize("fmt", ["pdf", "doc"])
def test_libreoffice_files_give_the_txt_record(rendered, soffice_converted, fmt):
    files = sorted(soffice_converted[fmt].glob(f"*.{fmt}"))
    assert len(files) >= (200 if fmt == "pdf" and REAL.is_dir() else 10)
    bad = {}
    for f in files:
        want = rendered["results"]["docx"][f.stem][0]
        rec = parse_file(f)[0]
        got = record_key(rec) if rec.status in ("ok", "not_letter") else rec.reason
        if not isinstance(got, dict):
            bad[f.stem] = got
            continue
        diff = {k: (want[k], got[k]) for k in want if want[k] != got[k]}
        if diff:
            bad[f.stem] = diff
    assert not bad, json.dumps(bad, ensure_ascii=False, indent=1)[:4000]


def test_pdf_spans_keep_their_page(tmp_path):
    pytest.importorskip("reportlab")
    if render.find_cjk_font() is None:
        pytest.skip("no CJK font")
    filler = "我局高度重视，组织专人实地调研，认真研究办理，并与有关部门反复沟通协调。" * 4
    text = ("关于县十七届人大三次会议第52号建议的答复\n\n李四代表：\n您提出的《关于修缮村道的建议》收悉，现答复如下：\n"
            + "".join(filler + "\n" for _ in range(14))
            + "今年县财政已安排村道修缮资金45万元。\n\n某县交通运输局\n2023年6月1日\n")
    p = render.to_pdf(text, tmp_path / "long.pdf")
    rec = parse_file(p)[0]
    assert rec.status == "ok" and len(rec.pages) >= 2
    assert rec.evidence["title"].page == 1
    last = len(rec.pages)
    assert [(a.value_yuan, a.page) for a in rec.amounts] == [(450000, last)]
    assert rec.evidence["date"].page == last


def test_pdf_page_in_a_font_without_unicode_map_is_named(tmp_path):
    """Page 1 drawn in a font whose ToUnicode map is gone (what extractors show as (cid:N)),
    page 2 readable: the page is named in warnings and its text is not guessed."""
    pytest.importorskip("reportlab")
    import re

    from reportlab.pdfgen import canvas

    if render.find_cjk_font() is None:
        pytest.skip("no CJK font")
    main = render._register_font()
    other = render.font_for("𫖯")  # a second font file (HanaMin), so the pages have different fonts
    if other is None or other == main:
        pytest.skip("no second CJK font (fonts-hanazono)")
    path = tmp_path / "cid.pdf"
    c = canvas.Canvas(str(path), pageCompression=0)
    c.setFont(main, 14)
    c.drawString(80, 700, "关于县政协第5号提案的答复")
    c.drawString(80, 670, "张三委员：您提出的提案收悉，现答复如下：")
    c.showPage()
    c.setFont(other, 14)
    c.drawString(80, 700, "我局已安排资金20万元，力争明年完成道路硬化。")
    c.showPage()
    c.save()
    data = path.read_bytes()
    m = re.search(rb"/BaseFont /[A-Z]{6}\+WenQuanYi[^>]*?(/ToUnicode \d+ 0 R)", data)
    if m is None:
        pytest.skip("the CJK font is not wqy-microhei")
    path.write_bytes(data[:m.start(1)] + b" " * len(m.group(1)) + data[m.end(1):])  # same length: xref stays valid
    doc = read_file(path)
    assert doc.status == "ok"
    assert any("page 1" in w and "Unicode" in w for w in doc.warnings), doc.warnings
    assert "答复" not in doc.text and "20万元" in doc.text
