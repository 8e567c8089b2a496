"""Money: every example of rules/money.yaml, value_of, amounts_json, and robustness properties."""
from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from replyparse.engine.examples import run_examples
from replyparse.extract.money import amounts_json, find_money, value_of
from replyparse.engine.rules import default_rules


def _money_examples():
    return default_rules().examples.get("money", [])


def test_money_has_examples():
    exs = _money_examples()
    assert len(exs) >= 40
    assert any(not e.expect.get("amounts") for e in exs), "negative examples too"


@pytest.mark.parametrize("ex", _money_examples(), ids=lambda e: e.text[:30])
def test_money_example(ex):
    from replyparse.engine.examples import Failure, matches_expected, values_for

    got = values_for(ex, default_rules())
    for k, v in ex.expect.items():
        assert matches_expected(v, got.get(k)), str(Failure(ex, k, v, got.get(k)))


def test_run_examples_money_clean():
    n, failures = run_examples(default_rules(), ["money"])
    assert n and not failures, "\n".join(map(str, failures))


@pytest.mark.parametrize("text,value,vmax,approx", [
    ("282.68万元", 2826800, None, False),
    ("近700万元", 7000000, None, True),
    ("三百万", 3000000, None, False),
    ("50-100万元", 500000, 1000000, False),
    ("四五千元", 4000, 5000, True),
    ("壹佰万元整", 1000000, None, False),
    ("1.2亿元", 120000000, None, False),
    ("25481港元", 25481, None, False),
])
def test_value_of(text, value, vmax, approx):
    assert value_of(text) == (value, vmax, approx)


def test_exact_decimals():
    (s,) = find_money("安排资金282.68万元")
    assert s.value_yuan == 2826800 and isinstance(s.value_yuan, int)
    (s,) = find_money("共0.1万元")
    assert s.value_yuan == 1000


def test_offsets_and_order():
    text = "其中省级补助650万元，已拨付520万元，剩余130万待省级资金下发后拨付"
    spans = find_money(text)
    assert [s.text for s in spans] == ["650万元", "520万元", "130万"]
    for s in spans:
        assert text[s.start:s.end] == s.text


def test_amounts_json():
    data = json.loads(amounts_json("争取到省预算内前期工作经费100万元"))
    assert data == [{"text": "100万元", "value_yuan": 1000000, "value_max_yuan": None, "approx": False,
                     "start": 13, "end": 18, "rule": "money.arabic_yuan"}]
    assert json.loads(amounts_json("")) == []


# ----------------------------------------------------------------- robustness

ADVERSARIAL = [
    "1" * 100_000 + "万元",
    "万" * 10_000,
    "万元" * 10_000,
    "一" * 50_000 + "万元",
    "(" * 5000 + "100万元" + ")" * 5000,
    "〔" * 3000 + "2024" + "〕" * 3000 + "号",
    "1," * 20_000 + "元",
    "1.1." * 20_000 + "万元",
    "近约超过" * 5000 + "1万元",
    "-" * 20_000 + "1万元",
    "资金" + "1万-" * 10_000 + "元",
    "十百千万亿" * 5000,
    "资金400万" * 3000,
    "元" * 50_000,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda t: repr(t[:12]) + f"x{len(t)}")
def test_adversarial_fast(text):
    t0 = time.perf_counter()
    find_money(text)
    assert time.perf_counter() - t0 < 1.0


ALPHABET = st.sampled_from(list("0123456789.,，-—~至到元万亿千百十零一二两三四五六七八九壹佰仟萬億块钱角分整余多近约超过以上左右资金经费人亩()（）〔〕[] 。\n%$¥美港币"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ALPHABET, max_size=300).map("".join))
def test_random_money_alphabet(text):
    t0 = time.perf_counter()
    spans = find_money(text)
    assert time.perf_counter() - t0 < 1.0
    last = -1
    for s in spans:
        assert text[s.start:s.end] == s.text
        assert s.start >= last
        last = s.end
        assert s.value_yuan is not None
        assert s.value_max_yuan is None or s.value_max_yuan >= s.value_yuan


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500))
@example("+")  # a sign with nothing to read after it once raised
@example("-")
@example("+万元")
def test_random_text_never_raises(text):
    t0 = time.perf_counter()
    find_money(text)
    value_of(text)
    assert time.perf_counter() - t0 < 1.0


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=1, max_value=5000), st.sampled_from(["1", "万", "一", "(", "元", "1万"]))
def test_long_runs(n, piece):
    t0 = time.perf_counter()
    find_money(piece * n + "资金100万元")
    assert time.perf_counter() - t0 < 1.0


# ----------------------------------------------------------------- 块, mojibake, unsure roles


@pytest.mark.parametrize("text,want", [
    ("本年度为各小区更换燃气表960块，剩余部分明年完成。", []),
    ("厂区屋顶安装光伏组件3.6万块，年发电量可观。", []),
    ("对困难家庭每户补贴500块。", [500]),
    ("保洁员一个月工资只有1800块，偏低。", [1800]),
    ("每人每月补助两百块", [200]),
])
def test_kuai_counter_or_colloquial_yuan(text, want):
    assert [s.value_yuan for s in find_money(text)] == want


@pytest.mark.parametrize("text", [
    "县财政安排专项资金\ufffd00万元用于道路维修。",
    "县财政安排专项资金锟斤拷00万元用于道路维修。",
    "县财政安排专项资金?00万元用于道路维修。",
])
def test_lost_leading_digit_left_out_with_warning(text):
    warnings: list[str] = []
    assert find_money(text, warnings=warnings) == []
    assert len(warnings) == 1 and "00万元" in warnings[0] and "mojibake" in warnings[0]


def test_lost_leading_digit_keeps_other_amounts():
    text = "一期安排资金45万元；二期安排资金\ufffd0万元。"
    warnings: list[str] = []
    assert [s.value_yuan for s in find_money(text, warnings=warnings)] == [450000]
    assert len(warnings) == 1


def test_question_mark_after_a_question_is_not_mojibake():
    warnings: list[str] = []
    assert [s.value_yuan for s in find_money("需要多少资金吗?80万元足够。", warnings=warnings)] == [800000]
    assert warnings == []


LETTER_HEAD = "李某代表：\n您提出的关于修缮村级文化广场的建议收悉，现答复如下：\n"


def _record(body):
    from replyparse.pipeline import parse_text

    return parse_text(LETTER_HEAD + body + "\n\n某县文化和旅游局\n2031年5月6日\n")


def test_role_unsure_when_no_cue_fires():
    rec = _record("广场周边共有商户12家，去年游客消费约35万元。\n")
    (a,) = rec.amounts
    assert a.role == "other"
    assert f"role unsure: {a.text} at {a.start}" in rec.warnings


def test_role_sure_when_a_cue_fires():
    rec = _record("今年我局已安排广场修缮资金18万元。\n")
    (a,) = rec.amounts
    assert a.role == "allocated"
    assert not [w for w in rec.warnings if w.startswith("role unsure")]


def test_role_unsure_when_equal_cues_disagree():
    from replyparse.extract.roles import extract_amounts
    from replyparse.text.normalize import normalise
    from replyparse.engine.rules import load_rules
    from replyparse.extract.segment import segment

    # two cues of the same weight: a body decided to spend (allocated), the money is a firm's (other)
    rules = load_rules()
    text = normalise(LETTER_HEAD + "经镇政府研究，决定由企业投入广场修缮资金60万元。\n")
    warnings: list[str] = []
    amounts = extract_amounts(text, segment(text, rules), rules, warnings=warnings)
    (a,) = amounts
    assert a.role == "other"
    assert warnings == [f"role unsure: {a.text} at {a.start}"]


def test_funded_parts_of_an_other_total_count_in_the_allocated_total():
    rec = _record("该广场改造项目总投资100万元，其中区级补助资金已拨付60万元、镇级配套30万元。\n")
    assert [(a.role, a.part_of) for a in rec.amounts] == [("other", None), ("allocated", 0), ("allocated", 0)]
    assert rec.allocated_total_yuan == 900000


def test_whole_number_lost_to_mojibake_is_only_warned_about():
    warnings: list[str] = []
    spans = find_money("其中道路养护经费36万元、路灯维护费?萬元。", warnings=warnings)
    assert [s.value_yuan for s in spans] == [360000]
    assert warnings == ["amount left out: its number is lost to mojibake: ?萬元 at 18"]


def test_a_bug_in_the_money_reader_is_a_warning_not_silence(monkeypatch):
    """A failure inside the amount reader leaves the letter without amounts and says so."""
    from replyparse.extract import money

    def broken(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(money, "_select", broken)
    warnings: list[str] = []
    assert money.find_money("已安排资金20万元。", warnings=warnings) == []
    assert warnings == ["amounts could not be read (internal error: RuntimeError: boom)"]
