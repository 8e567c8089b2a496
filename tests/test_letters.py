"""Whole letters: the record's shape, encodings, offsets, and the scores on real letters."""
import json
import subprocess
import sys

import pytest

from replyparse import parse_file
from replyparse.evaluate import evaluate
from replyparse.record import HEADER_FIELDS, Record
from replyparse.readers.text import decode_bytes

SPEC_FIELDS = ["source", "is_reply_letter", "doc_number", "issuer", "title", "proposal_kind", "body", "term",
               "session", "proposal_no", "proposers", "proposal_title", "handling_category", "public", "date",
               "contact_person", "contact_phone", "cc", "amounts", "actions", "requested_total_yuan",
               "allocated_total_yuan", "warnings"]


def test_record_keeps_the_spec_fields_in_order():
    keys = list(Record(source="x").to_dict())
    assert keys[: len(SPEC_FIELDS)] == SPEC_FIELDS


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_encodings_decode(encoding):
    text = "关于第十六届人大四次会议第270号建议答复的函\n陈锦代表：\n您提出的建议收悉。"
    decoded, enc = decode_bytes(text.encode(encoding))
    assert decoded.lstrip("\ufeff") == text
    expected = {"gbk": "gb18030", "utf-16": "utf-16", "utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gb18030": "gb18030"}
    assert enc == expected[encoding]


def test_corpus_letters_in_every_encoding_parse(corpus_dir):
    seen = set()
    for path in sorted(corpus_dir.glob("*.txt")):
        rec = parse_file(path)[0]
        seen.add(rec.encoding)
        assert rec.status in ("ok", "not_letter"), (path, rec.reason)
        # every evidence span points into the normalised text
        for field, ev in rec.evidence.items():
            assert 0 <= ev.start < ev.end <= len(rec.text), (path, field)
    assert {"utf-8", "gb18030", "utf-8-sig", "utf-16"} <= seen


def test_evidence_spans_hold_the_value(real_dir):
    rec = parse_file(real_dir / "seed-xishan-270.txt")[0]
    t = rec.text
    assert t[rec.evidence["doc_number"].start:rec.evidence["doc_number"].end] == "西民函〔2020〕45号"
    assert "李淳" in t[rec.evidence["contact_person"].start:rec.evidence["contact_person"].end]
    assert rec.evidence["proposers"].rule == "proposers.salutation"
    assert (rec.term, rec.session, rec.proposal_no, rec.date) == (16, 4, "270", "2020-11-20")
    assert rec.cc == ["区人大常委会人事代表工委", "区政府办公室"]


def test_not_a_letter_keeps_only_source_and_warnings(real_dir):
    rec = parse_file(real_dir / "a008.txt")[0]  # a wire-service news report
    assert rec.is_reply_letter is False and rec.status == "not_letter"
    assert all(getattr(rec, f) in (None, []) for f in HEADER_FIELDS)
    assert any("news" in w for w in rec.warnings)


# Floors: the scores reached on ../shared/corpus/real (clean subset). Raise them as rules improve.
# field_f1 is 0.94, not higher: three gold files (a120, b116, d062) repair doc numbers whose year or
# serial a mirror broke (周交政发〔202527), which the spec's decisions make null; we follow the spec.
FLOORS = {"header_micro_f1": 0.988, "field_f1": 0.94, "is_reply_letter_accuracy": 0.98}


def test_eval_on_real_letters_holds_the_floor(real_dir):
    r = evaluate(real_dir, "clean").as_dict()
    assert r["letters"] >= 140
    assert r["header_micro_f1"] >= FLOORS["header_micro_f1"]
    assert r["is_reply_letter_accuracy"] >= FLOORS["is_reply_letter_accuracy"]
    low = {f: round(v["f1"], 3) for f, v in r["fields"].items() if v["f1"] < FLOORS["field_f1"]}
    assert not low, low


def test_eval_on_own_corpus(corpus_dir):
    r = evaluate(corpus_dir, "all", formats={"txt"}).as_dict()
    assert r["letters"] >= 36
    assert r["header_micro_f1"] >= 0.98
    assert r["is_reply_letter_accuracy"] == 1.0
    # roles on letters written for the project, which lean on policy rates and restated asks
    assert r["amount_value_f1"] == 1.0 and r["amount_value_role_f1"] >= 0.895


def test_parse_command_writes_one_record_per_letter(tmp_path, corpus_dir):
    out = tmp_path / "out.jsonl"
    files = sorted(corpus_dir.glob("*.txt"))
    proc = subprocess.run([sys.executable, "-m", "replyparse", "parse", *map(str, files[:5]), "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    recs = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["source"] for r in recs] == [str(f) for f in files[:5]]
    assert all(list(r)[: len(SPEC_FIELDS)] == SPEC_FIELDS and r["text"] for r in recs)


def test_eval_command_prints_per_field_scores(real_dir):
    proc = subprocess.run([sys.executable, "-m", "replyparse", "eval", str(real_dir), "--subset", "garbled"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "header micro" in proc.stdout and "doc_number" in proc.stdout and "subset garbled" in proc.stdout


def test_segments_of_the_seed_letter(real_dir):
    from replyparse.text.normalize import normalise
    from replyparse.engine.rules import default_rules
    from replyparse.extract.segment import segment

    text = normalise((real_dir / "seed-xishan-270.txt").read_text("utf-8"))
    seg = segment(text, default_rules())
    part = lambda name: text[slice(*seg.first(name))]  # noqa: E731
    assert part("salutation") == "陈锦代表："
    assert part("title").replace("\n", "") == "关于西山区第十六届人大四次会议第270号建议答复的函"
    assert part("cc").strip().startswith("抄送")
    assert "2020年11月20日" in part("signature") and "李淳" in part("contact")
    assert [p.label for p in seg.points] == ["一、", "二、", "1、", "2、", "3、", "4、", "三、"]


def test_inline_points_and_rival_values_warn():
    from replyparse.pipeline import parse_text

    rec = parse_text("关于第十届人大三次会议第12号建议的答复\n王某代表：\n您在第十一届人大三次会议提出的建议收悉。一是加快建设；二是加强管理。\n2021年6月1日")
    assert any(w.startswith("term: found different values") for w in rec.warnings)
