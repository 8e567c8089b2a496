"""Tables (letters / amounts / actions / files) in every format, the summary, and the Python API.

Counts are never hard-coded: the corpus grows, so every check compares against the records
that the pipeline gives for the same files.
"""
import csv
import json
import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

import replyparse
from replyparse.run.batch import process_file
from replyparse.cli import main
from replyparse.run.walk import iter_inputs, iter_paths
from replyparse.run.batch import unread_result
from replyparse.record import Action, Amount, Record
from replyparse.out.summary import summarize
from replyparse.out.tables import COLUMNS, LIST_SEP, TABLES, TableWriter, read_tables, to_frames, write_tables

ALL = "csv,xlsx,parquet,jsonl"


@pytest.fixture(scope="module")
def results(corpus_dir):
    """As a run makes them: a result for every file met, the files not read (gold JSON, README) skipped."""
    return [process_file(p) if problem is None else unread_result(p, problem) for p, problem in iter_inputs([corpus_dir])]


@pytest.fixture(scope="module")
def expected(results):
    recs = [r for fr in results for r in fr.records]
    ok = [r for r in recs if r.status == "ok"]
    return {
        "records": len(recs),
        "letters": len(ok),
        "amounts": sum(len(r.amounts) for r in ok),
        "actions": sum(len(r.actions) for r in ok),
        "files": len(results),
    }


@pytest.fixture(scope="module")
def out(corpus_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("tables")
    rc = main(["parse", str(corpus_dir), "--out", str(d), "--formats", ALL, "--quiet", "--workers", "1", "--timeout", "0"])
    assert rc == 0  # the corpus has no unreadable files
    return d


def _synthetic() -> list[Record]:
    """Letters with every kind of value, incl. a two-letter file and text Excel would misread."""
    a = Record(source="x/a.txt#1", is_reply_letter=True, doc_number="西民函〔2020〕45号", issuer="昆明市西山区民政局",
               proposal_kind="建议", body="人大", term=16, session=4, proposal_no="027", proposers=["陈锦", "李四"],
               public=True, date="2020-11-20", contact_phone="0871-68220583", cc=["区人大", "区政府办公室"],
               amounts=[Amount(text="400万", value_yuan=4000000, role="requested", start=1, end=5, rule="r1"),
                        Amount(text="282.68万元", value_yuan=2826800, role="allocated", start=9, end=17, rule="r2"),
                        Amount(text="50-100万元", value_yuan=500000, value_max_yuan=1000000, approx=True,
                               role="other", part_of=0, start=20, end=28, rule="r3")],
               actions=[Action("funding", "已安排282.68万元", 9, 17, "f1"), Action("planned", "纳入计划", 30, 34, "p1"),
                        Action("funding", "拨付", 40, 42, "f2")],
               requested_total_yuan=4000000, allocated_total_yuan=2826800.5, warnings=["=SUM(A1) looks odd\x07"],
               format="txt", encoding="utf-8", pages=[[0, 100]])
    b = Record(source="x/a.txt#2", is_reply_letter=True, issuer="某区教育局", proposal_kind="提案", body="政协",
               doc_number="某教函〔2019〕3号", public=False, format="txt", encoding="utf-8")
    c = Record(source="x/news.txt", is_reply_letter=False, status="not_letter", warnings=["not a reply letter: news"])
    return [a, b, c]


# ---------------------------------------------------------------- Python API


def test_api_exports():
    assert callable(replyparse.to_frames) and callable(replyparse.parse_text)
    rec = replyparse.parse_text("关于某事的答复\n某某代表：\n您好。")
    assert isinstance(rec, Record) and json.dumps(rec.to_dict(), ensure_ascii=False)


def test_to_frames_counts_match_records(results, expected):
    f = to_frames(results)
    assert set(f) == set(TABLES)
    for t in ("letters", "amounts", "actions", "files"):
        assert len(f[t]) == expected[t], t
    assert f.letters is f["letters"]
    assert list(f.files["status"].unique()) and set(f.files["status"]) <= {"ok", "not_letter", "needs_ocr", "error", "skipped"}
    # each file row counts the letters the file gave
    assert f.files["letters"].sum() == expected["letters"]


def test_to_frames_from_plain_records_derives_file_rows(results, expected):
    recs = [r for fr in results for r in fr.records]
    read = [fr for fr in results if fr.records]  # a skipped file has no record to derive its row from
    f = to_frames(recs)
    assert len(f.files) == len(read) < expected["files"]
    assert len(f.letters) == expected["letters"]
    assert f.files["sha256"].notna().all()  # the files still exist: hashed
    assert (f.files["path"].tolist() == [fr.path for fr in read])


def test_to_frames_types_and_values():
    f = to_frames(_synthetic())
    L, A, X, F = f.letters, f.amounts, f.actions, f.files
    assert len(L) == 2 and len(A) == 3 and len(X) == 3 and len(F) == 2
    assert F.set_index("path").loc["x/a.txt", "letters"] == 2
    assert F.set_index("path").loc["x/news.txt", "status"] == "not_letter"
    assert str(L["term"].dtype) == "Int64" and str(L["public"].dtype) == "boolean"
    assert L["requested_total_yuan"].dtype == "float64" and str(L["date"].dtype).startswith("datetime64")
    assert L.loc[0, "proposers"] == f"陈锦{LIST_SEP}李四" and L.loc[0, "proposal_no"] == "027"
    assert L.loc[0, "action_categories"] == f"funding{LIST_SEP}planned"  # distinct, in order
    assert L.loc[1, "year"] == 2019  # no date: the year of the doc number
    assert pd.isna(L.loc[1, "date"]) and L.loc[1, "public"] == False  # noqa: E712
    assert A["source"].tolist() == ["x/a.txt#1"] * 3 and (A["issuer"] == "昆明市西山区民政局").all()
    assert A.loc[2, "value_max_yuan"] == 1000000.0 and A.loc[2, "approx"] == True and A.loc[2, "part_of"] == 0  # noqa: E712
    assert pd.isna(A.loc[0, "part_of"]) and str(A["part_of"].dtype) == "Int64"
    assert X["category"].tolist() == ["funding", "planned", "funding"]


def test_empty_frames_keep_columns_and_types():
    f = to_frames([])
    for t in TABLES:
        assert list(f[t].columns) == [c for c, _ in COLUMNS[t]] and len(f[t]) == 0
    assert str(f.letters["term"].dtype) == "Int64"


# ---------------------------------------------------------------- files on disk


def test_csv(out, expected):
    for t in TABLES:
        raw = (out / f"{t}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), f"{t}.csv has no BOM"
        df = pd.read_csv(out / f"{t}.csv", encoding="utf-8-sig", dtype=str)
        assert len(df) == expected[t], t
        assert list(df.columns) == [c for c, _ in COLUMNS[t]]
    back = read_tables(out)
    assert str(back.letters["term"].dtype) == "Int64" and back.letters["requested_total_yuan"].dtype == "float64"
    assert str(back.amounts["approx"].dtype) == "boolean"
    if expected["letters"]:
        assert back.letters["issuer"].notna().any() and back.letters["issuer"].str.contains("[\u4e00-\u9fff]").any()


def test_csv_round_trip_equals_frames(results, out):
    f, back = to_frames(results), read_tables(out)
    for t in ("letters", "amounts", "actions"):
        pd.testing.assert_frame_equal(f[t], back[t], check_dtype=True)
    cols = [c for c in f.files.columns if c != "seconds"]  # the CLI run timed the files itself
    pd.testing.assert_frame_equal(f.files[cols], back.files[cols])


def test_jsonl(out, expected):
    recs = [json.loads(line) for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(recs) == expected["records"]
    assert sum(r["status"] == "ok" for r in recs) == expected["letters"]
    assert sum(len(r["amounts"]) for r in recs) == expected["amounts"]
    Record.from_dict(recs[0])
    files = (out / "files.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(files) == expected["files"]
    assert set(json.loads(files[0])) == {c for c, _ in COLUMNS["files"]}


def test_xlsx(out, expected):
    wb = load_workbook(out / "tables.xlsx")
    assert wb.sheetnames == list(TABLES)
    for t in TABLES:
        ws = wb[t]
        assert ws.freeze_panes == "A2"
        assert ws.max_row - 1 == expected[t], t
        header = [c.value for c in ws[1]]
        assert header == [c for c, _ in COLUMNS[t]]
        assert all(ws.column_dimensions[chr(65 + i)].width >= len(header[i]) for i in range(min(len(header), 26)))
    am = wb["amounts"]
    col = [c.value for c in am[1]].index("value_yuan") + 1
    values = [am.cell(row=r, column=col).value for r in range(2, am.max_row + 1)]
    assert all(isinstance(v, (int, float)) for v in values)
    lt = wb["letters"]
    head = [c.value for c in lt[1]]
    for name, kinds in (("term", (int, type(None))), ("requested_total_yuan", (int, float, type(None)))):
        i = head.index(name) + 1
        assert all(isinstance(lt.cell(row=r, column=i).value, kinds) for r in range(2, lt.max_row + 1))


def test_xlsx_synthetic_cells(tmp_path):
    write_tables(_synthetic(), tmp_path, "xlsx")
    assert not (tmp_path / ".staging").exists() and not (tmp_path / "letters.csv").exists()
    ws = load_workbook(tmp_path / "tables.xlsx")["letters"]
    head = [c.value for c in ws[1]]
    row = {h: ws.cell(row=2, column=i + 1) for i, h in enumerate(head)}
    assert row["allocated_total_yuan"].value == 2826800.5 and row["allocated_total_yuan"].number_format == "#,##0.00"
    assert row["proposal_no"].value == "027" and row["contact_phone"].value == "0871-68220583"  # text stays text
    assert row["warnings"].data_type == "s" and row["warnings"].value == "=SUM(A1) looks odd"  # no formula, no \x07
    assert row["public"].value is True and row["date"].is_date


def test_parquet(out, expected):
    for t in TABLES:
        tab = pq.read_table(out / f"{t}.parquet")
        assert tab.num_rows == expected[t], t
        assert tab.column_names == [c for c, _ in COLUMNS[t]]
    s = pq.read_schema(out / "letters.parquet")
    assert s.field("term").type == pa.int64() and s.field("public").type == pa.bool_()
    assert s.field("date").type == pa.date32() and s.field("requested_total_yuan").type == pa.float64()
    assert s.field("issuer").type == pa.string()
    s = pq.read_schema(out / "amounts.parquet")
    assert s.field("approx").type == pa.bool_() and s.field("part_of").type == pa.int64()
    df = pd.read_parquet(out / "letters.parquet", dtype_backend="numpy_nullable")
    assert str(df["term"].dtype) == "Int64" and str(df["public"].dtype) == "boolean"


def test_parquet_synthetic_values(tmp_path):
    write_tables(_synthetic(), tmp_path, "parquet")
    rows = pq.read_table(tmp_path / "letters.parquet").to_pylist()
    import datetime as dt

    assert rows[0]["date"] == dt.date(2020, 11, 20) and rows[0]["term"] == 16 and rows[0]["public"] is True
    assert rows[1]["date"] is None and rows[1]["term"] is None
    assert pq.read_table(tmp_path / "amounts.parquet").num_rows == 3


# ---------------------------------------------------------------- summary


def test_summary_cli(out, expected, capsys):
    assert main(["summary", str(out), "--by", "issuer"]) == 0
    printed = capsys.readouterr().out
    assert "(all)" in printed and "letters" in printed
    s = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert (out / "summary.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    total = s[s["issuer"] == "(all)"].iloc[0]
    assert total["letters"] == expected["letters"]
    assert s[s["issuer"] != "(all)"]["letters"].sum() == expected["letters"]
    for col in ("letters_with_money", "requested_total_yuan", "allocated_total_yuan", "allocated_requested_ratio",
                "funding", "completed"):
        assert col in s.columns


def test_summary_from_jsonl(out, expected, tmp_path):
    src = tmp_path / "run" / "records.jsonl"
    src.parent.mkdir()
    shutil.copy(out / "records.jsonl", src)
    assert main(["summary", str(src), "--by", "year,body"]) == 0
    s = pd.read_csv(src.parent / "summary.csv", encoding="utf-8-sig")
    assert s.iloc[-1]["letters"] == expected["letters"] and list(s.columns[:2]) == ["year", "body"]


def test_summary_values():
    s = summarize(to_frames(_synthetic()).letters, ["body"]).set_index("body")
    assert s.loc["(all)", "letters"] == 2 and s.loc["人大", "letters_with_money"] == 1
    assert s.loc["人大", "requested_total_yuan"] == 4000000 and s.loc["人大", "allocated_total_yuan"] == 2826800.5
    assert s.loc["人大", "allocated_requested_ratio"] == pytest.approx(2826800.5 / 4000000, abs=1e-4)
    assert s.loc["人大", "funding"] == 1 and s.loc["政协", "funding"] == 0  # letters showing it, not clauses
    assert pd.isna(s.loc["政协", "allocated_requested_ratio"])


def test_summary_bad_group(out):
    assert main(["summary", str(out), "--by", "colour"]) == 2


# ---------------------------------------------------------------- streaming, resume, exit status


def test_rows_are_on_disk_before_close(tmp_path, results):
    w = TableWriter(tmp_path, "csv,jsonl")
    w.add(results[0])
    files = pd.read_csv(tmp_path / "files.csv", encoding="utf-8-sig")  # not closed yet
    assert len(files) == 1 and len((tmp_path / "records.jsonl").read_text(encoding="utf-8").splitlines()) == len(results[0].records)
    w.close()


def test_resume_keeps_finished_files_only(tmp_path, results):
    w = TableWriter(tmp_path, "csv,jsonl")
    for fr in results[:3]:
        w.add(fr)
    for f in w._csv.values():  # a run killed mid-file: a letters row without its files row
        f.flush()
    with open(tmp_path / "letters.csv", "a", encoding="utf-8", newline="") as f:
        f.write(f"{results[3].path}#x,{results[3].path},ok" + "," * (len(COLUMNS['letters']) - 3) + "\n")
    del w
    w = TableWriter(tmp_path, "csv,jsonl", resume=True)
    assert w.done == {fr.path for fr in results[:3]}
    for fr in results[3:]:
        if fr.path not in w.done:
            w.add(fr)
    w.close()
    back = read_tables(tmp_path)
    assert len(back.files) == len(results) and back.files["path"].is_unique
    assert len(back.letters) == sum(fr.letters for fr in results)


def test_fresh_run_replaces_old_output(tmp_path, results):
    write_tables(results[:2], tmp_path)
    write_tables(results[:2], tmp_path)
    assert len(pd.read_csv(tmp_path / "files.csv", encoding="utf-8-sig")) == 2
    assert len((tmp_path / "files.jsonl").read_text(encoding="utf-8").splitlines()) == 2


def test_exit_status_error_file(tmp_path, corpus_dir):
    src = tmp_path / "in"
    src.mkdir()
    first = next(iter_paths([corpus_dir]))
    shutil.copy(first, src / "good.txt")
    (src / "broken.txt").write_bytes(bytes(range(256)) * 40)
    rc = main(["parse", str(src), "--out", str(tmp_path / "o"), "--quiet", "--workers", "1", "--timeout", "0"])
    assert rc == 1
    files = read_tables(tmp_path / "o").files.set_index("path")
    assert files.loc[str(src / "broken.txt"), "status"] == "error" and files["reason"].notna().any()
    assert len(files) == 2


def test_bad_formats(tmp_path, corpus_dir):
    assert main(["parse", str(corpus_dir), "--out", str(tmp_path), "--formats", "csv,docx", "--quiet"]) == 2
    with open(tmp_path / "x.csv", "w") as f:
        csv.writer(f).writerow(["a"])
