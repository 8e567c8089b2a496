"""Hostile PDF and Word files: misnamed, truncated, encrypted, scanned, corrupt, zip bombs and
XML entity bombs. Each comes out as one manifest row that says what it is, and a good letter
beside it in the same batch is still parsed."""
import functools
import json
import shutil
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from fixtures import render
from replyparse import cli
from replyparse.run.batch import process_file

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def letter(corpus_dir: Path) -> str:
    """The letter the hostile files are made of (not the good one in the batch)."""
    return sorted(corpus_dir.glob("*.txt"))[1].read_text("utf-8")


@pytest.fixture
def batch(tmp_path, corpus_dir, manifest_rows):
    """batch(): manifest rows of tmp_path, a good corpus letter copied in beside the hostile files
    and checked to come out as a letter."""
    shutil.copy(sorted(corpus_dir.glob("*.txt"))[0], tmp_path / "good.txt")

    def run(expected_files: int) -> dict:
        r = manifest_rows(tmp_path)
        assert len(r) == expected_files + 1
        assert (r["good.txt"].status, r["good.txt"].letters) == ("ok", 1)
        assert r["good.txt"].records[0].title
        return r
    return run


def need_pdf_renderer():
    pytest.importorskip("reportlab")
    if render.find_cjk_font() is None:
        pytest.skip("no CJK font to render a letter as PDF")


def letter_pdf(text: str, path: Path, encrypt=None) -> Path:
    """``render.to_pdf``, encrypted with ``encrypt`` (a reportlab StandardEncryption) when given."""
    from reportlab.pdfgen import canvas

    if encrypt is None:
        return render.to_pdf(text, path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(canvas, "Canvas", functools.partial(canvas.Canvas, encrypt=encrypt))
        return render.to_pdf(text, path)


def minimal_package(z: zipfile.ZipFile, main_part: str, content_type: str) -> None:
    """[Content_Types].xml and _rels/.rels pointing at ``main_part``: what makes a zip a package."""
    z.writestr("[Content_Types].xml",
               f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{CT_NS}">'
               '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
               f'<Override PartName="/{main_part}" ContentType="{content_type}"/></Types>')
    z.writestr("_rels/.rels",
               f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{REL_NS}">'
               f'<Relationship Id="rId1" Type="{OFFICE_DOC}" Target="{main_part}"/></Relationships>')


WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


# ---------------------------------------------------------------- 1. misnamed files

def test_misnamed_files_are_read_as_what_they_are(tmp_path, corpus_dir, batch):
    pytest.importorskip("docx")
    text = letter(corpus_dir)
    page = render.to_html(text, tmp_path / "x.html").read_bytes()
    (tmp_path / "x.html").unlink()
    (tmp_path / "a_page.pdf").write_bytes(b"\xef\xbb\xbf\n  " + page)  # BOM and blank lines before <!DOCTYPE
    (tmp_path / "b_page.docx").write_bytes(page)
    render.to_docx(text, tmp_path / "c_word.doc")  # a .docx saved as .doc: no LibreOffice needed
    (tmp_path / "d_picture.pdf").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (tmp_path / "e_zeros.pdf").write_bytes(bytes(5000))
    (tmp_path / "f_empty.pdf").write_bytes(b"")
    (tmp_path / "g_notes.docx").write_text("会议纪要：请于周五前提交材料。", encoding="utf-8")
    (tmp_path / "h_web_archive.doc").write_bytes(b"MIME-Version: 1.0\r\nContent-Type: multipart/related; "
                                                 b"boundary=\"----=_NextPart\"\r\n\r\n------=_NextPart\r\n")
    r = batch(8)
    for name in ("a_page.pdf", "b_page.docx"):
        assert (r[name].status, r[name].format) == ("ok", "html"), name
    assert r["c_word.doc"].status == "ok" and r["c_word.doc"].format == "docx"
    warnings = {n: r[n].records[0].warnings[0] for n in ("a_page.pdf", "b_page.docx", "c_word.doc")}
    assert warnings["a_page.pdf"] == "named .pdf but is a web page (HTML): read as HTML"
    assert warnings["b_page.docx"] == "named .docx but is a web page (HTML): read as HTML"
    assert warnings["c_word.doc"].startswith("named .doc but is a zip archive") and warnings["c_word.doc"].endswith(
        "read as .docx")
    titles = {r[n].records[0].title for n in ("a_page.pdf", "b_page.docx", "c_word.doc")}
    assert len(titles) == 1 and None not in titles  # the same letter, whatever it was named
    assert r["d_picture.pdf"].status == "error"
    assert r["d_picture.pdf"].reason == "not a PDF: the file does not start with %PDF (it looks like a PNG image)"
    assert r["e_zeros.pdf"].status == "error" and "blank or zero bytes" in r["e_zeros.pdf"].reason
    assert (r["f_empty.pdf"].status, r["f_empty.pdf"].reason) == ("error", "empty file")
    assert r["g_notes.docx"].status == "error"
    assert r["g_notes.docx"].reason.startswith("not a Word .docx file: it is not a zip archive (it looks like plain text")
    assert r["h_web_archive.doc"].status == "error" and "MIME web archive" in r["h_web_archive.doc"].reason


# ---------------------------------------------------------------- 2. truncated PDF

def test_truncated_pdf(tmp_path, corpus_dir, batch):
    """pdfium (pypdfium2 5.x) opens a PDF that lost only its last bytes (startxref, %%EOF) with
    every page, but refuses one that lost its trailer (/Root): it does not rebuild a file cut in
    half. Measured: any cut of 50 bytes or more from a reportlab PDF fails to open."""
    need_pdf_renderer()
    full = letter_pdf(letter(corpus_dir), tmp_path / "x.pdf").read_bytes()
    (tmp_path / "x.pdf").unlink()
    (tmp_path / "a_half.pdf").write_bytes(full[: len(full) // 2])
    (tmp_path / "b_tail_cut.pdf").write_bytes(full[:-20])  # "%%EOF\n" and part of startxref gone
    (tmp_path / "c_whole.pdf").write_bytes(full)
    r = batch(3)
    half = r["a_half.pdf"]
    assert half.status == "error" and "damaged" in half.reason and "truncated" in half.reason
    tail = r["b_tail_cut.pdf"]
    assert tail.status == "ok" and tail.pages == 2
    assert any("truncated" in w for w in tail.records[0].warnings)
    assert tail.records[0].text == r["c_whole.pdf"].records[0].text
    assert not any("truncated" in w for w in r["c_whole.pdf"].records[0].warnings)


# ---------------------------------------------------------------- 3. encrypted PDF

def test_encrypted_pdfs(tmp_path, corpus_dir, batch):
    need_pdf_renderer()
    from reportlab.lib.pdfencrypt import StandardEncryption

    text = letter(corpus_dir)
    letter_pdf(text, tmp_path / "a_plain.pdf")
    letter_pdf(text, tmp_path / "b_user_password.pdf", StandardEncryption("secret", ownerPassword="owner"))
    letter_pdf(text, tmp_path / "c_owner_only.pdf",
               StandardEncryption("", ownerPassword="owner", canPrint=0, canCopy=0, canModify=0))
    r = batch(3)
    locked = r["b_user_password.pdf"]
    assert locked.status == "error" and "password-protected" in locked.reason
    owner = r["c_owner_only.pdf"]
    assert owner.status == "ok"
    assert owner.records[0].text == r["a_plain.pdf"].records[0].text
    assert owner.records[0].title == r["a_plain.pdf"].records[0].title
    assert any("owner password only" in w for w in owner.records[0].warnings)


# ---------------------------------------------------------------- 4. scanned PDF

def test_pdf_without_text_layer_is_a_needs_ocr_row(tmp_path, batch):
    pytest.importorskip("reportlab")
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(tmp_path / "scan.pdf"))
    for _ in range(2):
        c.rect(100, 100, 300, 400, fill=1)
        c.showPage()
    c.save()
    r = batch(1)
    assert r["scan.pdf"].status == "needs_ocr"
    assert r["scan.pdf"].reason == "no text layer on any of the 2 pages (a scan): needs OCR"
    assert r["scan.pdf"].letters == 0


# ---------------------------------------------------------------- 5. corrupt .docx

def test_corrupt_docx_files(tmp_path, corpus_dir, batch):
    pytest.importorskip("docx")
    good = render.to_docx(letter(corpus_dir), tmp_path / "x.docx").read_bytes()
    (tmp_path / "x.docx").unlink()
    (tmp_path / "a_junk.docx").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "b_half.docx").write_bytes(good[: len(good) // 2])  # zip signature, no central directory
    with zipfile.ZipFile(tmp_path / "c_plain_zip.docx", "w") as z:
        z.writestr("readme.txt", "hello")
    with zipfile.ZipFile(tmp_path / "d_spreadsheet.docx", "w") as z:
        minimal_package(z, "xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
    r = batch(4)
    assert all(r[n].status == "error" for n in r if n != "good.txt")
    assert r["a_junk.docx"].reason.startswith("not a Word .docx file: it is not a zip archive (it starts with")
    assert r["b_half.docx"].reason.startswith("not a readable .docx (damaged")
    assert r["c_plain_zip.docx"].reason == ("not a Word document: a zip archive without [Content_Types].xml "
                                            "(holds readme.txt)")
    assert "not a Word file" in r["d_spreadsheet.docx"].reason


# ---------------------------------------------------------------- 6. zip bomb

def zip_of_zeros(path: Path, megabytes: int) -> Path:
    """A .docx-looking zip whose document part is ``megabytes`` MB of zeros, written in chunks so the
    test never holds it (level 1: fast, and still over 200:1)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        minimal_package(z, "word/document.xml", WORD_MAIN)
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(megabytes):
                f.write(chunk)
    return path


def test_docx_zip_bombs_are_refused_before_unzipping(tmp_path, batch):
    zip_of_zeros(tmp_path / "a_bomb.docx", 300)
    zip_of_zeros(tmp_path / "b_dense.docx", 30)  # under the total limit, but 200:1
    assert (tmp_path / "a_bomb.docx").stat().st_size < 3 * 2**20
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        bomb = process_file(tmp_path / "a_bomb.docx")
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 2 and peak < 20 * 2**20  # nothing inflated
    assert bomb.status == "error"
    assert bomb.reason == "the .docx expands to 300 MB when unzipped, over the limit of 200 MB (a zip bomb?): refused"
    r = batch(2)
    assert r["a_bomb.docx"].reason == bomb.reason
    dense = r["b_dense.docx"]
    assert dense.status == "error"
    assert dense.reason.startswith("the .docx part word/document.xml expands to 30 MB from ")
    assert "over the limit of 100:1" in dense.reason


# ---------------------------------------------------------------- 7. XML entities

def docx_with_doctype(src: Path, dst: Path, doctype: str, body: str, encoding: str = "UTF-8") -> Path:
    """``src`` with a DOCTYPE and a paragraph ``body`` added to word/document.xml."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "word/document.xml":
                xml = data.decode("utf-8")
                prolog_end = xml.index("?>") + 2
                body_start = xml.index("<w:body>") + len("<w:body>")
                xml = (xml[:prolog_end].replace('encoding="UTF-8"', f'encoding="{encoding}"') + doctype
                       + xml[prolog_end:body_start] + f"<w:p><w:r><w:t>{body}</w:t></w:r></w:p>" + xml[body_start:])
                data = xml.encode("utf-16" if encoding == "UTF-16" else "utf-8")
            zout.writestr(info, data)
    return dst


BILLION_LAUGHS = ('<!DOCTYPE w:document [<!ENTITY lol0 "lol">'
                  + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)) + "]>")
XXE = '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def test_docx_declaring_xml_entities_is_refused(tmp_path, corpus_dir):
    pytest.importorskip("docx")
    src = tmp_path / "src"
    letters = tmp_path / "in"
    src.mkdir()
    letters.mkdir()
    shutil.copy(sorted(corpus_dir.glob("*.txt"))[0], letters / "good.txt")
    plain = render.to_docx(letter(corpus_dir), src / "plain.docx")
    docx_with_doctype(plain, letters / "a_laughs.docx", BILLION_LAUGHS, "&lol9;")
    docx_with_doctype(plain, letters / "b_xxe.docx", XXE, "&xxe;")
    docx_with_doctype(plain, letters / "c_xxe_utf16.docx", XXE, "&xxe;", encoding="UTF-16")
    # a DTD after a long comment, past the first bytes the check looks at
    docx_with_doctype(plain, letters / "d_xxe_padded.docx", "<!--" + "pad " * 5000 + "-->" + XXE, "&xxe;")
    out = tmp_path / "out"
    t0 = time.perf_counter()
    rc = cli.main(["parse", str(letters), "--out", str(out), "--workers", "1", "--timeout", "0", "--quiet"])
    assert time.perf_counter() - t0 < 10  # a bound, not a speed target: nothing expanded
    assert rc == 1  # some file has status error
    files = {Path(row["path"]).name: row for row in map(json.loads, (out / "files.jsonl").read_text("utf-8").splitlines())}
    assert (files["good.txt"]["status"], files["good.txt"]["letters"]) == ("ok", 1)
    for name in ("a_laughs.docx", "b_xxe.docx", "c_xxe_utf16.docx", "d_xxe_padded.docx"):
        assert files[name]["status"] == "error", name
        assert files[name]["reason"] == ("the .docx part word/document.xml declares XML entities (<!DOCTYPE>), "
                                         "which Word never writes: refused"), name
    passwd = Path("/etc/passwd").read_text().splitlines()[0] if Path("/etc/passwd").is_file() else "root:x:0:0"
    for f in out.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert b"lollol" not in data and passwd.encode() not in data, f
