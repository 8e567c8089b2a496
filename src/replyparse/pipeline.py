"""The stages joined: read → normalise → segment → extract → record."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import regex

from . import actions as actions_mod
from . import amounts as amounts_mod
from .classify import classify
from .extract import extract_fields
from .normalize import normalise
from .read import SUPPORTED_EXTS, Document, read_file
from .record import Record
from .rules import RuleSet, default_rules
from .segment import segment


def _totals(amounts, role):
    vals = [a.value_yuan for a in amounts if a.role == role and a.part_of is None]
    if not vals:
        return None
    total = sum(vals)
    return int(total) if float(total).is_integer() else round(total, 2)


_CUT = regex.compile(r"[。！？!?）)\]】”\"]\s*$")


def build_record(text: str, source: str, ruleset: RuleSet, page_starts: list[int] | None = None) -> Record:
    """Extract a record from already-normalised text."""
    rec = Record(source=source, text=text)
    seg = segment(text, ruleset)
    values, evidence, warnings = extract_fields(text, seg, ruleset)
    for k, v in values.items():
        if hasattr(rec, k):
            setattr(rec, k, v)
    rec.evidence = evidence
    rec.warnings.extend(warnings)
    is_letter, reason = classify(text, seg, values, ruleset)
    rec.is_reply_letter = is_letter
    if not is_letter:
        rec.status = "not_letter"
        rec.warnings.append(f"not a reply letter: {reason}")
        rec.clear_letter_fields()
        return rec
    rec.amounts = amounts_mod.extract_amounts(text, seg, ruleset)
    rec.actions = actions_mod.extract_actions(text, seg, ruleset)
    rec.requested_total_yuan = _totals(rec.amounts, "requested")
    rec.allocated_total_yuan = _totals(rec.amounts, "allocated")
    if not seg.spans.get("signature") and rec.date is None and not _CUT.search(text):
        rec.warnings.append("text looks cut off: no signature or date, last line unfinished")
    if page_starts:
        _set_pages(rec, page_starts)
    return rec


def _set_pages(rec: Record, page_starts: list[int]) -> None:
    import bisect

    def page(pos):
        return bisect.bisect_right(page_starts, pos)  # 1-based

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


def parse_document(doc: Document, rules: RuleSet | None = None) -> list[Record]:
    ruleset = rules or default_rules()
    if doc.status != "ok":
        rec = Record(source=doc.path, status=doc.status, reason=doc.reason, format=doc.format,
                     encoding=doc.encoding, warnings=list(doc.warnings), page_meta=doc.page_meta)
        return [rec]
    text, spans = normalise_pages(doc.pages)
    if not text.strip():
        return [Record(source=doc.path, status="error", reason="no text in file", format=doc.format,
                       encoding=doc.encoding, warnings=list(doc.warnings))]
    rec = build_record(text, doc.path, ruleset, [s[0] for s in spans] if len(spans) > 1 else None)
    rec.format, rec.encoding, rec.page_meta = doc.format, doc.encoding, doc.page_meta
    rec.pages = spans
    rec.warnings = list(doc.warnings) + rec.warnings
    return [rec]


def parse_file(path: str | Path, rules: RuleSet | None = None) -> list[Record]:
    """Parse one file; always returns at least one record (an error record for bad input)."""
    return parse_document(read_file(path), rules)


def iter_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and supported files under folders (recursive, sorted, no link loops)."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            yield from _walk(p)
        else:
            yield p


def _walk(root: Path) -> Iterator[Path]:
    import os

    seen = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            dirnames[:] = []
            continue
        seen.add(key)
        dirnames.sort()
        for name in sorted(filenames):
            if Path(name).suffix.lower() in SUPPORTED_EXTS:
                yield Path(dirpath) / name


def parse_paths(paths: Iterable[str | Path], rules: RuleSet | None = None) -> Iterator[Record]:
    ruleset = rules or default_rules()
    for p in iter_paths(paths):
        yield from parse_file(p, ruleset)
