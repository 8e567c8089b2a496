"""Split a normalised letter into its parts: page metadata, header, title, salutation, body
(with numbered points), signature, contact line and 抄送.

The line patterns that recognise each part live in ``rules/segment.yaml``; this module
only decides where the parts begin and end.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import regex

from ..engine.rules import RuleSet, finditer, match, search

SEGMENTS = ("meta", "head", "header", "title", "salutation", "body", "signature", "contact", "cc")


@dataclass
class Line:
    start: int
    end: int
    text: str
    # what each field's rules (a LineRules, one object per rule set) found on this line, so that
    # split_letters and segment, which both ask for the addressee lines, match each line once
    hits: dict = field(default_factory=dict, repr=False, compare=False)


@dataclass
class Point:
    """A numbered point of the body (一、 / （一） / 1、 / 一是)."""
    label: str
    start: int
    end: int
    rule: str


@dataclass
class Segments:
    text: str
    spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    points: list[Point] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    title_lines: list[Line] = field(default_factory=list)
    salutation_rule: str | None = None
    _cache: dict = field(default_factory=dict, repr=False)
    timeouts: list[str] = field(default_factory=list)
    # what later stages derive from the whole letter once and share (roles' and actions' proposal zones)
    derived: dict = field(default_factory=dict, repr=False)

    def add(self, name: str, start: int, end: int) -> None:
        self._cache.clear()
        if end > start:
            self.spans.setdefault(name, []).append((start, end))

    def get(self, names: tuple[str, ...]) -> list[tuple[int, int]]:
        cached = self._cache.get(names)
        if cached is None:
            cached = self._cache[names] = self._spans_of(names)
        return cached

    def _spans_of(self, names: tuple[str, ...]) -> list[tuple[int, int]]:
        if "any" in names:
            return [(0, len(self.text))]
        out = []
        for n in names:
            out.extend(self.spans.get(n, []))
        out.sort()
        # overlapping parts (head overlaps header and body) are scanned once
        merged: list[tuple[int, int]] = []
        for a, b in out:
            if merged and a < merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return merged

    def first(self, name: str) -> tuple[int, int] | None:
        s = self.spans.get(name)
        return s[0] if s else None

    def of(self, pos: int) -> str:
        """The narrowest named segment holding ``pos``."""
        for name in ("title", "salutation", "contact", "cc", "signature", "meta", "header", "body"):
            for a, b in self.spans.get(name, []):
                if a <= pos < b:
                    return name
        return "body"


LONG_LINE = 120  # a physical line this long is a web page's paragraphs run together


def split_lines(text: str, ruleset: RuleSet | None = None) -> list[Line]:
    """Logical lines: physical lines, with long ones cut where the ``split`` rules say a
    line break was lost (web pages and PDFs often run a whole letter into one line)."""
    cutters = [r.pattern for r in ruleset.of_kind("segment") if r.field == "split"] if ruleset else []
    lines, pos = [], 0
    for raw in text.split("\n"):
        if len(raw) > LONG_LINE and cutters:
            cuts = sorted({(m.start(), m.end()) for c in cutters for m in finditer(c, raw)})
            start = 0
            for a, b in cuts:
                if a < start:
                    continue
                if a > start:
                    lines.append(Line(pos + start, pos + a, raw[start:a]))
                start = b
            if start < len(raw):
                lines.append(Line(pos + start, pos + len(raw), raw[start:]))
        else:
            lines.append(Line(pos, pos + len(raw), raw))
        pos += len(raw) + 1
    return lines


class LineRules(list):
    """The rules of one segment field, in priority order, with a gate: one regex of all the
    literals its rules need (prefilter.py), so that a line holding none of them (most lines, for
    most fields) is passed over in one call instead of one call per rule."""
    gate = None  # None: some rule has no literal guarantee, every line is tried rule by rule


def _gate(rules: list):
    lits = set()
    for r in rules:
        if r.pattern is None:
            continue  # never matches
        if not getattr(r.pattern, "literals", None):
            return None
        lits.update(r.pattern.literals)
    if not lits:
        return None
    return regex.compile("|".join(regex.escape(lit) for lit in sorted(lits, key=lambda x: (-len(x), x))))


def match_line(rules, line: Line):
    """The first of ``rules`` that matches the line, or None; remembered on the line for a
    field's own rule list (a ``LineRules``: a list made on the fly may reuse a freed list's id)."""
    if type(rules) is LineRules:
        key = id(rules)
        hits = line.hits
        if key in hits:
            return hits[key]
        hits[key] = found = _first_match(rules, line.text)
        return found
    return _first_match(rules, line.text)


def _first_match(rules, text: str):
    gate = getattr(rules, "gate", None)
    if gate is not None and gate.search(text) is None:
        return None
    for r in rules:
        if r.pattern is not None and search(r.pattern, text):
            return r
    return None


def find_title(lines: list[Line], rules: dict, stop: int, have_salutation: bool) -> list[Line]:
    """The reply's title: the title-like line nearest above the salutation (web pages repeat
    the title in their metadata higher up), joined with the line(s) it wraps from."""
    full, ends, starts = rules.get("title", []), rules.get("title_end", []), rules.get("title_start", [])
    tops, tails = rules.get("title_top", []), rules.get("title_tail", [])
    order = range(stop - 1, -1, -1) if have_salutation else range(0, stop)
    for i in order:
        ln = lines[i]
        if not ln.text.strip() or match_line(rules.get("meta", []), ln):
            continue
        alone = match_line(full, ln)
        if alone or match_line(ends, ln):
            # a wrapped title: join upward over at most two short non-empty lines that do not
            # end a title themselves (a blank line may sit in between); keep the longest that reads as one
            group, best = [ln], ([ln] if alone else None)
            k = i - 1
            while k >= 0 and len(group) < 3:
                t = lines[k].text.strip()
                if not t:
                    k -= 1
                    continue
                ends_title = match_line(ends, lines[k]) and not match_line(tails, group[0])
                if len(t) > 60 or ends_title or match_line(rules.get("meta", []), lines[k]) \
                        or match_line(rules.get("salutation", []), lines[k]) or t[-1] in "。：:；":
                    break
                group.insert(0, lines[k])
                if match_line(tops, lines[k]):
                    probe = Line(group[0].start, group[-1].end, "".join(x.text.strip() for x in group))
                    if match_line(full, probe):
                        best = list(group)
                    break
                k -= 1
            if best:
                return best
    if not have_salutation:
        for i in range(stop):
            if match_line(starts, lines[i]) and not match_line(rules.get("meta", []), lines[i]):
                return [lines[i]]
    return []


def segment(text: str, ruleset: RuleSet, lines: list[Line] | None = None) -> Segments:
    """The parts of one letter's normalised ``text`` as spans (``Segments``): page metadata, the
    header above the title, the title, the salutation, the body with its numbered points, the
    signature, contact and 抄送 lines, each found by the ``segment`` rules line by line; ``lines``:
    its ``split_lines``, when the caller has them already."""
    seg = Segments(text=text)
    seg.lines = lines = split_lines(text, ruleset) if lines is None else lines
    rules = rules_by_field(ruleset)
    _mark_anywhere_lines(seg, lines, rules)
    sal_idx = _mark_salutation(seg, lines, rules)
    seg.title_lines = find_title(lines, rules, sal_idx if sal_idx is not None else min(len(lines), 40),
                                  sal_idx is not None)
    if seg.title_lines:
        seg.add("title", seg.title_lines[0].start, seg.title_lines[-1].end)
    head_end = _mark_header(seg, lines, sal_idx)
    body_start, body_end = _mark_body_and_signature(seg, lines, rules, sal_idx, head_end)
    _mark_points(seg, lines, rules, body_start, body_end)
    return seg


def _mark_anywhere_lines(seg: Segments, lines: list[Line], rules: dict) -> None:
    """Contact, 抄送 and page metadata lines, which can stand anywhere. A contact line under a
    site's footer is the site's; a label whose value a web page's run-on line put on the next
    logical line (联系单位及电话:某局 | 5550123) takes that line with it."""
    text, n, prev = seg.text, len(lines), None
    for i, ln in enumerate(lines):
        if match_line(rules.get("contact", []), ln) and not (prev and match_line(rules.get("footer", []), prev)):
            end = ln.end
            nxt = lines[i + 1] if i + 1 < n else None
            if nxt and nxt.start <= ln.end + 1 and not _DIGITS.search(ln.text) and _DIGITS.search(nxt.text) \
                    and len(nxt.text.strip()) <= 30 and "\n" not in text[ln.end:nxt.start]:
                end = nxt.end
            seg.add("contact", ln.start, end)
        if ln.text.strip():
            prev = ln
        if match_line(rules.get("cc", []), ln):
            seg.add("cc", ln.start, ln.end)
        if match_line(rules.get("meta", []), ln):
            seg.add("meta", ln.start, ln.end)


def _mark_salutation(seg: Segments, lines: list[Line], rules: dict) -> int | None:
    """The first addressee line (…代表：) in the first part of the letter; its index, or None."""
    limit = max(1500, int(len(seg.text) * 0.6))
    for i, ln in enumerate(lines):
        if ln.start > limit:
            break
        r = match_line(rules.get("salutation", []), ln)
        if r:
            seg.salutation_rule = r.id
            # an addressee with the reply running on after its colon (张三代表：您提出的…): the
            # salutation ends at the colon and the body starts there
            colon = _COLON.search(ln.text)
            sal_end = ln.start + colon.end() if colon and ln.text[colon.end():].strip() else ln.end
            seg.add("salutation", ln.start, sal_end)
            return i
    return None


def _mark_header(seg: Segments, lines: list[Line], sal_idx: int | None) -> int:
    """The header: everything before the salutation (or the title's end when there is none); the
    head: the header, or at least the first 400 characters. Returns where the header ends."""
    if sal_idx is not None:
        head_end = lines[sal_idx].start
    elif seg.title_lines:
        head_end = seg.title_lines[-1].end
    else:
        head_end = lines[min(len(lines) - 1, 2)].end if lines else 0
    seg.add("header", 0, head_end)
    seg.add("head", 0, min(len(seg.text), max(head_end, 400)))
    return head_end


def _mark_body_and_signature(seg: Segments, lines: list[Line], rules: dict, sal_idx: int | None,
                             head_end: int) -> tuple[int, int]:
    """The body, from the salutation to the signature; the signature, from the closing formula
    (此复 / 特此函复 / 以上答复 …) or the issuer above the last date line to the end. Returns the
    body's (start, end)."""
    if sal_idx is None:
        body_start = head_end
    else:
        sal_end = seg.spans["salutation"][0][1]
        body_start = sal_end if sal_end < lines[sal_idx].end else lines[sal_idx].end + 1
    sig_start = _signature_date_start(lines, rules, body_start)
    n = len(lines)
    for i in range(n - 1, -1, -1):
        if lines[i].start < body_start:
            break
        if match_line(rules.get("closing", []), lines[i]):
            close_end = lines[i].end + 1 if i + 1 < n else lines[i].end
            if sig_start is None or close_end < sig_start:
                sig_start = close_end
            break
    body_end = sig_start if sig_start is not None else len(seg.text)
    seg.add("body", min(body_start, len(seg.text)), body_end)
    if sig_start is not None:
        seg.add("signature", sig_start, len(seg.text))
    return body_start, body_end


def _signature_date_start(lines: list[Line], rules: dict, body_start: int) -> int | None:
    """Where the signature above the last date line begins: the issuer stands on the one or two
    short non-empty lines above the date."""
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].start < body_start:
            return None
        if match_line(rules.get("signature_date", []), lines[i]):
            k, taken, j = i, 0, i - 1
            while j >= 0 and taken < 2 and lines[j].start >= body_start:
                t = lines[j].text.strip()
                if not t:
                    j -= 1
                    continue
                if len(t) > 40 or t[-1] in "。！？；，,":
                    break
                k, taken, j = j, taken + 1, j - 1
            return lines[k].start
    return None


def _mark_points(seg: Segments, lines: list[Line], rules: dict, body_start: int, body_end: int) -> None:
    """The body's numbered points: at a line start, or 一是/二是 inside a paragraph."""
    for ln in lines:
        if ln.start < body_start or ln.end > body_end:
            continue
        for r in rules.get("point", []):
            m = match(r.pattern, ln.text)  # bounded like every rule regex
            if m:
                seg.points.append(Point(label=m.group("label"), start=ln.start, end=ln.end, rule=r.id))
                break
        else:
            for r in rules.get("point_inline", []):
                for m in finditer(r.pattern, ln.text):
                    seg.points.append(Point(label=m.group("label"), start=ln.start + m.start("label"),
                                            end=ln.end, rule=r.id))


def rules_by_field(ruleset: RuleSet) -> dict[str, LineRules]:
    """The segment rules by field, each list with its gate (memoised on the rule set; read only)."""
    def make():
        rules: dict[str, LineRules] = {}
        for r in ruleset.of_kind("segment"):
            rules.setdefault(r.field, LineRules()).append(r)
        for field_rules in rules.values():
            field_rules.gate = _gate(field_rules)
        return rules

    return ruleset.memo("segment_fields", make)


_COLON = regex.compile(r"[：:]")
_DIGITS = regex.compile(r"\d{5}")
