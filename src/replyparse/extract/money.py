"""Money amounts (人民币) in any text: ``find_money`` returns every amount in reading order.

The patterns live in ``rules/money.yaml``; this module only applies them:

1. every rule of the ``money`` family is run over the text (with a timeout, so a hostile
   text cannot stall it); its named groups say which part of the match is what;
2. a ``bare`` rule (万/亿 without 元) keeps a match only when its ``before`` pattern is found
   in the ``window`` characters before it (within the sentence) or its ``after`` pattern right
   after it — ``专项资金400万`` is money, ``400万人`` and a lone ``10万`` are not;
3. overlapping matches are resolved longest first (then by priority); ``foreign`` matches
   (美元, 港币 …) take their place but are not reported;
4. numerals are converted only inside the matched groups, with Decimal arithmetic, so
   ``282.68万元`` is exactly 2826800.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from decimal import Decimal

import regex

from ..text.numerals import cn_to_decimal, decimal_to_number, parse_number_decimal, unit_product
from ..engine.prefilter import barrier_chars, barrier_finders, stretches, unfiltered
from ..engine.rules import RuleSet, default_rules, finditer, rule_timeout

FAMILY = "money"

_PREFILTER = regex.compile(r"[元圆块万亿萬億¥￥币$kw]")
_SENT_END = regex.compile(r"[。；;！？!?\n]")
_BIG_TAIL = regex.compile(r"^(?P<head>.*?)(?P<tail>[万亿萬億兆]+)$")
_SMALL_TAIL = regex.compile(r"^(?P<head>[一二三四五六七八九两俩壹贰貮貳叁參肆伍陆陸柒捌玖兩倆])(?P<tail>[十百千拾佰仟])$")
_CN_BIG = regex.compile(r"[万亿萬億兆]")
_SUB = regex.compile(r"(?:(?P<j>.)[角毛])?(?:(?P<f>.)分)?")


@dataclass
class MoneySpan:
    text: str
    start: int
    end: int
    value_yuan: float | int
    value_max_yuan: float | int | None
    approx: bool
    rule: str
    unit_explicit: bool


# --------------------------------------------------------------------------- values


def _num(s: str | None) -> Decimal | None:
    if not s:
        return None
    s = s.replace(",", "").replace("，", "")
    try:
        return Decimal(s)
    except Exception:
        return cn_to_decimal(s)


def _head_tail(s: str) -> tuple[Decimal | None, Decimal]:
    """'两千万' → (2000, 1e4); '三仟' → (3, 1000); '100' → (100, 1)."""
    if s and not s[0].isdigit():
        m = _BIG_TAIL.match(s)
        if m and m["head"]:
            return cn_to_decimal(m["head"]), unit_product(m["tail"])
        m = _SMALL_TAIL.match(s)
        if m:
            return cn_to_decimal(m["head"]), unit_product(m["tail"])
    return _num(s), Decimal(1)


def _sub_yuan(s: str | None) -> Decimal:
    if not s:
        return Decimal(0)
    m = _SUB.fullmatch(s.replace("钱", ""))
    if not m:
        return Decimal(0)
    out = Decimal(0)
    for part, scale in ((m["j"], Decimal("0.1")), (m["f"], Decimal("0.01"))):
        if part:
            v = cn_to_decimal(part)
            if v is not None:
                out += v * scale
    return out


def _g(m, name):
    try:
        return m.group(name)
    except (IndexError, regex.error):
        return None


def _values(m, rule) -> tuple[Decimal, Decimal | None, bool] | None:
    pre, suf, suf2, post, vague = (_g(m, k) for k in ("pre", "suf", "suf2", "post", "vague"))
    approx = bool(pre or suf or suf2 or post or vague or rule.get("approx", False))
    mag = unit_product(_g(m, "mag"))
    d1, d2 = _g(m, "d1"), _g(m, "d2")
    n1, n2 = _g(m, "n1"), _g(m, "n2")
    vmax = None
    if d1 and d2:
        tail = unit_product(_g(m, "m2"))
        a, b = cn_to_decimal(d1), cn_to_decimal(d2)
        if a is None or b is None or a >= b:
            return None
        return a * tail, b * tail, True
    if vague:
        return mag, mag * 10, True
    if not n1:
        if not _g(m, "mag"):
            return None
        return mag, None, approx
    a1 = _num(n1)
    if a1 is None:
        return None
    m1 = _g(m, "m1")
    if n2:
        head2, tail2 = _head_tail(n2)
        if head2 is None:
            return None
        t = tail2 * unit_product(_g(m, "m2")) * mag
        if m1:
            v1 = a1 * unit_product(m1)
        elif not n1[0].isdigit() and _CN_BIG.search(n1):
            v1 = a1
        elif a1 < head2:
            v1 = a1 * t  # 50-100万元: the first bound shares the magnitude
        else:
            v1 = a1       # 8500到3万: it does not
        v2 = head2 * t
        if v2 < v1:
            return None
        return v1, v2, approx
    v = a1 * mag + _sub_yuan(_g(m, "sub"))
    return v, vmax, approx


# --------------------------------------------------------------------------- matching


def _context_ok(text: str, m, rule) -> bool:
    before, after = rule.get("before"), rule.get("after")
    window = int(rule.get("window", 24))
    lo = max(0, m.start() - window)
    left = text[lo:m.start()]
    cut = None
    for cut in _SENT_END.finditer(left):
        pass
    if cut is not None:
        left = left[cut.end():]
    if before is not None and before.search(left):
        return True
    if after is not None and after.search(text[m.end():m.end() + 12]):
        return True
    return False


def _kuai_ok(text: str, m, checks) -> bool:
    """块 (without 钱) is money only as a colloquial yuan: a money word right before the amount
    (每人补贴200块) or right after it; as a counter (更换水表820块) it is not."""
    unit = _g(m, "unit")
    if not unit or not unit.startswith("块") or unit.startswith("块钱"):
        return True
    before, after = checks
    left = text[max(0, m.start() - 12):m.start()]
    cut = None
    for cut in _SENT_END.finditer(left):
        pass
    if cut is not None:
        left = left[cut.end():]
    return bool(before.search(left) or after.search(text[m.end():m.end() + 8]))


_AUX: dict[int, tuple] = {}


def _aux(ruleset: RuleSet):
    """The money family's helper patterns (KUAI_BEFORE, KUAI_AFTER, LOST_DIGIT_BEFORE, LOST_NUMBER),
    compiled once per rule set; None for one the rule set lacks."""
    hit = _AUX.get(id(ruleset))
    if hit is not None and hit[0] is ruleset:
        return hit[1]
    out = []
    defs = ruleset.defs.get(FAMILY, {})
    for name in ("KUAI_BEFORE", "KUAI_AFTER", "LOST_DIGIT_BEFORE", "LOST_NUMBER"):
        # a rule set without the def does without the check; a def that does not compile is a defect
        out.append(ruleset.compile(FAMILY, "{%s}" % name) if name in defs else None)
    _AUX[id(ruleset)] = (ruleset, out)
    return out


def _lost_digit(text: str, m, pattern) -> bool:
    """The amount's number starts right after mojibake (a replacement or private-use character,
    锟斤拷, a ? between a non-ASCII character and the digits): its leading digits may be lost."""
    return bool(pattern.search(text[max(0, m.start() - 4):m.start()]))


# An amount never runs over the end of a sentence: no money rule consumes these. A rule with
# required words is searched only in the sentences holding one of them (prefilter.stretches).
SENTENCE_BARRIERS = frozenset("。；！？")


def _plan(ruleset: RuleSet) -> tuple:
    """Each money rule with its words and the finders of the sentence ends it cannot cross (None:
    the whole text is searched), memoised per rule set."""
    def step(rule):
        p = rule.pattern
        rx, lits = unfiltered(p), getattr(p, "literals", None)
        barriers = barrier_chars(rx.pattern, rx.flags, SENTENCE_BARRIERS, lookarounds=True) if lits else frozenset()
        return rule, rx, frozenset(lits or ()), barrier_finders(barriers) if barriers == SENTENCE_BARRIERS else None

    return ruleset.memo("money_plan", lambda: tuple(step(r) for r in ruleset.of_kind(FAMILY) if r.pattern is not None))


def _matches(rule, rx, lits, finders, text: str, present: frozenset | None) -> list:
    if finders is None or rule_timeout() is not None:
        return finditer(rule.pattern, text, timeout=0.5)
    words = [w for w in lits if w in text] if present is None else lits & present
    return [m for a, b in stretches(text, words, finders) for m in rx.finditer(text, a, b)] if words else []


def _candidates(text: str, ruleset: RuleSet, lenient: bool = False, dropped: list | None = None,
                present: frozenset | None = None):
    out = []
    kb, ka, lost, _ = (None, None, None, None) if lenient else _aux(ruleset)
    kuai = (kb, ka) if kb is not None and ka is not None else None
    for rule, rx, lits, finders in _plan(ruleset):
        kind = rule.get("kind", "yuan")
        for m in _matches(rule, rx, lits, finders, text, present):
            if m.end() <= m.start():
                continue
            if kind == "bare" and not lenient and not _context_ok(text, m, rule):
                continue
            if kind == "foreign":
                out.append((m.start(), m.end(), rule, m, None))
                continue
            try:
                vals = _values(m, rule)
            except Exception:  # never raise on odd text; a bad span is simply not money
                vals = None
            if vals is None:
                continue
            if kuai is not None and not _kuai_ok(text, m, kuai):
                continue
            if lost is not None and _lost_digit(text, m, lost):
                if dropped is not None:
                    dropped.append(m)
                continue
            out.append((m.start(), m.end(), rule, m, vals))
    return out


def _select(cands):
    cands = sorted(cands, key=lambda c: (-(c[1] - c[0]), -c[2].priority, c[0]))
    taken = bytearray(max((c[1] for c in cands), default=0))  # characters a longer candidate already covers
    chosen = []
    for c in cands:
        s, e = c[0], c[1]
        if any(taken[s:e]):
            continue
        taken[s:e] = b"\x01" * (e - s)
        chosen.append(c)
    chosen.sort(key=lambda c: c[0])
    return chosen


def _span(c) -> MoneySpan:
    s, e, rule, m, (v, vmax, approx) = c
    return MoneySpan(text=m.group(0), start=s, end=e, value_yuan=decimal_to_number(v),
                     value_max_yuan=None if vmax is None else decimal_to_number(vmax), approx=approx,
                     rule=rule.id, unit_explicit=rule.get("kind", "yuan") != "bare")


def find_money(text: str, ruleset: RuleSet | None = None, warnings: list[str] | None = None,
               present: frozenset | None = None) -> list[MoneySpan]:
    """Every 人民币 amount in ``text``, in reading order. Never raises on a string. ``present``:
    ``ruleset.literals_in(text)`` when the caller has it (the rule words of the letter, one pass).

    An amount whose leading digits may be lost to mojibake (``锟斤拷00万元``) is not guessed:
    it is left out, and when ``warnings`` is given a warning naming it is appended."""
    if not isinstance(text, str) or not text or not _PREFILTER.search(text):
        return []
    ruleset = ruleset or default_rules()
    dropped: list = []
    try:
        chosen = _select(_candidates(text, ruleset, dropped=dropped, present=present))
    except Exception as e:  # a bug met on this text: no amounts, but said, never silently
        if warnings is not None:
            warnings.append(f"amounts could not be read (internal error: {type(e).__name__}: {e})")
        return []
    if warnings is not None:
        seen = set()
        for m in sorted(dropped, key=lambda m: (m.start(), -m.end())):
            if m.start() in seen:
                continue
            seen.add(m.start())
            warnings.append(f"amount left out: its leading digit is lost to mojibake: {m.group(0)} at {m.start()}")
        lost_number = _aux(ruleset)[3]
        if lost_number is not None and ("?" in text or "\ufffd" in text):
            for m in finditer(lost_number, text, timeout=0.5):
                warnings.append(f"amount left out: its number is lost to mojibake: {m.group(0)} at {m.start()}")
    return [_span(c) for c in chosen if c[4] is not None]


_KW = regex.compile(r"(?P<pre>约|大约|近)?(?P<n1>\d+(?:\.\d+)?)(?P<k>[kKwW])?(?:\s{0,2}(?:-|~|～|到|至)\s{0,2}"
                    r"(?P<n2>\d+(?:\.\d+)?)(?P<k2>[kKwW]))?(?(k)|(?(k2)|(?!)))(?:元|块)?(?P<post>左右|上下|以上)?")


def value_of(text: str, ruleset: RuleSet | None = None):
    """``(value, value_max, approx)`` of one amount string such as ``近700万元`` or ``三百万``.

    Reads any currency's number (the caller knows the currency); ``(None, None, False)`` when
    the text holds no amount.
    """
    if not isinstance(text, str) or not text.strip():
        return None, None, False
    from ..text.normalize import normalise

    t = normalise(text).strip()
    ruleset = ruleset or default_rules()
    try:
        cands = _candidates(t, ruleset, lenient=True)
    except Exception:
        cands = []
    best = None
    for c in cands:
        if c[4] is None:
            # a foreign amount: read it with the yuan rules on the text with the currency swapped
            continue
        if best is None or (c[1] - c[0]) > (best[1] - best[0]):
            best = c
    foreign = [c for c in cands if c[4] is None]
    if foreign and (best is None or (foreign[0][1] - foreign[0][0]) > (best[1] - best[0])):
        swapped = regex.sub(ruleset.fragment(FAMILY, "FOREIGN"), "元", t)
        swapped = regex.sub(r"个?\s*元\s*元|个\s*元", "元", swapped)
        swapped = regex.sub(r"^(\s*)元\s*(.+?)(元)?$", r"\1\2元", swapped)
        swapped = regex.sub(r"^\$\s*(.+)$", r"\1元", swapped)
        if swapped != t:
            return value_of(swapped, ruleset)
    if best is not None:
        v, vmax, approx = best[4]
        return decimal_to_number(v), None if vmax is None else decimal_to_number(vmax), approx
    m = _KW.search(t)
    if m:
        v1 = Decimal(m["n1"]) * unit_product(m["k"] or m["k2"])
        v2 = None
        if m["n2"]:
            v2 = Decimal(m["n2"]) * unit_product(m["k2"] or m["k"])
        approx = bool(m["pre"] or m["post"])
        return decimal_to_number(v1), None if v2 is None else decimal_to_number(v2), approx
    # a bare number (三百万, 小于40万): a number reading of the text without its approximations
    pre = regex.match(r"^(?:{})".format(ruleset.fragment(FAMILY, "PRE")), t)
    core = t[pre.end():] if pre else t
    post = regex.search(r"(?:左右|上下|以上|以下|以内|整)$", core)
    if post:
        core = core[:post.start()]
    core = regex.sub(r"(?:元|圆|块钱|块)$", "", core)
    d = parse_number_decimal(core)
    if d is not None:
        return decimal_to_number(d), None, bool(pre or post or regex.search("[余多几]", core))
    return None, None, False


# --------------------------------------------------------------------------- command


def amounts_json(text: str, ruleset: RuleSet | None = None) -> str:
    """The amounts in ``text`` as a JSON array (for ``replyparse amounts``)."""
    from ..text.normalize import normalise

    t = normalise(text) if isinstance(text, str) else ""
    items = []
    for s in find_money(t, ruleset):
        d = asdict(s)
        items.append({k: d[k] for k in ("text", "value_yuan", "value_max_yuan", "approx", "start", "end", "rule")})
    return json.dumps(items, ensure_ascii=False)
