"""Summaries of the ``letters`` table: counts, money and action categories per group.

``summarize(letters, by)`` → a DataFrame; ``load_letters(path)`` reads the letters from an
output folder or a records JSONL; ``format_table`` prints it with Chinese text aligned.
"""
from __future__ import annotations

import unicodedata
from pathlib import Path

from ..record import ACTION_CATEGORIES
from .tables import LIST_SEP, frames_from_jsonl, read_tables

GROUP_COLUMNS = ("issuer", "year", "body", "proposal_kind", "handling_category")
ALL = "(all)"
NONE = "(none)"
SUMMARY_COLUMNS = (
    "letters", "letters_with_money", "letters_requesting", "letters_allocated",
    "requested_total_yuan", "allocated_total_yuan", "allocated_requested_ratio",
) + ACTION_CATEGORIES


def load_letters(path: str | Path):
    """The letters DataFrame from an output folder (CSV, Parquet or records.jsonl) or a JSONL
    file of records; and the folder ``summary.csv`` belongs in."""
    p = Path(path)
    if p.is_dir():
        return read_tables(p)["letters"], p
    files = p.with_name("files.jsonl") if p.name == "records.jsonl" else None
    return frames_from_jsonl(p, files)["letters"], p.parent


def parse_by(spec: str | None) -> list[str]:
    cols = [c.strip() for c in (spec or "").split(",") if c.strip()]
    bad = [c for c in cols if c not in GROUP_COLUMNS]
    if bad:
        raise ValueError(f"cannot group by {', '.join(bad)}; choose from {', '.join(GROUP_COLUMNS)}")
    return cols


def _group_stats(g) -> dict:
    req, alloc = g["requested_total_yuan"], g["allocated_total_yuan"]
    asked = req.notna()
    # the ratio compares like with like: money allocated in the letters that state a request
    alloc_of_asked = alloc[asked].fillna(0).sum()
    row = {
        "letters": len(g),
        "letters_with_money": int((g["n_amounts"].fillna(0) > 0).sum()),
        "letters_requesting": int(asked.sum()),
        "letters_allocated": int(alloc.notna().sum()),
        "requested_total_yuan": float(req.sum()) if asked.any() else None,
        "allocated_total_yuan": float(alloc.sum()) if alloc.notna().any() else None,
        "allocated_requested_ratio": round(alloc_of_asked / req.sum(), 4) if asked.any() and req.sum() else None,
    }
    cats = g["action_categories"].fillna("").astype(str).str.split(LIST_SEP)
    for c in ACTION_CATEGORIES:
        row[c] = int(cats.map(lambda xs: c in xs).sum())
    return row


def summarize(letters, by: list[str] | tuple[str, ...] = ()):
    """One row per group (``by`` columns; missing values as ``(none)``) plus an ``(all)`` row."""
    import pandas as pd

    by = list(by)
    rows = []
    if by:
        keys = letters[by].astype("object").where(letters[by].notna(), NONE).astype(str)
        for key, idx in keys.groupby(by[0] if len(by) == 1 else by, sort=True).groups.items():
            key = key if isinstance(key, tuple) else (key,)
            rows.append({**dict(zip(by, key)), **_group_stats(letters.loc[idx])})
        if by[0] == "year":  # years in order; other groupings biggest first
            rows.sort(key=lambda r: [str(r[c]) for c in by])
        else:
            rows.sort(key=lambda r: (-r["letters"], [str(r[c]) for c in by]))
    total = {**{c: ALL for c in by}, **_group_stats(letters)}
    if not by:
        total = {"group": ALL, **total}
    rows.append(total)
    df = pd.DataFrame(rows, columns=(by or ["group"]) + list(SUMMARY_COLUMNS))
    for c in SUMMARY_COLUMNS:
        if c in ("requested_total_yuan", "allocated_total_yuan", "allocated_requested_ratio"):
            df[c] = df[c].astype("float64")
        else:
            df[c] = df[c].astype("int64")
    return df


def _w(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _fmt(v, col: str) -> str:
    if v is None or v != v:
        return "-"
    if col.endswith("_yuan"):
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"
    if col.endswith("ratio"):
        return f"{v:.2%}"
    return str(v)


def format_table(df) -> str:
    """The summary as aligned text (Chinese characters count two columns)."""
    heads = {c: c for c in df.columns}
    cells = [[_fmt(v, c) for c, v in zip(df.columns, row)] for row in df.itertuples(index=False)]
    widths = [max([_w(heads[c])] + [_w(r[i]) for r in cells]) for i, c in enumerate(df.columns)]
    text_cols = {i for i, c in enumerate(df.columns) if df[c].dtype == object or c in GROUP_COLUMNS or c == "group"}

    def line(vals):
        out = []
        for i, v in enumerate(vals):
            pad = " " * (widths[i] - _w(v))
            out.append(v + pad if i in text_cols else pad + v)
        return "  ".join(out).rstrip()

    lines = [line([heads[c] for c in df.columns])]
    lines.append("  ".join("-" * w for w in widths))
    lines += [line(r) for r in cells]
    return "\n".join(lines)


def write_summary_csv(df, dest: Path) -> Path:
    df.to_csv(dest, index=False, encoding="utf-8-sig")
    return dest
