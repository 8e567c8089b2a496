"""Chinese and Arabic numerals to numbers. Called only on spans a rule has matched,
never over whole texts (``两三个`` must not become ``23个``)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

DIGITS = {
    "〇": 0, "○": 0, "零": 0, "洞": 0, "一": 1, "壹": 1, "幺": 1, "二": 2, "贰": 2, "貮": 2, "两": 2, "俩": 2,
    "三": 3, "叁": 3, "仨": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7,
    "八": 8, "捌": 8, "九": 9, "玖": 9,
}
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000, "兆": 10 ** 12}


def _to_number(d: Decimal):
    return int(d) if d == d.to_integral_value() else float(d)


def cn_to_decimal(s: str) -> Decimal | None:
    """'二百五十' → 250, '一千二百' → 1200, '二〇二〇' → 2020, '三点五' → 3.5; None when not a numeral."""
    s = s.strip()
    if not s:
        return None
    if "点" in s:
        whole, _, frac = s.partition("点")
        w = cn_to_decimal(whole) if whole else Decimal(0)
        if w is None or not frac or any(c not in DIGITS for c in frac):
            return None
        return w + Decimal("0." + "".join(str(DIGITS[c]) for c in frac))
    if all(c in DIGITS for c in s):
        if len(s) == 1:
            return Decimal(DIGITS[s])
        return Decimal("".join(str(DIGITS[c]) for c in s))  # digit-by-digit: 二〇二〇
    total = Decimal(0)
    section = Decimal(0)
    digit: Decimal | None = None
    for c in s:
        if c in DIGITS:
            digit = Decimal(DIGITS[c])
        elif c in SMALL_UNITS:
            section += (digit if digit is not None else Decimal(1)) * SMALL_UNITS[c]
            digit = None
        elif c in BIG_UNITS:
            unit = BIG_UNITS[c]
            section += digit or 0
            digit = None
            if section == 0:
                section = Decimal(1)
            if total and total < unit:
                total = (total + section) * unit
            else:
                total += section * unit
            section = Decimal(0)
        else:
            return None
    return total + section + (digit or 0)


def cn_to_int(s: str) -> int | None:
    d = cn_to_decimal(s)
    return int(d) if d is not None and d == d.to_integral_value() else None


def to_int(s: str) -> int | None:
    """An Arabic or Chinese whole number."""
    s = s.strip()
    if s.isdigit():
        return int(s)
    return cn_to_int(s)


def parse_decimal(s: str) -> Decimal | None:
    s = s.replace(",", "").replace("，", "").strip()
    try:
        return Decimal(s)
    except InvalidOperation:
        return cn_to_decimal(s)


def to_number(s: str):
    d = parse_decimal(s)
    return None if d is None else _to_number(d)
