"""Letters written or copied differently must give the same records: the real letters of both
batches, read in place from ../shared, rewritten the ways web mirrors, Word exports and Traditional
editions rewrite them, score as the originals do (README: Measured, *Same letter, other form*).

Each transformation keeps the letter's content: gold values stay right for the rewritten text.
Scores may move by at most ``SLACK`` (a name OpenCC converts wrongly, 乾 → 干, is the known loss).
"""
import re
import shutil
from pathlib import Path

import pytest

from replyparse.evaluate import evaluate
from replyparse.readers.wrapped import display_width

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
BATCHES = ("real", "real-2")
MEASURES = ("header_micro_f1", "amount_value_f1", "amount_value_role_f1", "actions_micro_f1",
            "is_reply_letter_accuracy")
SLACK = 0.005
_SHORT_HAN_LINE = re.compile(r"[\u4e00-\u9fff]{2,12}")
_HAN_NUM = re.compile(r"(?<=[\u4e00-\u9fff])(?=\d)|(?<=\d)(?=[\u4e00-\u9fff])")


def _traditional(text: str) -> str:
    import opencc

    return opencc.OpenCC("s2t").convert(text)


def _hard_wrapped(text: str, width: int = 36, measure=len) -> str:
    """Every line longer than ``width`` cut into lines of at most ``width`` (by ``measure``), as a
    fixed-width export does, in mid-sentence and mid-number."""
    out = []
    for line in text.split("\n"):
        cur = ""
        for ch in line:
            if measure(cur + ch) > width:
                out.append(cur)
                cur = ""
            cur += ch
        out.append(cur)
    return "\n".join(out)


_DATE = re.compile(r"((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日")
_CN = "〇一二三四五六七八九"


def _cn_number(n: int) -> str:
    tens, ones = divmod(n, 10)
    return _CN[n] if n < 10 else ("" if tens == 1 else _CN[tens]) + "十" + (_CN[ones] if ones else "")


def _chinese_dates(text: str) -> str:
    """2023年5月10日 written 二〇二三年五月十日, as signed letters date themselves."""
    return _DATE.sub(lambda m: "".join(_CN[int(c)] for c in m[1]) + "年" + _cn_number(int(m[2])) + "月"
                     + _cn_number(int(m[3])) + "日", text)


# a government site's page around the letter: its menu and breadcrumb above; print and close links,
# the links to the letters before and after (which name other letters, their numbers and kinds), the
# host, its phone and the ICP lines below
_PAGE_TOP = ("首页 | 政务公开 | 政务服务 | 政民互动 | 走进本市\n当前位置：首页 > 政务公开 > 信息公开\n"
             "【字体：大 中 小】 打印本页 关闭窗口\n\n")
_PAGE_BOTTOM = ("\n\n【打印本页】【关闭窗口】\n上一篇：关于加强农村公路养护的建议的答复\n"
                "下一条：关于推进老旧小区改造工作的第12号提案的答复\n"
                "主办单位：市人民政府办公室  承办单位：市大数据中心\n"
                "地址：人民路1号  邮编：650000  联系电话：0871-63100000\n"
                "网站标识码：5301000001  滇ICP备05000000号  滇公网安备 53010202000000号\n")


TRANSFORMS = {
    # dates in Chinese numerals; doc numbers with square brackets (某政发[2023]12号)
    "chinese_dates": _chinese_dates,
    "square_brackets": lambda t: re.sub(r"〔(\d{4})〕", r"[\1]", t),
    # a Traditional edition (HK, Taiwan, a converted mirror): 答覆, 覆函, 經費
    "traditional": _traditional,
    # auto-spacing web pages: 资金 200 多万元, 2017 年
    "spaced_numbers": lambda t: _HAN_NUM.sub(" ", t),
    # full-width digits from an input method
    "fullwidth_digits": lambda t: t.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)}),
    # punctuation in the other width, both ways: mirrors turn a letter's ，：（） into ,:() and back
    "swapped_punctuation": lambda t: t.translate(str.maketrans("，：；（）！？,:;()!?", ",:;()!?，：；（）！？")),
    # Windows line ends and ideographic-space indents (Word's plain-text export)
    "crlf_indented": lambda t: "\r\n".join("\u3000\u3000" + ln if ln.strip() else ln for ln in t.split("\n")),
    # a fixed-width export: cut at 36 characters, or at 72 terminal columns (a Chinese character is two)
    "hard_wrapped": _hard_wrapped,
    "hard_wrapped_columns": lambda t: _hard_wrapped(t, 72, display_width),
    # copied from a page's source: entities and line-break tags, or numeric references for punctuation
    "html_entities": lambda t: "<br/>\n".join(t.replace("“", "&ldquo;").replace("”", "&rdquo;")
                                               .replace("—", "&mdash;").split("\n")).replace("  ", "&nbsp;&nbsp;"),
    "numeric_references": lambda t: "".join(f"&#{ord(c)};" if c in "，。：；（）、《》“”" else c for c in t),
    # a blank line after every line (a mirror's <p> per line)
    "double_spaced": lambda t: "\n\n".join(t.split("\n")),
    # copied with the whole web page around it
    "web_page_chrome": lambda t: _PAGE_TOP + t + _PAGE_BOTTOM,
    # headings, signatures and names set letter-spaced (Word's distributed alignment, and PDF text of
    # it): every short line of Han characters alone, 宁 陕 县 交 通 局
    "letter_spaced": lambda t: "\n".join(" ".join(ln) if _SHORT_HAN_LINE.fullmatch(ln) else ln for ln in t.split("\n")),
}


def _scores(folder: Path) -> dict:
    r = evaluate(folder, "clean").as_dict()
    return {k: r[k] for k in MEASURES}


@pytest.fixture(scope="module")
def originals():
    if not all((SHARED / b).is_dir() for b in BATCHES):
        pytest.skip(f"{SHARED} is not beside this checkout")
    return {b: _scores(SHARED / b) for b in BATCHES}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_the_same_letters_in_another_form_score_the_same(name, originals, tmp_path):
    change = TRANSFORMS[name]
    for batch in BATCHES:
        out = tmp_path / batch
        out.mkdir()
        changed = 0
        for src in (SHARED / batch).glob("*.txt"):
            text = src.read_text("utf-8", errors="surrogateescape")
            new = change(text)
            changed += new != text
            (out / src.name).write_text(new, "utf-8", errors="surrogateescape")
            gold = src.with_suffix(".gold.json")
            if gold.exists():
                shutil.copy(gold, out / gold.name)
        assert changed >= 20, (name, batch, changed)  # the transformation did rewrite letters
        got = _scores(out)
        moved = {k: (round(originals[batch][k], 3), round(got[k], 3)) for k in MEASURES
                 if abs(got[k] - originals[batch][k]) > SLACK}
        assert not moved, (name, batch, moved)


# the letter run into one line, its line breaks turned into spaces (a page whose <p> and <br> were
# lost): what is left of a line is the logical lines the segment rules cut at the spaces, so some
# header fields are lost still (README: Measured); amounts and detection are not
ONE_LINE_MOST_LOST = {"header_micro_f1": 0.04, "amount_value_role_f1": 0.03, "actions_micro_f1": 0.02,
                      "amount_value_f1": SLACK, "is_reply_letter_accuracy": SLACK}


def test_a_letter_run_into_one_line_keeps_most_fields(originals, tmp_path):
    for batch in BATCHES:
        out = tmp_path / batch
        out.mkdir()
        for src in (SHARED / batch).glob("*.txt"):
            text = src.read_text("utf-8", errors="surrogateescape")
            joined = " ".join(line.strip() for line in text.split("\n") if line.strip())
            (out / src.name).write_text(joined, "utf-8", errors="surrogateescape")
            gold = src.with_suffix(".gold.json")
            if gold.exists():
                shutil.copy(gold, out / gold.name)
        got = _scores(out)
        lost = {k: (round(originals[batch][k], 3), round(got[k], 3)) for k in MEASURES
                if originals[batch][k] - got[k] > ONE_LINE_MOST_LOST[k]}
        assert not lost, (batch, lost)
