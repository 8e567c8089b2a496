from replyparse.normalize import normalise, to_simplified


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
