"""Full-text index (SQLite FTS5 + jieba), search filters, re-indexing, and the es-bulk feed.

Query terms are read from the corpus's gold files at test time (the corpus grows), so these
tests say "every proposer named in a gold file finds its letter", not "query X gives 3 hits".
"""
from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from fixtures.gold_queries import gold_queries
from replyparse.out.export import es_mapping, export_es_bulk
from replyparse.search.schema import SCHEMA_VERSION, IndexUnreadable
from replyparse.search.index import Index
from replyparse.search.query import match_expression, parse_yuan, plan_query
from replyparse.search.tokenise import normalise_query, tokens
from replyparse.search.snippet import snippet

REAL_BATCHES = [Path(__file__).resolve().parents[2] / "shared" / "corpus" / n for n in ("real", "real-2")]


def _golds(corpus: Path) -> list[tuple[Path, dict]]:
    out = []
    for g in sorted(corpus.glob("*.gold.json")):
        txt = g.with_name(g.name[: -len(".gold.json")] + ".txt")
        if txt.is_file():
            out.append((txt, json.loads(g.read_text("utf-8"))))
    return out


@pytest.fixture(scope="session")
def golds(corpus_dir):
    gs = [(p, g) for p, g in _golds(corpus_dir) if g.get("is_reply_letter")]
    if not gs:
        pytest.skip("no reply letters with gold in corpus/")
    return gs


@pytest.fixture(scope="session")
def index(corpus_dir, tmp_path_factory):
    db = tmp_path_factory.mktemp("search") / "corpus.sqlite"
    ix = Index(db)
    st = ix.index_paths([corpus_dir])
    assert st.added == st.seen > 0
    yield ix
    ix.close()


def _paths(res) -> list[str]:
    """Every file behind the hits: copies of one letter (.txt and .pdf) are one hit listing all."""
    return [p for h in res.hits for p in h.paths]


def _key(p: Path) -> str:
    return os.path.abspath(p)


# --------------------------------------------------------------------------- tokenizer

def test_user_dictionary_terms_are_whole_tokens():
    for word in ("老旧小区", "一事一议", "专项资金", "人大代表", "政协委员", "乡村振兴"):
        assert word in tokens(f"关于{word}的建议"), word
    # search mode also gives the parts
    assert {"人大", "代表", "人大代表"} <= set(tokens("人大代表"))


def test_query_normalisation():
    assert normalise_query("老舊小區") == "老旧小区"
    assert normalise_query("武民函[2023]061号") == "武民函〔2023〕61号"
    assert normalise_query("ＡＢＣ１２３") == "ABC123"
    assert match_expression("   ") is None
    assert parse_yuan("100万") == 1_000_000 and parse_yuan("1.2亿元") == 120_000_000 and parse_yuan(5) == 5


def test_phrase_cut_differently_in_context_is_found(tmp_path):
    """jieba cuts 养老服务 alone as one word but 社区养老服务设施 as 养老/服务设施."""
    recs = [{"source": "a.txt", "status": "ok", "is_reply_letter": True, "text": "加大社区养老服务设施建设投入。"}]
    jl = tmp_path / "r.jsonl"
    jl.write_text(json.dumps(recs[0], ensure_ascii=False) + "\n", "utf-8")
    with Index(tmp_path / "i.sqlite") as ix:
        ix.index_paths([jl])
        for q in ("养老服务", "養老服務", "服务设施建设", "社区养老服务设施"):
            assert [h.source for h in ix.search(q).hits] == ["a.txt"], (q, match_expression(q))
        assert not ix.search("养老院").hits


def test_snippet_marks_terms_split_over_lines():
    text = "我局高度重视。\n今年将推进老旧\n小区改造，并加装电梯。"
    s = snippet(text, "老旧小区 电梯")
    assert "«老旧 小区»" in s and "«电梯»" in s


# --------------------------------------------------------------------------- queries on the corpus

def test_every_indexed_letter_has_a_gold_letter(index, golds):
    indexed = {r[0] for r in index.con.execute("SELECT path FROM letters")}
    assert {_key(p) for p, _ in golds} <= indexed


def test_proposer_names_find_their_letters(index, golds):
    checked = 0
    for path, g in golds:
        for name in g.get("proposers") or []:
            res = index.search(name, limit=200)
            assert _key(path) in _paths(res), (name, path.name, res.match)
            checked += 1
    assert checked >= len(golds) // 2


def _with(golds, field):
    """(path, value) of the gold letters that have ``field``."""
    return [(path, g[field]) for path, g in golds if g.get(field)]


def test_doc_numbers_find_their_letters_first(index, golds):
    checked = 0
    for path, dn in _with(golds, "doc_number"):
        for q in (dn, re.sub(r"〔(\d{4})〕", r"[\1]", dn), re.sub(r"〕(\d+)号", r"〕0\1号", dn)):
            res = index.search(q, limit=5)
            # the same letter may also stand in corpus/ as .docx/.pdf/.html: any copy of it first is right
            assert res.hits and Path(res.hits[0].path).stem.rsplit("-", 1)[0] in (path.stem, path.stem.rsplit("-", 1)[0]) \
                and path.stem in Path(res.hits[0].path).stem, (q, path.name, _paths(res))
        checked += 1
    assert checked >= 3


def test_phrases_split_across_lines_are_found(index, golds):
    """A gold title that the source breaks over lines is found when queried whole."""
    checked = 0
    for path, title in _with(golds, "title"):
        text = index.con.execute("SELECT text FROM letters l JOIN letter_text t ON t.id = l.id WHERE path=?",
                                 (_key(path),)).fetchone()[0]
        joined = re.sub(r"[ \t]*\n[ \t]*", "", text)
        if title in text or title not in joined:
            continue  # not split over lines in this letter
        res = index.search(title, limit=10)
        assert _key(path) in _paths(res), (title, path.name)
        h = next(h for h in res.hits if _key(path) in h.paths)
        assert "«" in h.snippet
        checked += 1
    if not checked:
        pytest.skip("no gold title broken over lines in corpus/")


def test_phrase_split_across_lines_synthetic(tmp_path):
    recs = [{"source": "a.txt", "status": "ok", "is_reply_letter": True, "title": "关于加装电梯的建议的答复",
             "text": "您提出的建议收悉。我局将把东城片区的老旧\n小区改造列入明年计划。"},
            {"source": "b.txt", "status": "ok", "is_reply_letter": True, "title": "关于小区停车的建议的答复",
             "text": "您提出的老旧车辆问题，小区物业将统一处理。"}]
    jl = tmp_path / "r.jsonl"
    jl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), "utf-8")
    with Index(tmp_path / "i.sqlite") as ix:
        ix.index_paths([jl])
        res = ix.search("老旧小区改造")
        assert [h.source for h in res.hits] == ["a.txt"]
        assert "«老旧 小区改造»" in res.hits[0].snippet


def test_traditional_query_finds_simplified_letter(index, golds):
    import opencc

    s2t = opencc.OpenCC("s2t")
    checked = 0
    for path, pt in _with(golds, "proposal_title"):
        core = re.sub(r"^关于|的(建议|提案|议案)$", "", pt)
        trad = s2t.convert(core)
        if trad == core:
            continue
        stored = index.con.execute("SELECT text FROM letters l JOIN letter_text t ON t.id = l.id WHERE path=?",
                                 (_key(path),)).fetchone()[0]
        assert trad not in stored  # the index holds Simplified text: the query has to be converted
        res = index.search(trad, limit=20)
        assert _key(path) in _paths(res), (trad, path.name, res.match)
        checked += 1
    assert checked >= 3


def test_traditional_letter_is_found_by_simplified_query(index, golds):
    trad = [(p, g) for p, g in golds if g.get("script") == "traditional" and g.get("proposers")]
    if not trad:
        pytest.skip("no Traditional-Chinese letter in corpus/")
    for path, g in trad:
        res = index.search(g["proposers"][0], limit=50)
        assert _key(path) in _paths(res)


# --------------------------------------------------------------------------- filters

def _check_filter(index, pred, query="", **flt):
    everything = index.search(query, limit=10_000)
    narrowed = index.search(query, limit=10_000, **flt)
    assert narrowed.total == len(narrowed.hits)
    assert narrowed.hits, flt
    assert all(pred(h) for h in narrowed.hits), flt
    assert narrowed.total < everything.total, flt
    # nothing that satisfies the filter was lost. A hit is one letter text with all its copies; the
    # copy shown is the best-ranked one that passes the filter, so compare the copies' sets
    groups = {frozenset(h.paths) for h in narrowed.hits}
    assert {frozenset(h.paths) for h in everything.hits if pred(h)} <= groups <= {frozenset(h.paths) for h in everything.hits}
    return narrowed


def test_filters_narrow(index, golds):
    bodies = Counter(g.get("body") for _, g in golds if g.get("body"))
    body = bodies.most_common(1)[0][0]
    _check_filter(index, lambda h: h.body == body, body=body)

    years = Counter(g["date"][:4] for _, g in golds if g.get("date"))
    year = int(years.most_common(1)[0][0])
    _check_filter(index, lambda h: (h.date or "").startswith(str(year)) or f"〔{year}〕" in (h.doc_number or ""),
                  year=year)

    suffixes = Counter(g["issuer"][-3:] for _, g in golds if g.get("issuer"))
    suffix = suffixes.most_common(1)[0][0]
    _check_filter(index, lambda h: suffix in (h.issuer or ""), issuer=suffix)

    cats = Counter(g.get("handling_category") for _, g in golds if g.get("handling_category"))
    if cats:
        cat = cats.most_common(1)[0][0]
        _check_filter(index, lambda h: h.handling_category == cat, category=cat)


def test_filters_with_a_text_query(index):
    res_all = index.search("资金", limit=10_000)
    assert res_all.total >= 2
    bodies = Counter(h.body for h in res_all.hits if h.body)
    body = bodies.most_common()[-1][0]
    _check_filter(index, lambda h: h.body == body, query="资金", body=body)


def test_action_and_amount_filters(index, tmp_path):
    """Filters on actions and totals, over corpus records given actions and amounts here
    (so the test does not depend on how far amount and action extraction has come)."""
    recs = list(index.records())
    cats = ["funding", "planned", "referred", "explained"]
    for i, r in enumerate(recs):
        r["source"] = f"synthetic/{i}.txt"
        r["actions"] = [{"category": c, "text": "", "start": 0, "end": 0, "rule": "t"}
                        for c in cats[: i % len(cats) + 1]]
        r["allocated_total_yuan"] = i * 100_000 if i % 3 else None
    jl = tmp_path / "r.jsonl"
    jl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), "utf-8")
    with Index(tmp_path / "a.sqlite") as ix:
        ix.index_paths([jl])
        _check_filter(ix, lambda h: "referred" in h.actions, actions=["referred"])
        both = _check_filter(ix, lambda h: {"referred", "explained"} <= set(h.actions),
                             actions=["referred", "explained"])
        assert both.total < ix.search("", actions=["referred"]).total
        _check_filter(ix, lambda h: (h.allocated_total_yuan or 0) >= 1_000_000, min_allocated=parse_yuan("100万"))
        with pytest.raises(ValueError):
            ix.search("", actions=["bogus"])


def test_corpus_action_filter_holds(index):
    res = index.search("", actions=["funding"], limit=10_000)
    assert all("funding" in h.actions for h in res.hits)
    res = index.search("", min_allocated=1, limit=10_000)
    assert all((h.allocated_total_yuan or 0) >= 1 for h in res.hits)


# --------------------------------------------------------------------------- re-indexing

def test_reindex_updates_moves_and_removes(golds, tmp_path):
    src = tmp_path / "letters"
    src.mkdir()
    for p, _ in golds:
        shutil.copy(p, src / p.name)
    db = tmp_path / "i.sqlite"
    with Index(db) as ix:
        first = ix.index_paths([src])
        n_letters = first.total_letters
        again = ix.index_paths([src])
        assert again.unchanged == again.seen == first.seen and again.letters == 0

        (p1, _), (p2, g2), (p3, g3) = golds[0], golds[1], golds[2]
        # modify: a new phrase appears in the index, the file is updated not duplicated
        f1 = src / p1.name
        raw = f1.read_bytes()
        enc = "utf-8"
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            enc = "gb18030"
        f1.write_bytes(raw.decode(enc, "replace").replace("\n", "\n另据查Zqxv9专项核实，\n", 1).encode(enc, "replace"))
        assert not ix.search("zqxv9").hits
        # delete
        (src / p2.name).unlink()
        # move
        (src / "moved").mkdir()
        (src / p3.name).rename(src / "moved" / p3.name)

        st = ix.index_paths([src])
        assert (st.updated, st.removed, st.moved) == (1, 2, 1), st.summary()
        hits = ix.search("zqxv9").hits
        assert [h.path for h in hits] == [_key(f1)]
        assert ix.con.execute("SELECT count(*) FROM letters WHERE path=?", (_key(f1),)).fetchone()[0] == 1
        assert not ix.con.execute("SELECT 1 FROM letters WHERE path=?", (_key(src / p2.name),)).fetchone()
        if g2.get("doc_number"):
            assert _key(src / p2.name) not in _paths(ix.search(g2["doc_number"]))
        name3 = (g3.get("proposers") or [None])[0]
        if name3:
            paths = _paths(ix.search(name3, limit=100))
            assert _key(src / "moved" / p3.name) in paths and _key(src / p3.name) not in paths
        assert st.total_letters == n_letters - 1


def test_reindex_jsonl_drops_vanished_records(index, tmp_path):
    recs = list(index.records())[:5]
    jl = tmp_path / "r.jsonl"
    jl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), "utf-8")
    with Index(tmp_path / "j.sqlite") as ix:
        assert ix.index_paths([jl]).total_letters == 5
        recs[0]["title"] = "关于测试标题Qwzx的答复"
        jl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs[:4]), "utf-8")
        st = ix.index_paths([jl])
        assert (st.updated, st.removed, st.unchanged, st.total_letters) == (1, 1, 3, 4)
        assert ix.search("qwzx").hits[0].source == recs[0]["source"]


# --------------------------------------------------------------------------- es-bulk

def test_es_bulk_alternates_action_and_document(corpus_dir, index, tmp_path):
    out = tmp_path / "letters.ndjson"
    n, mapping_path = export_es_bulk([corpus_dir], out)
    lines = out.read_text("utf-8").split("\n")
    assert lines[-1] == ""  # the bulk API wants a final newline
    lines = lines[:-1]
    assert len(lines) == 2 * n and n == index.con.execute("SELECT count(*) FROM letters").fetchone()[0]
    mapping = json.loads(Path(mapping_path).read_text("utf-8"))
    assert mapping_path == f"{out}.mapping.json"
    props = mapping["mappings"]["properties"]
    assert props["amounts"]["type"] == "nested"
    assert props["text_tok"]["analyzer"] in mapping["settings"]["analysis"]["analyzer"]
    ids = set()
    for action_line, doc_line in zip(lines[::2], lines[1::2]):
        action, doc = json.loads(action_line), json.loads(doc_line)
        assert list(action) == ["index"] and action["index"]["_index"] == "replyparse"
        ids.add(action["index"]["_id"])
        assert "index" not in doc
        assert set(doc) <= set(props), set(doc) - set(props)  # every field mapped
        assert isinstance(doc["amounts"], list) and isinstance(doc["proposers"], list)
        for k, v in props.items():
            if v.get("type") == "keyword" and doc.get(k) is not None:
                assert isinstance(doc[k], (str, list))
        assert doc["text_tok"] and " " in doc["text_tok"]
    assert len(ids) == n


def test_es_bulk_from_jsonl_and_cli(index, tmp_path, capsys):
    from replyparse.cli import main

    recs = list(index.records())[:3]
    jl = tmp_path / "r.jsonl"
    jl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), "utf-8")
    out, mp = tmp_path / "o.ndjson", tmp_path / "m.json"
    assert main(["export", "--format", "es-bulk", str(jl), "-o", str(out), "--mapping", str(mp)]) == 0
    assert len(out.read_text("utf-8").splitlines()) == 6
    assert json.loads(mp.read_text("utf-8")) == es_mapping()


def test_cli_index_and_search(corpus_dir, golds, tmp_path, capsys):
    from replyparse.cli import main

    db = str(tmp_path / "c.sqlite")
    assert main(["index", str(corpus_dir), "--db", db]) == 0
    assert "added" in capsys.readouterr().out
    path, g = next((p, g) for p, g in golds if g.get("proposers"))
    assert main(["search", g["proposers"][0], "--db", db, "--json", "--limit", "50"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert _key(path) in [h["path"] for h in data["hits"]]
    assert main(["search", g["proposers"][0], "--db", db]) == 0
    assert "«" in capsys.readouterr().out
    assert main(["search", "x", "--db", str(tmp_path / "missing.sqlite")]) == 2


# --------------------------------------------------------------------------- fragments, ranking, copies

def _jsonl_index(tmp_path, recs, name="f"):
    jl = tmp_path / f"{name}.jsonl"
    jl.write_text("".join(json.dumps(dict({"status": "ok", "is_reply_letter": True}, **r), ensure_ascii=False) + "\n"
                          for r in recs), "utf-8")
    ix = Index(tmp_path / f"{name}.sqlite")
    ix.index_paths([jl])
    return ix, jl


def test_fragments_match_wherever_they_stand(tmp_path):
    """Pieces cut at any character, across a line break, typed with ASCII punctuation or in
    Traditional, find the letter; jieba would cut them at other places."""
    recs = [{"source": "a.txt", "proposal_title": "关于加快村组公路硬化和村间公路硬化的建议",
             "text": "您提出的《关于加快村组公路硬化和村间公路硬化的建议》收悉。\n下冲社区高标准农田修\n建工程已列入计划，资金缺口较大。"},
            {"source": "b.txt", "text": "关于村间道路的答复。公路养护由交通局负责。"}]
    ix, _ = _jsonl_index(tmp_path, recs)
    with ix:
        for q in ("加快村组公路硬化和村间公", "组公路硬", "下冲社区高标准农田修建工", "计划,资金缺口", "高標準農田", "。村组公路"):
            res = ix.search(q)
            assert [h.source for h in res.hits] == ["a.txt"], (q, res.match)
            assert plan_query(q).fragments and not plan_query(q).words  # no jieba on this path
        assert [h.source for h in ix.search("答复").hits] == ["b.txt"]
        assert plan_query("答复").words and not plan_query("答复").fragments  # 1-2 characters: word index
        # not written so anywhere: its words are looked up instead, and the answer says so
        res = ix.search("公路硬化和村组")
        assert [h.source for h in res.hits] == ["a.txt"] and "as written" in res.note and res.match.startswith("words")


def test_doc_numbers_in_any_bracket_style_and_zeros(tmp_path):
    recs = [{"source": "a.txt", "text": "武民函[2023]061号\n赵雪梅代表：您提出的建议收悉。"},
            {"source": "b.txt", "doc_number": "浦民〔2018〕112号", "text": "浦民（2018）0112号 答复如下。"}]
    ix, _ = _jsonl_index(tmp_path, recs)
    with ix:
        for q, src in (("武民函〔2023〕61号", "a.txt"), ("武民函【2023】61号", "a.txt"), ("武民函(2023)0061号", "a.txt"),
                       ("〔2023〕61号", "a.txt"), ("浦民[2018]112号", "b.txt"), ("浦民〔2018〕00112号", "b.txt")):
            hits = ix.search(q).hits
            assert [h.source for h in hits] == [src], q
            assert "«" in hits[0].snippet, (q, hits[0].snippet)  # marked as the letter writes it


def test_doc_number_whose_marks_the_source_lost(tmp_path):
    """Web pages drop characters: 文旅委函〔202568 is 文旅委函〔2025〕68号 with 〕 and 号 gone."""
    recs = [{"source": "a.txt", "text": "文旅委函〔202568\n邹朝文代表：您提出的建议收悉。"},
            {"source": "b.txt", "text": "渝文旅函字〔2025〕68号 答复如下。"},
            {"source": "c.txt", "text": "文旅委函〔2025〕7 号 李明代表：收悉。"}]
    ix, _ = _jsonl_index(tmp_path, recs)
    with ix:
        res = ix.search("文旅委函〔2025〕68号")
        assert [h.source for h in res.hits] == ["a.txt"] and "lost" in res.note
        assert "«文旅委函»〔«202568»" in res.hits[0].snippet
        assert [h.source for h in ix.search("文旅委函[2025]007号").hits] == ["c.txt"]
        assert not ix.search("文旅委函〔2025〕69号").hits
        assert [h.source for h in ix.search("渝文旅函字[2025]068号").hits] == ["b.txt"]  # as written: no note
        assert ix.search("渝文旅函字[2025]068号").note is None


def test_field_hits_rank_above_body_hits(tmp_path):
    body = "养老服务设施建设" * 6
    recs = [{"source": f"body{i}.txt", "title": "关于交通的答复", "text": f"{body}。第{i}条。"} for i in range(4)]
    recs.append({"source": "title.txt", "proposal_title": "关于加强养老服务设施建设的建议",
                 "text": "您的建议收悉。" + "我局认真研究，逐条答复。" * 30 + "养老服务设施建设"})
    recs.append({"source": "name.txt", "proposers": ["赵雪梅"], "text": "赵雪梅代表：" + "您的建议收悉。" * 20})
    recs.append({"source": "name-body.txt", "proposers": ["王明"], "text": "赵雪梅赵雪梅赵雪梅。" + "收悉。" * 3})
    ix, _ = _jsonl_index(tmp_path, recs)
    with ix:
        res = ix.search("养老服务设施建设")
        assert res.hits[0].source == "title.txt" and res.hits[0].field_hit, [h.source for h in res.hits]
        assert not any(h.field_hit for h in res.hits[1:])
        assert [h.source for h in ix.search("赵雪梅").hits][0] == "name.txt"


def test_copies_of_one_letter_are_one_hit(tmp_path):
    text = "赵雪梅代表：\n您提出的《关于加大社区养老服务设施建设投入的建议》收悉。\n现答复如下。"
    recs = [{"source": "a.txt", "text": text},
            {"source": "a.pdf", "text": text.replace("\n", "\n\n").replace("收悉。", "收悉。 ")},  # other line breaks
            {"source": "b.txt", "text": text + "另：已补充。"}]
    ix, _ = _jsonl_index(tmp_path, recs)
    with ix:
        res = ix.search("社区养老服务设施")
        assert res.total == 2 and len(res.hits) == 2
        one = next(h for h in res.hits if h.source in ("a.txt", "a.pdf"))
        assert sorted(one.sources) == ["a.pdf", "a.txt"]
        assert ix.search("").total == 2
        assert ix.search("", limit=1, offset=1).total == 2


def test_corpus_copies_collapse(index):
    """corpus/ holds some letters also as .pdf/.docx/.html: each text is one hit."""
    keys = index.con.execute("SELECT count(DISTINCT text_key), count(*) FROM letters").fetchone()
    res = index.search("", limit=10_000)
    assert res.total == len(res.hits) == keys[0]
    multi = [h for h in res.hits if len(h.sources) > 1]
    assert len({p for h in res.hits for p in h.paths}) == keys[1]
    if keys[0] == keys[1]:
        pytest.skip("no two files of corpus/ give the same text")
    assert multi


def test_updating_a_letter_updates_its_fragments(tmp_path):
    recs = [{"source": "a.txt", "text": "第一稿写着青石板老街修缮。"}, {"source": "b.txt", "text": "青石板路面。"}]
    ix, jl = _jsonl_index(tmp_path, recs)
    with ix:
        recs[0]["text"] = "第二稿改为红砖围墙修缮。"
        jl.write_text("".join(json.dumps(dict(r, status="ok", is_reply_letter=True), ensure_ascii=False) + "\n"
                              for r in recs), "utf-8")
        assert ix.index_paths([jl]).updated == 1
        assert not ix.search("老街修缮").hits
        assert [h.source for h in ix.search("红砖围墙").hits] == ["a.txt"]
        assert [h.source for h in ix.search("青石板").hits] == ["b.txt"]
        # a fold of another version: the trigram table is rebuilt from the stored letters
        ix.con.execute("UPDATE meta SET value='old' WHERE key='fold'")
        ix.con.commit()
        st = ix.index_paths([jl])
        assert any("fragment index" in w for w in st.warnings)
        assert [h.source for h in ix.search("红砖围墙").hits] == ["a.txt"] and not ix.search("老街修缮").hits


def test_old_schema_is_refused_by_search_and_rebuilt_by_index(tmp_path, capsys):
    from replyparse.cli import main

    ix, jl = _jsonl_index(tmp_path, [{"source": "a.txt", "text": "青石板老街修缮。"}])
    ix.con.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    ix.con.commit()
    ix.close()
    db = tmp_path / "f.sqlite"
    with pytest.raises(IndexUnreadable, match="older replyparse"):
        Index(db, readonly=True)
    assert main(["search", "老街", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "rebuild it with: replyparse index" in err and len(err.strip().splitlines()) == 1
    with Index(db) as ix:
        st = ix.index_paths([jl])
        assert any("older replyparse" in w for w in st.warnings) and st.added == 1
    with Index(db, readonly=True) as ix:
        assert ix.con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == SCHEMA_VERSION
        assert [h.source for h in ix.search("老街修缮").hits] == ["a.txt"]


def test_search_starts_without_heavy_imports(index):
    """No query needs jieba (nor pandas/pyarrow): start-up is most of a search's wall time, and
    loading jieba's dictionary alone takes a second."""
    import subprocess
    import sys

    db = index.db
    # a fragment, a word, and a piece no letter holds as written (its words are looked up instead)
    for q in ("养老服务设施", "资金", "设施服务养老"):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "replyparse", "search", q, "--db", db],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
                    if line.startswith("import time:")}
        assert "replyparse" in imported and not imported & {"jieba", "pandas", "pyarrow"}, q


# --------------------------------------------------------------------------- real letters

def test_real_batches_hit_rate(tmp_path):
    """Every reply letter of both real batches, looked up by its gold doc number, first proposer
    and 12 characters from the middle of its gold proposal title, is in the top 5 (any copy of
    its text) for at least 97% of the queries, in each batch."""
    batches = [b for b in REAL_BATCHES if b.is_dir()]
    if len(batches) < 2:
        pytest.skip("../shared/corpus/real and real-2 are not beside this checkout")
    with Index(tmp_path / "real.sqlite") as ix:
        ix.index_paths([str(b) for b in batches])
        misses, rates = [], {}
        for b in batches:
            found = []
            for name, path, kind, q in gold_queries(b):
                ok = any(path in h.paths for h in ix.search(q, limit=5).hits)
                found.append(ok)
                if not ok:
                    misses.append((b.name, name, kind, q))
            assert len(found) > 100, b
            rates[b.name] = sum(found) / len(found)
        assert min(rates.values()) >= 0.97, (rates, misses)
