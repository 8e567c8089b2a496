"""Run the ``examples:`` of every rule file: the phrases each family must (or must not) extract.

An example gives ``text``, optionally the ``segment`` it stands in, and ``expect``: field →
value. Only the fields named in ``expect`` are compared; ``null`` means "must find nothing".
Families with their own extractor (money, roles, actions) compare the keys their examples use.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..extract.header import extract_fields
from ..text.normalize import normalise
from .rules import Example, RuleSet
from ..extract.segment import SEGMENTS, Segments, segment, split_lines


@dataclass
class Failure:
    example: Example
    field: str
    expected: Any
    got: Any

    def __str__(self) -> str:
        ex = self.example
        return (f"{ex.file}:{ex.line}: example {ex.text[:40]!r}: {self.field} expected {self.expected!r}, "
                f"got {self.got!r}")


def _whole(text: str, seg_name: str | None) -> Segments:
    seg = Segments(text=text, lines=split_lines(text))
    names = [seg_name] if seg_name else [s for s in SEGMENTS]
    for n in names:
        seg.add(n, 0, len(text))
    return seg


def _segment_values(text: str, ruleset: RuleSet) -> dict:
    from ..extract.segment import match_line

    out: dict[str, Any] = {}
    rules: dict[str, list] = {}
    for r in ruleset.of_kind("segment"):
        rules.setdefault(r.field, []).append(r)
    line = split_lines(text)[0]
    for part in ("salutation", "contact", "cc", "signature_date"):
        out[part] = match_line(rules.get(part, []), line) is not None
    for r in rules.get("point", []):
        m = r.pattern.match(text)
        if m:
            out["point"] = m.group("label")
            break
    else:
        out["point"] = None
    seg = segment(text + "\n" + "陈某代表：", ruleset)  # a title is found above a salutation
    out["title"] = "".join(x.text.strip() for x in seg.title_lines) or None
    return out


def values_for(example: Example, ruleset: RuleSet) -> dict:
    text = normalise(example.text)
    fam = example.family
    if ruleset.kind(fam) == "header":
        values, _, _ = extract_fields(text, _whole(text, example.segment), ruleset, families=(fam,))
        return values
    if fam == "segment":
        return _segment_values(text, ruleset)
    from ..pipeline import parse_text

    rec = parse_text(example.text, rules=ruleset)
    out: dict[str, Any] = {"is_reply_letter": rec.is_reply_letter}
    if fam == "money":
        from ..extract.money import find_money

        out["amounts"] = [vars(s) for s in find_money(text, ruleset)]
    else:
        out["amounts"] = [vars(a) for a in rec.amounts]
    out["actions"] = sorted({a.category for a in rec.actions})
    return out


def matches_expected(expected, got) -> bool:
    if isinstance(expected, list) and expected and isinstance(expected[0], dict):
        if not isinstance(got, list) or len(got) != len(expected):
            return False
        return all(all(g.get(k) == v for k, v in e.items()) for e, g in zip(expected, got))
    if isinstance(expected, list) and isinstance(got, list) and all(isinstance(x, str) for x in expected) \
            and expected and expected[0] in ("funding", "planned", "referred", "explained", "studying",
                                             "escalated", "completed"):
        return set(expected) <= set(got)
    if expected is None:
        return got in (None, [], False)
    return expected == got


def run_examples(ruleset: RuleSet, families: list[str] | None = None) -> tuple[int, list[Failure]]:
    """Return (number of examples run, failures)."""
    failures, n = [], 0
    for fam, exs in ruleset.examples.items():
        if families and fam not in families:
            continue
        for ex in exs:
            n += 1
            got = values_for(ex, ruleset)
            for k, v in ex.expect.items():
                if not matches_expected(v, got.get(k)):
                    failures.append(Failure(ex, k, v, got.get(k)))
    return n, failures
