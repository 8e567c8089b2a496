"""OCR of scanned pages (``parse --ocr``): page images → lines in reading order → page texts.

The default engine is RapidOCR (``rapidocr`` on PyPI, PP-OCRv6 detection and recognition models
shipped inside its wheel, run by onnxruntime on one thread): the models are loaded from the
installed package by path, never fetched. Tesseract (``--ocr-engine tesseract``) stays as the
fallback where onnxruntime cannot be installed.

Per page: the image is read in colour and a red seal is dropped out (the red channel makes red
ink white, black text under it stays black); text lines are found on a reduced copy, turned
upright (90°/180°/270° pages) and the page skew measured from the lines themselves; each line is
cut from the full-resolution page along its own slant and recognised; lines slanted far off the
page's skew (a seal's arc of text) are dropped; boxes on one deskewed line are joined, so a seal
or signature over a line does not cut it; the lines then go through the PDF reader's own
running-header, page-number and paragraph rules (``pdf.page_furniture``, ``pdf.join_pdf_lines``)."""
from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path


ENGINES = ("rapidocr", "tesseract")
DEFAULT_ENGINE = "rapidocr"
SCAN_DPI = 200  # a scanned PDF page is rendered at this resolution (scans are made at 200-300 dpi)
DET_MAX_SIDE = 1024  # lines are found on a copy this size; recognised from the full page
LOW_CONFIDENCE = 0.85  # a line read with less mean confidence makes the values taken from it suspect
MIN_LINE_SCORE = 0.5  # a box read with less is noise (speckle, a signature stroke)
STAMP_SLANT = 8.0  # degrees off the page's skew: an arc of a seal's text, not a line of the letter
_BUNDLED = {"det": "PP-OCRv6_det_small.onnx", "rec": "PP-OCRv6_rec_small.onnx",
            "cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx"}


class OcrUnavailable(RuntimeError):
    """The OCR engine cannot run here; the message says what to install."""


@dataclass
class OcrLine:
    text: str
    conf: float
    x0: float
    x1: float
    y0: float  # top, in page pixels after deskew (y grows downwards)
    y1: float


@dataclass
class OcrPage:
    lines: list[OcrLine] = field(default_factory=list)
    width: int = 0
    height: int = 0
    skew: float = 0.0  # degrees
    turned: int = 0  # degrees the page was turned to be upright
    dropped: int = 0  # boxes left out as a seal's text or noise

    @property
    def confidence(self) -> float | None:
        n = sum(len(ln.text) for ln in self.lines)
        return round(sum(ln.conf * len(ln.text) for ln in self.lines) / n, 4) if n else None


# ---------------------------------------------------------------- engine

_ENGINE = None


def rapidocr_problem() -> str | None:
    """None when RapidOCR and its bundled models are installed, else what to do."""
    try:
        import onnxruntime  # noqa: F401
        import rapidocr
    except ImportError as e:
        return f"for --ocr install rapidocr and onnxruntime: pip install 'replyparse[ocr]' ({e.name} is missing)"
    root = Path(rapidocr.__file__).parent / "models"
    missing = [n for n in _BUNDLED.values() if not (root / n).is_file()]
    if missing:
        return (f"the installed rapidocr has no bundled model {missing[0]} (replyparse never downloads models): "
                f"pip install 'rapidocr>=3.10,<4'")
    return None


def _rapid():
    """One RapidOCR per process (workers are processes): bundled models by path, one thread."""
    global _ENGINE
    if _ENGINE is None:
        problem = rapidocr_problem()
        if problem:
            raise OcrUnavailable(problem)
        configure_threads()
        import rapidocr
        from rapidocr import RapidOCR

        root = Path(rapidocr.__file__).parent / "models"
        _ENGINE = RapidOCR(params={
            "Global.log_level": "error",
            "Global.use_cls": False,
            "Global.max_side_len": 4000,
            "Det.model_path": str(root / _BUNDLED["det"]),
            "Rec.model_path": str(root / _BUNDLED["rec"]),
            "Cls.model_path": str(root / _BUNDLED["cls"]),
            "Rec.rec_batch_num": 1,  # one line at a time: no padding to the widest line of a batch (fastest on one thread)
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        })
    return _ENGINE


# ---------------------------------------------------------------- page images

def page_images(path: Path, pages: list[int] | None = None, dpi: int = SCAN_DPI):
    """The pages of a scan as PIL images (RGB or L): a PDF's pages rendered at ``dpi`` (only
    ``pages``, 0-based, when given), every frame of a (multi-page) TIFF, or the image itself."""
    from PIL import Image, ImageSequence

    with open(path, "rb") as f:
        head = f.read(5)
    if path.suffix.lower() == ".pdf" or head == b"%PDF-":
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(path))
        try:
            for i in (pages if pages is not None else range(len(pdf))):
                page = pdf[i]
                yield page.render(scale=dpi / 72).to_pil()
                page.close()
        finally:
            pdf.close()
        return
    with Image.open(path) as im:
        for i, fr in enumerate(ImageSequence.Iterator(im)):
            if pages is None or i in pages:
                yield fr.convert("RGB") if fr.mode not in ("L", "RGB") else fr.copy()


def _gray(img):
    """A page as a 3-channel uint8 array with red ink (seals, red letterheads' stamps) dropped out."""
    import numpy as np

    a = np.asarray(img)
    if a.ndim == 2:
        g = a
    else:
        a = a[..., :3].astype(np.int16)
        r, gr, b = a[..., 0], a[..., 1], a[..., 2]
        red = (r > 110) & (r - np.maximum(gr, b) > 50)
        if red.sum() > 100:
            # the red channel shows red ink about as light as paper and black ink as black; the
            # levels stretched so that red ink (R ≈ 200) becomes paper
            g = np.clip(r * (255.0 / 185.0), 0, 255).astype(np.uint8)
        else:
            g = (0.299 * r + 0.587 * gr + 0.114 * b).astype(np.uint8)
    return np.ascontiguousarray(np.stack([g, g, g], axis=-1).astype(np.uint8))


def _detect(img, eng):
    """Text boxes (4 corner points each, in ``img`` pixels) found on a copy at most DET_MAX_SIDE."""
    import cv2
    import numpy as np

    h, w = img.shape[:2]
    s = min(1.0, DET_MAX_SIDE / max(h, w))
    small = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA) if s < 1 else img
    res = eng(small, use_det=True, use_cls=False, use_rec=False)
    boxes = getattr(res, "boxes", None)
    if boxes is None or len(boxes) == 0:
        return []
    return [np.asarray(b, dtype=np.float32) / s for b in boxes]


def _slant(b) -> float:
    return math.degrees(math.atan2(b[1][1] - b[0][1], b[1][0] - b[0][0]))


def _box_wh(b) -> tuple[float, float]:
    import numpy as np

    return float(np.linalg.norm(b[0] - b[1])), float(np.linalg.norm(b[0] - b[3]))


def _crop(img, b):
    from rapidocr.utils.process_img import get_rotate_crop_image

    return get_rotate_crop_image(img, b.copy())


def _upright(img, eng):
    """The page turned upright (0/90/180/270) and its boxes: sideways when most boxes are taller
    than wide, upside down when the text-direction classifier says so for most long lines."""
    import cv2

    turned = 0
    boxes = _detect(img, eng)
    sizes = [_box_wh(b) for b in boxes]
    long_ = [(w, h) for w, h in sizes if max(w, h) > 3 * min(w, h)]
    if long_ and sum(h > w for w, h in long_) > len(long_) / 2:
        img = cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
        turned = 90
        boxes = _detect(img, eng)
    wide = sorted((b for b in boxes if _box_wh(b)[0] > 4 * _box_wh(b)[1]), key=lambda b: -_box_wh(b)[0])[:8]
    if wide:
        cls = eng._load_cls_model()
        res = cls([_crop(img, b) for b in wide])
        flipped = sum(1 for label, score in res.cls_res if "180" in label and score > 0.9)
        if flipped > len(wide) / 2:
            img = cv2.rotate(img, cv2.ROTATE_180)
            turned = (turned + 180) % 360
            boxes = _detect(img, eng)
    return img, boxes, turned


def read_page_rapidocr(image) -> OcrPage:
    """One page image → its lines in reading order, with confidences."""
    import numpy as np
    from rapidocr.ch_ppocr_rec import TextRecInput

    eng = _rapid()
    img = _gray(image)
    img, boxes, turned = _upright(img, eng)
    H, W = img.shape[:2]
    page = OcrPage(width=W, height=H, turned=turned)
    if not boxes:
        return page
    sizes = [_box_wh(b) for b in boxes]
    slants = [(_slant(b), w) for b, (w, h) in zip(boxes, sizes) if w > 6 * h]
    skew = statistics.median(a for a, _ in slants) if slants else 0.0
    page.skew = round(skew, 2)
    keep = []
    for b, (w, h) in zip(boxes, sizes):
        if w > 1.6 * h and abs(_slant(b) - skew) > STAMP_SLANT:
            page.dropped += 1  # an arc of a seal's text
            continue
        keep.append(b)
    if not keep:
        return page
    crops = [_crop(img, b) for b in keep]
    rec = eng._load_rec_model()(TextRecInput(img=crops, return_word_box=True))
    txts = [_spaced(t, w, c) for t, w, c in zip(rec.txts or (), rec.word_results or (), crops)]
    # deskew: rotate box corners about the page centre by -skew
    t = math.radians(-skew)
    c, s = math.cos(t), math.sin(t)
    cx, cy = W / 2, H / 2
    items = []
    for b, txt, sc in zip(keep, txts, rec.scores or ()):
        txt = (txt or "").strip()
        if not txt or sc < MIN_LINE_SCORE:
            page.dropped += bool(txt)
            continue
        pts = [((x - cx) * c - (y - cy) * s + cx, (x - cx) * s + (y - cy) * c + cy) for x, y in b]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        items.append(OcrLine(txt, float(sc), min(xs), max(xs), min(ys), max(ys)))
    page.lines = _rows(items)
    return page


_NO_SPACE_AFTER = set("，。、；：！？）》」』”’〕】…·")
_NO_SPACE_BEFORE = set("（《「『“‘〔【，。、；：！？）》」』”’")


def _spaced(text: str, words, crop) -> str:
    """The recogniser's text with the spaces the print has (提案委员 宋平, 2018-10-29 09:01): a run of
    blank columns in the line image wider than 0.4 of the glyph height between two characters.
    The recogniser drops most such spaces, and key–value lines need them."""
    import numpy as np

    cols = [c for wc in (getattr(words, "word_cols", None) or []) for c in wc]
    chars = [ch for ch in text if not ch.isspace()]
    if len(cols) != len(chars) or len(chars) < 2:
        return text
    ink = crop[..., 0] < 128 if crop.ndim == 3 else crop < 128
    rows = np.where(ink.sum(axis=1) >= 2)[0]
    if len(rows) == 0:
        return text
    glyph = rows[-1] - rows[0] + 1
    inked = ink.sum(axis=0) >= 2
    h, w = ink.shape
    steps = math.ceil(48 * max(w / h, 320 / 48) / 8)  # CTC columns: one per 8 px of the 48-px high input
    unit = max(w, h * 320 / 48) / steps  # crop pixels per column
    gaps, start = [], None
    for x, on in enumerate(inked):
        if not on and start is None:
            start = x
        elif on and start is not None:
            if x - start > 0.4 * glyph:
                gaps.append(((start + x) / 2, (x - start) / glyph))
            start = None
    if not gaps:
        return text
    out, gi = [chars[0]], 0
    centre = [(c + 0.5) * unit for c in cols]
    had_space = set()
    k = 0
    for i, ch in enumerate(text.strip()):
        if ch.isspace():
            had_space.add(k)
        else:
            k += 1
    for i in range(1, len(chars)):
        # a full-width mark (，。：) carries its own blank: a space after it is a wider gap still
        wide = 0.95 if chars[i - 1] in _NO_SPACE_AFTER else 0.0
        gap = any(centre[i - 1] < g < centre[i] and gw > wide for g, gw in gaps)
        # Word's gap between CJK and digits or Latin (2018 年, 第 71 号) is no space of the text
        mixed = (chars[i - 1].isascii() and chars[i - 1].isalnum()) != (chars[i].isascii() and chars[i].isalnum())
        if (gap or i in had_space and not wide) and not mixed and chars[i] not in _NO_SPACE_BEFORE:
            out.append(" ")
        out.append(chars[i])
    return "".join(out)


def _rows(items: list[OcrLine]) -> list[OcrLine]:
    """Boxes on one line (a seal, a signature or a wide gap splits a line into several) joined
    left to right; lines top to bottom."""
    if not items:
        return []
    hs = sorted(i.y1 - i.y0 for i in items)
    mh = hs[len(hs) // 2]
    items.sort(key=lambda i: (i.y0 + i.y1) / 2)
    rows: list[list[OcrLine]] = []
    for it in items:
        mid = (it.y0 + it.y1) / 2
        if rows:
            r = rows[-1]
            rmid = statistics.fmean((x.y0 + x.y1) / 2 for x in r)
            if abs(mid - rmid) < 0.45 * mh:
                r.append(it)
                continue
        rows.append([it])
    out = []
    for r in rows:
        r.sort(key=lambda i: i.x0)
        text, prev = r[0].text, r[0]
        for it in r[1:]:
            ch = max(1.0, (prev.x1 - prev.x0) / max(1.0, _width_chars(prev.text)))
            gap = it.x0 - prev.x1
            text += ("" if gap < 1.5 * ch else " ") + it.text
            prev = it
        n = sum(len(i.text) for i in r)
        out.append(OcrLine(text, sum(i.conf * len(i.text) for i in r) / n, min(i.x0 for i in r),
                           max(i.x1 for i in r), min(i.y0 for i in r), max(i.y1 for i in r)))
    return out


def _width_chars(t: str) -> float:
    """A text's width in CJK characters: digits, Latin and half-width punctuation are about half."""
    return sum(0.55 if ord(ch) < 0x2000 else 1.0 for ch in t) or 1.0


# ---------------------------------------------------------------- lines → page texts

def page_texts(pages: list[OcrPage], rules=None) -> tuple[list[str], dict[str, list[str]]]:
    """The pages' lines through the PDF reader's rules: running headers, footers and page
    numbers off, wrapped lines joined into paragraphs. Returns the page texts and the
    furniture found (页眉 / 页脚)."""
    from ..engine.rules import default_rules
    from .pdf import PdfLine, lay_out, layout_cues

    plines, heights = [], []
    for pno, pg in enumerate(pages, 1):
        if not pg.lines:
            plines.append([])
            heights.append(842.0)
            continue
        k = 595.0 / pg.width  # page pixels → A4 points, the units of the PDF reader's rules
        H = pg.height * k
        pitches = [(ln.x1 - ln.x0) * k / _width_chars(ln.text) for ln in pg.lines if len(ln.text) >= 8]
        body = statistics.median(pitches) if pitches else 12.0
        out = []
        prev = None
        for ln in pg.lines:
            if len(ln.text) >= 8:
                own = (ln.x1 - ln.x0) * k / _width_chars(ln.text)
                size = body if abs(own - body) < 0.18 * body else round(own, 1)
                if out and size != body and abs(size - out[-1].size) < 0.1 * size:
                    size = out[-1].size  # one size for the lines of a title: measured sizes scatter
            elif out and prev is not None and ln.y0 - prev.y1 < 0.8 * (prev.y1 - prev.y0):
                # a short line's width is mostly its box's padding: right under a line (the end
                # of a wrapped title or paragraph) it takes that line's size
                size = out[-1].size
            else:
                size = body
            # a glyph's box: the detector's box is padded by about a fifth of the line height
            pad = 0.18 * (ln.y1 - ln.y0)
            out.append(PdfLine(ln.text, ln.x0 * k, ln.x1 * k, H - (ln.y0 + pad) * k, H - (ln.y1 - pad) * k,
                             float(size), pno))
            prev = ln
        plines.append(out)
        heights.append(H)
    joined, headers, footers = lay_out(plines, heights, layout_cues(rules or default_rules()))
    meta = {}
    if headers:
        meta["页眉"] = headers
    if footers:
        meta["页脚"] = footers
    return ["\n".join(lines) for lines in joined], meta


# ---------------------------------------------------------------- repairs of OCR confusions

def repair(text: str, rules) -> tuple[str, list[tuple[str, str, str]]]:
    """Apply the ``ocr`` rule family (rules/ocr.yaml: a pattern and a replacement ``value``, a
    template with ``\\g<name>``) to an OCR text. Returns the text and (rule id, before, after)
    for each repair."""
    done = []
    for rule in rules:
        if rule.pattern is None or rule.value is None:
            continue

        def sub(m, rule=rule):
            new = m.expand(str(rule.value))
            if new != m.group(0):
                a, b = max(0, m.start() - 6), min(len(m.string), m.end() + 6)
                ctx = m.string[a:b].replace("\n", " ")
                done.append((rule.id, ctx, ctx[:m.start() - a] + new + ctx[m.end() - a:]))
            return new

        try:
            text = rule.pattern.sub(sub, text, timeout=0.5)
        except TimeoutError:
            continue
    return text, done


def repair_document(doc, ruleset) -> None:
    """Repair OCR confusions in the pages read by OCR (the ``ocr`` rule family), each repair a
    warning naming its rule: ``OCR repair ocr.docno_brackets (page 1): 【2020] → 〔2020〕``."""
    rules = ruleset.rules("ocr")
    if not rules:
        return
    for i, text in enumerate(doc.pages):
        if any(c is not None for c in doc.ocr_confidence) and doc.ocr_confidence[i] is None:
            continue  # a page of the PDF's own text layer (Tesseract gives no confidences)
        new, done = repair(text, rules)
        doc.pages[i] = new
        doc.ocr_low_lines = [(p, repair(t, rules)[0] if p == i + 1 else t, c) for p, t, c in doc.ocr_low_lines]
        for rid, before, after in done:
            doc.warnings.append(f"OCR repair {rid} (page {i + 1}): {before} → {after}")


# ---------------------------------------------------------------- a document

def ocr_pages(path: Path, pages: list[int] | None = None) -> list[OcrPage]:
    """Read the pages of a scan (``pages``: 0-based page numbers of a PDF, or all)."""
    return [read_page_rapidocr(im) for im in page_images(path, pages)]


def low_confidence_lines(pages: list[OcrPage]) -> list[tuple[int, str, float]]:
    return [(pno, ln.text, round(ln.conf, 3)) for pno, pg in enumerate(pages, 1) for ln in pg.lines
            if ln.conf < LOW_CONFIDENCE and len(ln.text) >= 2]


def annotate(records, doc) -> None:
    """Mark records read by OCR (``ocr``, ``ocr_confidence``) and warn about every value taken
    from a line read with low confidence."""
    if not getattr(doc, "ocr", False):
        return
    from ..text.normalize import normalise

    for rec in records:
        rec.ocr = True
        rec.ocr_confidence = list(doc.ocr_confidence)
        text = rec.text or ""
        spans = []
        for pno, line, conf in doc.ocr_low_lines:
            t = normalise(line).strip()
            if len(t) < 2:
                continue
            at = text.find(t)
            if at >= 0:
                spans.append((at, at + len(t), pno, conf))
        if not spans:
            continue
        hits = [(name, ev.start, ev.end) for name, ev in rec.evidence.items()]
        hits += [(f"amount {a.text}", a.start, a.end) for a in rec.amounts]
        for name, a, b in hits:
            for s, e, pno, conf in spans:
                if a < e and s < b:
                    rec.warnings.append(f"OCR: {name} comes from a line read with low confidence "
                                        f"({conf:.2f}, page {pno}): check it against the scan")
                    break


def configure_threads() -> None:
    """onnxruntime and OpenCV on one thread in this process (workers are processes)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:
        pass
