"""Money amounts with their roles: requested / allocated / other (``shared/spec/output.md``).

The money spans come from ``money.find_money``; this module decides, from the words around
each span, what the money is. All wording lives in ``rules/roles.yaml``:

* ``field: zone`` rules mark the parts of a letter that restate the proposal (a 基本情况
  section, a quoted ask, a 提案内容 block); their pattern has a ``zone`` group.
* ``field: funder`` / ``field: purpose`` rules pick who pays and what for (group of the
  same name) from the words before / after the amount.
* every other rule carries a ``role``. It matches an amount when its ``before`` pattern is
  found in the text of its ``scope`` (``clause`` — between commas — or ``sentence``) before the
  amount, its ``after`` pattern in the text after it, its ``context`` anywhere in the scope,
  and neither ``not_before`` nor ``not_after``; ``zone: proposal`` / ``zone:
  reply`` restrict it to amounts inside / outside a proposal zone; ``unit: true`` to unit
  standards (每个社区25万元, 100万元/村), which the ``field: unit`` rules mark. ``kind: inherit``
  takes the role of the amount before it in the same sentence (``from: next``: of the amount
  after it, once that one is decided); ``kind: same_sum`` matches an amount equal to an earlier one of the
  rule's role (an ask restated); ``kind: default`` always matches. The highest ``priority`` wins,
  file order within a priority.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import regex

from ..record import Amount
from ..engine.rules import RuleSet, finditer, search

FAMILY = "roles"

_SENT_END = regex.compile(r"[。；;！？!?\n]")
_CLAUSE_END = regex.compile(r"[，,：:。；;！？!?\n]")
_LINE_END = regex.compile(r"\n")
# the same one-character classes searched backwards ((?r): the rightmost match first), for the
# last boundary before an amount in one call instead of walking every boundary up to it
_LAST = {p: regex.compile("(?r)" + p.pattern) for p in (_SENT_END, _CLAUSE_END, _LINE_END)}


# --------------------------------------------------------------------------- money spans


def _money_spans(text: str, ruleset: RuleSet, warnings: list[str] | None = None, present: frozenset | None = None):
    from .money import find_money

    return find_money(text, ruleset, warnings=warnings, present=present)


# --------------------------------------------------------------------------- context


@dataclass
class _Ctx:
    sent: tuple[int, int]
    clause: tuple[int, int]
    line: tuple[int, int]
    in_zone: bool
    unit: bool
    fields: dict  # the letter's header fields, for rules with a ``letter`` condition


def _bounds(text: str, pos: int, end: int, pat, limit: int = 400) -> tuple[int, int]:
    """The [start, end) of the sentence or clause around [pos, end): from just after the last
    boundary character before it to the first one after it, at most ``limit`` away."""
    lo, hi = max(0, pos - limit), min(len(text), end + limit)
    m = _LAST[pat].search(text, lo, pos)
    a = m.end() if m else lo
    m = pat.search(text, end, hi)
    return a, (m.start() if m else hi)


def _is_unit(text: str, s, ruleset: RuleSet) -> bool:
    """Whether a ``field: unit`` rule marks the amount as a rate (每人…, …/村), looking at the
    few characters around it."""
    before = text[max(0, s.start - 18):s.start]
    after = text[s.end:s.end + 6]
    return any(search(r.pattern, after if where == "after" else before) is not None
               for r, where in _pickers(ruleset, "unit"))


def proposal_zones(text: str, ruleset: RuleSet, seg=None) -> list[tuple[int, int, str]]:
    """The spans of ``text`` that restate the proposal (``field: zone`` rules), with the rule of
    each; with ``seg`` (the letter's ``Segments``), found once and kept there for the next stage."""
    if seg is None:
        return _find_zones(text, ruleset)
    zones = seg.derived.get("proposal_zones")
    if zones is None:
        zones = seg.derived["proposal_zones"] = _find_zones(text, ruleset)
    return zones


def _find_zones(text: str, ruleset: RuleSet) -> list[tuple[int, int, str]]:
    out = []
    for r in ruleset.of_kind(FAMILY):
        if r.field != "zone" or r.pattern is None:
            continue
        for m in finditer(r.pattern, text):
            try:
                a, b = m.span("zone")
            except IndexError:
                a, b = m.span()
            if b > a:
                out.append((a, b, r.id))
    return out


# --------------------------------------------------------------------------- roles


@dataclass(frozen=True)
class _RoleRule:
    """A role rule's keys as ``_decide`` reads them, looked up once per rule set (memoised), not
    from the rule's params dict for every amount and rule."""
    rule: Any
    id: str
    priority: int
    kind: str | None
    role: str | None
    by_line: bool  # scope: line / paragraph (else sentence or clause)
    scope: str
    window: int | None
    zone: str | None
    unit: Any
    from_next: bool  # kind inherit, ``from: next``: decided after the amount that follows
    letter: tuple  # (field, pattern) pairs
    pattern: Any
    before: Any
    after: Any
    context: Any
    not_before: Any
    not_after: Any
    warn: bool


def _role_step(r) -> _RoleRule:
    scope = r.get("scope", "clause")
    return _RoleRule(r, r.id, r.priority, r.get("kind"), r.get("role"), scope in ("line", "paragraph"), scope,
                     r.get("window"), r.get("zone"), r.get("unit"), r.get("from") == "next",
                     tuple((r.get("letter") or {}).items()),
                     r.pattern, r.get("before"), r.get("after"), r.get("context"), r.get("not_before"),
                     r.get("not_after"), bool(r.get("warn", False)))


def _scope(rule: _RoleRule, ctx: _Ctx) -> tuple[int, int]:
    """The bounds of the text a rule looks at around an amount: its line, sentence or clause."""
    return ctx.line if rule.by_line else ctx.sent if rule.scope == "sentence" else ctx.clause


def _rule_matches(rule: _RoleRule, text: str, ctx: _Ctx, s) -> bool:
    # the checks that need no text first: most rules fail on zone or unit
    zone = rule.zone
    if zone == "proposal" and not ctx.in_zone or zone == "reply" and ctx.in_zone:
        return False
    unit = rule.unit
    if unit is not None and bool(unit) != ctx.unit:
        return False
    a, b = _scope(rule, ctx)
    window = rule.window
    before = text[a:s.start]
    after = text[s.end:b]
    if window:
        before, after = before[-window:], after[:window]
    for field, p in rule.letter:
        value = ctx.fields.get(field)
        if not isinstance(value, str) or not search(p, value):
            return False
    if rule.pattern is not None and not search(rule.pattern, text[s.start:s.end]):
        return False
    if rule.before is not None and not search(rule.before, before):
        return False
    if rule.after is not None and not search(rule.after, after):
        return False
    if rule.context is not None and not search(rule.context, text[a:b]):
        return False
    if rule.not_before is not None and search(rule.not_before, before):
        return False
    if rule.not_after is not None and search(rule.not_after, after):
        return False
    return True


def _role_rules(ruleset: RuleSet) -> tuple:
    return ruleset.memo("roles_plan", lambda: tuple(
        _role_step(r) for r in ruleset.of_kind(FAMILY) if r.get("role") or r.get("kind") in ("inherit",)))


def _same_run(rule: _RoleRule, ctx: _Ctx, prev_ctx: _Ctx) -> bool:
    """An inherit rule looks back within its scope: the sentence, or with ``scope: line`` /
    ``paragraph`` the line (a run of items separated by ；)."""
    if rule.by_line:
        return prev_ctx.line == ctx.line
    return prev_ctx.sent == ctx.sent


def _decide(rules, text, ctx, s, prev: Amount | None, prev_ctx: _Ctx | None, earlier=()):
    """``(role, rule id, unsure)``. The highest-priority matching rule decides; rules of one
    priority are cues of equal weight, so when two of them match with different roles the cues
    disagree and the role is ``other``, unsure. A rule with ``warn: true`` (the default rule:
    no cue fired) also leaves the role unsure."""
    top = None
    for r in rules:
        if top is not None and r.priority < top.priority:
            break
        kind = r.kind
        if kind == "inherit":
            if r.from_next or top is not None or prev is None or prev_ctx is None or not _same_run(r, ctx, prev_ctx):
                continue
            if _rule_matches(r, text, ctx, s):
                return prev.role, r.id, False
            continue
        if kind == "same_sum":
            # the same sum as an earlier amount of the rule's role (an ask restated later)
            if not any(e.role == r.role and e.value_yuan == s.value_yuan for e in earlier):
                continue
            if not _rule_matches(r, text, ctx, s):
                continue
        elif not (kind == "default" or _rule_matches(r, text, ctx, s)):
            continue
        if top is None:
            top = r
        elif r.role != top.role:
            return "other", top.id, True
    if top is None:
        return "other", None, True
    return top.role, top.id, top.warn


def _late_rules(ruleset: RuleSet) -> tuple:
    """The ``from: next`` inherit rules and every role rule's priority by id (memoised)."""
    def make():
        rules = _role_rules(ruleset)
        return [r for r in rules if r.kind == "inherit" and r.from_next], {r.id: r.priority for r in rules}

    return ruleset.memo("roles_late", make)


def _inherit_from_next(ruleset: RuleSet, text, spans, amounts: list[Amount], ctxs: list[_Ctx],
                       unsure_at: list[bool]) -> None:
    """``kind: inherit`` rules with ``from: next``: an amount takes the role of the whole after it
    in the rule's scope when the rule outranks what decided it. Right to left, so that a rate
    before a rate before a whole follows the whole."""
    late, priority = _late_rules(ruleset)
    if not late:
        return
    for i in range(len(amounts) - 2, -1, -1):
        a, nxt, ctx = amounts[i], amounts[i + 1], ctxs[i]
        for r in late:
            if priority.get(a.rule, -(1 << 30)) > r.priority or _scope(r, ctx)[1] < nxt.end:
                continue
            if _rule_matches(r, text, ctx, spans[i]):
                a.role, a.rule, unsure_at[i] = nxt.role, r.id, unsure_at[i + 1]
                break


# --------------------------------------------------------------------------- purpose / funder


def _pickers(ruleset: RuleSet, field: str) -> tuple:
    """The ``field: funder`` / ``purpose`` rules with a pattern, and where each looks (memoised)."""
    return ruleset.memo(("roles_pick", field), lambda: tuple(
        (r, r.get("kind", "before")) for r in ruleset.of_kind(FAMILY) if r.field == field and r.pattern is not None))


def _pick(ruleset: RuleSet, field: str, text: str, ctx: _Ctx, s) -> str | None:
    a, b = ctx.sent
    for r, where in _pickers(ruleset, field):
        if where == "after":
            part = text[s.end:b]
            m = search(r.pattern, part)
            ms = [m] if m else []
        else:
            part = text[a:s.start]
            ms = finditer(r.pattern, part)
        for m in reversed(ms) if where != "after" else ms:
            try:
                v = m.group(field)
            except IndexError:
                v = m.group(0)
            v = _WS.sub("", v or "").strip("，,、：:（(“”\"")
            if v and len(v) <= 40 and not _GENERIC.match(v):
                return v
    return None


_WS = regex.compile(r"\s+")
_GENERIC = regex.compile(r"^(?:\p{Han}{0,2}(?:资金|经费|专项资金|补助资金)|了|共|计|近|约)$")


# --------------------------------------------------------------------------- part_of


def _set_parts(amounts: list[Amount], ctxs: list[_Ctx], text: str) -> None:
    n = len(amounts)
    # unit standards belong to the nearest whole amount of the same role in their sentence
    for i, a in enumerate(amounts):
        if not ctxs[i].unit or a.role == "other":
            continue
        cands = [j for j in range(n) if j != i and amounts[j].role == a.role and not ctxs[j].unit
                 and ctxs[j].sent == ctxs[i].sent]
        if cands:
            j = min(cands, key=lambda j: (0 if j > i else 1, abs(j - i)))
            a.part_of = j
    # 其中 / 包括 / 含: the amounts after the marker break down the last whole amount before it;
    # funded parts inside a project's total keep their own role and point at the total
    for i, a in enumerate(amounts):
        if a.role == "other" or a.part_of is not None or ctxs[i].unit:
            continue
        for j in range(i - 1, -1, -1):
            t = amounts[j]
            if t.role != a.role and not _is_total(t) or t.part_of is not None or ctxs[j].unit:
                continue
            gap = text[t.end:a.start]
            if len(gap) > 160 or _SENT_BREAK.search(gap) and not _PART_LEAD.match(gap.lstrip("。；; \n")):
                break
            if _PART_MARK.search(gap) and t.value_yuan > a.value_yuan:
                a.part_of = j
            break
        if a.part_of is None and i > 0 and amounts[i - 1].part_of is not None \
                and amounts[i - 1].role == a.role and not ctxs[i - 1].unit:
            j = amounts[i - 1].part_of
            gap = text[amounts[i - 1].end:a.start]
            if not _SENT_BREAK.search(gap) and amounts[j].value_yuan > a.value_yuan:
                a.part_of = j
    # a whole followed by amounts of the same role that add up to it
    for i, t in enumerate(amounts):
        if t.role == "other" or t.part_of is not None or ctxs[i].unit:
            continue
        run, total = [], 0.0
        for j in range(i + 1, n):
            a = amounts[j]
            if a.role != t.role or ctxs[j].unit or a.part_of is not None:
                continue
            run.append(j)
            total += a.value_yuan
            tol = 0.06 if t.approx else 0.005
            if len(run) >= 2 and abs(total - t.value_yuan) <= tol * t.value_yuan:
                for k in run:
                    amounts[k].part_of = i
                break
            if total > t.value_yuan * (1 + tol):
                break
    # a requested sum restated later in the letter is the same ask, not a second one
    seen: dict[float, int] = {}
    for i, a in enumerate(amounts):
        if a.role != "requested" or ctxs[i].unit:
            continue
        if a.part_of is None and a.value_yuan in seen:
            a.part_of = seen[a.value_yuan]
        elif a.part_of is None:
            seen[a.value_yuan] = i


def _is_total(a: Amount) -> bool:
    """A project's total whose role rule made it ``other`` (roles.other.project_total …)."""
    return a.role == "other" and bool(a.rule) and "total" in a.rule.rsplit(".", 1)[-1]


_SENT_BREAK = regex.compile(r"[。；;\n]")
_PART_MARK = regex.compile(r"其中|包括|包含|含|分别|\(|（")
_PART_LEAD = regex.compile(r"其中")


# --------------------------------------------------------------------------- entry point


def extract_amounts(text: str, seg, ruleset: RuleSet, warnings: list[str] | None = None,
                    fields: dict | None = None, present: frozenset | None = None) -> list[Amount]:
    """The amounts of ``text`` with their roles. ``fields`` are the letter's header fields
    (``header.extract_fields``), which rules with a ``letter`` condition read. When
    ``warnings`` is given, what a reviewer should check is appended to it: an amount whose role
    is unsure (``role unsure: 12万元 at 345``), an amount left out because its leading digit
    was lost to mojibake. ``present``: ``ruleset.literals_in(text)`` when the caller has it."""
    spans = sorted(_money_spans(text, ruleset, warnings, present), key=lambda s: s.start)
    if not spans:
        return []
    zones = proposal_zones(text, ruleset, seg)
    rules = _role_rules(ruleset)
    amounts: list[Amount] = []
    ctxs: list[_Ctx] = []
    unsure_at: list[bool] = []
    for s in spans:
        ctx = _Ctx(sent=_bounds(text, s.start, s.end, _SENT_END),
                   clause=_bounds(text, s.start, s.end, _CLAUSE_END),
                   line=_bounds(text, s.start, s.end, _LINE_END, limit=200),
                   in_zone=any(a <= s.start and s.end <= b for a, b, _ in zones),
                   unit=_is_unit(text, s, ruleset), fields=fields or {})
        prev = amounts[-1] if amounts else None
        role, rid, unsure = _decide(rules, text, ctx, s, prev, ctxs[-1] if ctxs else None, amounts)
        amounts.append(Amount(text=s.text, value_yuan=s.value_yuan, value_max_yuan=s.value_max_yuan,
                              approx=bool(s.approx), role=role, start=s.start, end=s.end, rule=rid))
        ctxs.append(ctx)
        unsure_at.append(unsure)
    _inherit_from_next(ruleset, text, spans, amounts, ctxs, unsure_at)
    for s, amt, ctx, unsure in zip(spans, amounts, ctxs, unsure_at):
        if unsure and warnings is not None:
            warnings.append(f"role unsure: {s.text} at {s.start}")
        if amt.role != "other":
            amt.funder = _pick(ruleset, "funder", text, ctx, s)
        amt.purpose = _pick(ruleset, "purpose", text, ctx, s)
    _set_parts(amounts, ctxs, text)
    return amounts
