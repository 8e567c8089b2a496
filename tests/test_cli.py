"""The command line as a user meets it: the real ``replyparse`` command, its exit status, its
one-line messages, and never a Python traceback (README: Commands)."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def replyparse_command() -> list[str]:
    """The installed console script beside this Python (what a user types), else ``python -m``."""
    exe = Path(sys.executable).with_name("replyparse")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "replyparse"]


def rp(*args, cwd=None, env=None, timeout=300):
    return subprocess.run([*replyparse_command(), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def assert_one_line_error(proc, *needles, status=2):
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("replyparse: error: "), lines[0]
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture(scope="module")
def letters(tmp_path_factory) -> Path:
    """Five corpus letters, and beside them files replyparse does not read."""
    root = tmp_path_factory.mktemp("letters")
    for f in sorted(CORPUS.glob("*.txt"))[:5]:
        shutil.copy(f, root / f.name)
    (root / "notes.md").write_text("# notes\n", "utf-8")
    (root / "sub").mkdir()
    (root / "sub" / "scan-index.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    (root / "sub" / "README").write_text("no extension\n", "utf-8")
    return root


# ---------------------------------------------------------------- mistakes: one line, status 2


def test_out_naming_an_existing_file(letters, tmp_path):
    f = tmp_path / "taken.txt"
    f.write_text("x")
    assert_one_line_error(rp("parse", letters, "--out", f), "is a file", "-o FILE")


@pytest.mark.parametrize("make", [lambda t: t / "nowhere", lambda t: t / "empty"])
def test_eval_without_gold(tmp_path, make):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.txt").write_text("某局关于…的答复", "utf-8")
    folder = make(tmp_path)
    proc = rp("eval", folder)
    assert_one_line_error(proc, str(folder))
    assert "1.000" not in proc.stdout  # no table of perfect scores over nothing


def test_eval_subset_with_no_letter():
    assert_one_line_error(rp("eval", CORPUS, "--subset", "garbled"), "subset", "nothing to score")


@pytest.mark.parametrize("cmd", [["index", "{missing}", "--db", "{tmp}/ix.sqlite"],
                                 ["export", "{missing}", "-o", "{tmp}/e.ndjson"]])
def test_index_and_export_on_a_missing_path(tmp_path, cmd):
    args = [a.format(missing=tmp_path / "no-such-folder", tmp=tmp_path) for a in cmd]
    assert_one_line_error(rp(*args), "no such file or folder", "no-such-folder")
    assert not (tmp_path / "ix.sqlite").exists() and not (tmp_path / "e.ndjson").exists()


def test_formats_without_out(letters):
    assert_one_line_error(rp("parse", letters, "--formats", "xlsx"), "--out DIR")


def test_table_format_given_to_format(letters):
    assert_one_line_error(rp("parse", letters, "--format", "csv"), "--out DIR --formats csv")


def test_unknown_option_is_one_line():
    assert_one_line_error(rp("parse", CORPUS, "--no-such-flag"), "--no-such-flag", "--help")


def test_search_without_index(tmp_path):
    assert_one_line_error(rp("search", "道路", "--db", tmp_path / "none.sqlite"), "replyparse index")


def test_bad_rules_folder_for_every_parsing_command(tmp_path, letters):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "cc.yaml").write_text("rules:\n  - id: cc.broken\n    pattern: '(unclosed'\n", "utf-8")
    for args in (["parse", letters], ["eval", CORPUS], ["index", letters, "--db", tmp_path / "i.sqlite"],
                 ["export", letters, "-o", tmp_path / "e.ndjson"]):
        proc = rp(*args, "--rules", bad)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "cc.broken" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- outputs into folders that do not exist


def test_outputs_into_missing_folders_are_created(letters, tmp_path):
    out = tmp_path / "a" / "b" / "records.jsonl"
    proc = rp("parse", letters, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert len(out.read_text("utf-8").splitlines()) == 5
    ndjson = tmp_path / "c" / "d" / "bulk.ndjson"
    proc = rp("export", letters, "-o", ndjson)
    assert proc.returncode == 0, proc.stderr
    assert ndjson.stat().st_size > 0 and Path(f"{ndjson}.mapping.json").is_file()
    db = tmp_path / "e" / "f" / "ix.sqlite"
    proc = rp("index", letters, "--db", db, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert db.is_file()
    proc = rp("index", letters, "--db", db, "--jobs", "1")  # the old name still works
    assert proc.returncode == 0, proc.stderr


def test_rules_folder_reaches_index_and_export(letters, tmp_path):
    """A --rules folder changes what index and export store, as it changes parse."""
    extra = tmp_path / "extra"
    extra.mkdir()
    # every letter's issuer becomes a constant through a rule of the highest priority
    (extra / "issuer.yaml").write_text(
        "rules:\n  - id: issuer.test_constant\n    segment: any\n    priority: 1000\n"
        "    pattern: '(?P<v>答复)'\n", "utf-8")
    out = tmp_path / "bulk.ndjson"
    assert rp("export", letters, "-o", out, "--rules", extra).returncode == 0
    docs = [json.loads(ln) for ln in out.read_text("utf-8").splitlines()[1::2]]
    assert docs and {d["issuer"] for d in docs} == {"答复"}
    db = tmp_path / "ix.sqlite"
    assert rp("index", letters, "--db", db, "--workers", "1", "--rules", extra).returncode == 0
    proc = rp("search", "--db", db, "--json", "--limit", "50")
    assert {h["issuer"] for h in json.loads(proc.stdout)["hits"]} == {"答复"}
    # built without the folder again: the rules changed, so every file is parsed again
    proc = rp("index", letters, "--db", db, "--workers", "1")
    assert "rules changed" in proc.stderr
    proc = rp("search", "--db", db, "--json", "--limit", "50")
    assert "答复" not in {h["issuer"] for h in json.loads(proc.stdout)["hits"]}


# ---------------------------------------------------------------- skipped files, stale tables, Ctrl-C


def test_files_not_read_are_listed_as_skipped(letters, tmp_path):
    out = tmp_path / "out"
    proc = rp("parse", letters, "--out", out)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(ln) for ln in (out / "files.jsonl").read_text("utf-8").splitlines()]
    skipped = {Path(r["path"]).name: r["reason"] for r in rows if r["status"] == "skipped"}
    assert set(skipped) == {"notes.md", "scan-index.xls", "README"}
    assert "(.md)" in skipped["notes.md"] and "no extension" in skipped["README"]
    assert "3 skipped" in proc.stderr.splitlines()[-1]
    assert len(rows) == 8  # every file met has a row


def test_a_rerun_with_fewer_formats_leaves_no_stale_tables(letters, tmp_path):
    out = tmp_path / "out"
    assert rp("parse", letters, "--out", out, "--formats", "csv,xlsx,parquet,jsonl").returncode == 0
    assert (out / "tables.xlsx").is_file() and (out / "letters.parquet").is_file()
    assert rp("parse", letters, "--out", out, "--formats", "parquet").returncode == 0
    present = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    manifest = json.loads((out / "run.json").read_text("utf-8"))
    assert manifest["complete"] is True and manifest["formats"] == ["parquet"]
    assert present == set(manifest["files"]) | {"run.json"}
    assert "tables.xlsx" not in present and "letters.csv" not in present


@pytest.mark.parametrize("workers", [["--workers", "1", "--timeout", "0"], ["--workers", "2"]])
def test_ctrl_c_says_one_line_and_the_same_command_resumes(letters, tmp_path, workers):
    out = tmp_path / "out"
    cmd = [*replyparse_command(), "parse", str(letters), "--out", str(out), "--formats", "csv,parquet", *workers]
    # the third letter takes 60 s: the run is stopped while on it
    third = sorted(p.name for p in letters.glob("*.txt"))[2]
    env = dict(os.environ, REPLYPARSE_TEST_SLOW=f"{third}:60")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until the first files are written
        files_csv = out / "files.csv"
        if files_csv.exists() and len(files_csv.read_text("utf-8-sig").splitlines()) >= 3:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "interrupted after" in lines[0] and "of 8 files" in lines[0], err
    manifest = json.loads((out / "run.json").read_text("utf-8"))
    assert manifest["complete"] is False
    rows = (out / "files.csv").read_text("utf-8-sig").splitlines()[1:]
    assert manifest["counts"]["files"] == len(rows) and 2 <= len(rows) < 8
    parsed = sum(",skipped," not in r for r in rows)
    assert (out / "files.parquet").is_file()  # tables of what finished, said to be partial
    # the same command again: finished files come from the cache, the tables end whole
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    cached = int(re.search(r"(\d+) from cache", again.stderr).group(1))
    assert cached >= parsed >= 2
    assert json.loads((out / "run.json").read_text("utf-8"))["complete"] is True
    fresh = tmp_path / "fresh"
    assert rp("parse", letters, "--out", fresh, "--formats", "csv").returncode == 0
    assert (out / "letters.csv").read_text("utf-8-sig") == (fresh / "letters.csv").read_text("utf-8-sig")
