"""OCR benchmark: ``python bench/ocr.py [--n 20] [--batches clean,noisy,rotated] [--engine rapidocr]``.

Takes N letters of the clean subset (not ``script: garbled``) of ``../shared/corpus/real`` and
``../shared/corpus/real-2`` (read in place, half from each), prints each to PDF with
``tests/fixtures/render.py``'s ``to_pdf`` and scans it back as an image-only PDF at 200 dpi, in batches:

* ``clean``   — the page images as rendered;
* ``noisy``   — grey-level noise, speckle and a slight blur, as a cheap office scanner gives;
* ``rotated`` — noisy, each page turned by 0.5°–2° either way (a sheet fed askew), with a red
  seal stamped over the signature of the last page.

Each batch is read by the real command (``replyparse parse DIR --ocr --workers 1``) and scored
against the gold records with ``replyparse.evaluate.compare``; the same letters as ``.txt``
(``replyparse parse FILES --workers 1``) are scored the same way. Printed per batch: header
micro-F1, amount value F1 and value+role F1, letter detection accuracy, for scans and .txt with
the ratio, and the rate in pages/s of the scans beside the .txt rate (wall time and CPU time of
the run, one worker process). Targets: scan ≥ 0.95 × .txt for header micro-F1 and amount F1;
≥ 0.5 pages/s on one core.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # fixtures.render: letters rendered to .docx/PDF
REAL = [REPO.parent / "shared" / "corpus" / "real", REPO.parent / "shared" / "corpus" / "real-2"]
DPI = 200
TARGET_RATIO, TARGET_PAGES_S = 0.95, 0.5


def pick(n: int, seed: int) -> list[tuple[Path, Path]]:
    """(letter .txt, gold) pairs: n from the clean subsets, half from each folder."""
    rng = random.Random(seed)
    out = []
    for k, folder in enumerate(REAL):
        pairs = []
        for g in sorted(folder.glob("*.gold.json")):
            gold = json.loads(g.read_text("utf-8"))
            txt = g.with_name(g.name[: -len(".gold.json")] + ".txt")
            if gold.get("script") != "garbled" and txt.exists():
                pairs.append((txt, g))
        want = n // 2 + (n % 2 if k == 0 else 0)
        out += rng.sample(pairs, min(want, len(pairs)))
    return out


def seal(img, box):
    """A red round seal (ring, star, arc of text) stamped over ``box`` (x, y) centre: ink over the
    print, so black text under it stays black (multiplied, not pasted over)."""
    from PIL import Image, ImageChops, ImageDraw

    from fixtures import render

    page = img
    img = Image.new("RGB", page.size, (255, 255, 255))
    d = ImageDraw.Draw(img)
    cx, cy = box
    r = 150
    red = (215, 30, 35)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=red, width=9)
    star = [(cx + 45 * math.cos(math.radians(-90 + 72 * i)) * (1 if i % 2 == 0 else 1),
             cy + 45 * math.sin(math.radians(-90 + 72 * i))) for i in (0, 2, 4, 1, 3)]
    d.polygon(star, fill=red)
    font_path = render.find_cjk_font()
    if font_path:
        from PIL import ImageFont

        font = ImageFont.truetype(str(font_path), 34)
        text = "某某市某某局办公室专用章"
        for i, ch in enumerate(text):
            a = math.radians(-200 + 220 * i / (len(text) - 1))
            x, y = cx + (r - 38) * math.cos(a), cy + (r - 38) * math.sin(a)
            tile = Image.new("RGBA", (44, 44), (0, 0, 0, 0))
            ImageDraw.Draw(tile).text((5, 2), ch, font=font, fill=red + (255,))
            tile = tile.rotate(-math.degrees(a) - 90, resample=Image.BICUBIC)
            img.paste(tile, (int(x - 22), int(y - 22)), tile)
    return ImageChops.multiply(page, img)


def scan_pages(printed: Path, kind: str, rng: random.Random):
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image, ImageFilter

    pdf = pdfium.PdfDocument(str(printed))
    pages = [pdf[i].render(scale=DPI / 72).to_pil().convert("RGB") for i in range(len(pdf))]
    pdf.close()
    if kind == "clean":
        return pages
    out = []
    for i, pg in enumerate(pages):
        if kind == "rotated" and i == len(pages) - 1:
            # over the signature: the last non-blank rows on the right half of the last page
            a = np.asarray(pg.convert("L"))
            rows = np.where((a[:, a.shape[1] // 2:] < 128).sum(axis=1) > 0)[0]
            rows = rows[rows < a.shape[0] * 0.9]
            y = int(rows[-1]) - 60 if len(rows) else a.shape[0] // 2
            pg = seal(pg, (int(a.shape[1] * 0.68), y))
        if kind == "rotated":
            pg = pg.rotate(rng.choice([-1, 1]) * rng.uniform(0.5, 2.0), resample=Image.BICUBIC, fillcolor=(255, 255, 255))
        a = np.asarray(pg).astype(np.float32)
        a += np.random.default_rng(rng.randrange(1 << 30)).normal(0, 16, a.shape[:2])[..., None]
        sp = np.random.default_rng(rng.randrange(1 << 30)).random(a.shape[:2])
        a[sp < 0.0015] = 0
        a[sp > 0.9985] = 255
        out.append(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6)))
    return out


def make_batch(letters, kind: str, where: Path, seed: int) -> dict[str, int]:
    """Scans of the letters in ``where``; returns name → pages."""
    from fixtures import render
    from replyparse.readers import read_file

    rng = random.Random(f"{seed}-{kind}")
    where.mkdir(parents=True, exist_ok=True)
    pages = {}
    for txt, _ in letters:
        name = f"{txt.parent.name}__{txt.stem}"
        printed = render.to_pdf(read_file(txt).text, where / f"{name}.printed.pdf")
        imgs = scan_pages(printed, kind, rng)
        printed.unlink()
        imgs[0].save(where / f"{name}.pdf", save_all=True, append_images=imgs[1:], resolution=DPI)
        pages[name] = len(imgs)
    return pages


def run(args: list[str]) -> tuple[list[dict], float, float]:
    """Records of ``replyparse parse ARGS``, wall seconds and CPU seconds of the run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "records.jsonl"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "replyparse", "parse", *args, "-o", str(out),
                               "--workers", "1", "--quiet"], capture_output=True, text=True)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode not in (0, 1):
            sys.exit(f"replyparse parse failed ({proc.returncode}): {proc.stderr[-2000:]}")
        recs = [json.loads(ln) for ln in out.read_text("utf-8").splitlines() if ln.strip()]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return recs, wall, cpu


def score(recs: list[dict], gold_of: dict[str, Path], key) -> "Report":
    from replyparse.evaluate import Report, compare
    from replyparse.record import Record

    report = Report()
    seen = set()
    for r in recs:
        name = key(r["source"])
        if name in seen or name not in gold_of:  # the first record of a file, as eval scores it
            continue
        seen.add(name)
        compare(Record.from_dict(r), json.loads(gold_of[name].read_text("utf-8")), report, name)
    for name in gold_of.keys() - seen:  # a file without a record scores as empty
        compare(Record(source=name), json.loads(gold_of[name].read_text("utf-8")), report, name)
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20, help="letters (default 20, half from each real corpus)")
    ap.add_argument("--batches", default="clean,noisy,rotated")
    ap.add_argument("--engine", default="rapidocr", choices=("rapidocr", "tesseract"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", metavar="DIR", help="write the scans here and keep them (default: a temporary folder)")
    ap.add_argument("--details", action="store_true", help="print every field that differs from gold in scans but not in .txt")
    a = ap.parse_args()
    letters = pick(a.n, a.seed)
    gold_txt = {f"{t.parent.name}__{t.stem}": g for t, g in letters}
    txt_recs, txt_wall, txt_cpu = run([str(t) for t, _ in letters])
    by_path = {str(t): f"{t.parent.name}__{t.stem}" for t, _ in letters}
    txt_report = score(txt_recs, gold_txt, lambda s: by_path.get(s.split("#")[0]))
    base = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="replyparse-ocr-bench-"))
    print(f"replyparse OCR benchmark — {len(letters)} letters of the clean subsets of real/ and real-2/, "
          f"printed and scanned at {DPI} dpi, engine {a.engine}, one worker process")
    rows = []
    for kind in [k.strip() for k in a.batches.split(",") if k.strip()]:
        where = base / kind
        pages = make_batch(letters, kind, where, a.seed)
        recs, wall, cpu = run([str(where), "--ocr", "--ocr-engine", a.engine])
        rep = score(recs, gold_txt, lambda s: Path(s.split("#")[0]).stem)
        n_pages = sum(pages.values())
        rows.append((kind, rep, n_pages, wall, cpu))
        if a.details:
            for name, det in sorted(rep.per_file.items()):
                extra = {k: v for k, v in det.items() if k not in txt_report.per_file.get(name, {})}
                if extra:
                    print(f"  {kind} {name}: {extra}")
    n_txt_pages = rows[0][2] if rows else len(letters)
    print()
    print(f"{'batch':<9}{'pages':>6}{'header F1':>11}{'(.txt)':>8}{'ratio':>7}{'amount F1':>11}{'(.txt)':>8}"
          f"{'ratio':>7}{'value+role':>12}{'(.txt)':>8}{'letters':>9}{'(.txt)':>8}{'pages/s':>9}{'per CPU s':>10}")
    th, ta, tr = txt_report.header.f1, txt_report.amounts.f1, txt_report.amounts_role.f1
    ok = True
    for kind, rep, n_pages, wall, cpu in rows:
        h, am, ar = rep.header.f1, rep.amounts.f1, rep.amounts_role.f1
        rh, ra = (h / th if th else 1.0), (am / ta if ta else 1.0)
        ok &= rh >= TARGET_RATIO and ra >= TARGET_RATIO and n_pages / cpu >= TARGET_PAGES_S
        print(f"{kind:<9}{n_pages:>6}{h:>11.3f}{th:>8.3f}{rh:>7.3f}{am:>11.3f}{ta:>8.3f}{ra:>7.3f}{ar:>12.3f}{tr:>8.3f}"
              f"{rep.letter_accuracy:>9.2f}{txt_report.letter_accuracy:>8.2f}{n_pages / wall:>9.2f}{n_pages / cpu:>10.2f}")
    print(f"{'.txt':<9}{n_txt_pages:>6}{'':>11}{th:>8.3f}{'':>7}{'':>11}{ta:>8.3f}{'':>7}{'':>12}{tr:>8.3f}{'':>9}"
          f"{txt_report.letter_accuracy:>8.2f}{n_txt_pages / txt_wall:>9.2f}{n_txt_pages / txt_cpu:>10.2f}")
    print(f"\n(.txt pages: the pages of the same letters printed; pages/s is wall time of the run incl. "
          f"start-up, per CPU s its CPU time; targets: ratio ≥ {TARGET_RATIO}, ≥ {TARGET_PAGES_S} pages/s) "
          f"{'all targets met' if ok else 'TARGETS MISSED'}")
    if a.keep:
        print(f"scans kept in {base}")


if __name__ == "__main__":
    main()
