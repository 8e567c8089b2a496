"""Scanned PDFs: ``needs_ocr`` by default; with ``ocr`` (``parse --ocr``) read by Tesseract and
giving the same record as the letter's text where the scan is clean."""
from __future__ import annotations

import subprocess
import sys

import pytest

from replyparse import read as read_mod
from replyparse import render
from replyparse.pipeline import parse_document, parse_file
from replyparse.read import find_tesseract, read_file
from replyparse.record import HEADER_FIELDS


@pytest.fixture(scope="module")
def scan(tmp_path_factory, corpus_dir):
    """A one-page letter printed to PDF and scanned back as page images (no text layer)."""
    pytest.importorskip("reportlab")
    if render.find_cjk_font() is None:
        pytest.skip("no CJK font")
    import pypdfium2 as pdfium

    src = corpus_dir / "ry-jianyi-2013-071.txt"
    base = tmp_path_factory.mktemp("scan")
    printed = render.to_pdf(read_file(src).text, base / "printed.pdf")
    pdf = pdfium.PdfDocument(str(printed))
    pages = [pdf[i].render(scale=200 / 72).to_pil().convert("RGB") for i in range(len(pdf))]
    pdf.close()
    out = base / "scan.pdf"
    gray = [pg.convert("L") for pg in pages]
    gray[0].save(base / "page1.png")
    gray[0].save(base / "scan.tif", save_all=True, append_images=gray[1:], compression="tiff_deflate")
    pages[0].save(out, save_all=True, append_images=pages[1:], resolution=200)
    return src, out


def test_a_scan_needs_ocr_unless_asked(scan):
    _, pdf = scan
    doc = read_file(pdf)
    assert doc.status == "needs_ocr" and "OCR" in doc.reason


def test_without_tesseract_the_reason_says_what_to_install(scan, monkeypatch):
    _, pdf = scan
    monkeypatch.setattr(read_mod, "find_tesseract", lambda: None)
    doc = read_file(pdf, ocr=True)
    assert doc.status == "needs_ocr" and "tesseract-ocr-chi-sim" in doc.reason


@pytest.fixture(scope="module")
def ocr_doc(scan):
    if find_tesseract() is None:
        pytest.skip("Tesseract is not installed (tools/test.sh installs tesseract-ocr and tesseract-ocr-chi-sim)")
    _, pdf = scan
    return read_file(pdf, ocr=True)


def test_ocr_reads_the_scan_into_the_same_record(scan, ocr_doc):
    src, _ = scan
    assert ocr_doc.status == "ok" and any("OCR" in w for w in ocr_doc.warnings)
    assert "建议提案办理答复" not in ocr_doc.text  # the running header is gone
    got, want = parse_document(ocr_doc)[0], parse_file(src)[0]
    # numbers, dates and names survive a clean scan; a misread character may not, so the
    # text fields are held to what Tesseract reads back here and the rest must be exact
    for f in ("doc_number", "date", "proposal_no", "term", "session", "body", "proposal_kind", "contact_phone"):
        assert getattr(got, f) == getattr(want, f), f
    assert [(a.value_yuan, a.role) for a in got.amounts] == [(a.value_yuan, a.role) for a in want.amounts]
    same = sum(getattr(got, f) == getattr(want, f) for f in HEADER_FIELDS)
    assert same >= len(HEADER_FIELDS) - 2


def test_parse_ocr_flag(scan, tmp_path):
    if find_tesseract() is None:
        pytest.skip("Tesseract is not installed")
    _, pdf = scan
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "replyparse", "parse", str(pdf), "--out", str(out), "--ocr",
                           "--quiet", "--workers", "1"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    import csv

    rows = list(csv.DictReader(open(out / "files.csv", encoding="utf-8-sig")))
    assert [(r["status"], r["letters"]) for r in rows] == [("ok", "1")]


def test_image_scans(scan, tmp_path):
    src, pdf = scan
    tif, png = pdf.with_name("scan.tif"), pdf.with_name("page1.png")
    doc = read_file(tif)
    assert doc.status == "needs_ocr" and "2 pages" in doc.reason
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert read_file(bad).status == "error"
    if find_tesseract() is None:
        pytest.skip("Tesseract is not installed")
    got, want = parse_file(png, ocr=True)[0], parse_file(src)[0]
    assert got.status == "ok" and got.format == "png"
    # the first page holds the title, the addressee and the opening
    for f in ("title", "proposal_no", "term", "session", "proposal_kind", "proposers"):
        assert getattr(got, f) == getattr(want, f), f
