"""Records as tables: ``letters``, ``amounts``, ``actions`` and ``files``.

Two ways in:

* ``to_frames(items)`` — records and/or ``FileResult``s in memory → four pandas DataFrames
  with real dtypes (``string``, ``Int64``, ``float64``, ``boolean``, ``datetime64``).
* ``TableWriter(out_dir, formats)`` — a runner streams ``FileResult``s into it with
  ``add(file_result)`` and calls ``close()`` at the end. CSV and JSONL rows are appended
  and flushed per file, so a killed run keeps every file it finished; XLSX and Parquet are
  built at ``close()`` from the streamed CSV, a chunk at a time.

Every column of every table is declared once below (``COLUMNS``); the CSV, XLSX and Parquet
writers and the readers (``read_tables``) all follow that declaration. The README (Tables)
documents the columns.
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..record import Record, letter_year

STR, INT, FLOAT, BOOL, DATE = "str", "int", "float", "bool", "date"
FIELD_KINDS = {"text": STR, "list": STR, "int": INT, "bool": BOOL, "date": DATE}  # a declared field's column type
LIST_SEP = "；"  # joins list fields (proposers, cc, warnings, action categories) in a cell

# The letter's key columns, repeated on every amount and action row.
KEY_COLUMNS = [
    ("source", STR), ("path", STR), ("doc_number", STR), ("issuer", STR), ("date", DATE), ("year", INT),
    ("proposal_kind", STR), ("body", STR), ("proposal_no", STR),
]

COLUMNS: dict[str, list[tuple[str, str]]] = {
    "letters": [
        ("source", STR), ("path", STR), ("status", STR),
        ("doc_number", STR), ("issuer", STR), ("title", STR), ("proposal_kind", STR), ("body", STR),
        ("term", INT), ("session", INT), ("proposal_no", STR), ("proposers", STR),
        ("proposal_title", STR), ("handling_category", STR), ("public", BOOL), ("date", DATE),
        ("year", INT), ("contact_person", STR), ("contact_phone", STR), ("cc", STR),
        ("requested_total_yuan", FLOAT), ("allocated_total_yuan", FLOAT),
        ("n_amounts", INT), ("n_actions", INT), ("action_categories", STR),
        ("n_warnings", INT), ("warnings", STR), ("format", STR), ("encoding", STR), ("pages", INT),
    ],
    "amounts": KEY_COLUMNS + [
        ("index", INT), ("text", STR), ("value_yuan", FLOAT), ("value_max_yuan", FLOAT),
        ("approx", BOOL), ("role", STR), ("purpose", STR), ("funder", STR), ("part_of", INT),
        ("start", INT), ("end", INT), ("page", INT), ("rule", STR),
    ],
    "actions": KEY_COLUMNS + [
        ("index", INT), ("category", STR), ("text", STR), ("start", INT), ("end", INT),
        ("page", INT), ("rule", STR),
    ],
    "files": [
        ("path", STR), ("sha256", STR), ("format", STR), ("encoding", STR), ("pages", INT),
        ("status", STR), ("reason", STR), ("reason_code", STR), ("letters", INT), ("records", INT),
        ("seconds", FLOAT),
    ],
}
TABLES = tuple(COLUMNS)
YUAN_COLUMNS = {"requested_total_yuan", "allocated_total_yuan", "value_yuan", "value_max_yuan"}
FORMATS = ("csv", "xlsx", "parquet", "jsonl")
DEFAULT_FORMATS = ("csv", "jsonl")
XLSX_MAX_ROWS = 1_048_576

_MULTI = re.compile(r"#\d+$")
_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


# ---------------------------------------------------------------- rows from records


def _safe(s: str) -> str:
    """Text that can be written as UTF-8 (file names in foreign bytes come as surrogates)."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        from ..run.walk import display_path

        return display_path(s).encode("utf-8", "replace").decode("utf-8")


def _join(items) -> str | None:
    items = [_safe(str(x)) for x in items or [] if x not in (None, "")]
    return LIST_SEP.join(items) if items else None


def _date(value) -> str | None:
    """The ISO date if it is a real calendar date, else None (the record keeps what it had)."""
    if not value or not _DATE.match(str(value)):
        return None
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        return None


def _year(rec: Record) -> int | None:
    return letter_year(rec.date, rec.doc_number)


def _float(v) -> float | None:
    return None if v is None else float(v)


def file_path_of(source: str) -> str:
    """The input file a record came from: its source without the ``#N`` of a multi-letter file."""
    return _MULTI.sub("", source)


def _key(rec: Record, path: str | None = None) -> dict[str, Any]:
    return {"source": _safe(rec.source), "path": _safe(path or file_path_of(rec.source)), "doc_number": rec.doc_number, "issuer": rec.issuer,
            "date": _date(rec.date), "year": _year(rec), "proposal_kind": rec.proposal_kind,
            "body": rec.body, "proposal_no": rec.proposal_no}


def letter_row(rec: Record, path: str | None = None) -> dict[str, Any]:
    cats = list(dict.fromkeys(a.category for a in rec.actions))
    return {
        "source": _safe(rec.source), "path": _safe(path or file_path_of(rec.source)), "status": rec.status,
        "doc_number": rec.doc_number, "issuer": rec.issuer, "title": rec.title,
        "proposal_kind": rec.proposal_kind, "body": rec.body, "term": rec.term, "session": rec.session,
        "proposal_no": rec.proposal_no, "proposers": _join(rec.proposers),
        "proposal_title": rec.proposal_title, "handling_category": rec.handling_category,
        "public": rec.public, "date": _date(rec.date), "year": _year(rec),
        "contact_person": rec.contact_person, "contact_phone": rec.contact_phone, "cc": _join(rec.cc),
        "requested_total_yuan": _float(rec.requested_total_yuan),
        "allocated_total_yuan": _float(rec.allocated_total_yuan),
        "n_amounts": len(rec.amounts), "n_actions": len(rec.actions), "action_categories": _join(cats),
        "n_warnings": len(rec.warnings), "warnings": _join(rec.warnings),
        "format": rec.format, "encoding": rec.encoding, "pages": len(rec.pages) or None,
        **{k: _join(v) if isinstance(v, list) else v for k, v in rec.extra.items()},  # declared fields
    }


def amount_rows(rec: Record, path: str | None = None) -> list[dict[str, Any]]:
    key = _key(rec, path)
    return [{**key, "index": i, "text": a.text, "value_yuan": _float(a.value_yuan),
             "value_max_yuan": _float(a.value_max_yuan), "approx": a.approx, "role": a.role,
             "purpose": a.purpose, "funder": a.funder, "part_of": a.part_of, "start": a.start,
             "end": a.end, "page": a.page, "rule": a.rule}
            for i, a in enumerate(rec.amounts)]


def action_rows(rec: Record, path: str | None = None) -> list[dict[str, Any]]:
    key = _key(rec, path)
    return [{**key, "index": i, "category": a.category, "text": a.text, "start": a.start,
             "end": a.end, "page": a.page, "rule": a.rule}
            for i, a in enumerate(rec.actions)]


def file_row(fr) -> dict[str, Any]:
    """The ``files`` row of a FileResult (its manifest row, path made writable)."""
    row = fr.manifest_row()
    row["path"] = _safe(row["path"])
    row["records"] = len(fr.records)
    return {name: row.get(name) for name, _ in COLUMNS["files"]}


def _is_file_result(x) -> bool:
    return hasattr(x, "records") and hasattr(x, "manifest_row")


def file_results_from_records(records: Iterable[Record]) -> list:
    """FileResults rebuilt from plain records: one per input file (records grouped by path).

    sha256 is computed when the file still exists; seconds is unknown (None)."""
    from ..run.batch import FileResult, file_sha256

    groups: dict[str, list[Record]] = {}
    for rec in records:
        groups.setdefault(file_path_of(rec.source), []).append(rec)
    out = []
    for path, recs in groups.items():
        first = recs[0]
        letters = [r for r in recs if r.status == "ok"]
        fr = FileResult(path=path, sha256=file_sha256(path) if os.path.isfile(path) else None,
                        format=first.format, encoding=first.encoding, pages=max(len(r.pages) for r in recs),
                        status="ok" if letters else first.status, letters=len(letters), records=recs)
        if not letters:
            fr.reason, fr.reason_code = first.reason, first.reason_code
        fr.seconds = None
        out.append(fr)
    return out


def _as_file_results(items) -> Iterator:
    """FileResults from any mix of FileResults, Records and record dicts (in their order)."""
    pending: list[Record] = []
    for x in items:
        if _is_file_result(x):
            if pending:
                yield from file_results_from_records(pending)
                pending = []
            yield x
        else:
            pending.append(Record.from_dict(x) if isinstance(x, dict) else x)
    if pending:
        yield from file_results_from_records(pending)


def rows_of(fr) -> dict[str, list[dict[str, Any]]]:
    """The rows one FileResult adds to each table. Only ``ok`` records are letters."""
    path = _safe(fr.path)
    letters = [r for r in fr.records if r.status == "ok"]
    return {
        "letters": [letter_row(r, path) for r in letters],
        "amounts": [row for r in letters for row in amount_rows(r, path)],
        "actions": [row for r in letters for row in action_rows(r, path)],
        "files": [file_row(fr)],
    }


# ---------------------------------------------------------------- frames


class Frames(dict):
    """The four tables as DataFrames: ``frames["letters"]`` or ``frames.letters``."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _coerce(s, kind: str):
    import pandas as pd

    if kind == STR:
        return s.astype("object").where(s.notna() & (s.astype("object") != ""), None).astype("string")
    if kind == INT:
        return pd.to_numeric(s.replace("", None), errors="coerce").astype("Int64")
    if kind == FLOAT:
        return pd.to_numeric(s.replace("", None), errors="coerce").astype("float64")
    if kind == BOOL:
        m = {True: True, False: False, "true": True, "false": False, "True": True, "False": False}
        return s.map(lambda v: m.get(v) if isinstance(v, (bool, str)) else None).astype("boolean")
    if kind == DATE:
        return pd.to_datetime(s.replace("", None), format="%Y-%m-%d", errors="coerce").astype("datetime64[s]")
    raise ValueError(kind)


def table_columns(table: str, extra_fields=()) -> list[tuple[str, str]]:
    """A table's (column, type): the fixed ones, and for ``letters`` a column for each field a rule
    file declared (``fields:``, RuleSet.extra_fields) that asks for one."""
    cols = list(COLUMNS[table])
    if table == "letters":
        cols += [(f.name, FIELD_KINDS.get(f.type, STR)) for f in extra_fields if f.column]
    return cols


def _columns_in(path: str | Path, table: str) -> list[tuple[str, str]]:
    """The fixed columns, and any other a CSV's header names (declared fields), read as text."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f), [])
    known = {c for c, _ in COLUMNS[table]}
    return list(COLUMNS[table]) + [(c, STR) for c in header if c not in known]


def frame(table: str, rows: list[dict[str, Any]] | Any, columns=None):
    """A typed DataFrame of one table from row dicts (or a DataFrame of text from a CSV)."""
    import pandas as pd

    cols = columns or COLUMNS[table]
    names = [c for c, _ in cols]
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(rows, columns=names)
    df = df.reindex(columns=names)
    return pd.DataFrame({c: _coerce(df[c].astype("object"), k) for c, k in cols}, index=range(len(df)))


def to_frames(items: Iterable) -> Frames:
    """Records (``Record`` or dicts) and/or ``FileResult``s → ``Frames`` of four DataFrames.

    Every input file has a ``files`` row; plain records are grouped into files by their
    ``source`` (without ``#N``)."""
    rows: dict[str, list] = {t: [] for t in TABLES}
    for fr in _as_file_results(items):
        for t, r in rows_of(fr).items():
            rows[t].extend(r)
    return Frames({t: frame(t, rows[t]) for t in TABLES})


# ---------------------------------------------------------------- streaming writer


def _cell(v, kind: str = STR) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    s = _safe(str(v))
    return csv_guard(s) if kind == STR else s


# A text cell that starts like a formula (=1+2, +…, -2+3, @SUM) runs as one when Excel or
# LibreOffice opens the CSV: such cells get a leading ' (OWASP, CSV injection). Cells that already
# start with ' get one too, so csv_unguard gives every value back exactly (Parquet/XLSX are built
# from the CSVs and keep the original text, as JSONL does).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def csv_guard(s: str) -> str:
    return "'" + s if s.startswith(_FORMULA_START) else s


def csv_unguard(s: str) -> str:
    return s[1:] if s.startswith("'") else s


def parse_formats(spec: str | Iterable[str] | None) -> tuple[str, ...]:
    if spec is None:
        return DEFAULT_FORMATS
    items = [s.strip().lower() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    bad = [s for s in items if s not in FORMATS]
    if bad or not items:
        raise ValueError(f"unknown format(s) {', '.join(bad) or '(none)'}; choose from {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(items))


class TableWriter:
    """Streams FileResults into ``out_dir`` as ``letters``/``amounts``/``actions``/``files`` tables.

    ``add(fr)`` appends that file's rows to every CSV (and ``records.jsonl``/``files.jsonl``)
    and flushes; the ``files`` row is written last, so a path listed in ``files.csv`` /
    ``files.jsonl`` has all its rows in every table. ``close()`` builds XLSX/Parquet from
    the CSVs. When ``csv`` is not asked for, the CSVs are kept in ``out_dir/.staging`` and
    removed at close.

    ``resume=True`` keeps what an earlier (killed) run wrote: rows of files without a
    ``files`` row are dropped, and ``done`` holds the paths already finished, so a runner
    can skip them. Not thread-safe: call ``add`` from one thread (the runner's collector).
    """

    def __init__(self, out_dir: str | Path, formats: str | Iterable[str] | None = None, *, resume: bool = False,
                 extra_fields=()):
        self.out = Path(out_dir)
        self.formats = parse_formats(formats)
        self.columns = {t: table_columns(t, extra_fields) for t in TABLES}
        self.out.mkdir(parents=True, exist_ok=True)
        self.csv_dir = self.out if "csv" in self.formats else self.out / ".staging"
        self.csv_dir.mkdir(exist_ok=True)
        self.counts = {t: 0 for t in TABLES}
        self.statuses: dict[str, int] = {}
        self.done: set[str] = set()
        self._closed = False
        self._started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        if resume:
            self._recover()
        else:  # a fresh run replaces what an earlier run wrote here, in every format
            self._clear_outputs()
        self._write_run_manifest(complete=False)
        self._csv = {}
        for t in TABLES:
            p = self.csv_path(t)
            new = not p.exists() or p.stat().st_size == 0
            f = open(p, "a", encoding="utf-8-sig" if new else "utf-8", newline="")
            if new:
                csv.writer(f).writerow([c for c, _ in self.columns[t]])
                f.flush()
            self._csv[t] = f
        self._jsonl = {}
        if "jsonl" in self.formats:
            for name in ("records", "files"):
                self._jsonl[name] = open(self.out / f"{name}.jsonl", "a", encoding="utf-8")

    def csv_path(self, table: str) -> Path:
        return self.csv_dir / f"{table}.csv"

    def output_names(self) -> list[str]:
        """The files this run writes into ``out``, by the formats asked for."""
        names = []
        if "csv" in self.formats:
            names += [f"{t}.csv" for t in TABLES]
        if "jsonl" in self.formats:
            names += ["records.jsonl", "files.jsonl"]
        if "parquet" in self.formats:
            names += [f"{t}.parquet" for t in TABLES]
        if "xlsx" in self.formats:
            names.append("tables.xlsx")
        return names

    def _clear_outputs(self) -> None:
        # tables of an earlier run in formats not asked for now must not stand beside this run's
        for t in TABLES:
            for name in (f"{t}.csv", f"{t}.parquet", f"{t}.parquet.tmp"):
                (self.out / name).unlink(missing_ok=True)
            self.csv_path(t).unlink(missing_ok=True)
        for name in ("records.jsonl", "files.jsonl", "tables.xlsx", "tables.xlsx.tmp", "summary.csv"):
            (self.out / name).unlink(missing_ok=True)

    def _write_run_manifest(self, complete: bool) -> None:
        """``run.json``: which files in the folder this run wrote, and whether it finished."""
        from .. import __version__

        doc = {"replyparse": __version__, "started": self._started,
               "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds") if complete else None,
               "complete": complete, "formats": list(self.formats), "files": self.output_names(),
               "counts": dict(self.counts), "statuses": dict(sorted(self.statuses.items()))}
        tmp = self.out / "run.json.tmp"
        with _replaced_when_whole(tmp, self.out / "run.json"):
            tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    # -- resume
    def _recover(self) -> None:
        fp = self.csv_path("files")
        if not fp.exists():
            for t in TABLES:  # nothing finished: start afresh
                self.csv_path(t).unlink(missing_ok=True)
            for name in ("records", "files"):
                (self.out / f"{name}.jsonl").unlink(missing_ok=True)
            return
        with open(fp, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        self.done = {csv_unguard(r["path"]) for r in rows}
        for r in rows:
            self.counts["files"] += 1
            self.statuses[r["status"]] = self.statuses.get(r["status"], 0) + 1
        for t in ("letters", "amounts", "actions"):
            self.counts[t] = self._filter_csv(self.csv_path(t))
        self._filter_jsonl(self.out / "records.jsonl", "source", file_path_of)
        self._filter_jsonl(self.out / "files.jsonl", "path", lambda p: p)

    def _filter_csv(self, path: Path) -> int:
        if not path.exists():
            return 0
        tmp = path.with_suffix(".tmp")
        n = 0
        with open(path, encoding="utf-8-sig", newline="") as src, open(tmp, "w", encoding="utf-8-sig", newline="") as dst:
            reader, writer = csv.reader(src), csv.writer(dst)
            header = next(reader, None)
            if header is None:
                return 0
            writer.writerow(header)
            i = header.index("path")
            for row in reader:
                if len(row) == len(header) and csv_unguard(row[i]) in self.done:
                    writer.writerow(row)
                    n += 1
        os.replace(tmp, path)
        return n

    def _filter_jsonl(self, path: Path, key: str, to_path) -> None:
        if not path.exists():
            return
        tmp = path.with_suffix(".tmp")
        with open(path, encoding="utf-8") as src, open(tmp, "w", encoding="utf-8") as dst:
            for line in src:
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue  # a line cut off by the kill
                if to_path(_safe(obj.get(key, ""))) in self.done:
                    dst.write(line if line.endswith("\n") else line + "\n")
        os.replace(tmp, path)

    # -- streaming
    def add(self, fr) -> None:
        """Append one file's rows to every table and flush (one write per output file)."""
        if self._closed:
            raise ValueError("TableWriter is closed")
        rows = rows_of(fr)
        for t in TABLES:  # files last: a files row means the file's rows are all written
            cols = self.columns[t]
            buf = io.StringIO()
            w = csv.writer(buf)
            for r in rows[t]:
                w.writerow([_cell(r.get(c), k) for c, k in cols])
            if t == "files" and self._jsonl:
                self._write_jsonl(fr, rows["files"][0])
            self._csv[t].write(buf.getvalue())
            self._csv[t].flush()
            self.counts[t] += len(rows[t])
        self.statuses[fr.status] = self.statuses.get(fr.status, 0) + 1
        # ``done`` is what an earlier run finished (for resume); this run's paths are not kept, so
        # memory does not grow with the number of files

    def _write_jsonl(self, fr, file_row_: dict) -> None:
        recs = "".join(_record_line(r) + "\n" for r in fr.records)
        self._jsonl["records"].write(recs)
        self._jsonl["records"].flush()
        self._jsonl["files"].write(json.dumps(file_row_, ensure_ascii=False) + "\n")
        self._jsonl["files"].flush()

    def close(self, complete: bool = True) -> dict[str, Path]:
        """Close the streams and build XLSX/Parquet; returns the files written, by name.
        ``complete=False`` (an interrupted run) is recorded in ``run.json``: the tables hold the files
        finished so far."""
        if self._closed:
            return {}
        self._closed = True
        for f in list(self._csv.values()) + list(self._jsonl.values()):
            f.close()
        written: dict[str, Path] = {}
        if "csv" in self.formats:
            written.update({f"{t}.csv": self.csv_path(t) for t in TABLES})
        if "jsonl" in self.formats:
            written.update({n: self.out / n for n in ("records.jsonl", "files.jsonl")})
        if "parquet" in self.formats:
            for t in TABLES:
                written[f"{t}.parquet"] = write_parquet(self.csv_path(t), t, self.out / f"{t}.parquet",
                                                        columns=self.columns[t])
        if "xlsx" in self.formats:
            written["tables.xlsx"] = write_xlsx({t: self.csv_path(t) for t in TABLES}, self.out / "tables.xlsx",
                                                columns=self.columns)
        if self.csv_dir != self.out:
            shutil.rmtree(self.csv_dir, ignore_errors=True)
        self._write_run_manifest(complete=complete)
        written["run.json"] = self.out / "run.json"
        return written

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _record_line(rec) -> str:
    """A record's JSON line, made writable when a file name in it holds undecodable bytes."""
    line = rec.json_line()
    try:
        line.encode("utf-8")
        return line
    except UnicodeEncodeError:
        return json.dumps(_jsonable(rec.to_dict()), ensure_ascii=False)


def _jsonable(obj):
    """Record dicts with any undecodable file-name text made writable."""
    if isinstance(obj, str):
        return _safe(obj)
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    return obj


def write_tables(items: Iterable, out_dir: str | Path, formats=None) -> dict[str, Path]:
    """Records and/or FileResults → table files in ``out_dir`` (the one-call form of TableWriter)."""
    w = TableWriter(out_dir, formats)
    try:
        for fr in _as_file_results(items):
            w.add(fr)
    finally:
        written = w.close()
    return written


# ---------------------------------------------------------------- CSV → Parquet / XLSX


def read_csv_table(path: str | Path, table: str, chunksize: int | None = None, columns=None):
    """A typed DataFrame (or an iterator of them, with ``chunksize``) from a table's CSV."""
    import pandas as pd

    columns = columns or _columns_in(path, table)
    kw = dict(dtype=str, keep_default_na=False, na_values=[], encoding="utf-8-sig")
    text_cols = [c for c, k in columns if k == STR]

    def typed(df):
        for c in text_cols:
            if c in df:
                df[c] = df[c].map(csv_unguard)
        return frame(table, df, columns)

    if chunksize:
        return (typed(c) for c in pd.read_csv(path, chunksize=chunksize, **kw))
    return typed(pd.read_csv(path, **kw))


def arrow_schema(table: str, columns=None):
    import pyarrow as pa

    types = {STR: pa.string(), INT: pa.int64(), FLOAT: pa.float64(), BOOL: pa.bool_(), DATE: pa.date32()}
    return pa.schema([(c, types[k]) for c, k in columns or COLUMNS[table]])


def write_parquet(csv_path: Path, table: str, dest: Path, chunksize: int = 50_000, columns=None) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = columns or _columns_in(csv_path, table)
    schema = arrow_schema(table, columns)
    tmp = dest.with_suffix(".parquet.tmp")
    with _replaced_when_whole(tmp, dest):
        with pq.ParquetWriter(tmp, schema) as w:
            for df in read_csv_table(csv_path, table, chunksize=chunksize, columns=columns):
                w.write_table(pa.Table.from_pandas(df, schema=schema, preserve_index=False))
            w.write_table(schema.empty_table())  # a file with no rows still has the schema
    return dest


@contextlib.contextmanager
def _replaced_when_whole(tmp: Path, dest: Path):
    """Write ``tmp``, then rename it to ``dest``; on any failure (disk full) remove ``tmp`` and
    leave ``dest`` as it was, so no half-written table ever has a table's name."""
    try:
        yield
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _width(s: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _xlsx_value(v: str, kind: str):
    if v == "":
        return None
    try:
        if kind == INT:
            return int(v)
        if kind == FLOAT:
            return float(v)
        if kind == BOOL:
            return v == "true"
        if kind == DATE:
            return dt.date.fromisoformat(v)
    except ValueError:
        return v
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    v = ILLEGAL_CHARACTERS_RE.sub("", csv_unguard(v))  # the CSV's formula guard is not part of the value
    return v[:32767]  # Excel's limit for one cell


def write_xlsx(csv_paths: dict[str, Path], dest: Path, sample: int = 2000, columns=None) -> Path:
    """One sheet per table: bold frozen header, auto-filter, column widths from the first
    ``sample`` rows, numbers as numbers (yuan as ``#,##0.00``), dates as dates."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for table, path in csv_paths.items():
        cols = (columns or {}).get(table) or _columns_in(path, table)
        ws = wb.create_sheet(table)
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            head = [row for _, row in zip(range(sample), reader)]
        widths = [_width(c) + 2 for c, _ in cols]
        for row in head:
            for i, v in enumerate(row[: len(cols)]):
                widths[i] = max(widths[i], min(_width(v) + 2, 60))
        for i, (c, k) in enumerate(cols):
            if c in YUAN_COLUMNS:
                widths[i] = max(widths[i], 16)
            elif k == DATE:
                widths[i] = max(widths[i], 12)
            ws.column_dimensions[get_column_letter(i + 1)].width = widths[i]
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}1"
        hdr = []
        for c in header:
            cell = WriteOnlyCell(ws, value=c)
            cell.font = bold
            hdr.append(cell)
        ws.append(hdr)
        n = 0
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            for row in reader:
                n += 1
                if n >= XLSX_MAX_ROWS:
                    import sys

                    print(f"replyparse: {table} has more rows than a sheet holds; tables.xlsx keeps the first "
                          f"{XLSX_MAX_ROWS - 1} (the CSV/Parquet have them all)", file=sys.stderr)
                    break
                out = []
                for (c, k), v in zip(cols, row):
                    val = _xlsx_value(v, k)
                    if c in YUAN_COLUMNS and isinstance(val, float) or k == DATE and isinstance(val, dt.date) \
                            or isinstance(val, str) and val.startswith(_FORMULA_START):
                        cell = WriteOnlyCell(ws, value=val)
                        if isinstance(val, str):
                            cell.data_type = "s"  # text, never a formula
                        else:
                            cell.number_format = "#,##0.00" if k == FLOAT else "yyyy-mm-dd"
                        val = cell
                    out.append(val)
                ws.append(out)
    tmp = dest.with_suffix(".xlsx.tmp")
    with _replaced_when_whole(tmp, dest):
        wb.save(tmp)
    return dest


# ---------------------------------------------------------------- reading back


def read_tables(path: str | Path) -> Frames:
    """The four tables from an output folder (CSV preferred, else Parquet, else records.jsonl)."""
    import pandas as pd

    d = Path(path)
    if all((d / f"{t}.csv").exists() for t in TABLES):
        return Frames({t: read_csv_table(d / f"{t}.csv", t) for t in TABLES})
    if all((d / f"{t}.parquet").exists() for t in TABLES):
        return Frames({t: frame(t, pd.read_parquet(d / f"{t}.parquet").astype("object")) for t in TABLES})
    if (d / "records.jsonl").exists():
        return frames_from_jsonl(d / "records.jsonl", d / "files.jsonl")
    raise FileNotFoundError(f"{d}: no tables (letters.csv …, *.parquet or records.jsonl)")


def iter_jsonl(path: str | Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    yield json.loads(line)
                except ValueError:
                    continue  # a line cut off by a killed run


def frames_from_jsonl(records_path: str | Path, files_path: str | Path | None = None) -> Frames:
    """Frames from ``records.jsonl`` (the full records); the ``files`` table comes from
    ``files.jsonl`` beside it when there is one, else it is derived from the records."""
    frames = to_frames(iter_jsonl(records_path))
    if files_path and Path(files_path).exists():
        frames["files"] = frame("files", list(iter_jsonl(files_path)))
    return frames
