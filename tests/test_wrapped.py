"""Hard-wrapped plain text (readers/wrapped.py): its paragraphs rebuilt, and nothing else touched."""
from pathlib import Path

import pytest

from replyparse.engine.rules import default_rules
from replyparse.pipeline import parse_file
from replyparse.readers import read_file
from replyparse.readers.pdf import layout_cues
from replyparse.readers.wrapped import unwrap

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "corpus"
CUES = layout_cues(default_rules())


def _wrap(text: str, width: int) -> str:
    return "\n".join(line[i:i + width] for line in text.split("\n") for i in range(0, max(len(line), 1), width))


def test_a_wrapped_paragraph_is_joined_and_new_paragraphs_stay_apart():
    para = "经研究，我局今年安排专项资金200万元用于该路段的改造，目前已完成招标工作，预计年底前完工并投入使用。"
    text = "关于某某建议的答复\n张三代表：\n" + _wrap(para, 20) + "\n一、下一步工作\n" + _wrap(para, 20) \
        + "\n\u3000\u3000另起一段。\n某县交通运输局\n2024年5月6日"
    out, wrap = unwrap(text, CUES)
    assert wrap is not None
    assert out.split("\n") == ["关于某某建议的答复", "张三代表：", para, "一、下一步工作", para,
                               "\u3000\u3000另起一段。", "某县交通运输局", "2024年5月6日"]


def test_a_list_of_names_run_over_the_line_is_one_addressee_line():
    names = "、".join(["张春宏", "罗丽琼", "杨文和", "姚开武", "朱春祥", "罗桂兰", "鲁兴荣", "赵存荣"]) + "代表："
    body = "你们提出的关于延长防火公路的建议收悉，现答复如下：近年来我市为提升重点火险区域的综合防控能力，共筹措投入资金1728.2万元修建防火通道。"
    out, wrap = unwrap("某局关于建议办理情况的答复\n" + _wrap(names, 30) + "\n" + _wrap(body, 30), CUES)
    assert wrap is not None
    assert out.split("\n")[1] == names


def test_a_letter_with_a_line_per_paragraph_is_left_as_it_is():
    for folder in [REPO / "corpus", SHARED / "real", SHARED / "real-2"]:
        if not folder.is_dir():
            continue
        for p in sorted(folder.glob("*.txt")):
            doc = read_file(p, rules=default_rules())
            assert not any("hard-wrapped" in w for w in doc.warnings), p.name


@pytest.mark.parametrize("width", [24, 36])
def test_a_hard_wrapped_letter_gives_the_record_of_the_original(tmp_path, width):
    src = REPO / "corpus" / "ry-jianyi-2013-071.txt"
    wrapped = tmp_path / "wrapped.txt"
    wrapped.write_text(_wrap(src.read_text("utf-8"), width), "utf-8")
    a, b = parse_file(src)[0], parse_file(wrapped)[0]
    assert any("hard-wrapped" in w for w in b.warnings)
    for field in ("doc_number", "issuer", "title", "proposers", "proposal_title", "date", "contact_person",
                  "contact_phone"):
        assert getattr(a, field) == getattr(b, field), field
    assert [(x.value_yuan, x.role) for x in a.amounts] == [(x.value_yuan, x.role) for x in b.amounts]
    assert [x.category for x in a.actions] == [x.category for x in b.actions]


def test_an_html_fragment_in_a_txt_is_decoded_and_plain_text_is_not():
    from replyparse.readers.text import html_fragment_text

    assert html_fragment_text("关于&ldquo;加快建设&rdquo;的建议<br/>\n张三代表：<br>\n您好") == \
        "关于“加快建设”的建议\n张三代表：\n您好"
    # an ampersand in a name, a comparison: plain text, left alone
    assert html_fragment_text("A&B公司投资<100万元，R&D经费") is None


def test_a_txt_holding_an_html_fragment_parses_like_the_plain_letter(tmp_path):
    src = REPO / "corpus" / "ry-jianyi-2013-071.txt"
    text = src.read_text("utf-8")
    frag = tmp_path / "fragment.txt"
    frag.write_text("<br />\n".join("".join(f"&#{ord(c)};" if c in "，。“”" else c for c in line)
                                    for line in text.split("\n")), "utf-8")
    a, b = parse_file(src)[0], parse_file(frag)[0]
    assert any("HTML markup" in w for w in b.warnings)
    assert (a.title, a.doc_number, a.proposers, a.date) == (b.title, b.doc_number, b.proposers, b.date)
    assert [(x.value_yuan, x.role) for x in a.amounts] == [(x.value_yuan, x.role) for x in b.amounts]
