"""Is this text a reply letter? Weighs the evidence rules of ``rules/letter.yaml``.

Rules with ``field: reply`` add their ``priority`` as weight for a reply letter; rules with
``field: not_reply`` add weight against it and carry the ``reason`` reported in ``warnings``.
A text is a reply letter when its reply weight reaches the threshold and exceeds the
weight against it.
"""
from __future__ import annotations

from ..engine.rules import RuleSet, search
from .segment import Segments

THRESHOLD = 14


def classify(text: str, seg: Segments, values: dict, ruleset: RuleSet) -> tuple[bool, str | None]:
    """Whether ``text`` (segmented as ``seg``; ``values``: its header fields) is a reply letter:
    ``(True, None)``, or ``(False, why not)`` with the reason of the strongest rule against it."""
    pos, neg, reasons = 0, 0, []
    for rule in ruleset.of_kind("letter"):
        hit = False
        for a, b in seg.get(rule.segment):
            if search(rule.pattern, text[a:b]):
                hit = True
                break
        if not hit:
            continue
        if rule.field == "reply":
            pos += rule.priority
        else:
            neg += rule.priority
            reasons.append((rule.priority, rule.get("reason") or rule.id))
    if seg.salutation_rule:
        pos += 10
    if pos >= THRESHOLD and pos > neg:
        return True, None
    if reasons:
        return False, max(reasons)[1]
    return False, "no sign of a reply to a suggestion or proposal (no addressee, no 答复/复函 title, no 收悉)"
