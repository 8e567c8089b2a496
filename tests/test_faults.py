"""Nothing lost under faults, hostile names and hostile rules: each case runs the real command
(README: What happens to bad files)."""
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from test_cli import assert_one_line_error, replyparse_command, rp

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
LETTER = CORPUS / "hz-jianyi-2019-045.txt"


def files_rows(out: Path) -> dict[str, dict]:
    return {Path(r["path"]).name: r for r in map(json.loads, (out / "files.jsonl").read_text("utf-8").splitlines())}


# ---------------------------------------------------------------- 1. file names that are not UTF-8


@pytest.mark.parametrize("workers", [["--workers", "1", "--timeout", "0"], ["--workers", "2"]])
def test_a_gbk_or_latin1_file_name_keeps_its_letter(tmp_path, workers):
    d = tmp_path / "in"
    d.mkdir()
    for raw in ("答复函".encode("gbk") + b".txt", b"r\xe9ponse.txt", b"ok.txt"):
        shutil.copy(LETTER, os.path.join(os.fsencode(d), raw))
    out = tmp_path / "out"
    proc = rp("parse", d, "--out", out, *workers)
    assert proc.returncode == 0, proc.stderr
    rows = files_rows(out)
    assert len(rows) == 3 and all(r["status"] == "ok" and r["letters"] == 1 for r in rows.values()), rows
    assert "答复函.txt" in rows  # shown readably
    recs = (out / "records.jsonl").read_text("utf-8").splitlines()
    assert len(recs) == 3 and len({json.loads(r)["doc_number"] for r in recs}) == 1
    again = rp("parse", d, "--out", out, *workers)  # the cache holds them too
    assert again.returncode == 0 and "3 from cache" in again.stderr
    db = tmp_path / "ix.sqlite"
    proc = rp("index", d, "--db", db, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "letters written: 3" in proc.stdout


# ---------------------------------------------------------------- 2. a named pipe among the letters


def test_a_named_pipe_is_an_error_row_not_a_hang(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(LETTER, d / "a.txt")
    os.mkfifo(d / "b.txt")
    shutil.copy(LETTER, d / "c.txt")
    out = tmp_path / "out"
    for args in (["--timeout", "5"], ["--workers", "1", "--timeout", "0"]):
        proc = rp("parse", d, "--out", out, *args, timeout=60)
        assert proc.returncode == 1, proc.stderr  # an error row
        rows = files_rows(out)
        assert rows["b.txt"]["status"] == "error" and "not a regular file" in rows["b.txt"]["reason"]
        assert rows["a.txt"]["status"] == rows["c.txt"]["status"] == "ok"
    proc = rp("parse", d / "b.txt", timeout=60)  # named directly
    assert proc.returncode == 1 and "not a regular file" in proc.stdout
    proc = rp("index", d, "--db", tmp_path / "ix.sqlite", timeout=60)
    assert proc.returncode == 0 and "letters written: 2" in proc.stdout


# ---------------------------------------------------------------- 3. hostile rules


def test_a_catastrophic_point_rule_is_bounded(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "segment.yaml").write_text(
        "rules:\n  - id: segment.point.evil\n    field: point\n    pattern: '^(?P<label>(\\s*\\S)+)+$'\n", "utf-8")
    d = tmp_path / "in"
    d.mkdir()
    text = LETTER.read_text("utf-8") + "\n" + "本" * 40 + " !\n"
    (d / "a.txt").write_text(text, "utf-8")
    proc = rp("parse", d, "--rules", rules, "--workers", "1", "--timeout", "0", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["doc_number"]


@pytest.mark.parametrize("body", [
    # a billion laughs in defs, then in a rule's value
    "defs:\n  A: &a ['x','x','x','x','x','x','x','x','x']\n  B: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "  C: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n",
    "rules:\n  - id: cc.x\n    pattern: 'x'\n    value: &v [1, 2, 3]\n  - id: cc.y\n    pattern: 'y'\n    value: *v\n",
])
def test_yaml_aliases_are_refused(tmp_path, body):
    (tmp_path / "cc.yaml").write_text(body, "utf-8")
    for args in (["rules", "check", tmp_path], ["parse", LETTER, "--rules", tmp_path]):
        proc = rp(*args, timeout=60)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert "cc.yaml" in proc.stderr and "alias" in proc.stderr


def test_an_oversized_rule_file_is_refused(tmp_path):
    (tmp_path / "cc.yaml").write_text("description: '" + "x" * (2 << 20) + "'\n", "utf-8")
    proc = rp("rules", "check", tmp_path)
    assert proc.returncode == 2 and "cc.yaml" in proc.stderr and "larger than" in proc.stderr


# ---------------------------------------------------------------- 4. paths that cannot be walked


def test_a_folder_past_the_os_path_limit_gets_a_row(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(LETTER, d / "a.txt")
    fd = os.open(d, os.O_RDONLY)
    for _ in range(20):  # 20 × 250 characters: past PATH_MAX (4096)
        os.mkdir("d" * 250, dir_fd=fd)
        nfd = os.open("d" * 250, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    os.close(fd)
    out = tmp_path / "out"
    proc = rp("parse", d, "--out", out)
    assert proc.returncode == 1, proc.stderr
    rows = [json.loads(ln) for ln in (out / "files.jsonl").read_text("utf-8").splitlines()]
    assert [r["status"] for r in rows].count("ok") == 1
    deep = [r for r in rows if r["status"] == "error"]
    assert len(deep) == 1 and "cannot list folder" in deep[0]["reason"]


def test_a_missing_path_says_no_such_file(tmp_path):
    proc = rp("parse", tmp_path / "gone.txt")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["reason"] == "no such file"


# ---------------------------------------------------------------- 5. two runs into one --out


def test_a_second_run_into_the_same_out_stops_or_waits(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for f in sorted(CORPUS.glob("*.txt"))[:4]:
        shutil.copy(f, d / f.name)
    out = tmp_path / "out"
    slow = sorted(p.name for p in d.iterdir())[1]
    env = dict(os.environ, REPLYPARSE_TEST_SLOW=f"{slow}:6")
    first = subprocess.Popen([*replyparse_command(), "parse", str(d), "--out", str(out), "--workers", "1"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline and not (out / "files.csv").exists():
        time.sleep(0.1)
    second = rp("parse", d, "--out", out, "--formats", "csv", timeout=60)
    assert_one_line_error(second, "another replyparse run", f"pid {first.pid}", "--wait", status=4)
    waited = rp("parse", d, "--out", out, "--wait", "--quiet", timeout=120)
    assert first.wait(60) == 0
    assert waited.returncode == 0, waited.stderr
    assert len((out / "files.csv").read_text("utf-8-sig").splitlines()) == 5  # header + 4, once each


# ---------------------------------------------------------------- 6. output that cannot be written


def test_a_full_disk_is_one_line_status_3_and_no_partial_file_looks_complete(tmp_path):
    def small_disk():  # writes past 40 kB fail as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))

    out = tmp_path / "out"
    proc = subprocess.run([*replyparse_command(), "parse", str(CORPUS), "--out", str(out),
                           "--formats", "csv,xlsx,parquet,jsonl"], preexec_fn=small_disk,
                          capture_output=True, text=True, timeout=300)
    assert_one_line_error(proc, "output could not be written", "run the same command again", status=3)
    assert json.loads((out / "run.json").read_text("utf-8"))["complete"] is False
    assert not list(out.glob("*.tmp")) and not list(out.glob("*.tmp*"))
    # -o FILE on a full device
    proc = rp("parse", LETTER, "-o", "/dev/full")
    assert_one_line_error(proc, "output could not be written", status=3)


# ---------------------------------------------------------------- 7. search


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("ix") / "ix.sqlite"
    assert rp("index", CORPUS, "--db", db, "--workers", "1").returncode == 0
    return db


def test_search_opens_the_index_read_only(index, tmp_path):
    before = index.read_bytes()  # (a WAL reader may leave its empty -wal/-shm beside it)
    assert rp("search", "民政局", "--db", index).returncode == 0
    assert index.read_bytes() == before
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (a)")
    con.commit()
    con.close()
    assert_one_line_error(rp("search", "x", "--db", other), "not a replyparse index")
    tables = [r[0] for r in sqlite3.connect(other).execute("SELECT name FROM sqlite_master")]
    assert tables == ["t"]  # nothing added to somebody else's database


def test_a_damaged_index_is_one_line(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is no database" * 100)
    assert_one_line_error(rp("search", "x", "--db", bad), "damaged", "replyparse index")


def test_punctuation_and_huge_queries(index):
    proc = rp("search", "，。！？……", "--db", index, "--json")
    res = json.loads(proc.stdout)
    assert proc.returncode == 0 and res["total"] == 0 and res["hits"] == [] and "no word" in res["note"]
    huge = "民政局" * 13_000  # 39,000 characters
    proc = rp("search", huge, "--db", index, "--json", timeout=120)
    res = json.loads(proc.stdout)
    assert proc.returncode == 0 and "cut" in res["note"] and len(res["query"]) <= 200
    assert res["total"] >= 1


# ---------------------------------------------------------------- 8. CSV injection


def test_formula_cells_are_neutralised_in_csv_only(tmp_path):
    name = "=1+2+cmd|'calc'!A0.txt"
    shutil.copy(LETTER, tmp_path / name)
    proc = rp("parse", name, "--out", "o", "--formats", "csv,xlsx,parquet,jsonl", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "o"
    row = (out / "letters.csv").read_text("utf-8-sig").splitlines()[1]
    assert row.startswith("'=1+2")
    assert pd.read_parquet(out / "letters.parquet")["source"][0] == name
    assert json.loads((out / "records.jsonl").read_text("utf-8").splitlines()[0])["source"] == name
    cell = load_workbook(out / "tables.xlsx")["letters"]["A2"]
    assert cell.value == name and cell.data_type == "s"


# ---------------------------------------------------------------- 9. smaller ones


def test_a_huge_sparse_file_is_refused_by_its_size_before_it_is_read(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    with open(d / "huge.txt", "wb") as f:
        f.truncate(20 * 2**30)  # 20 GB, sparse: no disk used
    shutil.copy(LETTER, d / "ok.txt")
    out = tmp_path / "out"
    proc = rp("parse", d, "--out", out, "--timeout", "30", timeout=60)
    assert proc.returncode == 1
    row = files_rows(out)["huge.txt"]
    assert row["status"] == "error" and "too large" in row["reason"] and row["sha256"] is None


def test_a_text_mixing_utf8_and_gbk_lines_is_read(tmp_path):
    lines = LETTER.read_text("utf-8").split("\n")
    raw = b"\n".join(ln.encode("gbk") if i == 6 else ln.encode("utf-8") for i, ln in enumerate(lines))
    (tmp_path / "mixed.txt").write_bytes(raw)
    rec = json.loads(rp("parse", tmp_path / "mixed.txt").stdout)
    alone = json.loads(rp("parse", LETTER).stdout)
    assert rec["status"] == "ok" and rec["encoding"] == "utf-8+gb18030"
    assert any("mixed encodings" in w for w in rec["warnings"])
    assert rec["title"] == alone["title"] and rec["doc_number"] == alone["doc_number"]


def test_a_web_page_over_the_limit_is_refused(tmp_path):
    page = tmp_path / "big.html"
    page.write_text("<html><body>" + "<p>某局关于某事的答复。</p>" * 600_000 + "</body></html>", "utf-8")
    rec = json.loads(rp("parse", page).stdout)
    assert rec["status"] == "error" and "too large" in rec["reason"]


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-le", "utf-32-be"])
def test_a_docx_with_utf32_xml_declaring_a_dtd_is_refused(tmp_path, codec):
    xml = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">]>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           '<w:body><w:p><w:r><w:t>&a;</w:t></w:r></w:p></w:body></w:document>')
    path = tmp_path / "x.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("word/document.xml", xml.encode(codec))
    rec = json.loads(rp("parse", path).stdout)
    assert rec["status"] == "error" and "DOCTYPE" in rec["reason"], rec["reason"]


def test_a_letter_that_overruns_its_watchdog_is_parsed_again_with_limits(tmp_path, monkeypatch):
    """rules.bounded: one watchdog a letter; when it fires, the letter is parsed again with a time
    limit on every rule regex, so the rule that stalls gives nothing, with a warning."""
    from replyparse.engine import rules as rules_mod
    from replyparse.run.batch import process_file

    monkeypatch.setattr(rules_mod, "LETTER_BUDGET", 0.3)
    (tmp_path / "r").mkdir()
    # exponential on a line of 抄 that does not end the line; of the highest priority of its family,
    # so that it runs (a rule whose field already has a better candidate is not tried at all)
    (tmp_path / "r" / "cc.yaml").write_text(
        "rules:\n  - id: cc.evil\n    priority: 99\n    pattern: '^(?:抄|抄抄)+$'\n", "utf-8")
    letter = tmp_path / "a.txt"
    letter.write_text(LETTER.read_text("utf-8") + "\n" + "抄" * 40 + "x\n", "utf-8")
    t0 = time.perf_counter()
    rec = process_file(letter, rules_mod.load_rules([tmp_path / "r"])).records[0]
    assert time.perf_counter() - t0 < 20
    assert rec.doc_number and any("gave up" in w and "cc.evil" in w for w in rec.warnings), rec.warnings
    assert rules_mod.rule_timeout() == rules_mod.RULE_TIMEOUT  # the limit per call is back after the letter


def test_a_rule_whose_field_has_a_better_candidate_is_not_tried(tmp_path):
    """The same stalling rule below the built-in 抄送 rule's priority: the letter's cc is found by
    the better rule first, so the stalling one cannot change the result and is not run at all."""
    from replyparse.engine import rules as rules_mod
    from replyparse.run.batch import process_file

    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "cc.yaml").write_text(
        "rules:\n  - id: cc.evil\n    priority: 1\n    pattern: '^(?:抄|抄抄)+$'\n", "utf-8")
    letter = tmp_path / "a.txt"
    letter.write_text(LETTER.read_text("utf-8") + "\n" + "抄" * 40 + "x\n", "utf-8")  # it holds a 抄送 line
    t0 = time.perf_counter()
    rec = process_file(letter, rules_mod.load_rules([tmp_path / "r"])).records[0]
    assert time.perf_counter() - t0 < 5
    assert rec.cc == ["区人大常委会代表工作委员会", "区政府办公室"] and rec.evidence["cc"].rule != "cc.evil"
    assert not any("gave up" in w for w in rec.warnings), rec.warnings
