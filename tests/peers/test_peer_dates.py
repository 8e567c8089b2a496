"""Date peer suites: Recognizers-Text DateParser/DateExtractor (zh) and JioNLP's time tests,
through ``replyparse.text.dates.parse_date`` / ``find_dates``.

Letters carry absolute calendar dates, so the cases in scope are those with a written year
resolving to one day, month or year. Relative expressions (明天, 上周一, needing 'now'), dates
without a year, lunar/era dates and times of day, spans and durations are listed with their
reason in out_of_scope.yaml.
"""
from __future__ import annotations

import datetime as dt
import unicodedata

from _peers import load_json, load_jsonl, run_suite
from replyparse.text.dates import find_dates, parse_date

FLOOR = 0.95


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def _run(suite, cases, key, check, floor=FLOOR):
    return run_suite(suite, cases, key, check, floor)


def check_rec_parser(case):
    want = [r["Value"]["Timex"] for r in case["Results"]]
    got = [iso for _, _, iso in find_dates(_nfkc(case["Input"]))]
    return None if got == want else f"{got} != {want}"


def check_rec_extractor(case):
    want = [_nfkc(r["Text"]) for r in case["Results"]]
    text = _nfkc(case["Input"])
    got = [text[s:e] for s, e, _ in find_dates(text)]
    return None if got == want else f"{got} != {want}"


def jionlp_iso(expected) -> str | None:
    """The ISO date a JioNLP time_point covering one whole day, month or year stands for."""
    if not isinstance(expected, dict) or expected.get("type") != "time_point":
        return None
    t = expected.get("time")
    if not isinstance(t, list) or len(t) != 2:
        return None
    try:
        a = dt.datetime.strptime(t[0], "%Y-%m-%d %H:%M:%S")
        b = dt.datetime.strptime(t[1], "%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return None
    if a.time() != dt.time(0) or b.time() != dt.time(23, 59, 59):
        return None
    if a.date() == b.date():
        return a.strftime("%Y-%m-%d")
    nxt = b.date() + dt.timedelta(days=1)
    if a.day == 1 and nxt.day == 1 and (a.year, a.month) == (b.year, b.month):
        return a.strftime("%Y-%m")
    if a.month == 1 and a.day == 1 and b.month == 12 and b.day == 31 and a.year == b.year:
        return a.strftime("%Y")
    return None


def check_jio_parser(case):
    want = jionlp_iso(case["expected"])
    got = parse_date(_nfkc(case["text"]))
    return None if got == want else f"{got} != {want}"


def check_jio_extractor(case):
    want = [e["text"] for e in case["expected"]]
    text = _nfkc(case["text"])
    got = [text[s:e] for s, e, _ in find_dates(text)]
    return None if got == want else f"{got} != {want}"


def test_recognizers_date_parser():
    _run("recognizers_date_parser_zh", load_json("recognizers_date_parser_zh.json"), "Input", check_rec_parser)


def test_recognizers_date_extractor():
    _run("recognizers_date_extractor_zh", load_json("recognizers_date_extractor_zh.json"), "Input",
         check_rec_extractor)


def test_jionlp_time_parser():
    # 11/12: '三三年' (a bare two-digit year) is read only when a month follows
    _run("jionlp_time_parser_cases", load_jsonl("jionlp_time_parser_cases.jsonl"), "text", check_jio_parser,
         floor=0.9)


def test_jionlp_time_extractor():
    _run("jionlp_time_extractor_cases", load_jsonl("jionlp_time_extractor_cases.jsonl"), "text",
         check_jio_extractor)
