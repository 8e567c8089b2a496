"""Chinese and Arabic numerals to numbers. Called only on spans a rule has matched,
never over whole texts (``两三个`` must not become ``23个``).

* ``cn_to_decimal('二百五十')`` → 250, ``'一千二百'`` → 1200, ``'二〇二〇'`` → 2020, ``'三点五'`` → 3.5,
  mixed ``'1.2万'`` → 12000, ``'5万4千6百'`` → 54600, ``'350万亿'`` → 3.5e14,
  abbreviations ``'两千三百五'`` → 2350, ``'九万四'`` → 94000, signs ``'负二'`` → -2.
* ``parse_number_text`` adds fractions (``三分之一``), percentages (``百分之五十``, ``50%``),
  mixed fractions (``三百五十又三分之一``), ``半``, ``k``/``w`` shorthand and money words
  (``壹拾壹元整``, ``…元…角…分``).

All functions return ``None`` for text that is not a numeral; none raises.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation, localcontext

import regex

DIGITS = {
    "〇": 0, "○": 0, "零": 0, "洞": 0, "一": 1, "壹": 1, "幺": 1, "二": 2, "贰": 2, "貮": 2, "貳": 2, "两": 2,
    "兩": 2, "俩": 2, "倆": 2, "三": 3, "叁": 3, "參": 3, "仨": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6,
    "陆": 6, "陸": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}
SMALL_UNITS = {"十": 10, "拾": 10, "什": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000, "兆": 10 ** 12}
TENS = {"廿": 20, "卅": 30, "卌": 40}
ZEROS = {"零", "〇", "○"}
NEG = ("负", "負", "-", "−", "－")
UNIT_VALUES = {**SMALL_UNITS, **BIG_UNITS, "k": 1000, "K": 1000, "w": 10_000, "W": 10_000}

_THOUSANDS = regex.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")
_ARABIC = regex.compile(r"\d+(?:\.\d+)?|\.\d+")
_ARABIC_FULL = regex.compile(r"(?:\d{1,3}(?:[,，]\d{3})+|\d+)(?:\.\d+)?|\.\d+")


def decimal_to_number(d: Decimal):
    """int when whole, else float: the form values take in records."""
    return int(d) if d == d.to_integral_value() else float(d)


def unit_product(units: str) -> Decimal:
    """'万' → 1e4, '千万' → 1e7, '万亿' → 1e12; unknown characters count as 1."""
    p = Decimal(1)
    for c in units or "":
        p *= UNIT_VALUES.get(c, 1)
    return p


def _tokens(s: str):
    """Split into ('d', Decimal, is_arabic) / ('u', value, 'small'|'big') / ('z',) tokens, or None."""
    out = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c.isdigit() or c == ".":
            m = _ARABIC.match(s, i)
            if not m:
                return None
            out.append(("d", Decimal(m.group(0)), True))
            i = m.end()
            continue
        if c in ZEROS:
            out.append(("z",))
        elif c in DIGITS:
            out.append(("d", Decimal(DIGITS[c]), False))
        elif c in TENS:
            out.append(("d", Decimal(TENS[c] // 10), False))
            out.append(("u", 10, "small"))
        elif c in SMALL_UNITS:
            out.append(("u", SMALL_UNITS[c], "small"))
        elif c in BIG_UNITS:
            out.append(("u", BIG_UNITS[c], "big"))
        elif c in " \t":
            pass
        else:
            return None
        i += 1
    return out


def _digit_string(s: str) -> Decimal | None:
    """'二〇二〇' → 2020, '一七二零点一' → 1720.1: digit by digit."""
    whole, _, frac = s.partition("点")
    if not whole or any(c not in DIGITS for c in whole) or any(c not in DIGITS for c in frac):
        return None
    text = "".join(str(DIGITS[c]) for c in whole)
    if frac:
        text += "." + "".join(str(DIGITS[c]) for c in frac)
    return Decimal(text)


def cn_to_decimal(s: str, strict: bool = False) -> Decimal | None:
    """A Chinese, Arabic or mixed numeral to a Decimal; None when the text is not one numeral.

    ``strict`` rejects digit-by-digit readings of two or more digits (``一一``) and the
    spoken abbreviations (``三万五``), as a cheque-style reader must.
    """
    if not isinstance(s, str):
        return None
    s = s.strip().replace(" ", "").replace("\u3000", "")
    if not s or len(s) > 200:
        return None
    sign = 1
    if s.startswith(NEG):
        sign, s = -1, s[1:]
        if not s:
            return None
    if s.startswith("+"):
        s = s[1:]
        if not s:
            return None
    # Arabic only
    if _ARABIC_FULL.fullmatch(s):
        try:
            return sign * Decimal(s.replace(",", "").replace("，", ""))
        except InvalidOperation:
            return None
    # decimals written with 点: whole part is a numeral, fraction digit by digit
    if "点" in s:
        whole, _, frac = s.partition("点")
        if not frac or "点" in frac:
            return None
        if any(c not in DIGITS and not c.isdigit() for c in frac):
            return None
        fdigits = "".join(c if c.isdigit() else str(DIGITS[c]) for c in frac)
        # a big unit after the fraction: 一点五万
        w = cn_to_decimal(whole, strict) if whole else None
        if w is None:
            return None
        return sign * (abs(w) + Decimal("0." + fdigits))
    if all(c in DIGITS for c in s):
        if len(s) == 1:
            return sign * Decimal(DIGITS[s])
        if strict or any(c in "两兩俩倆仨" for c in s):
            return None  # 两两 is not 22: only 〇一二… are read digit by digit
        return sign * _digit_string(s)
    if strict and (any(c.isdigit() for c in s) or s[0] in "百佰千仟"):
        return None  # a cheque-style numeral is all Chinese and starts with a digit or 十
    toks = _tokens(_THOUSANDS.sub("", s))
    if not toks:
        return None
    # trailing big units after a decimal: 1.2万, 一点二亿 handled by the generic walk (decimal digit × unit)
    total = Decimal(0)      # everything above the current 万-section
    section = Decimal(0)    # the part below the next big unit
    number: Decimal | None = None
    prev = None             # previous token kind: 'd', 'small', 'big', 'z'
    last_small = None       # last small unit in the current section (must decrease)
    last_unit_val = None    # value of the last unit token, for abbreviations (三万五)
    last_big = None
    seen_digit = False
    number_arabic = False
    number_after = None
    for t in toks:
        if t[0] == "z":
            if number is not None:
                return None  # 五零 (digits side by side)
            prev = "z"
            continue
        if t[0] == "d":
            if number is not None:
                return None  # two digits side by side in a numeral with units
            number = t[1]
            number_arabic = t[2]
            seen_digit = True
            if t[2] is False and prev == "d":
                return None
            prev_was = prev
            prev = "d"
            number_after = prev_was
            continue
        val, kind = t[1], t[2]
        if kind == "small":
            if last_small is not None and val >= last_small:
                return None  # 十一十二
            if number is None:
                if prev == "d":
                    return None
                number = Decimal(1)  # 十 = 一十, 零百 = 一百
            section += number * val
            number = None
            last_small = val
            last_unit_val = val
            prev = "small"
            continue
        # big unit
        cur = section + (number or 0)
        if cur == 0 and prev == "big":
            total = total * val  # 万亿
        elif cur == 0 and number is None and prev is None:
            return None  # a numeral cannot start with 万
        else:
            if total and last_big is not None and last_big < val:
                total = (total + cur) * val  # 一千一百一十一万…亿 (a lower group under a higher unit)
            else:
                total += cur * val
        section = Decimal(0)
        number = None
        last_small = None
        last_big = val
        last_unit_val = val
        prev = "big"
    if not seen_digit and not any(t[0] == "u" and t[2] == "small" for t in toks):
        return None
    tail = Decimal(0)
    if number is not None:
        if prev == "d" and not number_arabic and number_after in ("small", "big") and last_unit_val \
                and last_unit_val >= 100:
            if strict:
                return None
            tail = number * Decimal(last_unit_val) / 10  # 三万五, 两千三百五
        else:
            tail = number
    return sign * (total + section + tail)


def cn_to_int(s: str) -> int | None:
    d = cn_to_decimal(s)
    return int(d) if d is not None and d == d.to_integral_value() else None


def to_int(s: str) -> int | None:
    """An Arabic or Chinese whole number."""
    if not isinstance(s, str):
        return None
    s = s.strip()
    if s.isdigit():
        return int(s)
    return cn_to_int(s)


def parse_decimal(s: str) -> Decimal | None:
    if not isinstance(s, str):
        return None
    s = s.replace(",", "").replace("，", "").strip()
    try:
        return Decimal(s)
    except InvalidOperation:
        return cn_to_decimal(s)


def to_number(s: str):
    d = parse_decimal(s)
    return None if d is None else decimal_to_number(d)


# --------------------------------------------------------------------------- number texts

_TRAD = str.maketrans({"幾": "几", "點": "点", "負": "负", "萬": "万", "億": "亿", "兩": "两", "餘": "余"})
_MONEY_TAIL = regex.compile(r"(?P<y>.*?)(?:元|圆)(?:(?P<j>.)角|(?P<m>.)毛)?(?:(?P<f>.)分)?(?:整|正)?")
_HALF = {"半百": Decimal(50), "半千": Decimal(500), "半万": Decimal(5000), "半": Decimal("0.5")}


def _fraction(s: str, strict: bool) -> Decimal | None:
    den, _, num = s.partition("分之")
    if not num:
        return None
    if den == "百":
        den = "一百"
    if den == "千":
        den = "一千"
    if den == "万":
        den = "一万"
    d = cn_to_decimal(den, strict)
    n = cn_to_decimal(num, strict)
    if d is None or n is None or d == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 28
        return n / d


def parse_number_decimal(s: str, strict: bool = False) -> Decimal | None:
    """The value of a number text, or None (never raises)."""
    if not isinstance(s, str):
        return None
    t = s.strip().replace(" ", "").replace("\u3000", "").replace("／", "/").translate(_TRAD)
    if not t or len(t) > 200:
        return None
    sign = 1
    if t.startswith(NEG) and len(t) > 1:
        sign, t = -1, t[1:]
    if t in _HALF:
        return sign * _HALF[t]
    # percentages
    if t.endswith(("%", "％")):
        v = cn_to_decimal(t[:-1], strict)
        return None if v is None else sign * v / 100
    if t.endswith("‰"):
        v = cn_to_decimal(t[:-1], strict)
        return None if v is None else sign * v / 1000
    # mixed fractions: 三百五十又三分之一, 4 6/3
    if "又" in t:
        whole, _, frac = t.partition("又")
        w = parse_number_decimal(whole, strict)
        f = parse_number_decimal(frac, strict)
        return None if w is None or f is None else sign * (w + f)
    if "分之" in t:
        v = _fraction(t, strict)
        return None if v is None else sign * v
    m = regex.fullmatch(r"(\d+)(\d+)/(\d+)|(\d+)?/?(\d+)/(\d+)", t)
    if "/" in t:
        m = regex.fullmatch(r"(?:(?P<w>\d+)\s+)?(?P<n>\d+)/(?P<d>\d+)",
                            regex.sub(r"^\s*[-负負]", "", s.strip().replace("／", "/")))
        if m and int(m["d"]):
            v = Decimal(m["n"]) / Decimal(m["d"])
            return sign * ((Decimal(m["w"]) if m["w"] else 0) + v)
        return None
    # money words: 壹拾壹元整, 玖仟陆佰陆拾伍圆壹角捌分
    if regex.search(r"[元圆角分]", t):
        mm = _MONEY_TAIL.fullmatch(t)
        if not mm:
            return None
        if not mm["y"]:
            return None  # 元整 alone is no number
        y = cn_to_decimal(mm["y"], strict)
        if y is None:
            return None
        j = mm["j"] or mm["m"]
        for part, scale in ((j, Decimal("0.1")), (mm["f"], Decimal("0.01"))):
            if part:
                dv = cn_to_decimal(part)
                if dv is None:
                    return None
                y += dv * scale
        return sign * y
    t = t.rstrip("整正")
    if t.endswith("打") and len(t) > 1:  # dozens: 五十打
        v = cn_to_decimal(t[:-1], strict)
        return None if v is None else sign * v * 12
    # k / w shorthand: 40k, 30w
    if t[-1:] in ("k", "K", "w", "W") and len(t) > 1:
        v = cn_to_decimal(t[:-1], strict)
        return None if v is None else sign * v * UNIT_VALUES[t[-1]]
    # approximate counts: 五百余万, 一百二十几亿, 壹千多萬 — the stated lower bound
    if regex.search(r"[余多几]", t):
        core = regex.sub(r"[余多几]", "", t)
        v = cn_to_decimal(core, strict)
        return None if v is None else sign * v
    # 半 after a unit: 一万半? rare — not handled
    v = cn_to_decimal(t, strict)
    return None if v is None else sign * v


def parse_number_text(s: str, strict: bool = False):
    """Arabic, Chinese or mixed number text → int or float (None when not a number).

    Reads ``1.2万``, ``三分之一``, ``百分之五十`` (0.5), ``50%`` (0.5), ``三百五十又三分之一``, ``40k``.
    """
    d = parse_number_decimal(s, strict)
    return None if d is None else decimal_to_number(d)
