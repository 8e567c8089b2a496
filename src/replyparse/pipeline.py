"""The stages joined: read → normalise → segment → extract → record."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import regex

from . import actions as actions_mod
from . import amounts as amounts_mod
from .classify import classify
from .extract import extract_fields
from .normalize import normalise
from .read import SUPPORTED_EXTS, Document, read_file
from .record import NOT_LETTER_WARNING, Record
from .rules import RuleSet, default_rules
from .segment import segment, split_letters


def _totals(amounts, role):
    vals = [a.value_yuan for a in amounts if a.role == role
            and (a.part_of is None or amounts[a.part_of].role != role)]  # a funded part of an `other` total counts
    if not vals:
        return None
    total = sum(vals)
    return int(total) if float(total).is_integer() else round(total, 2)


# Bytes that decoded "successfully" into control characters, private-use or replacement
# characters are binary data; well-known mojibake sequences mean a wrong decoding upstream.
_BINARY_CHARS = regex.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\p{Co}\p{Cs}]")
_MOJIBAKE = regex.compile(r"锟斤拷|烫烫烫|屯屯屯|[ÃÂâäåæçèé][\x80-\xbf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ¡-¿]|[À-ÿ]{3,}")
# The most frequent Chinese characters make up a third or more of any real letter's Han
# characters; text decoded with the wrong CJK codec is made of rare ones (鍏充簬绗).
_COMMON_HAN = frozenset(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方"
    "后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它"
    "合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条"
    "只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资"
    "边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研")
_HAN = regex.compile(r"\p{Han}")
_COMMON_HAN_RE = regex.compile("[" + "".join(sorted(_COMMON_HAN)) + "]")


def text_problem(text: str) -> str | None:
    """Why this decoded text is not a letter's text at all, or None."""
    if not text.strip():
        return "no text in file"
    sample = text[:20000]
    bad = len(_BINARY_CHARS.findall(sample))
    if bad > max(8, len(sample) * 0.02):
        return f"binary data, not text ({bad} control or undecodable characters in the first {len(sample)})"
    return None


def mojibake_warning(text: str) -> str | None:
    sample = text[:20000]
    hits = _MOJIBAKE.findall(sample)
    if len(hits) >= 3:
        return f"text looks mis-decoded (mojibake such as {hits[0]!r}); fields may be missing"
    han = len(_HAN.findall(sample))
    if han >= 100 and len(_COMMON_HAN_RE.findall(sample)) / han < 0.12:
        return "text looks mis-decoded (almost no common Chinese characters: a wrong codec upstream?)"
    return None


_CUT = regex.compile(r"[。！？!?）)\]】”\"]\s*$")


def build_record(text: str, source: str, ruleset: RuleSet, page_starts: list[int] | None = None,
                 first_page: int = 1) -> Record:
    """Extract a record from already-normalised text."""
    rec = Record(source=source, text=text)
    seg = segment(text, ruleset)
    values, evidence, warnings = extract_fields(text, seg, ruleset)
    for f in ruleset.extra_fields:  # fields a rule file declares: in the record even when not found
        rec.extra[f.name] = None
    for k, v in values.items():
        if k in rec.extra:
            rec.extra[k] = v
        elif hasattr(rec, k):
            setattr(rec, k, v)
    rec.evidence = evidence
    rec.warnings.extend(warnings)
    is_letter, reason = classify(text, seg, values, ruleset)
    rec.is_reply_letter = is_letter
    if not is_letter:
        rec.status = "not_letter"
        rec.warnings.append(NOT_LETTER_WARNING + reason)
        rec.clear_letter_fields()
        return rec
    rec.amounts = amounts_mod.extract_amounts(text, seg, ruleset, warnings=rec.warnings)
    rec.actions = actions_mod.extract_actions(text, seg, ruleset, amounts=rec.amounts)
    rec.requested_total_yuan = _totals(rec.amounts, "requested")
    rec.allocated_total_yuan = _totals(rec.amounts, "allocated")
    if not seg.spans.get("signature") and rec.date is None and not _CUT.search(text):
        rec.warnings.append("text looks cut off: no signature or date, last line unfinished")
    if page_starts:
        _set_pages(rec, page_starts, first_page)
    return rec


def _set_pages(rec: Record, page_starts: list[int], first_page: int = 1) -> None:
    import bisect

    def page(pos):
        return bisect.bisect_right(page_starts, pos) + first_page - 1  # 1-based

    for a in rec.amounts:
        a.page = page(a.start)
    for a in rec.actions:
        a.page = page(a.start)
    for ev in rec.evidence.values():
        ev.page = page(ev.start)


def normalise_pages(pages: list[str]) -> tuple[str, list[list[int]]]:
    """Normalise each page and join them; return the text and each page's [start, end]."""
    parts, spans, pos = [], [], 0
    for p in pages:
        t = normalise(p)
        if parts:
            pos += 1
        spans.append([pos, pos + len(t)])
        parts.append(t)
        pos += len(t)
    return "\n".join(parts), spans


def parse_text(text: str, source: str = "<text>", rules: RuleSet | None = None) -> Record:
    """Parse one letter given as text."""
    norm = normalise(text)
    return build_record(norm, source, rules or default_rules())


def display_path(path: str | Path) -> str:
    """The path as text that can be written out: a file name in GBK bytes (common on archives
    copied from Windows) is shown decoded instead of as undecodable surrogates."""
    s = str(path)
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        raw = os.fsencode(s)
        for codec in ("gb18030", "big5"):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                continue
        return raw.decode("utf-8", "replace")


_PAGE_DOCNUM = regex.compile(r"(?P<prefix>\p{Han}[\p{Han}\w]{0,15}?)\s*[〔\[【(（［]\s*(?P<year>(?:19|20)\d{2})\s*[〕\]】)）］]"
                             r"\s*(?P<serial>\d{1,5})\s*号")


def _fill_from_page_meta(rec: Record, meta: dict[str, str]) -> None:
    """A web page's own metadata (发布机构, 文号) fills issuer / doc_number only where the letter
    itself lacks them; the evidence names the page, not a text span."""
    from .extract import canonical_doc_number
    from .record import Evidence

    if not meta or not rec.is_reply_letter:
        return
    issuer = (meta.get("发布机构") or "").strip()
    if rec.issuer is None and issuer and 2 <= len(issuer) <= 40 and regex.fullmatch(r"[\p{Han}（）()]+", issuer):
        rec.issuer = issuer
        rec.evidence["issuer"] = Evidence(rule="page_meta.issuer", start=0, end=0)
    m = _PAGE_DOCNUM.search(meta.get("文号") or "")
    if rec.doc_number is None and m:
        rec.doc_number = canonical_doc_number(m.group(0), m)
        rec.evidence["doc_number"] = Evidence(rule="page_meta.doc_number", start=0, end=0)


def parse_document(doc: Document, rules: RuleSet | None = None) -> list[Record]:
    ruleset = rules or default_rules()
    if not getattr(doc, "ocr", False):
        return _parse_document(doc, ruleset)
    from .ocr import annotate, repair_document

    repair_document(doc, ruleset)  # OCR confusions (rules/ocr.yaml), each repair a warning
    recs = _parse_document(doc, ruleset)
    annotate(recs, doc)  # ocr, ocr_confidence, warnings on values from low-confidence lines
    return recs


def _parse_document(doc: Document, ruleset: RuleSet) -> list[Record]:
    doc.path = display_path(doc.path)
    if doc.status != "ok":
        rec = Record(source=doc.path, status=doc.status, reason=doc.reason, format=doc.format,
                     encoding=doc.encoding, warnings=list(doc.warnings), page_meta=doc.page_meta)
        return [rec]
    text, spans = normalise_pages(doc.pages)
    garbled = mojibake_warning(text)
    problem = None if garbled else text_problem(text)
    if problem:
        return [Record(source=doc.path, status="error", reason=problem, format=doc.format,
                       encoding=doc.encoding, warnings=list(doc.warnings))]
    if garbled:
        # wrong-codec text gives wrong fields; say so instead of guessing
        return [Record(source=doc.path, status="error", reason=garbled, format=doc.format, encoding=doc.encoding,
                       warnings=list(doc.warnings) + [garbled], text=text, pages=spans)]
    chunks = split_letters(text, ruleset)
    if len(chunks) > 1:
        recs = [_chunk_record(text[a:b], f"{doc.path}#{n}", ruleset, spans, a, b)
                for n, (a, b) in enumerate(chunks, 1)]
        if sum(r.is_reply_letter for r in recs) >= 2:
            for r in recs:
                r.format, r.encoding, r.page_meta = doc.format, doc.encoding, doc.page_meta
                r.warnings = list(doc.warnings) + r.warnings
            return recs
    rec = build_record(text, doc.path, ruleset, [s[0] for s in spans] if len(spans) > 1 else None)
    rec.format, rec.encoding, rec.page_meta = doc.format, doc.encoding, doc.page_meta
    _fill_from_page_meta(rec, doc.page_meta)
    rec.pages = spans
    rec.warnings = list(doc.warnings) + rec.warnings
    return [rec]


def _chunk_record(text: str, source: str, ruleset: RuleSet, spans: list[list[int]], a: int, b: int) -> Record:
    """One letter of a file that holds several: offsets are the letter's own, page numbers the file's."""
    pages = [(i, max(s, a) - a, min(e, b) - a) for i, (s, e) in enumerate(spans, 1) if e > a and s < b] or [(1, 0, b - a)]
    rec = build_record(text, source, ruleset, [p[1] for p in pages] if len(spans) > 1 else None,
                       first_page=pages[0][0])
    rec.pages = [[s, e] for _, s, e in pages]
    return rec


def parse_file(path: str | Path, rules: RuleSet | None = None, ocr: bool = False) -> list[Record]:
    """Parse one file; always returns at least one record (an error record for bad input).
    With ``ocr``, a scanned PDF is read by Tesseract instead of coming back ``needs_ocr``."""
    return parse_document(read_file(path, ocr=ocr), rules)


MAX_INPUT_BYTES = 1 << 30  # a compiled PDF of a year's replies is far less; a bigger file is not hashed or read


@dataclass(frozen=True)
class Problem:
    """Why a file met on the command line or in a folder is not read: ``skipped`` or ``error``."""
    status: str
    reason: str


def input_problem(path: str | Path) -> Problem | None:
    """None for a regular file replyparse may open; else why not. Checked before a file is hashed
    or opened, so a named pipe never blocks a run and a 20 GB file is never read."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Problem("error", "no such file")
    except PermissionError:
        return Problem("error", "permission denied")
    except OSError as e:  # a name past the OS limit, a symlink loop, an I/O error
        return Problem("error", f"cannot read: {e.strerror or e}")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a named pipe" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a file")
        return Problem("error", f"not a regular file ({kind})")
    if st.st_size > MAX_INPUT_BYTES:
        return Problem("error", f"file too large: {st.st_size} bytes (limit {MAX_INPUT_BYTES})")
    return None


def iter_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and supported files under folders (recursive, sorted, no link loops)."""
    for p, problem in iter_inputs(paths):
        if problem is None:
            yield p


def iter_inputs(paths: Iterable[str | Path]) -> Iterator[tuple[Path, Problem | None]]:
    """Every path met, in order: (path, None) for a file to read — named directly, or under a folder
    with an extension replyparse reads — and (path, Problem) for one that is not read: a file under a
    folder in a format replyparse does not read (``skipped``), a folder that cannot be listed, a path
    that does not exist, a named pipe or device, a file past the size limit (``error``)."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for fp, problem in _walk(p):
                if problem is None and fp.suffix.lower() not in SUPPORTED_EXTS:
                    ext = fp.suffix.lower()
                    problem = Problem("skipped", f"not a format replyparse reads ({ext or 'no extension'})")
                yield fp, problem or input_problem(fp)
        else:
            yield p, input_problem(p)


def _walk(root: Path) -> Iterator[tuple[Path, Problem | None]]:
    """Files under ``root``, sorted, each folder once (symlink loops), with a Problem for each
    folder that cannot be listed (permission, a path past the OS limit) instead of silence."""
    seen = set()
    unlisted: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=unlisted.append):
        while unlisted:
            e = unlisted.pop(0)
            yield Path(e.filename or dirpath), Problem("error", f"cannot list folder: {e.strerror or e}")
        try:
            st = os.stat(dirpath)
        except OSError as e:
            yield Path(dirpath), Problem("error", f"cannot list folder: {e.strerror or e}")
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            dirnames[:] = []
            continue
        seen.add(key)
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name, None
    for e in unlisted:
        yield Path(e.filename or root), Problem("error", f"cannot list folder: {e.strerror or e}")


def parse_paths(paths: Iterable[str | Path], rules: RuleSet | None = None, ocr: bool = False) -> Iterator[Record]:
    ruleset = rules or default_rules()
    for p in iter_paths(paths):
        yield from parse_file(p, ruleset, ocr=ocr)
