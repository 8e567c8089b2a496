"""Response actions (funding, planned, referred, explained, studying, escalated, completed).

The wording lives in ``rules/actions.yaml``. Each rule has a ``category`` and a ``pattern``
searched sentence by sentence in the reply's own words:

* only the body of the letter is read (the whole text when no body was found), without the
  parts that restate the proposal (the ``field: zone`` rules of ``roles.yaml``) and with the
  inside of 《》 and “” masked, so a quoted title or ask never counts as the government's action;
* ``not_before`` / ``not_after`` veto a match when found in the same clause just before / after
  it (negation: 未纳入, 暂不具备…; boilerplate: 经研究，现答复如下); ``window`` (default 12)
  bounds how far before the match ``not_before`` looks; ``context`` must be in the sentence;
* ``kind: amount`` with ``value: allocated`` matches a sentence holding an amount of that role.

Every matching clause is returned, in reading order (the gold counts a category once per letter).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

import regex

from ..record import Action
from ..engine.prefilter import holds_any, unfiltered
from ..engine.rules import RuleSet, rule_timeout, search

FAMILY = "actions"
_SENT = regex.compile(r"[^。；;！？!?\n]+[。；;！？!?]?")
_CLAUSE_END = regex.compile(r"[，,：:。；;！？!?\n]")
_QUOTED = regex.compile(r"《[^《》\n]{1,120}》|“[^“”\n]{1,200}”|\"[^\"\n]{1,200}\"|「[^「」\n]{1,200}」")
MASK = "〇"


def _masked(text: str) -> str:
    """The text with the inside of quotes and book-title marks blanked (same length)."""
    out = list(text)
    for m in _QUOTED.finditer(text):
        for i in range(m.start() + 1, m.end() - 1):
            out[i] = MASK
    return "".join(out)


def _regions(text: str, seg, ruleset: RuleSet) -> list[tuple[int, int]]:
    spans = list(seg.spans.get("body") or []) if seg is not None else []
    if not spans:
        spans = [(0, len(text))]
    from .roles import proposal_zones

    holes = sorted((a, b) for a, b, _ in proposal_zones(text, ruleset, seg))
    out = []
    for a, b in spans:
        pos = a
        for za, zb in holes:
            if zb <= pos or za >= b:
                continue
            if za > pos:
                out.append((pos, za))
            pos = max(pos, zb)
        if pos < b:
            out.append((pos, b))
    return out


class _Clauses:
    """Clause bounds of one text, found from a sorted list of its clause-end positions.

    Searching that list (bisect) instead of walking character by character keeps a letter
    whose sentence has no punctuation for thousands of characters linear, not quadratic.
    """

    def __init__(self, text: str):
        self.text = text
        self.ends = [m.start() for m in _CLAUSE_END.finditer(text)]

    def span(self, sa: int, sb: int, ma: int, mb: int) -> tuple[int, int]:
        """The clause holding text[ma:mb], within the sentence text[sa:sb]."""
        text = self.text
        i = bisect.bisect_left(self.ends, ma)          # first end at or after ma
        a = max(sa, self.ends[i - 1] + 1) if i > 0 else sa
        j = bisect.bisect_left(self.ends, mb)          # first end at or after mb
        b = min(sb, self.ends[j]) if j < len(self.ends) else sb
        if b < sb and text[b] in "，,。；;！？!?":
            b += 1
        while a < b and text[a] in " \t":
            a += 1
        return a, b


def _ok(rule, masked: str, clauses: _Clauses, sa: int, sb: int, ma: int, mb: int) -> bool:
    ca, cb = clauses.span(sa, sb, ma, mb)
    window = rule.get("window") or 12
    nb = rule.get("not_before")
    if nb is not None and search(nb, masked[max(ca, ma - window):ma]):
        return False
    na = rule.get("not_after")
    if na is not None and search(na, masked[mb:min(sb, mb + max(window, 20))]):
        return False
    ctx = rule.get("context")
    if ctx is not None and not search(ctx, masked[sa:sb]):
        return False
    return True


@dataclass(frozen=True)
class _Step:
    """An action rule as the sentence loop needs it, looked up once per rule set."""
    rule: Any
    category: str
    amount: bool  # ``kind: amount``: an amount of the role ``value`` in the sentence makes the action
    regex: Any  # the bare regex; its literal prefilter is applied by set tests
    literals: frozenset | None
    masked_literals: frozenset  # those holding the mask character: only a masked text can show them


def _step(r) -> _Step:
    lits = frozenset(r.pattern.literals) if getattr(r.pattern, "literals", None) else None
    return _Step(r, r.get("category"), r.get("kind") == "amount",
                 unfiltered(r.pattern) if r.pattern is not None else None,
                 lits, frozenset(w for w in lits or () if MASK in w))


def _plan(ruleset: RuleSet, rules: list) -> tuple:
    return ruleset.memo("actions_plan", lambda: tuple(
        _step(r) for r in rules if r.get("kind") == "amount" or r.pattern is not None))


def extract_actions(text: str, seg, ruleset: RuleSet, amounts=None, present: frozenset | None = None) -> list[Action]:
    """The response actions of a letter's reply part (the regions ``seg`` marks outside the
    restated proposal), one per category and clause, each with the clause, its span and the rule
    behind it; ``amounts`` (from ``roles.extract_amounts``, computed here when not given) make the
    ``kind: amount`` rules: an allocated amount in a sentence is ``funding``. ``present``:
    ``ruleset.literals_in(text)`` when the caller has it already (the header's)."""
    rules = [r for r in ruleset.of_kind(FAMILY) if r.get("category")]
    if not rules or not text:
        return []
    masked = _masked(text)
    clauses_text, clauses_masked = _Clauses(text), _Clauses(masked)
    amount_rules = [r for r in rules if r.get("kind") == "amount"]
    if amount_rules and amounts is None:
        from .roles import extract_amounts

        amounts = extract_amounts(text, seg, ruleset)
    found: dict[tuple[str, int, int], Action] = {}
    # each live step with the words of its literals that the letter holds (usually one or two): a
    # sentence is tried when it holds one of them, by substring tests, which cost less than
    # finding every rule word of every sentence (one-character words abound). The words of the
    # unmasked text will do (the caller's one pass): masking only turns characters into 〇, so a
    # word of the masked text without 〇 is one of the text's, and one that is no longer there
    # fails the test on the masked sentence
    if present is None:
        present = ruleset.literals_in(masked)
    live = []
    for step in _plan(ruleset, rules):
        words = None if step.literals is None else step.literals & present | step.masked_literals
        if step.amount or words is None or words:
            live.append((step, words))
    timeout = rule_timeout()
    for ra, rb in _regions(text, seg, ruleset):
        for sm in _SENT.finditer(masked, ra, rb):
            sa, sb = sm.span()
            sent = masked[sa:sb]
            if not sent.strip():
                continue
            for step, words in live:
                r = step.rule
                if step.amount:
                    for a in amounts or []:
                        if sa <= a.start < sb and a.role == r.value:
                            ca, cb = clauses_text.span(sa, sb, a.start, a.end)
                            found.setdefault((step.category, ca, cb), Action(step.category, text[ca:cb].strip(), ca, cb, r.id))
                            break
                    continue
                if words is not None and not holds_any(sent, words):
                    continue
                try:
                    matches = list(step.regex.finditer(sent, timeout=timeout))
                except TimeoutError:
                    matches = []
                for m in matches:
                    ma, mb = sa + m.start(), sa + m.end()
                    if not _ok(r, masked, clauses_masked, sa, sb, ma, mb):
                        continue
                    ca, cb = clauses_masked.span(sa, sb, ma, mb)
                    key = (step.category, ca, cb)
                    if key not in found:
                        found[key] = Action(step.category, text[ca:cb].strip(), ca, cb, r.id)
                    break
    return sorted(found.values(), key=lambda x: (x.start, x.end, x.category))
