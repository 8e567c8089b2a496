#!/usr/bin/env python3
"""Validate the project's own corpus: corpus/NAME.txt + corpus/NAME.gold.json.

Checks, for every pair:
  * the text decodes (UTF-8, UTF-8 with BOM, UTF-16 with BOM, or GBK/GB18030);
  * the gold has exactly the record fields, with the right types and normal forms
    (canonical doc number, ISO date, A-D class, phone of digits and '-', ...);
  * every amount text occurs in the normalised letter text (NFKC, and Traditional
    turned Simplified for `script: traditional`), in reading order;
  * value_yuan agrees with an independent reading of the amount text;
  * names, titles and cc entries occur in the text (whitespace ignored).

Usage: python tools/check_corpus.py [corpus_dir]   (exit status 1 on any error)
"""
import json
import re
import sys
import unicodedata
from datetime import date
from pathlib import Path

KEYS = ["truncated", "is_reply_letter", "script", "doc_number", "issuer", "title",
        "proposal_kind", "body", "term", "session", "proposal_no", "proposers",
        "proposal_title", "handling_category", "public", "date", "contact_person",
        "contact_phone", "cc", "amounts", "actions", "notes"]
LIST_KEYS = {"proposers", "cc", "amounts", "actions"}
STR_KEYS = {"doc_number", "issuer", "title", "proposal_kind", "body", "proposal_no",
            "proposal_title", "handling_category", "date", "contact_person", "contact_phone"}
ACTIONS = {"funding", "planned", "referred", "explained", "studying", "escalated", "completed"}
ROLES = {"requested", "allocated", "other"}
AMOUNT_KEYS = {"text", "value_yuan", "role", "value_max_yuan", "approx"}

# A small Traditional->Simplified table used when OpenCC is not installed; it covers
# the characters that occur in the corpus's amount texts, names and titles.
_T2S_PAIRS = "萬万 億亿 餘余 約约 們们 關关 於于 會会 議议 屆届 號号 區区 縣县 為为 對对 與与 從从 來来 這这 個个 實实 現现 經经 費费 資资 補补 貼贴 發发 農农 業业 產产 劃划 設设 計计 規规 辦办 復复 覆复 處处 員员 黃黄 韋韦 陸陆 張张 陳陈 劉刘 趙赵 錢钱 孫孙 楊杨 許许 鄭郑 馮冯 蔣蒋 韓韩 語语 書书 見见 題题 備备 務务 開开 兩两 貳贰 參叁 陸陆 億亿"
_T2S_FALLBACK = {ord(p[0]): p[1] for p in _T2S_PAIRS.split()}
try:
    import opencc  # type: ignore
    _T2S = opencc.OpenCC("t2s").convert
except Exception:  # pragma: no cover - optional dependency
    _T2S = lambda s: s.translate(_T2S_FALLBACK)  # noqa: E731


def decode(raw: bytes):
    if raw.startswith(b"\xff\xfe") or raw.startswith(b"\xfe\xff"):
        return raw.decode("utf-16"), "utf-16"
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gbk"), "gbk"
    except UnicodeDecodeError:
        return raw.decode("gb18030"), "gb18030"


def normalise(text: str, traditional: bool) -> str:
    text = unicodedata.normalize("NFKC", text)
    if traditional:
        text = _T2S(text)
    return text


# ---------------------------------------------------------------- amount reading
_DIG = {"零": 0, "〇": 0, "○": 0, "O": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3,
        "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7,
        "八": 8, "捌": 8, "九": 9, "玖": 9}
_SMALL = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG = {"万": 10 ** 4, "亿": 10 ** 8}
_APPROX_PRE = ("不少于", "不低于", "超过", "近", "约", "逾", "达", "共")
_APPROX_SUF = ("左右", "以上", "多", "余", "整")


def _cn_int(s: str) -> float:
    """Chinese numeral (possibly mixed with Arabic digits) -> number."""
    total, section, num = 0.0, 0.0, None
    i = 0
    while i < len(s):
        c = s[i]
        m = re.match(r"\d+(?:\.\d+)?", s[i:])
        if m:
            num = float(m.group(0).replace(",", ""))
            i += len(m.group(0))
            continue
        if c in _DIG:
            num = _DIG[c]
        elif c in _SMALL:
            section += (num if num is not None else 1) * _SMALL[c]
            num = None
        elif c in _BIG:
            section += num or 0
            total = (total + section) * _BIG[c] if _BIG[c] > 10 ** 4 else total + section * _BIG[c]
            section, num = 0.0, None
        else:
            raise ValueError(s)
        i += 1
    return total + section + (num or 0)


def _one(s: str, unit_hint: float = 1.0) -> float:
    s = s.replace(",", "")
    mult = 1.0
    if s.endswith("元"):
        s = s[:-1]
    for suf in _APPROX_SUF:
        if s.endswith(suf):
            s = s[: -len(suf)]
    # trailing big units apply to the whole number
    while s and s[-1] in "万亿千" and re.search(r"[\d.]$", s[:-1] or "x"):
        mult *= {"万": 1e4, "亿": 1e8, "千": 1e3}[s[-1]]
        s = s[:-1]
    for suf in _APPROX_SUF:
        if s.endswith(suf):
            s = s[: -len(suf)]
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s) * mult * (unit_hint if mult == 1.0 else 1.0)
    return _cn_int(s) * mult


def read_amount(text: str):
    """Return (value, max or None) for an amount text, or raise ValueError."""
    t = text
    for suf in ("/个", "/人"):
        t = t.replace(suf, "")
    for pre in _APPROX_PRE:
        if t.startswith(pre):
            t = t[len(pre):]
    t = t.replace("万余元", "万元").replace("余万元", "万元").replace("多万元", "万元")
    t = t.replace("亿余元", "亿元").replace("余亿元", "亿元")
    t = re.sub(r"(元)?(左右|以上|整)$", r"\1", t)
    # vague ranges like 四五千元 / 三四十万元
    m = re.fullmatch(r"([一二三四五六七八九])([二三四五六七八九])([十百千万]+)元", t)
    if m and _DIG[m.group(2)] == _DIG[m.group(1)] + 1:
        u = _cn_int("一" + m.group(3))
        return _DIG[m.group(1)] * u, _DIG[m.group(2)] * u
    parts = re.split(r"\s*(?:-|—|–|~|至|到)\s*", t)
    if len(parts) == 2:
        hi = _one(parts[1])
        unit = re.search(r"(万|亿|千)?元?$", parts[1]).group(1)
        lo_txt = parts[0]
        if unit and not re.search(r"[万亿千]", lo_txt):
            lo_txt += unit
        return _one(lo_txt), hi
    return _one(t), None


# ---------------------------------------------------------------- checks
def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def check_pair(txt: Path, gold_path: Path, errors: list, warnings: list, stats: dict):
    name = txt.stem
    raw = txt.read_bytes()
    try:
        text, enc = decode(raw)
    except UnicodeDecodeError as e:
        errors.append(f"{name}: does not decode: {e}")
        return
    stats.setdefault("encodings", {}).setdefault(enc, 0)
    stats["encodings"][enc] += 1
    try:
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
    except Exception as e:  # noqa: BLE001
        errors.append(f"{name}: gold is not valid JSON: {e}")
        return

    def err(msg):
        errors.append(f"{name}: {msg}")

    keys = list(gold)
    if set(keys) != set(KEYS):
        err(f"keys differ: missing {sorted(set(KEYS) - set(keys))}, extra {sorted(set(keys) - set(KEYS))}")
        return
    n = len(text)
    if not 600 <= n <= 3000:
        warnings.append(f"{name}: length {n} outside the usual 600-3000")

    if not isinstance(gold["truncated"], bool) or not isinstance(gold["is_reply_letter"], bool):
        err("truncated / is_reply_letter must be bool")
    if gold["script"] not in ("simplified", "traditional", "garbled"):
        err(f"bad script {gold['script']!r}")
    if not isinstance(gold["notes"], str) or not gold["notes"].strip():
        err("notes must be a non-empty string")
    for k in STR_KEYS:
        v = gold[k]
        if v is not None and (not isinstance(v, str) or not v or re.search(r"\s", v)):
            err(f"{k} must be null or a non-empty string without whitespace: {v!r}")
    for k in ("term", "session"):
        v = gold[k]
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v <= 0):
            err(f"{k} must be null or a positive int: {v!r}")
    for k in LIST_KEYS:
        if not isinstance(gold[k], list):
            err(f"{k} must be a list")
            return
    if gold["public"] is not None and not isinstance(gold["public"], bool):
        err("public must be null or bool")

    norm = normalise(text, gold["script"] == "traditional")
    flat = squash(norm)

    if not gold["is_reply_letter"]:
        for k in KEYS:
            if k in ("truncated", "is_reply_letter", "script", "notes"):
                continue
            if gold[k] not in (None, []):
                err(f"non-letter must have {k} null/[]")
        stats["non_letters"] = stats.get("non_letters", 0) + 1
        return

    dn = gold["doc_number"]
    if dn is not None and not re.fullmatch(r"[^\s〔〕]+〔(19|20)\d\d〕[1-9]\d*号", dn):
        err(f"doc_number not canonical: {dn}")
    if gold["proposal_kind"] not in (None, "建议", "提案", "议案"):
        err(f"bad proposal_kind {gold['proposal_kind']!r}")
    if gold["body"] not in (None, "人大", "政协"):
        err(f"bad body {gold['body']!r}")
    pk, body = gold["proposal_kind"], gold["body"]
    if pk and body and ((pk == "提案") != (body == "政协")):
        err(f"proposal_kind {pk} does not fit body {body}")
    if gold["handling_category"] not in (None, "A", "B", "C", "D"):
        err(f"bad handling_category {gold['handling_category']!r}")
    if gold["date"] is not None:
        try:
            date.fromisoformat(gold["date"])
        except ValueError:
            err(f"date not ISO: {gold['date']}")
    if gold["contact_phone"] is not None and not re.fullmatch(r"[0-9][0-9-]*[0-9]", gold["contact_phone"]):
        err(f"contact_phone not digits and '-': {gold['contact_phone']}")
    if gold["proposal_no"] is not None and not re.fullmatch(r"[0-9A-Za-z-]+", gold["proposal_no"]):
        err(f"odd proposal_no {gold['proposal_no']!r}")
    if gold["truncated"] and (gold["date"] or gold["contact_person"]):
        warnings.append(f"{name}: truncated but has date/contact")

    # values that must be visible in the text (whitespace ignored)
    for k in ("issuer", "contact_person", "proposal_no"):
        v = gold[k]
        if v and squash(v) not in flat:
            err(f"{k} {v!r} not found in text")
    if gold["title"] and gold["title"] not in flat:
        err(f"title {gold['title']!r} not found in text (lines joined)")
    if gold["proposal_title"] and gold["proposal_title"] not in flat:
        err(f"proposal_title {gold['proposal_title']!r} not found in text")
    for k in ("proposers", "cc"):
        for v in gold[k]:
            if not isinstance(v, str) or squash(v) != v or v not in flat:
                err(f"{k} entry {v!r} not found in text / not a clean string")
            if k == "proposers" and re.search(r"(代表|委员|同志)$", v) and "委员会" not in v:
                err(f"proposer {v!r} keeps a title")
    if gold["contact_phone"]:
        digits = re.sub(r"\D", "", gold["contact_phone"])
        if digits not in re.sub(r"\D", "", norm):
            err(f"contact_phone {gold['contact_phone']} not found in text")
    if dn:
        serial = re.search(r"〕(\d+)号", dn).group(1)
        year = re.search(r"〔(\d{4})〕", dn).group(1)
        if dn.split("〔")[0] not in flat or year not in flat:
            err(f"doc_number prefix/year of {dn} not in text")
        _ = serial

    acts = gold["actions"]
    if len(set(acts)) != len(acts) or not set(acts) <= ACTIONS:
        err(f"actions must be distinct ids from {sorted(ACTIONS)}: {acts}")
    for a in acts:
        stats.setdefault("actions", {}).setdefault(a, 0)
        stats["actions"][a] += 1

    pos = 0
    for i, a in enumerate(gold["amounts"]):
        if not isinstance(a, dict) or not {"text", "value_yuan", "role"} <= set(a) or not set(a) <= AMOUNT_KEYS:
            err(f"amount {i} has wrong keys: {a}")
            continue
        t = a["text"]
        if a["role"] not in ROLES:
            err(f"amount {i} bad role {a['role']}")
        if not isinstance(a["value_yuan"], (int, float)) or a["value_yuan"] <= 0:
            err(f"amount {i} bad value_yuan {a['value_yuan']}")
        if "approx" in a and a["approx"] is not True:
            err(f"amount {i}: write approx only when true")
        if "value_max_yuan" in a and not (isinstance(a["value_max_yuan"], (int, float))
                                          and a["value_max_yuan"] > a["value_yuan"]):
            err(f"amount {i}: value_max_yuan must exceed value_yuan")
        if t != unicodedata.normalize("NFKC", t):
            err(f"amount {i} text {t!r} is not NFKC-normalised")
        j = norm.find(t, pos)
        if j < 0:
            where = norm.find(t)
            err(f"amount {i} {t!r} " + ("out of reading order" if where >= 0 else "not found in text"))
        else:
            pos = j + 1
        try:
            v, mx = read_amount(t)
            if abs(v - a["value_yuan"]) > 1e-6 * max(1, v):
                err(f"amount {i} {t!r}: value_yuan {a['value_yuan']} but the text reads {v:g}")
            if (mx is None) != ("value_max_yuan" not in a) or (mx is not None and abs(mx - a["value_max_yuan"]) > 1e-6 * mx):
                err(f"amount {i} {t!r}: value_max_yuan {a.get('value_max_yuan')} but the text reads {mx}")
        except (ValueError, KeyError, AttributeError):
            warnings.append(f"{name}: amount {t!r} not checked arithmetically (unparsed)")
        stats["amounts"] = stats.get("amounts", 0) + 1


def main(argv):
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "corpus"
    errors, warnings, stats = [], [], {}
    txts = sorted(p for p in root.glob("*.txt"))
    golds = sorted(root.glob("*.gold.json"))
    gold_stems = {p.name[: -len(".gold.json")] for p in golds}
    for t in txts:
        g = root / (t.stem + ".gold.json")
        if not g.exists():
            errors.append(f"{t.name}: no gold file")
            continue
        check_pair(t, g, errors, warnings, stats)
    for s in sorted(gold_stems - {t.stem for t in txts}):
        # rendered copies (NAME.docx/.pdf/.html, made by tools/render_corpus.py) carry their own gold
        if not any((root / f"{s}{ext}").exists() for ext in (".docx", ".pdf", ".html", ".htm")):
            errors.append(f"{s}.gold.json: no text file")
    for w in warnings:
        print("warning:", w)
    for e in errors:
        print("ERROR:", e)
    print(f"{len(txts)} texts, {stats.get('non_letters', 0)} non-letters, {stats.get('amounts', 0)} amounts;"
          f" encodings {stats.get('encodings')}; actions {stats.get('actions')}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
