"""Literal prefilters (src/replyparse/engine/prefilter.py): a rule skipped for a text could not have matched it."""
from pathlib import Path

import pytest
import regex

from replyparse.text.normalize import normalise
from replyparse.engine.prefilter import (FilteredPattern, barrier_chars, barrier_finders, line_anchored, line_matches,
                                        required_literals, stretches)
from replyparse.readers import read_file
from replyparse.engine.rules import load_rules

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "corpus"


@pytest.mark.parametrize("pattern, literals", [
    (r"联系人\s*[：:]\s*(?P<v>\p{Han}{2,4})", {"联系人"}),
    (r"(?:抄送|抄报)[：:]", {"抄送", "抄报"}),
    (r"a(?:bc|de)f", {"bc", "de"}),  # the longest guarantee wins over the single letters around it
    (r"(?:x|y?)z", {"z"}),  # a branch that may be empty guarantees nothing
    (r"关于(?=\p{Han})x", {"关于x"}),  # a lookahead takes no text from the match
    (r"ab+c", {"ab"}),
])
def test_required_literals(pattern, literals):
    assert required_literals(pattern) == frozenset(literals)


@pytest.mark.parametrize("pattern", [
    r"^\s*[一二三四五六七八九十]{1,3}[、.．]",  # classes only
    r"(?i)abc", r"(abc)\1", r"(?:abc){e<=1}", r"x|\d+", r"(?:ab)?c?",
])
def test_no_guarantee_means_no_prefilter(pattern):
    assert required_literals(pattern) is None


def test_ignore_case_has_no_prefilter():
    assert required_literals("abc", ignore_case=True) is None


def _texts():
    folders = [REPO / "corpus", SHARED / "real", SHARED / "real-2"]
    for folder in folders:
        for p in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
            doc = read_file(p)
            if doc.status == "ok":
                yield normalise(doc.text)


def _rule_regexes(ruleset):
    for rules in ruleset.families.values():
        for r in rules:
            if r.pattern is not None:
                yield r.id, r.pattern
            for k, v in r.params.items():
                if hasattr(v, "finditer"):
                    yield f"{r.id}.{k}", v


def test_a_rule_that_matches_is_never_filtered_out():
    """Every match of every rule regex, on every letter we have, holds one of its literals."""
    ruleset = load_rules()
    filtered = [(rid, p) for rid, p in _rule_regexes(ruleset) if isinstance(p, FilteredPattern) and p.literals]
    assert len(filtered) >= 100  # most rules are anchored on a word
    texts = list(_texts())
    assert len(texts) >= 40
    examples = [ex.text for exs in ruleset.examples.values() for ex in exs]
    checked = 0
    for rid, p in filtered:
        for text in texts + examples:
            for m in p.regex.finditer(text, timeout=2):
                assert any(lit in m.group(0) for lit in p.literals), (rid, m.group(0), p.literals)
                checked += 1
    assert checked > 1000


def test_filtered_pattern_behaves_as_the_regex():
    raw = regex.compile(r"抄送[：:](?P<v>[^\n]+)")
    fp = FilteredPattern(raw.pattern, raw.flags, required_literals(raw.pattern))
    text = "正文\n抄送：县财政局\n"
    assert fp.search(text).group("v") == raw.search(text).group("v")
    assert [m.span() for m in fp.finditer(text)] == [m.span() for m in raw.finditer(text)]
    assert fp.search("没有这个词") is None and list(fp.finditer("没有")) == []
    lexicon = FilteredPattern("甲乙|丙丁|戊己|庚辛", regex.V0, frozenset({"甲乙", "丙丁", "戊己", "庚辛"}))
    assert lexicon.search("……庚辛……") and lexicon.search("无") is None


@pytest.mark.parametrize("pattern, flags, barriers", [
    (r"a[^。]b", 0, {"。"}),  # [^。] takes every other candidate
    (r"a.b", 0, {"\n"}),
    (r"a.b", regex.DOTALL, set()),
    (r"a\sb", 0, {"。", "；", "！", "？"}),  # \s takes the line break
    (r"^ab", 0, set()), (r"a(?=b)", 0, set()), (r"a\bb", 0, set()),  # a zero-width test looks past a bound
    (r"(?i)ab", 0, set()), (r"(ab)\1", 0, set()),
])
def test_barrier_chars(pattern, flags, barriers):
    assert barrier_chars(pattern, flags) == frozenset(barriers)


def test_stretch_search_finds_what_one_scan_finds():
    """header: a rule searched only in the stretches between its barrier characters that hold one of
    its literals gives the same matches as one scan, for every rule with barriers and literals, on
    every letter we have and every rule example (whether or not header applies it that way)."""
    ruleset = load_rules()
    rules = [(rid, p.regex, frozenset(p.literals), barrier_finders(barrier_chars(p.pattern, p.flags)))
             for rid, p in _rule_regexes(ruleset) if isinstance(p, FilteredPattern) and p.literals]
    rules = [r for r in rules if r[3] is not None]
    assert any(rid == "proposers.body_named" for rid, *_ in rules)
    texts = list(_texts()) + [ex.text for exs in ruleset.examples.values() for ex in exs]
    compared = 0
    for rid, rx, lits, finders in rules:
        for text in texts:
            whole = [(m.span(), m.groupdict()) for m in rx.finditer(text, timeout=2)]
            parts = [(m.span(), m.groupdict()) for a, b in stretches(text, lits, finders)
                     for m in rx.finditer(text, a, b, timeout=2)]
            assert parts == whole, rid
            compared += len(whole)
    assert compared > 1000


@pytest.mark.parametrize("pattern, flags, anchored", [
    (r"^ab", regex.MULTILINE, True), (r"^(?:a|b)c", regex.MULTILINE, True),
    (r"^ab", 0, False),  # without MULTILINE ^ is the start of the text only
    (r"^a|b", regex.MULTILINE, False),  # the second branch starts anywhere
    (r"a^b", regex.MULTILINE, False), (r"^(a)\1", regex.MULTILINE, False),  # not understood: no claim
])
def test_line_anchored(pattern, flags, anchored):
    assert line_anchored(pattern, flags) is anchored


def test_matching_at_line_starts_finds_what_one_scan_finds():
    """header: a rule whose every match starts a line is matched at each line start only; that gives
    the matches one scan gives, for every such rule regex, on every letter we have and every example."""
    ruleset = load_rules()
    rules = [(rid, p.regex if isinstance(p, FilteredPattern) else p) for rid, p in _rule_regexes(ruleset)]
    rules = [(rid, rx) for rid, rx in rules if line_anchored(rx.pattern, rx.flags)]
    assert len(rules) >= 20
    texts = list(_texts()) + [ex.text for exs in ruleset.examples.values() for ex in exs]
    compared = 0
    for rid, rx in rules:
        for text in texts:
            starts = [0] + [m.end() for m in regex.finditer("\n", text)]
            whole = [(m.span(), m.groupdict()) for m in rx.finditer(text, timeout=2)]
            assert [(m.span(), m.groupdict()) for m in line_matches(rx, text, starts)] == whole, rid
            compared += len(whole)
    assert compared > 500


def test_money_searched_sentence_by_sentence_finds_what_one_scan_finds():
    """money: a rule with words is searched only in the sentences holding one (its lookaheads at a
    sentence's end see the end of the text instead of 。；！？, which none of them can take); that gives
    the matches of one scan, for every money rule, on every letter we have, every rule example and
    every peer money case."""
    import json

    from replyparse.extract.money import _plan

    ruleset = load_rules()
    plan = [(rule.id, rx, lits, finders) for rule, rx, lits, finders in _plan(ruleset) if finders is not None]
    assert len(plan) >= 6
    texts = list(_texts()) + [ex.text for exs in ruleset.examples.values() for ex in exs]
    peers = SHARED.parent / "peers" / "jionlp_money_cases.jsonl"
    if peers.exists():
        texts += [json.loads(line).get("text", "") for line in peers.read_text("utf-8").splitlines() if line.strip()]
    compared = 0
    for rid, rx, lits, finders in plan:
        for text in texts:
            whole = [(m.span(), m.groupdict()) for m in rx.finditer(text, timeout=2)]
            words = [w for w in lits if w in text]
            parts = [(m.span(), m.groupdict()) for a, b in stretches(text, words, finders)
                     for m in rx.finditer(text, a, b, timeout=2)] if words else []
            assert parts == whole, (rid, text[:80])
            compared += len(whole)
    assert compared > 500
