"""The stages joined: read → normalise → segment → extract → record."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import regex

from .extract import actions as actions_mod
from .extract import roles as amounts_mod
from .extract.classify import classify
from .extract.header import extract_fields
from .text.normalize import mojibake_warning, normalise, text_problem
from .readers.document import Document
from .readers import read_file
from .record import NOT_LETTER_WARNING, Record
from .engine.rules import RuleSet, bounded, default_rules
from .extract.segment import segment, split_lines
from .extract.split_letters import split_letters
from .run.walk import display_path, iter_paths
from .status import Reason, Status


def _totals(amounts, role):
    vals = [a.value_yuan for a in amounts if a.role == role
            and (a.part_of is None or amounts[a.part_of].role != role)]  # a funded part of an `other` total counts
    if not vals:
        return None
    total = sum(vals)
    return int(total) if float(total).is_integer() else round(total, 2)


# Bytes that decoded "successfully" into control characters, private-use or replacement
# characters are binary data; well-known mojibake sequences mean a wrong decoding upstream.
_CUT = regex.compile(r"[。！？!?）)\]】”\"]\s*$")


def build_record(text: str, source: str, ruleset: RuleSet, page_starts: list[int] | None = None,
                 first_page: int = 1, lines=None) -> Record:
    """Extract a record from already-normalised text (``lines``: its ``split_lines`` if known)."""
    rec = Record(source=source, text=text)
    seg = segment(text, ruleset, lines)
    present = ruleset.literals_in(text)  # the rule words of the letter: one pass, for header and actions
    values, evidence, warnings = extract_fields(text, seg, ruleset, present=present)
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
        rec.status, rec.reason_code, rec.reason = Status.NOT_LETTER, Reason.NOT_LETTER, NOT_LETTER_WARNING + reason
        rec.warnings.append(rec.reason)
        rec.clear_letter_fields()
        return rec
    rec.amounts = amounts_mod.extract_amounts(text, seg, ruleset, warnings=rec.warnings, fields=values,
                                               present=present)
    rec.actions = actions_mod.extract_actions(text, seg, ruleset, amounts=rec.amounts, present=present)
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
    return bounded(build_record, norm, source, rules or default_rules())


_PAGE_DOCNUM = regex.compile(r"(?P<prefix>\p{Han}[\p{Han}\w]{0,15}?)\s*[〔\[【(（［]\s*(?P<year>(?:19|20)\d{2})\s*[〕\]】)）］]"
                             r"\s*(?P<serial>\d{1,5})\s*号")


def _fill_from_page_meta(rec: Record, meta: dict[str, str]) -> None:
    """A web page's own metadata (发布机构, 文号) fills issuer / doc_number only where the letter
    itself lacks them; the evidence names the page, not a text span."""
    from .extract.header import canonical_doc_number
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
    """The records of a read document: one per letter it holds (an archive's 答复汇编 gives several),
    or one record saying why there is none (``status`` and ``reason_code``: a scan, mojibake, not a
    reply letter …). Text read by OCR is repaired first (``rules/ocr.yaml``) and its records say
    which values stand on doubtful lines."""
    ruleset = rules or default_rules()
    if not getattr(doc, "ocr", False):
        return bounded(_parse_document, doc, ruleset)  # one time limit for the letter (rules.bounded)
    from .readers.ocr import annotate, repair_document

    repair_document(doc, ruleset)  # OCR confusions (rules/ocr.yaml), each repair a warning
    recs = bounded(_parse_document, doc, ruleset)
    annotate(recs, doc)  # ocr, ocr_confidence, warnings on values from low-confidence lines
    return recs


def _parse_document(doc: Document, ruleset: RuleSet) -> list[Record]:
    doc.path = display_path(doc.path)
    if doc.status != Status.OK:
        rec = Record(source=doc.path, status=doc.status, reason=doc.reason, reason_code=doc.reason_code,
                     format=doc.format, encoding=doc.encoding, warnings=list(doc.warnings), page_meta=doc.page_meta)
        return [rec]
    text, spans = normalise_pages(doc.pages)
    garbled = mojibake_warning(text)
    problem = None if garbled else text_problem(text)
    if problem:
        code, reason = problem
        return [Record(source=doc.path, status=Status.ERROR, reason=reason, reason_code=code, format=doc.format,
                       encoding=doc.encoding, warnings=list(doc.warnings))]
    if garbled:
        # wrong-codec text gives wrong fields; say so instead of guessing
        return [Record(source=doc.path, status=Status.ERROR, reason=garbled, reason_code=Reason.MOJIBAKE,
                       format=doc.format, encoding=doc.encoding, warnings=list(doc.warnings) + [garbled], text=text,
                       pages=spans)]
    lines = split_lines(text, ruleset)  # once, for split_letters and, for a file of one letter, segment
    chunks = split_letters(text, ruleset, lines)
    if len(chunks) > 1:
        recs = [_chunk_record(text[a:b], f"{doc.path}#{n}", ruleset, spans, a, b)
                for n, (a, b) in enumerate(chunks, 1)]
        if sum(r.is_reply_letter for r in recs) >= 2:
            for r in recs:
                r.format, r.encoding, r.page_meta = doc.format, doc.encoding, doc.page_meta
                r.warnings = list(doc.warnings) + r.warnings
            return recs
    rec = build_record(text, doc.path, ruleset, [s[0] for s in spans] if len(spans) > 1 else None, lines=lines)
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
    With ``ocr`` (True, or the engine's name), a scan is read by OCR instead of coming back
    ``needs_ocr``."""
    ruleset = rules or default_rules()
    return parse_document(read_file(path, ocr=ocr, rules=ruleset), ruleset)


def parse_paths(paths: Iterable[str | Path], rules: RuleSet | None = None, ocr: bool = False) -> Iterator[Record]:
    """The records of files and folders (walked recursively, sorted), one file after another in
    this process; for bulk runs with workers, timeouts and a cache use ``run.runner.run``."""
    ruleset = rules or default_rules()
    for p in iter_paths(paths):
        yield from parse_file(p, ruleset, ocr=ocr)
