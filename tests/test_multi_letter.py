"""Files that hold several letters (an archive's 答复汇编): one record per letter, sources with
``#N``, each letter giving the same record as when it stands alone."""
from __future__ import annotations

import pytest

from fixtures import render
from replyparse.run.batch import process_file
from replyparse.pipeline import parse_file
from replyparse.run.walk import iter_paths
from replyparse.readers import read_file
from replyparse.record import HEADER_FIELDS
from replyparse.out.tables import to_frames


def _key(rec) -> dict:
    d = {f: getattr(rec, f) for f in HEADER_FIELDS}
    d["amounts"] = [(a.value_yuan, a.role) for a in rec.amounts]
    d["actions"] = sorted({a.category for a in rec.actions})
    return d


@pytest.fixture(scope="module")
def letters(corpus_dir):
    """The corpus letters that are reply letters, each parsed alone."""
    out = []
    for p in sorted(corpus_dir.glob("*.txt")):
        rec = parse_file(p)[0]
        if rec.is_reply_letter:
            out.append((p, rec))
    assert len(out) >= 30
    return out


def test_a_compilation_gives_one_record_per_letter(letters, tmp_path):
    text = "\n\n".join(read_file(p).text for p, _ in letters)
    path = tmp_path / "答复汇编.txt"
    path.write_text(text, encoding="utf-8")
    recs = parse_file(path)
    assert [r.source for r in recs] == [f"{path}#{n}" for n in range(1, len(letters) + 1)]
    for (p, alone), rec in zip(letters, recs):
        assert _key(rec) == _key(alone), p.name
        assert rec.evidence["title"].rule == alone.evidence["title"].rule


def test_a_pdf_compilation_keeps_file_page_numbers(letters, tmp_path):
    pytest.importorskip("reportlab")
    if render.find_cjk_font() is None:
        pytest.skip("no CJK font")
    chosen = letters[:6]
    text = "\n\n".join(read_file(p).text for p, _ in chosen)
    pdf = render.to_pdf(text, tmp_path / "汇编.pdf")
    recs = parse_file(pdf)
    assert len(recs) == len(chosen)
    for (p, alone), rec in zip(chosen, recs):
        assert _key(rec) == _key(alone), p.name
    pages = [rec.evidence["title"].page for rec in recs]
    assert pages == sorted(pages) and pages[0] == 1 and pages[-1] > 2  # the file's pages, not each letter's


def test_manifest_counts_the_letters_of_a_compilation(letters, tmp_path):
    (tmp_path / "one.txt").write_text(read_file(letters[0][0]).text, encoding="utf-8")
    (tmp_path / "three.txt").write_text("\n\n".join(read_file(p).text for p, _ in letters[1:4]), encoding="utf-8")
    results = [process_file(p) for p in iter_paths([tmp_path])]
    frames = to_frames(results)
    files = frames["files"].set_index("path")
    assert files.loc[str(tmp_path / "three.txt"), "letters"] == 3
    assert files.loc[str(tmp_path / "one.txt"), "letters"] == 1
    by_path = frames["letters"].groupby("path").size()
    assert by_path[str(tmp_path / "three.txt")] == 3
    assert sorted(frames["letters"]["source"])[-1].endswith("three.txt#3")


def test_no_single_letter_is_split(corpus_dir, real_dir):
    split = [p.name for p in sorted(real_dir.glob("*.txt")) + sorted(corpus_dir.glob("*.txt"))
             if len(parse_file(p)) > 1]
    assert not split, split


def test_an_addressee_inside_a_letter_does_not_split_it():
    from replyparse.pipeline import parse_text
    from replyparse.engine.rules import default_rules
    from replyparse.extract.split_letters import split_letters

    text = ("关于县十七届人大三次会议第52号建议的答复\n\n李四代表：\n您提出的建议收悉，现答复如下：\n"
            "我局已安排资金。\n同时转达您的意见如下：\n王五代表：\n您反映的路灯问题已转交城管局办理。\n\n某县交通运输局\n2023年6月1日\n")
    norm = parse_text(text).text
    rules = default_rules()
    from replyparse.extract.segment import match_line, rules_by_field, split_lines

    sal = rules_by_field(rules)["salutation"]
    assert sum(1 for ln in split_lines(norm, rules) if match_line(sal, ln)) == 2  # two addressees
    assert split_letters(norm, rules) == [(0, len(norm))]
