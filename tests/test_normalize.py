from replyparse.text.normalize import normalise, to_simplified


def test_fullwidth_digits_and_letters_become_ascii_but_punctuation_stays():
    assert normalise("共计１２．５万元，Ａ类") == "共计12.5万元，A类"


def test_mirror_pinyin_is_removed():
    assert normalise("現將辦理情況答復(fù)如下：會(huì )議") == "现将办理情况答复如下：会议"


def test_page_furniture_removed():
    text = "第一段\n— 1 —\n\n\n\n第二段\n- 2 -\nimage1.wmf\n第三段   "
    assert normalise(text) == "第一段\n\n第二段\n第三段"


def test_traditional_converted_only_when_traditional():
    assert to_simplified("關於縣政協提案的辦理情況答復")[1] is True
    # a Simplified text keeps characters that OpenCC would rewrite (乾)
    text, changed = to_simplified("乾县人民政府关于建议的答复")
    assert not changed and text.startswith("乾县")


def test_other_line_breaks_become_newlines():
    # Word's soft (\v) and page (\f) breaks in text exports, Unicode separators from web pages
    assert normalise("关于建议的答复\u2028张三代表：\v您提出的建议收悉。\f第二页\u2029末段\x85完") == \
        "关于建议的答复\n张三代表：\n您提出的建议收悉。\n第二页\n末段\n完"


def test_a_letter_with_unicode_line_separators_parses_like_the_original(tmp_path):
    from pathlib import Path

    from replyparse.pipeline import parse_file

    src = Path(__file__).resolve().parents[1] / "corpus" / "ry-jianyi-2013-071.txt"
    p = tmp_path / "sep.txt"
    p.write_text(src.read_text("utf-8").replace("\n", "\u2028"), encoding="utf-8")
    a, b = parse_file(src)[0], parse_file(p)[0]
    assert (a.title, a.issuer, a.proposers, a.date) == (b.title, b.issuer, b.proposers, b.date)


def test_pinyin_in_fullwidth_brackets_is_removed_too():
    assert normalise("對（duì）貓街河進（jìn）行了治理") == "对猫街河进行了治理"


def test_one_space_between_han_and_a_number_goes_but_a_phone_keeps_its_own():
    assert normalise("下达资金 200 多万元，2017 年完成") == "下达资金200多万元，2017年完成"
    # a phone number (7+ digits, or an area code and a dash) stays apart from the unit before it
    assert normalise("联系单位及电话:某区城市管理局 68118611") == "联系单位及电话:某区城市管理局 68118611"
    assert normalise("联系人:张三 0871-5550123") == "联系人:张三 0871-5550123"
    # alignment (two spaces, the ideographic space) is left alone
    assert normalise("金额  50 万元") == "金额  50万元"


def test_a_traditional_reply_letter_is_a_fuhan():
    # OpenCC's t2s keeps 覆, a Simplified character too; a Traditional 覆函 is a 复函
    assert normalise("關於縣人大代表建議辦理結果的覆函\n經研究，現將辦理情況答覆如下") == \
        "关于县人大代表建议办理结果的复函\n经研究，现将办理情况答复如下"
    assert normalise("覆函") == "覆函"  # a Simplified text is left as written
