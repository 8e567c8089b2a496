"""Split a normalised letter into its parts: page metadata, header, title, salutation, body
(with numbered points), signature, contact line and 抄送.

The line patterns that recognise each part live in ``rules/segment.yaml``; this module
only decides where the parts begin and end.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .rules import RuleSet

SEGMENTS = ("meta", "head", "header", "title", "salutation", "body", "signature", "contact", "cc")


@dataclass
class Line:
    start: int
    end: int
    text: str


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

    def add(self, name: str, start: int, end: int) -> None:
        if end > start:
            self.spans.setdefault(name, []).append((start, end))

    def get(self, names: tuple[str, ...]) -> list[tuple[int, int]]:
        if "any" in names:
            return [(0, len(self.text))]
        out = []
        for n in names:
            out.extend(self.spans.get(n, []))
        return sorted(out)

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


def split_lines(text: str) -> list[Line]:
    lines, pos = [], 0
    for raw in text.split("\n"):
        lines.append(Line(pos, pos + len(raw), raw))
        pos += len(raw) + 1
    return lines


def _match_line(rules, line: Line):
    for r in rules:
        if r.pattern is not None and r.pattern.search(line.text):
            return r
    return None


def segment(text: str, ruleset: RuleSet) -> Segments:
    seg = Segments(text=text)
    lines = split_lines(text)
    seg.lines = lines
    rules = {}
    for r in ruleset.rules("segment"):
        rules.setdefault(r.field, []).append(r)
    n = len(lines)

    # contact, 抄送 and page metadata lines can stand anywhere
    for ln in lines:
        if _match_line(rules.get("contact", []), ln):
            seg.add("contact", ln.start, ln.end)
        if _match_line(rules.get("cc", []), ln):
            seg.add("cc", ln.start, ln.end)
        if _match_line(rules.get("meta", []), ln):
            seg.add("meta", ln.start, ln.end)

    # salutation: the first addressee line (…代表：) in the first part of the letter
    sal_idx = None
    limit = max(8, int(n * 0.7))
    for i, ln in enumerate(lines[:limit]):
        r = _match_line(rules.get("salutation", []), ln)
        if r:
            sal_idx = i
            seg.salutation_rule = r.id
            seg.add("salutation", ln.start, ln.end)
            break

    # title: the line that names the reply (关于…的答复/复函), possibly wrapped onto the next line
    title_idx = None
    search_to = sal_idx if sal_idx is not None else min(n, 40)
    for i in range(search_to):
        if _match_line(rules.get("title", []), lines[i]):
            title_idx = i
            break
    if title_idx is None and sal_idx is None:
        for i in range(min(n, 40)):
            if _match_line(rules.get("title_start", []), lines[i]):
                title_idx = i
                break
    if title_idx is not None:
        tl = [lines[title_idx]]
        j = title_idx + 1
        end_rules = rules.get("title_end", [])
        # a title wraps while its line does not end the way titles end
        while (j < n and j < title_idx + 3 and lines[j].text.strip()
               and not _match_line(end_rules, tl[-1])
               and (sal_idx is None or j < sal_idx)
               and _match_line(end_rules, lines[j])):
            tl.append(lines[j])
            j += 1
        seg.title_lines = tl
        seg.add("title", tl[0].start, tl[-1].end)

    # header: everything before the salutation (or the title's end when there is no salutation)
    if sal_idx is not None:
        head_end = lines[sal_idx].start
    elif seg.title_lines:
        head_end = seg.title_lines[-1].end
    else:
        head_end = lines[min(n - 1, 2)].end if n else 0
    seg.add("header", 0, head_end)
    seg.add("head", 0, min(len(text), max(head_end, 400)))

    # signature: from the closing formula (此复 / 特此函复 / 以上答复 …) or the last date line on
    body_start = lines[sal_idx].end + 1 if sal_idx is not None else head_end
    sig_start = None
    for i in range(n - 1, -1, -1):
        if lines[i].start < body_start:
            break
        if _match_line(rules.get("closing", []), lines[i]):
            sig_start = lines[i].end + 1 if i + 1 < n else lines[i].end
            break
    if sig_start is None:
        for i in range(n - 1, -1, -1):
            if lines[i].start < body_start:
                break
            if _match_line(rules.get("signature_date", []), lines[i]):
                # the issuer usually stands on the one or two lines above the date
                k = i
                while k > 0 and i - k < 2 and lines[k - 1].text.strip() and len(lines[k - 1].text.strip()) <= 40 \
                        and lines[k - 1].start >= body_start:
                    k -= 1
                sig_start = lines[k].start
                break
    body_end = sig_start if sig_start is not None else len(text)
    seg.add("body", min(body_start, len(text)), body_end)
    if sig_start is not None:
        seg.add("signature", sig_start, len(text))

    # numbered points of the body
    for ln in lines:
        if ln.start < body_start or ln.end > body_end:
            continue
        for r in rules.get("point", []):
            m = r.pattern.match(ln.text)
            if m:
                seg.points.append(Point(label=m.group("label"), start=ln.start, end=ln.end, rule=r.id))
                break
    return seg
