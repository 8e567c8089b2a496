"""Absolute dates to ISO strings: ``parse_date('二〇二〇年十一月二十日')`` → ``'2020-11-20'``.

Reads the first absolute date in a text: ``2020年11月20日``, ``二〇二〇年十一月二十日``,
``2020-11-20``, ``2020/11/20``, ``2020.11.20``, ``2020 11 20``, ``20201120``, ``3-7-2017`` (day
first), and partial dates ``2020年11月`` → ``'2020-11'``, ``2020年`` → ``'2020'``. A date that
needs a reference ('今天', '上周一', '12号' without a year) is not absolute: ``None``.
Never raises.

``parse_letter_date`` is what a letter's ``date`` field takes: the first full date of the text
(spec: a date without a day is null) between 1949 and 2100, also when a web mirror damaged it
(``20218月3日``, ``2020916``, ``二00七年``).
"""
from __future__ import annotations

import datetime as _dt

import regex

from ..engine.rules import rule_timeout
from .numerals import cn_to_decimal

_CD = "[〇○零一二三四五六七八九]"
_CN_SMALL = "[一二三四五六七八九十两廿卅]{1,3}"
_YEAR = rf"(?P<y>(?<!\d)\d{{4}}(?!\d)|{_CD}{{4}}|{_CD}{{3}}|[一二两]千(?:零{_CD}|{_CD}?十?{_CD}?)?)"
_DAY_TAIL = r"\s*(?:日|号|號)?"

_PATTERNS = [
    # 2020年11月20日, 二〇二〇年十一月二十日, 2020年11月, 2020年
    regex.compile(rf"{_YEAR}\s*年\s*(?:(?P<m>\d{{1,2}}|{_CN_SMALL}|正)\s*月\s*(?:(?P<d>\d{{1,2}}|{_CN_SMALL})(?P<dt>{_DAY_TAIL}))?)?"),
    # 2020-11-20, 2020/11/20, 2020.11.20, 2020 11 20
    regex.compile(r"(?<![\d.])(?P<y>\d{4})\s?[-/.]\s?(?P<m>\d{1,2})\s?[-/.]\s?(?P<d>\d{1,2})(?![\d])"),
    # 零七年八月二十九号, 九零年9月十号: a two-digit year, only with a month after it
    regex.compile(rf"(?<![\d〇○零一二三四五六七八九十])(?P<y2>\d{{2}}|{_CD}{{2}})\s*年\s*(?P<m>\d{{1,2}}|{_CN_SMALL})\s*月\s*"
                  rf"(?:(?P<d>\d{{1,2}}|{_CN_SMALL})\s*(?:日|号|號)?)?"),
    regex.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2}) (?P<m>\d{2}) (?P<d>\d{2})(?!\d)"),
    # 20201120
    regex.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?!\d)"),
    # 2020-11, 2020/11
    regex.compile(r"(?<![\d.])(?P<y>(?:19|20)\d{2})[-/.](?P<m>0?[1-9]|1[0-2])(?![\d./-])"),
    # 3-7-2017 (day first), 05/05/89, 12-11-10 (two-digit year first when it cannot be a day)
    regex.compile(r"(?<![\d.])(?P<d>\d{1,2})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})(?!\d)"),
    regex.compile(r"(?<![\d.])(?P<a>\d{2})(?P<sep>[-/])(?P<b>\d{2})(?P=sep)(?P<c>\d{2})(?![\d])"),
]


def _num(s: str | None) -> int | None:
    if not s:
        return None
    if s.isdigit():
        return int(s)
    if s == "正":
        return 1
    if all(c in "〇○零一二三四五六七八九" for c in s):
        return int("".join(str("〇一二三四五六七八九".index(c) if c in "〇一二三四五六七八九" else 0) for c in s))
    d = cn_to_decimal(s.replace("廿", "二十").replace("卅", "三十"))
    return int(d) if d is not None and d == int(d) else None


def _valid(y: int, m: int | None, d: int | None) -> bool:
    if not (0 < y < 10000):
        return False
    if m is None:
        return True
    if not 1 <= m <= 12:
        return False
    if d is None:
        return True
    try:
        _dt.date(y, m, d)
    except ValueError:
        return False
    return True


def _iso(y: int, m: int | None, d: int | None) -> str:
    if m is None:
        return f"{y:04d}"
    if d is None:
        return f"{y:04d}-{m:02d}"
    return f"{y:04d}-{m:02d}-{d:02d}"


def find_dates(text: str) -> list[tuple[int, int, str]]:
    """(start, end, iso) for each absolute date in the text, in reading order, not overlapping."""
    if not isinstance(text, str) or not text:
        return []
    found = []
    timeout = rule_timeout(0.5)  # none under a letter's watchdog: a limit costs two system calls a call
    for i, pat in enumerate(_PATTERNS):
        try:
            matches = list(pat.finditer(text, timeout=timeout))
        except TimeoutError:
            continue
        for m in matches:
            g = m.groupdict()
            if "a" in g and g.get("a"):
                a, b, c = int(g["a"]), int(g["b"]), int(g["c"])
                if a > 12 or (1 <= b <= 12 and c <= 31 and a > 31):
                    y, mo, d = 2000 + a if a < 50 else 1900 + a, b, c     # yy-mm-dd
                else:
                    y, mo, d = (2000 + c if c < 50 else 1900 + c), a, b  # mm/dd/yy
                    if "-" == g["sep"]:
                        y, mo, d = 2000 + a if a < 50 else 1900 + a, b, c
            else:
                y, mo, d = _num(g.get("y")), _num(g.get("m")), _num(g.get("d"))
                if g.get("y2"):
                    yy = _num(g["y2"])
                    y = None if yy is None else (2000 + yy if yy < 50 else 1900 + yy)
            if y is None or not _valid(y, mo, d):
                continue
            found.append((m.start(), m.end(), _iso(y, mo, d), i))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0]), f[3]))
    out, end = [], -1
    for s, e, iso, _ in found:
        if s >= end:
            out.append((s, e, iso))
            end = e
    return out


def parse_date(text: str) -> str | None:
    """The first absolute date of ``text`` as ISO (``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``), else None."""
    try:
        ds = find_dates(text.strip()) if isinstance(text, str) else []
    except Exception:
        return None
    return ds[0][2] if ds else None


# 二00七年: a zero typed as a digit inside a Chinese year
_ZERO_IN_CN_YEAR = regex.compile(r"(?<=[〇○零一二三四五六七八九])0|0(?=[0]*[〇○零一二三四五六七八九]+\s*年)")
# 20218月3日, 2020月5月9日: a 年 lost or typed as 月, the year still four digits
_DAMAGED = regex.compile(r"(?P<y>(?:19|20)\d{2})\s*月?\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
# 2021 1022, 2020年916: the month and day run together
_DIGIT_RUN = regex.compile(r"^\s*(?P<y>20\d{2})\s?年?(?P<rest>\d{1,2}\s?\d{1,2})\s*$")


def _split_digit_date(m) -> tuple[int, int, int] | None:
    """20211022 → 2021-10-22, 2020916 → 2020-09-16, '2025 915' → 2025-09-15 (年月日 lost by a mirror)."""
    y, rest = int(m["y"]), m["rest"]
    if " " in rest:
        a, b = rest.split()
        return y, int(a), int(b)
    options = [(int(rest[:i]), int(rest[i:])) for i in range(1, len(rest))]
    valid = [(mo, d) for mo, d in options if 1 <= mo <= 12 and 1 <= d <= 31 and len(str(d)) == len(rest) - len(str(mo))]
    return (y, *valid[0]) if len(valid) == 1 else None


def parse_letter_date(text: str) -> str | None:
    """A letter's date as ``YYYY-MM-DD``: the first full date of ``text`` between 1949 and 2100
    (a date without a day is null), or one a mirror damaged; else None."""
    if not isinstance(text, str):
        return None
    text = _ZERO_IN_CN_YEAR.sub("〇", text)
    for _, _, iso in find_dates(text):
        if len(iso) == 10 and 1949 <= int(iso[:4]) <= 2100:
            return iso
    m = _DAMAGED.search(text)
    if m:
        parts = (int(m["y"]), int(m["m"]), int(m["d"]))
    else:
        dm = _DIGIT_RUN.match(text)
        parts = _split_digit_date(dm) if dm else None
    if not parts or not _valid(*parts) or not 1949 <= parts[0] <= 2100:
        return None
    return _iso(*parts)
