"""Scans: ``needs_ocr`` by default; with ``ocr`` (``parse --ocr``) read by RapidOCR (the default
engine, models inside the rapidocr wheel) or Tesseract (``--ocr-engine tesseract``), giving the
same record as the letter's text. The scans are a corpus letter printed to PDF and scanned back
at 200 dpi: noisy, turned a little, a red seal over the signature, one page upside down and
one sideways, a PDF mixing a text page and a scanned page, a PNG and a two-page TIFF."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from replyparse.readers import ocr as ocr_mod
from fixtures import render
from replyparse.pipeline import parse_document, parse_file
from replyparse.readers.document import Document
from replyparse.readers.tesseract import find_tesseract
from replyparse.readers import read_file
from replyparse.record import HEADER_FIELDS
from replyparse.engine.rules import default_rules

LETTER = "ry-jianyi-2013-071.txt"  # two printed pages; a running header, page numbers, amounts
SEAL_TEXT = "测试专用章"


def _seal(page, centre):
    """A red seal stamped over the print: ink multiplied onto the page, as a stamp does."""
    from PIL import Image, ImageChops, ImageDraw, ImageFont

    layer = Image.new("RGB", page.size, (255, 255, 255))
    d = ImageDraw.Draw(layer)
    cx, cy, r, red = centre[0], centre[1], 140, (210, 35, 40)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=red, width=8)
    d.regular_polygon((cx, cy, 40), 5, fill=red)
    font = ImageFont.truetype(str(render.find_cjk_font()), 36)
    for i, ch in enumerate(SEAL_TEXT * 2):
        a = math.radians(-210 + 240 * i / 9)
        tile = Image.new("RGBA", (46, 46), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((5, 2), ch, font=font, fill=red + (255,))
        tile = tile.rotate(-math.degrees(a) - 90, resample=Image.BICUBIC)
        layer.paste(tile, (int(cx + (r - 36) * math.cos(a) - 23), int(cy + (r - 36) * math.sin(a) - 23)), tile)
    return ImageChops.multiply(page, layer)


def _noisy(img, seed):
    import numpy as np
    from PIL import Image, ImageFilter

    a = np.asarray(img).astype(np.float32)
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 14, a.shape[:2])
    a += noise[..., None] if a.ndim == 3 else noise
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.5))


@pytest.fixture(scope="module")
def scan(tmp_path_factory, corpus_dir):
    """The letter printed to PDF and scanned back (no text layer) in several shapes."""
    pytest.importorskip("reportlab")
    if render.find_cjk_font() is None:
        pytest.skip("no CJK font (tools/test.sh installs fonts-wqy-microhei)")
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    src = corpus_dir / LETTER
    base = tmp_path_factory.mktemp("scan")
    printed = render.to_pdf(read_file(src).text, base / "printed.pdf")
    pdf = pdfium.PdfDocument(str(printed))
    pages = [pdf[i].render(scale=200 / 72).to_pil().convert("RGB") for i in range(len(pdf))]
    pdf.close()
    assert len(pages) == 2
    # the seal over the signature (乳源瑶族自治县水务局, the last line of page 1 above its page number)
    a = np.asarray(pages[0].convert("L"))[: int(pages[0].height * 0.9)] < 128
    row = int(np.where(a.any(axis=1))[0][-1])
    cols = np.where(a[row - 15: row + 1].any(axis=0))[0]
    pages[0] = _seal(pages[0], (int(cols.mean()) + 40, row - 10))
    scanned = [_noisy(pg.rotate(angle, resample=Image.BICUBIC, fillcolor=(255, 255, 255)), i)
               for i, (pg, angle) in enumerate(zip(pages, (1.2, -0.8)))]
    scanned[0].save(base / "scan.pdf", save_all=True, append_images=scanned[1:], resolution=200)
    gray = [pg.convert("L") for pg in scanned]
    gray[0].save(base / "page1.png")
    gray[0].save(base / "scan.tif", save_all=True, append_images=gray[1:], compression="tiff_deflate")
    gray[0].rotate(180).save(base / "upside.jpg", quality=90)
    gray[0].rotate(90, expand=True).save(base / "sideways.png")  # fed into the scanner sideways
    # a PDF whose first page has its text layer and whose second is a scan
    mixed = pdfium.PdfDocument.new()
    mixed.import_pages(pdfium.PdfDocument(str(printed)), [0])
    mixed.import_pages(pdfium.PdfDocument(str(base / "scan.pdf")), [1])
    mixed.save(str(base / "mixed.pdf"))
    return src, base


def _needs_rapidocr():
    problem = ocr_mod.rapidocr_problem()
    if problem:
        pytest.skip(f"RapidOCR is not installed: {problem}")


def _same_record(got, want, spare: int = 0):
    for f in ("doc_number", "date", "proposal_no", "term", "session", "body", "proposal_kind", "contact_phone",
              "issuer", "proposers", "contact_person"):
        assert getattr(got, f) == getattr(want, f), f
    assert [(a.value_yuan, a.role) for a in got.amounts] == [(a.value_yuan, a.role) for a in want.amounts]
    differ = [f for f in HEADER_FIELDS if getattr(got, f) != getattr(want, f)]
    assert len(differ) <= spare, differ


def test_a_scan_needs_ocr_unless_asked_and_the_summary_says_how(scan):
    _, base = scan
    doc = read_file(base / "scan.pdf")
    assert doc.status == "needs_ocr" and "OCR" in doc.reason
    proc = subprocess.run([sys.executable, "-m", "replyparse", "parse", str(base / "scan.pdf"), str(base / "scan.tif"),
                           "-o", str(base / "plain.jsonl"), "--workers", "1"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "2 files need OCR: run again with --ocr" in proc.stderr


def test_without_rapidocr_the_reason_says_what_to_install(scan, monkeypatch):
    _, base = scan
    monkeypatch.setattr(ocr_mod, "rapidocr_problem", lambda: "for --ocr install rapidocr and onnxruntime: "
                                                            "pip install 'replyparse[ocr]' (rapidocr is missing)")
    doc = read_file(base / "scan.pdf", ocr=True)
    assert doc.status == "needs_ocr" and "replyparse[ocr]" in doc.reason


def test_rapidocr_models_come_from_the_installed_package():
    _needs_rapidocr()
    eng = ocr_mod._rapid()
    import rapidocr
    from pathlib import Path

    root = Path(rapidocr.__file__).parent
    for part in (eng._load_det_model(), eng._load_rec_model()):
        sess = part.session.session
        assert sess.get_session_options().intra_op_num_threads == 1
    assert all((root / "models" / n).is_file() for n in ocr_mod._BUNDLED.values())


@pytest.fixture(scope="module")
def ocr_doc(scan):
    _needs_rapidocr()
    _, base = scan
    return read_file(base / "scan.pdf", ocr=True)


def test_ocr_reads_the_scan_into_the_same_record(scan, ocr_doc):
    src, _ = scan
    assert ocr_doc.status == "ok" and any("text read by OCR" in w for w in ocr_doc.warnings)
    assert "建议提案办理答复" not in ocr_doc.text  # the running header is gone ...
    assert ocr_doc.page_meta.get("页眉") == "建议提案办理答复"  # ... into page_meta, as the PDF reader does
    assert "— 1 —" not in ocr_doc.text and "—1—" not in ocr_doc.text  # page numbers
    assert not any(ch in ocr_doc.text for ch in "测专章")  # the seal's text is not in the letter
    assert ocr_doc.pages[0].splitlines()[-1] == "乳源瑶族自治县水务局"  # nor does it cut the signature
    got, want = parse_document(ocr_doc)[0], parse_file(src)[0]
    _same_record(got, want)
    assert got.ocr is True and len(got.ocr_confidence) == 2 and min(got.ocr_confidence) > 0.95
    assert want.ocr is False and want.ocr_confidence == []


def test_parse_ocr_flag_writes_ocr_records(scan, tmp_path):
    _needs_rapidocr()
    _, base = scan
    out = tmp_path / "records.jsonl"
    proc = subprocess.run([sys.executable, "-m", "replyparse", "parse", str(base / "page1.png"), "-o", str(out),
                           "--ocr", "--workers", "1"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "need OCR" not in proc.stderr
    rec = json.loads(out.read_text("utf-8").splitlines()[0])
    assert rec["status"] == "ok" and rec["format"] == "png" and rec["ocr"] is True
    assert len(rec["ocr_confidence"]) == 1 and rec["ocr_confidence"][0] > 0.95
    keys = list(rec)
    assert keys.index("ocr") > keys.index("warnings")  # an addition after the spec's fields


def test_image_scans(scan, tmp_path):
    src, base = scan
    doc = read_file(base / "scan.tif")
    assert doc.status == "needs_ocr" and "2 pages" in doc.reason
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert read_file(bad).status == "error"
    _needs_rapidocr()
    want = parse_file(src)[0]
    tif = parse_file(base / "scan.tif", ocr=True)[0]
    assert tif.format == "tif" and len(tif.pages) == 2
    _same_record(tif, want)
    for name, turn in (("upside.jpg", 180), ("sideways.png", 90)):  # page 1 upside down, sideways
        doc = read_file(base / name, ocr=True)
        assert any(f"turned {turn}°" in w for w in doc.warnings), (name, doc.warnings)
        got = parse_document(doc)[0]
        for f in ("title", "proposal_no", "term", "session", "proposal_kind", "proposers", "issuer"):
            assert getattr(got, f) == getattr(want, f), (name, f)


def test_a_pdf_mixing_text_and_scanned_pages(scan):
    src, base = scan
    plain = read_file(base / "mixed.pdf")
    assert plain.status == "ok" and any("no text on page 2" in w for w in plain.warnings)
    _needs_rapidocr()
    doc = read_file(base / "mixed.pdf", ocr=True)
    assert doc.ocr_confidence[0] is None and doc.ocr_confidence[1] > 0.95  # page 1 is the text layer
    assert not any("no text on page" in w for w in doc.warnings)
    got, want = parse_document(doc)[0], parse_file(src)[0]
    _same_record(got, want)
    assert got.ocr is True


def test_tesseract_engine(scan):
    if find_tesseract() is None:
        pytest.skip("Tesseract is not installed (tools/test.sh installs tesseract-ocr and tesseract-ocr-chi-sim)")
    src, base = scan
    got, want = parse_file(base / "page1.png", ocr="tesseract")[0], parse_file(src)[0]
    assert got.status == "ok" and got.ocr is True and any("Tesseract" in w for w in got.warnings)
    for f in ("proposal_no", "term", "session", "proposal_kind"):
        assert getattr(got, f) == getattr(want, f), f


# ---------------------------------------------------------------- repairs (rules/ocr.yaml)

REPAIRS = [
    ("红水函【2020]27号", "红水函〔2020〕27号", "ocr.docno_brackets"),
    ("某政办函(2019)5号", "某政办函〔2019〕5号", "ocr.docno_brackets"),
    ("2O19年", "2019年", "ocr.digit_o"),
    ("1OO0万元", "1000万元", "ocr.digit_o"),
    ("202O年", "2020年", "ocr.digit_o_end"),
    ("20l9年l2月", "2019年12月", "ocr.digit_l"),
    ("共计3，2公里", "共计3.2公里", "ocr.decimal_comma"),
    ("投资约6，000万元", "投资约6,000万元", "ocr.thousands_comma"),
]
UNTOUCHED = ["二〇二〇年五月", "Office 2010", "第3，4条", "ISO9001", "〔2020〕27号", "（2020年）", "以Lo为例"]


@pytest.mark.parametrize("text,want,rule", REPAIRS)
def test_ocr_repairs(text, want, rule):
    got, done = ocr_mod.repair(text, default_rules().rules("ocr"))
    assert got == want and done and all(r == rule for r, _, _ in done)


@pytest.mark.parametrize("text", UNTOUCHED)
def test_ocr_repairs_leave_good_text_alone(text):
    assert ocr_mod.repair(text, default_rules().rules("ocr")) == (text, [])


def test_repairs_and_low_confidence_lines_are_warned_in_the_record(corpus_dir):
    text = read_file(corpus_dir / LETTER).text.replace("联系电话：0751-5382216", "联系电话：O751-5382216")
    lines = text.splitlines()
    lines.insert(0, "乳水函【2013]71号")
    doc = Document(path="x.png", format="png", pages=["\n".join(lines)], ocr=True, ocr_confidence=[0.97],
                   ocr_low_lines=[(1, "乳水函【2013]71号", 0.62)])
    rec = parse_document(doc)[0]
    assert rec.doc_number == "乳水函〔2013〕71号" and rec.ocr and rec.ocr_confidence == [0.97]
    assert any(w.startswith("OCR repair ocr.docno_brackets (page 1):") and "〔2013〕" in w for w in rec.warnings)
    assert any("doc_number comes from a line read with low confidence (0.62, page 1)" in w for w in rec.warnings)
    # a plain text is never repaired: the O stays where no OCR was involved
    assert "O751" in parse_document(Document(path="x.txt", format="txt", pages=[text]))[0].text
