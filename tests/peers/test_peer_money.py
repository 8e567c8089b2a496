"""Money peer suites: Recognizers-Text CurrencyModel (zh) and JioNLP's money tests.

Yuan amounts go through ``find_money`` (text and value must agree); amounts in another
currency through ``value_of`` (the number must agree, find_money must report nothing for it).
JioNLP reads 3000多 as the range 3000–4000; replyparse's contract reads it as 3000, approximate,
so for 多/余/几 ranges the lower bound and ``approx`` are checked.
"""
from __future__ import annotations

import regex

from _peers import load_json, load_jsonl, num_eq, run_suite
from replyparse.extract.money import find_money, value_of
from replyparse.text.normalize import normalise

FLOOR_RECOGNIZERS = 0.95
FLOOR_JIONLP = 0.95


def _norm(s: str) -> str:
    return normalise(s).replace(" ", "")


def check_recognizers(case) -> str | None:
    text = normalise(case["Input"])
    found = find_money(text)
    want_yuan = [r for r in case["Results"] if r["Resolution"].get("isoCurrency") == "CNY"]
    foreign = [r for r in case["Results"] if r["Resolution"].get("isoCurrency") != "CNY"]
    got = [(_norm(s.text), s.value_yuan) for s in found]
    if len(got) != len(want_yuan):
        return f"yuan amounts {got} != {[(r['Text'], r['Resolution']['value']) for r in want_yuan]}"
    for (gt, gv), r in zip(got, want_yuan):
        if gt != _norm(r["Text"]) or not num_eq(gv, r["Resolution"]["value"]):
            return f"{gt}={gv} != {r['Text']}={r['Resolution']['value']}"
    for r in foreign:
        v, _, _ = value_of(r["Text"])
        if not num_eq(v, r["Resolution"]["value"]):
            return f"value_of({r['Text']!r}) = {v} != {r['Resolution']['value']}"
    return None


def test_recognizers_currency():
    run_suite("recognizers_currency_zh", load_json("recognizers_currency_zh.json"), "Input", check_recognizers,
              FLOOR_RECOGNIZERS)


_VAGUE = regex.compile(r"[多余几数]")


def check_jionlp(case) -> str | None:
    text, exp = case["text"], case["expected"]
    if case["function"].startswith("jio.parse_money"):
        v, vmax, approx = value_of(text)
        num = exp["num"]
        if isinstance(num, list):
            lo, hi = float(num[0]), float(num[1])
            if _VAGUE.search(text) and not regex.search(r"[-~～到至—]", text):
                ok = num_eq(v, lo) and approx and (vmax is None or num_eq(vmax, hi))
            else:
                ok = num_eq(v, lo) and num_eq(vmax, hi)
            return None if ok else f"({v}, {vmax}, {approx}) != {num}"
        ok = num_eq(v, float(num)) and vmax is None and (approx == (exp["definition"] != "accurate"))
        return None if ok else f"({v}, {vmax}, {approx}) != {num} {exp['definition']}"
    # extractor: the yuan items (JioNLP also extracts other currencies; find_money does not)
    want = [e for e in exp if not regex.search(r"日元|美元|欧元|港币|港元|英镑", e["text"])]
    got = find_money(normalise(text))
    got_t = [(s.text, s.start, s.end) for s in got]
    want_t = [(e["text"], e["offset"][0], e["offset"][1]) for e in want]
    return None if got_t == want_t else f"{got_t} != {want_t}"


def test_jionlp_money():
    run_suite("jionlp_money_cases", load_jsonl("jionlp_money_cases.jsonl"), "text", check_jionlp, FLOOR_JIONLP)
