"""Number peer suites: Recognizers-Text NumberModel (zh) and cn2an's tests, through
``replyparse.text.numerals.parse_number_text`` (one number text → its value, or None).

replyparse converts numerals only inside spans a rule has matched, so a Recognizers case is in
scope when its input is one number (or, with no results, no number at all); extraction from
running text is listed in out_of_scope.yaml. cn2an's ``strict`` cases and its ``raises`` cases
run with ``strict=True`` (cheque-style reading); ``normal``/``smart`` cases with the default.
"""
from __future__ import annotations

import unicodedata

from _peers import load_json, load_jsonl, num_eq, run_suite

from replyparse.text.numerals import parse_number_text

FLOOR_RECOGNIZERS = 0.95
FLOOR_CN2AN = 0.95


def check_recognizers(case) -> str | None:
    # NFKC, not the letter normaliser: that one drops a line like "16/5" as a page number
    text = unicodedata.normalize("NFKC", case["Input"])
    got = parse_number_text(text)
    if not case["Results"]:
        return None if got is None else f"{got} (expected no number)"
    want = case["Results"][0]["Resolution"]["value"]
    return None if num_eq(got, want, tol=1e-9) else f"{got} != {want}"


def test_recognizers_number():
    run_suite("recognizers_number_zh", load_json("recognizers_number_zh.json"), "Input", check_recognizers,
              FLOOR_RECOGNIZERS)


def check_cn2an(case) -> str | None:
    text, exp, mode = case["text"], case["expected"], case.get("mode") or ""
    if isinstance(exp, dict) and "raises" in exp:
        got = parse_number_text(text, strict=True)
        return None if got is None else f"{got} (expected rejection)"
    got = parse_number_text(text, strict=mode.startswith("strict"))
    return None if num_eq(got, exp, tol=1e-9) else f"{got} != {exp}"


def test_cn2an():
    run_suite("cn2an_cases", load_jsonl("cn2an_cases.jsonl"), "text", check_cn2an, FLOOR_CN2AN,
              label=lambda case: f"{case['text']!r} [{case.get('mode')}]")
