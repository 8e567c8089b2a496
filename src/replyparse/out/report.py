"""The review report: one self-contained HTML page for archivists and auditors who check
extracted values before they trust a table (README: Review report).

``replyparse report PATH... -o report.html`` takes letters (parsed here through the runner),
records JSONL files, or the ``--out`` folder of a parse (its ``records.jsonl``), and writes:

- an overview of Plotly charts (letters by year and issuer, requested vs allocated money by
  year and by issuer, handling classes, action categories, the largest request gaps);
- a sortable, filterable table of letters;
- each letter's text with every extracted value highlighted at its evidence span, its warnings
  on top and, with ``--gold DIR``, the fields that disagree with ``NAME.gold.json`` marked.

The page holds Plotly's script once and the data as JSON; the browser builds the table and a
letter's highlighted text from that data when asked, so a page of thousands of letters opens
quickly (the HTML itself never holds thousands of rendered letters). No network is used."""
from __future__ import annotations

import base64
import datetime as dt
import gzip
import html
import json
import os
import re
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from ..record import ACTION_CATEGORIES, HEADER_FIELDS, ROLES, Record


ASSETS = "report_assets"
TOP_ISSUERS = 6  # issuers with their own colour in the year chart; the rest are one bar segment
TOP_MONEY_ISSUERS = 12
TOP_GAPS = 10
WAN = 10_000  # charts count money in 万元, the unit these letters use

# one colour per role and per action category, shared by the charts and the letter view (CSS)
ROLE_COLORS = {"requested": "#e8833a", "allocated": "#3c9a5f", "other": "#9a9a9a"}
ACTION_COLORS = {
    "funding": "#2b7bba", "planned": "#8e5ec4", "referred": "#d4a017", "explained": "#7f7f7f",
    "studying": "#17a2b8", "escalated": "#d6336c", "completed": "#2f9e44",
}
ACTION_ZH = {"funding": "资金支持", "planned": "列入计划", "referred": "协调转办", "explained": "解释说明",
             "studying": "调研论证", "escalated": "向上争取", "completed": "已经解决"}
NOT_STATED = "not stated"
NO_YEAR = "no year"
_MULTI = re.compile(r"#\d+$")


class PlotlyMissing(RuntimeError):
    pass


# ---------------------------------------------------------------- records in


def _records_of_folder(folder: Path) -> list[dict]:
    from ..errors import UsageError

    jsonl = folder / "records.jsonl"
    if not jsonl.is_file():
        raise UsageError(f"{folder} is a parse --out folder without records.jsonl; parse again with "
                         f"--formats csv,jsonl (the report needs the letters' text and evidence)")
    return _read_jsonl(jsonl)


def _read_jsonl(path: Path) -> list[dict]:
    from ..errors import UsageError
    from .tables import iter_jsonl

    try:
        return [r for r in iter_jsonl(path) if isinstance(r, dict)]
    except UnicodeDecodeError as e:
        raise UsageError(f"{path} is not UTF-8 JSON lines ({e.reason} at byte {e.start}); give records "
                         "written by replyparse parse") from None


def is_out_folder(p: Path) -> bool:
    return p.is_dir() and any((p / name).is_file() for name in ("records.jsonl", "run.json", "files.jsonl"))


def collect_records(paths: Iterable[str | Path], rules=None, options=None) -> list[dict]:
    """Records (as dicts) from letters, records JSONL files and parse ``--out`` folders, in the
    order given; letters are parsed by the one executor (``run.runner.run_mixed`` with ``options``,
    a ``RunOptions``), consecutive ones in one run."""
    from ..run.runner import run_mixed

    def is_records(arg: str) -> bool:
        p = Path(arg)
        return is_out_folder(p) or p.is_file() and p.suffix.lower() in (".jsonl", ".ndjson")

    def read_records(arg: str) -> list[dict]:
        p = Path(arg)
        return _records_of_folder(p) if is_out_folder(p) else _read_jsonl(p)

    return list(run_mixed(paths, is_records, read_records, lambda fr: (r.to_dict() for r in fr.records),
                          rules, options))


# ---------------------------------------------------------------- gold


def _record_obj(d: dict) -> Record:
    """A Record from a stored dict; keys of a newer or older replyparse are dropped, not fatal."""
    from dataclasses import fields

    from ..record import Action, Amount, Evidence

    def keep(cls, x):
        names = {f.name for f in fields(cls)}
        return {k: v for k, v in x.items() if k in names}

    clean = dict(d)
    clean["amounts"] = [keep(Amount, a) for a in d.get("amounts") or []]
    clean["actions"] = [keep(Action, a) for a in d.get("actions") or []]
    clean["evidence"] = {k: keep(Evidence, v) for k, v in (d.get("evidence") or {}).items()}
    return Record.from_dict(clean)


def gold_details(records: list[dict], gold_dir: str | Path) -> tuple[dict[int, dict], Any]:
    """For each record with a ``NAME.gold.json`` in ``gold_dir`` (NAME: the stem of its input file),
    the mismatches found by ``evaluate.compare`` — the same comparison ``replyparse eval`` scores —
    keyed by the record's position; and the ``evaluate.Report`` with the totals."""
    from ..evaluate import Report, compare

    gold_dir = Path(gold_dir)
    report = Report()
    out: dict[int, dict] = {}
    for i, d in enumerate(records):
        src = d.get("source") or ""
        if _MULTI.search(src):  # gold is per file; a file of several letters has none per letter
            continue
        gpath = gold_dir / (Path(src).stem + ".gold.json")
        if not gpath.is_file():
            continue
        try:
            gold = json.loads(gpath.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        compare(_record_obj(d), gold, report, str(i))
        out[i] = report.per_file[str(i)]
    return out, report


def _round2(v) -> float | None:
    return round(float(v), 2) if v is not None else None


def _gold_marks(d: dict, detail: dict) -> dict:
    """What the letter view marks: header fields, amounts and action categories that disagree with
    gold, and what gold has that the record lacks (listed, as there is no span to mark)."""
    fields = {f for f in HEADER_FIELDS if f in detail}
    extra_amounts: Counter = Counter()
    missing_amounts: list = []
    if "amount_roles" in detail:
        extra, missing = detail["amount_roles"]
        extra_amounts = Counter(tuple(x) for x in extra)
        missing_amounts = [list(x) for x in missing]
    bad_amounts = []
    for k, a in enumerate(d.get("amounts") or []):
        key = (_round2(a.get("value_yuan")), a.get("role"))
        if extra_amounts[key] > 0:
            extra_amounts[key] -= 1
            bad_amounts.append(k)
    pa, ga = detail.get("actions", ([], []))
    notes = []
    for f in HEADER_FIELDS:
        if f in detail:
            got, want = detail[f]
            notes.append({"field": f, "got": got, "gold": want})
    if "is_reply_letter" in detail:
        got, want = detail["is_reply_letter"]
        notes.append({"field": "is_reply_letter", "got": got, "gold": want})
    # the same value with another role is one disagreement about the role, not two
    unmatched = list(bad_amounts)
    for v, role in missing_amounts:
        k = next((k for k in unmatched if _round2(d["amounts"][k].get("value_yuan")) == v), None)
        if k is None:
            notes.append({"field": "amount", "got": None, "gold": f"{_fmt_yuan(v)} ({role})"})
        else:
            unmatched.remove(k)
            a = d["amounts"][k]
            notes.append({"field": f"amount {a.get('text')} role", "got": a.get("role"), "gold": role})
    for k in unmatched:
        a = d["amounts"][k]
        notes.append({"field": "amount", "got": f"{a.get('text')} ({a.get('role')})", "gold": None})
    for c in sorted(set(pa) - set(ga)):
        notes.append({"field": "action", "got": c, "gold": None})
    for c in sorted(set(ga) - set(pa)):
        notes.append({"field": "action", "got": None, "gold": c})
    return {"fields": sorted(fields), "amounts": bad_amounts, "actions": sorted(set(pa) - set(ga)), "notes": notes}


# ---------------------------------------------------------------- page data


def _fmt_yuan(v) -> str:
    if v is None:
        return ""
    v = float(v)
    return f"{v:,.2f}".rstrip("0").rstrip(".") + " 元"


def _field_value(d: dict, f: str):
    v = d.get(f)
    if isinstance(v, list):
        return "；".join(str(x) for x in v) if v else None
    return v


def _clamp(v, n: int) -> int:
    try:
        return max(0, min(int(v), n))
    except (TypeError, ValueError):
        return 0


def letter_data(records: list[dict], gold: dict[int, dict] | None = None) -> tuple[list[dict], list[dict]]:
    """(rows, details): one table row per record, and per record what its letter view needs.
    Every value comes from the record (or its gold comparison)."""
    from .tables import letter_row

    rows, details = [], []
    for i, d in enumerate(records):
        row = letter_row(_record_obj(d))
        text = d.get("text") or ""
        n = len(text)
        marks = _gold_marks(d, gold[i]) if gold is not None and i in gold else None
        req, alloc = row["requested_total_yuan"], row["allocated_total_yuan"]
        warnings = [str(w) for w in d.get("warnings") or []]
        if d.get("status") != "ok" and d.get("reason"):
            warnings = [f"{d['status']}: {d['reason']}"] + warnings
        cats = list(dict.fromkeys(a.get("category") for a in d.get("actions") or []))
        rows.append({
            "i": i, "src": row["source"], "st": d.get("status") or "ok", "iss": row["issuer"], "yr": row["year"],
            "body": row["body"], "kind": row["proposal_kind"], "cls": row["handling_category"],
            "date": row["date"], "doc": row["doc_number"], "title": row["title"],
            "no": row["proposal_no"], "req": req, "alloc": alloc,
            "gap": (req - (alloc or 0)) if req is not None else None,
            "na": row["n_amounts"], "nc": row["n_actions"], "cats": cats,
            "w": warnings, "wk": sorted({warning_kind(w) for w in warnings}),
            "miss": len(marks["notes"]) if marks is not None else None,
        })
        ev = d.get("evidence") or {}
        bad_fields = set(marks["fields"]) if marks else set()
        fields = []
        for f in HEADER_FIELDS:
            value = _field_value(d, f)
            e = ev.get(f)
            if value is None and not e and f not in bad_fields:
                continue
            s, t = (_clamp(e.get("start"), n), _clamp(e.get("end"), n)) if e else (None, None)
            fields.append([f, value, e.get("rule") if e else None, s, t, f in bad_fields])
        bad_amounts = set(marks["amounts"]) if marks else set()
        amounts = [[a.get("text"), a.get("value_yuan"), a.get("value_max_yuan"), a.get("role"), a.get("rule"),
                    _clamp(a.get("start"), n), _clamp(a.get("end"), n), a.get("purpose"), a.get("funder"),
                    a.get("part_of"), k in bad_amounts, bool(a.get("approx"))]
                   for k, a in enumerate(d.get("amounts") or [])]
        bad_cats = set(marks["actions"]) if marks else set()
        actions = [[c.get("category"), c.get("rule"), _clamp(c.get("start"), n), _clamp(c.get("end"), n),
                    c.get("category") in bad_cats] for c in d.get("actions") or []]
        details.append({"text": text, "fields": fields, "amounts": amounts, "actions": actions,
                        "gold": marks["notes"] if marks else None, "pages": len(d.get("pages") or []) or None,
                        "format": d.get("format"), "reason": d.get("reason"),
                        # per-page OCR confidence: how far to trust the text itself, shown beside the warnings
                        "ocr": list(d.get("ocr_confidence") or []) if d.get("ocr") else None})
    return rows, details


_KIND_DIGITS = re.compile(r"\d+")


def warning_kind(w: str) -> str:
    """A warning's kind for the filter: its words before the first colon, numbers as N
    (``role unsure: 12万元 at 40`` → ``role unsure``)."""
    head = w.split(":", 1)[0].split("：", 1)[0].strip()
    return _KIND_DIGITS.sub("N", head)[:60] or w[:60]


# ---------------------------------------------------------------- charts


def load_plotly():
    try:
        import plotly.graph_objects as go
        import plotly.io as pio
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise PlotlyMissing("the report draws its charts with Plotly: pip install 'replyparse[report]' "
                            "(or pip install plotly)") from None
    return go, pio, get_plotlyjs


def _empty(go, title: str, why: str):
    fig = go.Figure()
    fig.add_annotation(text=why, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 13, "color": "#666"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title)


def _layout(fig, title: str, **kw):
    layout = {"title": {"text": title, "x": 0.01, "font": {"size": 14}}, "height": 380,
              "margin": {"l": 50, "r": 10, "t": 40, "b": 40}, "barmode": "group", "legend": {"font": {"size": 10}},
              "plot_bgcolor": "#fafafa", "paper_bgcolor": "#fff",
              "font": {"family": "Noto Sans CJK SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, sans-serif"}}
    layout.update(kw)
    fig.update_layout(**layout)
    return fig


def _year_key(y) -> str:
    return str(y) if y is not None else NO_YEAR


def _sorted_years(keys: Iterable[str]) -> list[str]:
    return sorted(keys, key=lambda k: (k == NO_YEAR, k))


def charts(rows: list[dict]) -> list[dict]:
    """The overview's figures as Plotly JSON: [{id, title, figure}], from the letter rows."""
    go, pio, _ = load_plotly()
    letters = [r for r in rows if r["st"] == "ok"]
    figs = []

    # letters by year, one colour per frequent issuer
    title = "Letters by year and issuer"
    if letters:
        by_issuer = Counter(r["iss"] or NOT_STATED for r in letters)
        top = [iss for iss, _ in by_issuer.most_common(TOP_ISSUERS)]
        years = _sorted_years({_year_key(r["yr"]) for r in letters})
        counts: dict[str, Counter] = defaultdict(Counter)
        for r in letters:
            iss = r["iss"] or NOT_STATED
            counts[iss if iss in top else f"other issuers ({len(by_issuer) - len(top)})"][_year_key(r["yr"])] += 1
        fig = go.Figure()
        for iss in top + [k for k in counts if k not in top]:
            fig.add_bar(name=iss, x=years, y=[counts[iss][y] for y in years], customdata=years,
                        marker_color=None if iss in top else "#c4c8ce",  # the rest stays in the background
                        hovertemplate="%{x}: %{y} letters<extra>" + html.escape(iss) + "</extra>")
        figs.append({"id": "year", "title": title, "click": "yr", "figure": _layout(
            fig, title, barmode="stack", xaxis={"type": "category", "title": None, "tickangle": -60, "automargin": True},
            yaxis={"title": "letters"}, legend={"font": {"size": 9}})})
    else:
        figs.append({"id": "year", "title": title, "figure": _empty(go, title, "no reply letters")})

    # money by year
    title = "Requested vs allocated by year (万元)"
    money = [r for r in letters if r["req"] is not None or r["alloc"] is not None]
    if money:
        years = _sorted_years({_year_key(r["yr"]) for r in money})
        fig = go.Figure()
        for role, key in (("requested", "req"), ("allocated", "alloc")):
            tot = Counter()
            for r in money:
                tot[_year_key(r["yr"])] += r[key] or 0
            fig.add_bar(name=role, x=years, y=[tot[y] / WAN for y in years], marker_color=ROLE_COLORS[role],
                        customdata=years, hovertemplate="%{x}: %{y:,.2f} 万元<extra>" + role + "</extra>")
        figs.append({"id": "money_year", "title": title, "click": "yr",
                     "figure": _layout(fig, title, xaxis={"type": "category"},
                                                        yaxis={"title": "万元", "tickformat": ",.0f"})})
    else:
        figs.append({"id": "money_year", "title": title, "figure": _empty(go, title, "no letter states money")})

    # money by issuer
    title = f"Requested vs allocated by issuer (万元, top {TOP_MONEY_ISSUERS})"
    if money:
        req, alloc = Counter(), Counter()
        for r in money:
            iss = r["iss"] or NOT_STATED
            req[iss] += r["req"] or 0
            alloc[iss] += r["alloc"] or 0
        issuers = sorted(set(req) | set(alloc), key=lambda k: -max(req[k], alloc[k]))[:TOP_MONEY_ISSUERS][::-1]
        fig = go.Figure()
        for role, tot in (("requested", req), ("allocated", alloc)):
            fig.add_bar(name=role, y=issuers, x=[tot[k] / WAN for k in issuers], orientation="h",
                        marker_color=ROLE_COLORS[role], customdata=issuers,
                        hovertemplate="%{y}: %{x:,.2f} 万元<extra>" + role + "</extra>")
        figs.append({"id": "money_issuer", "title": title, "click": "iss", "figure": _layout(
            fig, title, xaxis={"title": "万元", "tickformat": ",.0f"}, yaxis={"automargin": True, "tickfont": {"size": 10}},
            height=max(380, 60 + 30 * len(issuers)))})
    else:
        figs.append({"id": "money_issuer", "title": title, "figure": _empty(go, title, "no letter states money")})

    # handling classes
    title = "Handling classes"
    if letters:
        cls = Counter(r["cls"] or NOT_STATED for r in letters)
        keys = sorted(k for k in cls if k != NOT_STATED) + ([NOT_STATED] if NOT_STATED in cls else [])
        fig = go.Figure(go.Bar(x=keys, y=[cls[k] for k in keys], customdata=keys, marker_color="#5b7db1",
                               text=[cls[k] for k in keys], textposition="outside",
                               hovertemplate="%{x}: %{y} letters<extra></extra>"))
        figs.append({"id": "class", "title": title, "click": "cls",
                     "figure": _layout(fig, title, xaxis={"type": "category"}, yaxis={"title": "letters"})})
    else:
        figs.append({"id": "class", "title": title, "figure": _empty(go, title, "no reply letters")})

    # action categories
    title = "Action categories (letters showing each)"
    if letters:
        cats = Counter(c for r in letters for c in set(r["cats"]))
        keys = [c for c in ACTION_CATEGORIES if cats[c]][::-1]
        fig = go.Figure(go.Bar(y=[f"{c} {ACTION_ZH.get(c, '')}" for c in keys], x=[cats[c] for c in keys],
                               orientation="h", marker_color=[ACTION_COLORS[c] for c in keys], customdata=keys,
                               text=[cats[c] for c in keys], textposition="outside",
                               hovertemplate="%{y}: %{x} letters<extra></extra>"))
        figs.append({"id": "actions", "title": title, "click": "cat",
                     "figure": _layout(fig, title, xaxis={"title": "letters"}, yaxis={"automargin": True})})
    else:
        figs.append({"id": "actions", "title": title, "figure": _empty(go, title, "no reply letters")})

    # the largest gaps between what was asked and what was arranged
    title = f"Largest gaps: requested − allocated (万元, top {TOP_GAPS})"
    gaps = sorted((r for r in letters if r["gap"] is not None and r["gap"] > 0), key=lambda r: -r["gap"])[:TOP_GAPS]
    if gaps:
        gaps = gaps[::-1]
        names = [f"{Path(r['src']).stem[:28]} #{r['i']}" for r in gaps]
        ids = [r["i"] for r in gaps]
        fig = go.Figure()
        for role, key in (("requested", "req"), ("allocated", "alloc")):
            fig.add_bar(name=role, y=names, x=[(r[key] or 0) / WAN for r in gaps], orientation="h",
                        marker_color=ROLE_COLORS[role], customdata=ids,
                        hovertemplate="%{y}: %{x:,.2f} 万元<extra>" + role + "</extra>")
        figs.append({"id": "gaps", "title": title, "click": "open", "figure": _layout(
            fig, title, xaxis={"title": "万元 (click a bar to open the letter)", "tickformat": ",.0f"},
            yaxis={"automargin": True, "tickfont": {"size": 10}}, height=max(380, 60 + 34 * len(gaps)))})
    else:
        figs.append({"id": "gaps", "title": title, "figure": _empty(go, title, "no letter asks for more than it got")})

    return [{"id": f["id"], "title": f["title"], "click": f.get("click"),
             "figure": json.loads(pio.to_json(f["figure"], validate=False))} for f in figs]


# ---------------------------------------------------------------- page


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(ASSETS, name).read_text("utf-8")


def _script_json(obj) -> str:
    """JSON safe inside <script type="application/json">: no "</" can close the element."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                      default=str).replace("</", "<\\/").replace("<!--", "<\\!--")


def _packed_json(obj) -> str:
    """JSON, gzip-compressed and base64-encoded: the letters' texts are most of a big report, and
    a third of the bytes reads faster; the page unpacks it (DecompressionStream) when a letter is
    first opened. mtime 0 keeps the same records giving the same page."""
    raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str).encode("utf-8", "replace")
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


def unpack_json(text: str):
    """The inverse of the page's packed data (for tests and tools reading a report)."""
    return json.loads(gzip.decompress(base64.b64decode(text)).decode("utf-8"))


def _clean_numbers(obj):
    """NaN and infinities are not JSON; a record with one shows an empty cell."""
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if isinstance(obj, dict):
        return {k: _clean_numbers(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean_numbers(v) for v in obj]
    return obj


def render_html(records: list[dict], gold_dir: str | Path | None = None, title: str | None = None,
                sources: Iterable[str] = ()) -> str:
    """The whole report page for these records (dicts, as in ``records.jsonl``)."""
    _, _, get_plotlyjs = load_plotly()
    gold, gold_report = gold_details(records, gold_dir) if gold_dir else (None, None)
    rows, details = letter_data(records, gold)
    rows, details = _clean_numbers(rows), _clean_numbers(details)
    meta = {
        "title": title or "replyparse review report",
        "generated": dt.datetime.now().replace(microsecond=0).isoformat(sep=" "),
        "sources": [str(s) for s in sources],
        "records": len(rows),
        "letters": sum(r["st"] == "ok" for r in rows),
        "statuses": dict(Counter(r["st"] for r in rows)),
        "with_warnings": sum(bool(r["w"]) for r in rows if r["st"] == "ok"),
        "requested": sum(r["req"] or 0 for r in rows if r["st"] == "ok"),
        "allocated": sum(r["alloc"] or 0 for r in rows if r["st"] == "ok"),
        "gold": None,
        "roles": list(ROLES), "role_colors": ROLE_COLORS, "action_colors": ACTION_COLORS, "action_zh": ACTION_ZH,
        "fields": list(HEADER_FIELDS),
    }
    if gold is not None:
        s = gold_report.as_dict()
        meta["gold"] = {"dir": str(gold_dir), "letters": len(gold), "with_mismatch": sum(bool(g) for g in gold.values()),
                        "header_micro_f1": round(s["header_micro_f1"], 3),
                        "amount_value_role_f1": round(s["amount_value_role_f1"], 3),
                        "actions_micro_f1": round(s["actions_micro_f1"], 3)}
    figs = charts(rows)
    page = _asset("page.html")
    parts = {
        "TITLE": html.escape(meta["title"]),
        "CSS": _asset("report.css"),
        "PLOTLYJS": get_plotlyjs(),
        "META": _script_json(meta),
        "CHARTS": _script_json(figs),
        "ROWS": _script_json(rows),
        "DETAILS": _packed_json(details),
        "JS": _asset("report.js"),
    }
    # placeholders are replaced in one pass, so text inside the data can never be taken for one
    return re.sub(r"/\*@(\w+)@\*/", lambda m: parts[m.group(1)], page)


def write_report(records: list[dict], output: str | Path, **kw) -> Path:
    dest = Path(output)
    tmp = dest.with_name(dest.name + ".tmp")
    try:
        # a lone surrogate (a file name in foreign bytes) must not stop the page: it shows as �
        tmp.write_text(render_html(records, **kw), encoding="utf-8", errors="replace")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


# ---------------------------------------------------------------- command
