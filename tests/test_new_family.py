"""A new field is one rule file: a region's ``deadline.yaml`` given with ``--rules`` reaches the
record, the letters table (CSV and typed Parquet), the index and ``eval`` — no code (README: Rules
are data)."""
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from test_cli import rp

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
RULE_FILE = """\
description: 办结期限 — the date a reply promises the work by (a field of one region's letters)
kind: header
fields:
  - {name: deadline, type: date, description: the date the reply promises}
rules:
  - id: deadline.promised
    segment: body
    priority: 10
    pattern: '(?:力争|计划|预计|确保)(?:于|在)?(?P<v>\\d{4}年\\d{1,2}月\\d{1,2}日)(?:前|之前)?(?:完成|完工|建成)'
examples:
  - {text: "该工程力争于2024年6月30日前完成。", segment: body, expect: {deadline: "2024-06-30"}}
  - {text: "该工程已于2023年完成。", segment: body, expect: {deadline: null}}
"""
PROMISE = "该项目力争于2026年9月30日前完成。"


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    root = tmp_path_factory.mktemp("region")
    rules = root / "rules"
    rules.mkdir()
    (rules / "deadline.yaml").write_text(RULE_FILE, "utf-8")
    letters = root / "letters"
    letters.mkdir()
    src = CORPUS / "hz-jianyi-2019-045.txt"
    text = src.read_text("utf-8")
    lines = text.split("\n")
    # the promise as a paragraph of the body: right after the addressee's paragraph
    at = next(i for i, ln in enumerate(lines) if "答复如下" in ln) + 1
    (letters / "promised.txt").write_text("\n".join(lines[:at] + [PROMISE] + lines[at:]), "utf-8")
    shutil.copy(src, letters / "plain.txt")
    gold = json.loads((CORPUS / "hz-jianyi-2019-045.gold.json").read_text("utf-8"))
    (letters / "promised.gold.json").write_text(json.dumps({**gold, "deadline": "2026-09-30"}, ensure_ascii=False),
                                                "utf-8")
    return rules, letters


def test_the_rule_file_validates_and_its_examples_pass(region):
    rules, _ = region
    proc = rp("rules", "check", rules)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "deadline" in proc.stdout


def test_the_field_is_in_the_record_with_its_evidence(region):
    rules, letters = region
    rec = json.loads(rp("parse", letters / "promised.txt", "--rules", rules).stdout)
    assert rec["deadline"] == "2026-09-30"
    ev = rec["evidence"]["deadline"]
    assert ev["rule"] == "deadline.promised" and "2026年9月30日" in rec["text"][ev["start"]:ev["end"]]
    assert list(rec)[-1] == "text"  # an added field: after the contract's fields, the text last
    plain = json.loads(rp("parse", letters / "plain.txt", "--rules", rules).stdout)
    assert plain["deadline"] is None  # declared, not found: null, not missing
    without = json.loads(rp("parse", letters / "promised.txt").stdout)
    assert "deadline" not in without  # only with the rule file


def test_the_field_is_a_column_of_the_letters_table(region, tmp_path):
    rules, letters = region
    out = tmp_path / "out"
    proc = rp("parse", letters, "--rules", rules, "--out", out, "--formats", "csv,parquet,xlsx")
    assert proc.returncode == 0, proc.stderr
    csv = pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False)
    assert dict(zip(csv["path"].map(lambda p: Path(p).name), csv["deadline"])) == \
        {"promised.txt": "2026-09-30", "plain.txt": ""}
    again = rp("parse", letters, "--rules", rules, "--out", out, "--formats", "csv,parquet,xlsx")
    assert "2 from cache" in again.stderr  # the field comes back from the cache as it went in
    assert pd.read_csv(out / "letters.csv", dtype=str, keep_default_na=False).equals(csv)
    import pyarrow.parquet as papq

    assert str(papq.read_schema(out / "letters.parquet").field("deadline").type) == "date32[day]"  # as declared
    pq = pd.read_parquet(out / "letters.parquet")
    assert sorted(str(v)[:10] for v in pq["deadline"].dropna()) == ["2026-09-30"]


def test_the_field_is_in_the_index_and_the_export(region, tmp_path):
    from replyparse.search.index import Index

    rules, letters = region
    db = tmp_path / "ix.sqlite"
    assert rp("index", letters, "--db", db, "--rules", rules, "--workers", "1").returncode == 0
    with Index(db, readonly=True) as ix:
        stored = {Path(r["source"]).name: r.get("deadline") for r in ix.records()}
    assert stored == {"promised.txt": "2026-09-30", "plain.txt": None}
    bulk = tmp_path / "bulk.ndjson"
    assert rp("export", letters, "-o", bulk, "--rules", rules).returncode == 0
    docs = [json.loads(ln) for ln in bulk.read_text("utf-8").splitlines()[1::2]]
    assert sorted(str(d.get("deadline")) for d in docs) == ["2026-09-30", "None"]
    mapping = json.loads(Path(f"{bulk}.mapping.json").read_text("utf-8"))
    assert mapping["mappings"]["properties"]["deadline"]["type"] == "date"


def test_eval_scores_the_field_where_the_gold_has_it(region):
    rules, letters = region
    proc = rp("eval", letters, "--subset", "all", "--rules", rules)
    assert proc.returncode == 0, proc.stderr
    row = next(ln for ln in proc.stdout.splitlines() if ln.startswith("deadline"))
    assert row.split()[1:4] == ["1.000", "1.000", "1.000"]


def test_a_rule_filling_an_undeclared_field_is_refused(tmp_path):
    (tmp_path / "deadline.yaml").write_text(
        "rules:\n  - id: deadline.x\n    pattern: '(?P<v>\\d{4}年)'\n", "utf-8")
    proc = rp("rules", "check", tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "deadline.x" in proc.stderr and "declares" in proc.stderr
