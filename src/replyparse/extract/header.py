"""Apply the header rule files to a segmented letter and normalise what they capture.

A rule proposes values in one of three ways:
- named groups called after a field (``term``, ``session``, ``proposal_no`` …) — one match can
  fill several fields (a title that states 届, 次会议 and number at once);
- a group ``v`` holding the value of the rule's ``field``;
- a constant ``value`` for the rule's ``field`` when the pattern matches (body 人大/政协 …).

The highest-priority rule wins a field; among equals the earliest match. A different value
from another rule of the same priority gives a warning. Field types (how ``二〇二〇年`` becomes
a date) are code; what to look for is data.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import regex

from ..text.dates import parse_letter_date
from ..text.numerals import to_int
from ..record import Evidence, HEADER_FIELDS
from ..engine.prefilter import (barrier_chars, barrier_finders, holds_any, line_anchored, line_matches,
                                starts_anywhere, stretches, unfiltered)
from ..engine.fields import GROUP_ALIASES
from ..engine.rules import RULE_TIMEOUT, Rule, RuleSet, rule_timeout
from .segment import Segments

FULLEST_FORM = ("issuer",)
_WS = regex.compile(r"\s+")
_EDGE_PUNCT = "，,。.；;：:、 \t\n“”\"'《》<>「」"


@dataclass
class Candidate:
    field: str
    value: Any
    rule: Rule
    start: int
    end: int


def clean(s: str) -> str | None:
    s = _WS.sub("", s).strip(_EDGE_PUNCT)
    return s or None


def canonical_doc_number(raw: str, m) -> str | None:
    g = m.groupdict()
    if g.get("prefix") and g.get("year") and g.get("serial"):
        serial = str(int(g["serial"])) if g["serial"].isdigit() else g["serial"]
        return f"{clean(g['prefix'])}〔{g['year']}〕{serial}号"
    return clean(raw)


_PERSON_SUFFIX = regex.compile(r"(?:等)?(?:人大|政协)?(?:代表|委员|同志|先生|女士|老师)(?:们)?$")
_COUNT_SUFFIX = regex.compile(
    r"等[\d一二三四五六七八九十]{0,3}(?:名|位|人)?(?:人大|政协)?(?:代表|委员)?$|[\d一二三四五六七八九十]{1,3}(?:名|位)(?:人大|政协)?(?:代表|委员)?$")
_LIST_SPLIT = regex.compile(r"[、，,；;/]+")
_PLACEHOLDER = regex.compile(r"^(?:[X×*＊xX]+|某+|\p{Han}?某\p{Han}?)$")


# compiled once: regex.sub(pattern_string, ...) looks its pattern up in regex's cache on every call
_NAME_BRACKETS = regex.compile(r"[(（][^)）]{0,12}[)）]")
_NAME_LEAD = regex.compile(r"^(?:尊敬的|尊敬|答复)")
_HAN = regex.compile(r"\p{Han}")
_NAME_PAIR = regex.compile(r"^(?P<a>\p{Han}{2,3})[并和及与](?P<b>\p{Han}{2,3})$")


def _space_names(part: str) -> list[str]:
    """Names separated by spaces, where a two-character name may be padded (张  斌)."""
    tokens = part.split()
    out: list[str] = []
    for tok in tokens:
        if out and len(tok) == 1 and len(out[-1]) == 1:
            out[-1] += tok
        else:
            out.append(tok)
    return out


def split_names(raw: str) -> list[str]:
    """Deputies' names from an addressee or author list; padded names (张  斌) stay whole,
    等N位 and titles go."""
    raw = _NAME_BRACKETS.sub("", raw.strip())
    raw = _NAME_LEAD.sub("", raw)
    listed = _LIST_SPLIT.search(raw) is not None
    parts = []
    for part in _LIST_SPLIT.split(raw):
        parts.extend([_WS.sub("", part)] if listed else _space_names(part))
    # two names joined by a conjunction (刘某并陈某某, 张三和李四): only where both sides are name-sized
    joined = []
    for part in parts:
        m = _NAME_PAIR.match(part)
        joined.extend([m["a"], m["b"]] if m and listed else [part])
    parts = joined
    out = []
    for part in parts:
        part = part.strip(_EDGE_PUNCT)
        part = _PERSON_SUFFIX.sub("", part)
        part = _COUNT_SUFFIX.sub("", part)
        part = _PERSON_SUFFIX.sub("", part)
        if part and not _PLACEHOLDER.match(part) and _HAN.search(part) and part not in out:
            out.append(part)
    return out


_CC_LABEL = regex.compile(r"抄\s*[送报]\s*[：:]?")
_ORG_SPLIT = regex.compile(r"[，,、；;\s|｜]+")
_HAN_OR_LATIN = regex.compile(r"[\p{Han}A-Za-z]")
_COPIES = regex.compile(r"[（(]\s*\d{1,3}\s*份?\s*[)）]$")  # a colophon's copy count: 市政府办(2)


def split_orgs(raw: str) -> list[str]:
    raw = _CC_LABEL.sub("、", raw)  # 抄报：A；抄送：B on one line
    out = []
    for part in _ORG_SPLIT.split(raw):
        part = _COPIES.sub("", part.strip(_EDGE_PUNCT)).strip(_EDGE_PUNCT)
        if part and part not in out and _HAN_OR_LATIN.search(part):  # not a stray table bar
            out.append(part)
    return out


_AREA_CODE = regex.compile(r"[(（]\s*(0\d{2,3})\s*[)）]\s*")
_DASHES = regex.compile(r"[—－─–‒―]")
_NOT_PHONE = regex.compile(r"[^\d\-]")
_NON_DIGIT = regex.compile(r"\D")


def _phone(raw: str, m) -> str | None:
    raw = _AREA_CODE.sub(r"\1-", raw)  # (0731)5551234: the area code
    s = _NOT_PHONE.sub("", _DASHES.sub("-", raw))
    s = s.strip("-")
    return s if len(_NON_DIGIT.sub("", s)) >= 5 else None


_TITLE_JUNK = regex.compile(
    r"^(?:[|•·\s]|【[^】\n]{0,10}】|(?:文件)?(?:标\s*)?题\s*[：:]|名\s*称\s*[：:]|信息名称\s*[：:]?"
    r"|\p{Han}{1,14}[〔\[【(（]\d{4}[〕\]】)）]\s*\d{1,5}\s*号|——|-{1,2})+")


_TITLE_APPENDIX = regex.compile(
    r"(?:[（(\[【]\s*(?:(?:发文字号|文号|编号)\s*[：:]?\s*)?[\p{Han}A-Za-z]{0,15}[〔\[【(（﹝]\d{4}[〕\]】)）﹞]\s*第?\s*\d{1,5}\s*号\s*[)）\]】]"
    r")$")
# a hacked page's advertising phrase put in front of the proposal's title (某某博彩官网_某某app:…); the
# letter's own title keeps it (the gold files disagree on how to repair a title the page altered)
_SPAM_PREFIX = regex.compile(
    r"^[^:：\n]{0,30}(?:博彩|赌博|投注|足彩|体彩|bet|官网|平台|app|APP|下载|娱乐城|开户)[^:：\n]{0,12}[:：]\s*")
_DOUBLE_KIND = regex.compile(r"(?<=的(?:建议|提案|议案))的(?:建议|提案|议案)$")
_REPEATED_GUANYU = regex.compile(r"^(?:关于)+")
_DIGEST = regex.compile(r"(?<=答复|复函|回复|的函|办理情况|意见)\s*[(（【]?\s*摘\s*要\s*[)）】]?$")
_TITLE_WORDS = regex.compile(r"答复|复函|回复|的函|办理情况|关于")


def _title(raw: str, m) -> str | None:
    s = clean(raw)
    if s is None:
        return None
    if "|" in s:
        # a table row from a web mirror (词条 | 对…的答复 |): the title is the cell that reads as one
        cells = [c.strip() for c in s.split("|") if c.strip()]
        titled = [c for c in cells if _TITLE_WORDS.search(c)]
        s = max(titled or cells or [s], key=len)
    s = _TITLE_JUNK.sub("", s)
    # a number or class mark appended to the heading is not part of it (spec: titles)
    s = _TITLE_APPENDIX.sub("", s)
    s = _DIGEST.sub("", s)  # …的答复摘要: a page printing a digest; 摘要 is not part of the title (spec)
    # clean() took the 《》 at the edges: a title opening or closing with the proposal's own title keeps them
    if s.count("》") > s.count("《") and raw.lstrip(" \t|•·").startswith("《"):
        s = "《" + s
    if s.count("《") > s.count("》") and raw.rstrip(" \t|•·").endswith("》"):
        s = s + "》"
    return s.strip("|•· ") or None


_NO_AFFIX = regex.compile(r"^第|号$")


def _proposal_no(raw: str, m) -> str | None:
    s = clean(raw)
    if s is None:
        return None
    s = _NO_AFFIX.sub("", s)
    return s or None


def _int(raw: str, m) -> int | None:
    return to_int(clean(raw) or "")


def _bool(raw, m):
    return raw


NORMALISERS: dict[str, Callable[[Any, Any], Any]] = {
    "doc_number": canonical_doc_number,
    "date": lambda raw, m: parse_letter_date(raw),
    "term": _int,
    "session": _int,
    "proposal_no": _proposal_no,
    "proposers": lambda raw, m: split_names(raw) or None,
    "cc": lambda raw, m: split_orgs(raw) or None,
    "contact_phone": _phone,
    "contact_person": lambda raw, m: (split_names(raw) or [None])[0] if raw else None,
    "title": _title,
    # …的建议的提案: a proposal named by its own …的建议 title, the outer kind word not part of it
    "proposal_title": lambda raw, m: clean(_DOUBLE_KIND.sub("", _REPEATED_GUANYU.sub("关于", _SPAM_PREFIX.sub("", raw.strip())))),
    "handling_category": lambda raw, m: (clean(raw) or "").upper()[:1] or None,
    "public": _bool,
}


TYPE_NORMALISERS: dict[str, Callable[[Any, Any], Any]] = {
    "date": NORMALISERS["date"], "int": _int, "list": lambda raw, m: split_orgs(raw) or None, "bool": _bool,
}


def normalise_value(field: str, raw: Any, m=None, type_: str | None = None):
    """A captured value in its field's normal form: the field's own normaliser, or for a field a
    rule file declared, the one of its type (``date`` → ISO, ``int``, ``list`` of names, ``bool``)."""
    if not isinstance(raw, str):
        return raw
    fn = NORMALISERS.get(field) or TYPE_NORMALISERS.get(type_)
    return fn(raw, m) if fn else clean(raw)


@dataclass(frozen=True)
class _Step:
    """One header rule as the scan loop needs it, looked up once per rule set, not per letter:
    the bare regex (its prefilter applied here, by set tests), its literals, its segments."""
    rule: Rule
    regex: Any
    literals: frozenset | None  # a match holds one of these; None: no guarantee, always run
    segment: tuple
    # for a rule with literals that may start at any Han character (prefilter.starts_anywhere),
    # cannot consume some punctuation (。 …) and has no anchor or lookaround (barrier_chars): the
    # finders of those characters. Its matches lie in the stretches between them that hold a
    # literal, and only those are searched: proposers.body_named reads the sentences naming 代表/委员
    barriers: Any = None
    # the fields the rule can fill (its target, its named groups); None: never skipped (it can
    # lengthen a name to its fullest form whatever the priorities, FULLEST_FORM)
    fills: frozenset | None = None
    # every match starts at a line start (prefilter.line_anchored): matched at each line start
    # instead of scanned for at every character
    line_start: bool = False


def _fills(r: Rule, rx) -> frozenset | None:
    target = r.field or r.family
    if r.value is not None:
        out = {target}
    else:
        out = {target} | {GROUP_ALIASES.get(n, n) for n in rx.groupindex if n != "v"}
    return None if out & set(FULLEST_FORM) else frozenset(out)


def _step(r: Rule) -> _Step:
    rx = unfiltered(r.pattern)
    lits = frozenset(r.pattern.literals) if getattr(r.pattern, "literals", None) else None
    windowed = lits is not None and starts_anywhere(rx.pattern, rx.flags)  # else its own scan is as fast
    finders = barrier_finders(barrier_chars(rx.pattern, rx.flags)) if windowed else None
    return _Step(r, rx, lits, r.segment, finders, _fills(r, rx), line_anchored(rx.pattern, rx.flags))


def _cannot_count(step: _Step, top: dict, fields: frozenset) -> bool:
    """Whether nothing the rule proposes can change the result: every field it fills either is no
    field of this rule set or already has a candidate of higher priority (the best candidate is
    the highest-priority one, and rivals are warned of only at the best one's priority)."""
    if step.fills is None:
        return False
    prio = step.rule.priority
    for f in step.fills:  # a plain loop: a generator costs more than the few tests, once a rule a letter
        if f in fields and top.get(f, prio) <= prio:
            return False
    return True


def _plan(ruleset: RuleSet, families: tuple) -> tuple:
    """The steps of ``families``' rules with a pattern, in the order they are applied (memoised)."""
    return ruleset.memo(("header_plan", families), lambda: tuple(
        _step(r) for family in families for r in ruleset.rules(family) if r.pattern is not None))


def _propose(rule: Rule, m, off: int = 0, fields=frozenset(HEADER_FIELDS), types=None
             ) -> list[tuple[str, Any, int, int]]:
    target = rule.field or rule.family
    if rule.value is not None:
        return [(target, rule.value, off + m.start(), off + m.end())]
    types = types or {}
    out = []
    for name, raw in m.groupdict().items():
        f = target if name == "v" else GROUP_ALIASES.get(name, name)
        if raw is not None and f in fields:
            out.append((f, normalise_value(f, raw, m, types.get(f)), off + m.start(name), off + m.end(name)))
    if not out and target in fields:
        out.append((target, normalise_value(target, m.group(0), m, types.get(target)), off + m.start(), off + m.end()))
    return [o for o in out if o[1] not in (None, "", [])]


def _rank(c: Candidate) -> tuple:
    """The order of a field's candidates: priority, then the earliest (``pick: last``: the last) match."""
    rule = c.rule
    return rule.priority, c.start if rule.params and rule.params.get("pick") == "last" else -c.start


def _line_starts(part: str) -> list[int]:
    out, i = [0], part.find("\n")
    while i >= 0:
        out.append(i + 1)
        i = part.find("\n", i + 1)
    return out


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _lined(text: str, lines, joined=()) -> str:
    """``text`` with a line break for the space where a long physical line was cut into logical lines
    (``segment.split_lines``: a web page that ran its lines together), so that a header rule's ^ and
    $ find them as in the letter's own lines. One character for one: every offset stays. ``joined``:
    spans the segmenter took as one entry over two logical lines (a contact label and its number)."""
    if not lines or len(lines) == text.count("\n") + 1:
        return text  # no line was cut
    out = None
    for prev, nxt in zip(lines, lines[1:]):
        gap = text[prev.end:nxt.start]
        # one space where the page lost a break; a wide gap is the layout of one line (a colophon's
        # 某局办公室 … 印发), and a cut inside a quoted title is not a break
        if gap in (" ", "\t") and prev.text.count("《") <= prev.text.count("》") \
                and prev.text.count("“") <= prev.text.count("”") \
                and not any(a <= prev.end and nxt.start < b for a, b in joined):
            if out is None:
                out = list(text)
            out[prev.end] = "\n"
    return "".join(out) if out is not None else text


def extract_fields(text: str, seg: Segments, ruleset: RuleSet, families=None, present: frozenset | None = None):
    """Return (values, evidence, warnings) for the letter's fields: the spec's header fields and
    any a rule file declares, from the rules of every header family (default: all of them).
    ``present``: ``ruleset.literals_in(text)`` when the caller has it already."""
    families = tuple(families or ruleset.header_families())
    # the spec's fields have normalisers of their own; a declared field's type gives its normaliser
    fields, types = ruleset.memo("header_fields", lambda: (frozenset(f.name for f in ruleset.fields()),
                                                           {f.name: f.type for f in ruleset.extra_fields}))
    cands: dict[str, list[Candidate]] = {}
    if present is None:
        present = ruleset.literals_in(text)  # one pass over the letter for every rule's literals
    parts: dict[tuple[int, int], str] = {}  # each segment's text, cut once for all the rules
    line_starts: dict[tuple[int, int], list[int]] = {}  # and where its lines start, found once
    whole = (0, len(text))
    lined = _lined(text, seg.lines, seg.spans.get("contact", ()))
    timeout = rule_timeout(RULE_TIMEOUT)
    top: dict[str, int] = {}  # the highest priority of each field's candidates so far
    for step in _plan(ruleset, families):
        if top and _cannot_count(step, top, fields):
            continue
        lits = step.literals
        if lits is not None:
            lits = lits & present  # the rule's words the letter holds: usually one or two
            if not lits:  # its words are nowhere in the letter
                continue
        rule = step.rule
        # match on the segment's own text so that ^ and $ anchor at its bounds (a logical line
        # split out of a one-line web page is still a line); offsets are shifted back below
        for a, b in seg.get(step.segment):
            part = parts.get((a, b))
            if part is None:
                part = parts[(a, b)] = lined[a:b]
            # none of its words in this part: a substring test for each word the letter holds
            # costs less than finding every rule word of every part (one-character words abound)
            if lits is not None and (a, b) != whole and not holds_any(part, lits):
                continue
            try:
                if step.line_start and timeout is None:
                    starts = line_starts.get((a, b))
                    if starts is None:
                        starts = line_starts[(a, b)] = _line_starts(part)
                    found = line_matches(step.regex, part, starts)
                elif step.barriers is not None and timeout is None:
                    # the same matches as one scan of the part (see _Step.barriers); under a time
                    # limit per call (a letter parsed again after its watchdog fired) the part is
                    # scanned in one call as before, so the limit applies as it did
                    found = [m for x, y in stretches(part, lits, step.barriers)
                             for m in step.regex.finditer(part, x, y)]
                else:
                    found = step.regex.finditer(part, timeout=timeout)
                for m in found:
                    for f, v, s, e in _propose(rule, m, a, fields, types):
                        cands.setdefault(f, []).append(Candidate(f, v, rule, s, e))
                        if rule.priority > top.get(f, -(1 << 30)):
                            top[f] = rule.priority
            except TimeoutError:
                # a pathological text must not stall a batch: the rule gives nothing here
                seg.timeouts.append(rule.id)
    values: dict[str, Any] = {}
    evidence: dict[str, Evidence] = {}
    warnings: list[str] = []
    for f, cs in cands.items():
        # a rule of priority 0 is a hint only: it may lengthen a value found otherwise (the
        # fullest form of a name), never give one alone
        if all(c.rule.priority <= 0 for c in cs):
            continue
        best = max((c for c in cs if c.rule.priority > 0), key=_rank)
        if f in FULLEST_FORM:
            # the fullest form of the same name elsewhere in the letter (昆明市西山区民政局 over 西山区民政局)
            longer = [c for c in cs if isinstance(c.value, str) and len(c.value) > len(best.value) and (
                (best.value in c.value and (c.rule.priority > 0 or c.value.endswith(best.value)))
                # an abbreviation (开江县住建局) beside the full name (开江县住房和城乡规划建设局)
                or (c.rule.priority >= 20 and c.value[:2] == best.value[:2] and c.value[-1] == best.value[-1])
                # a shortened place name (某州教育局 for 某自治州教育局): every character kept, in order
                or (c.value[:2] == best.value[:2] and c.value[-1] == best.value[-1] and _subsequence(best.value, c.value)))]
            if longer:
                best = max(longer, key=lambda c: (len(c.value), c.rule.priority))
        values[f] = best.value
        evidence[f] = Evidence(rule=best.rule.id, start=best.start, end=best.end)
        rivals = {repr(c.value) for c in cs if c.rule.priority == best.rule.priority and c.value != best.value
                  and c.rule.get("warn", True)}
        if rivals and f in fields and f not in ("proposers", "cc", "title", "issuer"):
            warnings.append(f"{f}: found different values {sorted(rivals)[:3]} beside {best.value!r}")
    _apply_implications(ruleset, families, values, evidence)
    if seg.timeouts:
        warnings.append(f"rules gave up on this text (too slow to match): {', '.join(sorted(set(seg.timeouts)))}")
    return values, evidence, warnings


def _implications(ruleset: RuleSet, families) -> tuple:
    """The ``when`` rules of ``families`` that set a field, in order (memoised per rule set)."""
    return ruleset.memo(("header_implications", families), lambda: tuple(
        (rule, tuple(rule.get("when").items())) for family in families for rule in ruleset.rules(family)
        if rule.get("when") and rule.field is not None))


def _apply_implications(ruleset: RuleSet, families, values: dict, evidence: dict) -> None:
    """Rules with ``when``: a field that follows from others (a CPPCC proposal is a 提案). The
    evidence span is that of the first field the rule depends on."""
    for rule, when in _implications(ruleset, tuple(families)):
        if all(values.get(k) == v for k, v in when):
            src = evidence.get(when[0][0])
            values[rule.field] = rule.value
            evidence[rule.field] = Evidence(rule=rule.id, start=src.start if src else 0, end=src.end if src else 0)
