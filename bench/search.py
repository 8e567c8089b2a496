"""Search benchmark: indexing rate and query latency over 20,000 synthetic letters.

    python bench/search.py            # 20k letters, 400 queries (about a minute or two on 2 cores)
    python bench/search.py --quick    # 2k letters, 150 queries
    python bench/search.py --letters 50000 --jobs 4 --keep /tmp/big.sqlite

The letters are made from the project's own corpus (corpus/*.txt, parsed once): each synthetic
letter takes a corpus letter, gives it a new issuer place, proposers, doc number, date,
handling category, amounts and actions, renumbers the digits in its text and splices in a
paragraph of another letter, so the index holds 20k distinct texts with a realistic vocabulary.
They are written to a JSONL and indexed the way ``replyparse index records.jsonl --db`` does
(tokenising in worker processes), then re-indexed unchanged (the hash check), then queried with
a mix of names, doc numbers, topic words, Traditional-Chinese words and filters.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from replyparse.pipeline import parse_paths  # noqa: E402
from replyparse.search import Index, tokens  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文志海燕波宁晓东雪梅春林云峰鹏辉亮斌俊宇浩凯"
PLACES = ["成都市武侯区", "杭州市余杭区", "长沙市开福区", "北京市朝阳区", "昆明市西山区", "南京市鼓楼区", "西安市雁塔区",
          "武汉市江岸区", "广州市天河区", "深圳市龙岗区", "青岛市黄岛区", "沈阳市沈河区", "合肥市包河区", "福州市鼓楼区",
          "郑州市金水区", "济南市历下区", "南宁市青秀区", "贵阳市南明区", "兰州市城关区", "太原市小店区", "石家庄市长安区",
          "哈尔滨市道里区", "长春市朝阳区", "呼和浩特市新城区", "乌鲁木齐市天山区", "银川市兴庆区", "西宁市城西区",
          "拉萨市城关区", "海口市美兰区", "南昌市东湖区", "重庆市渝中区", "天津市和平区", "上海市浦东新区", "阜平县",
          "灵丘县", "霞浦县", "肥西县", "来凤县", "瑞金市", "延吉市", "三都水族自治县", "琼中黎族苗族自治县"]
CATEGORIES = ["funding", "planned", "referred", "explained", "studying", "escalated", "completed"]


def corpus_letters() -> list[dict]:
    recs = [r.to_dict() for r in parse_paths([REPO / "corpus"])]
    return [r for r in recs if r["status"] == "ok" and r.get("text")]


def _name(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def synthesise(base: list[dict], n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    paragraphs = [p for r in base for p in r["text"].split("\n") if len(p) > 40]
    out = []
    for i in range(n):
        b = base[i % len(base)]
        r = json.loads(json.dumps(b))
        text = r["text"]
        place = rng.choice(PLACES)
        issuer = b.get("issuer")
        if issuer:
            suffix = issuer[-min(len(issuer), rng.choice((3, 4, 5))):]
            r["issuer"] = place + suffix
            text = text.replace(issuer, r["issuer"])
        names = [_name(rng) for _ in b.get("proposers") or []]
        for old, new in zip(b.get("proposers") or [], names):
            text = text.replace(old, new)
        r["proposers"] = names
        year = rng.randint(2000, 2025)
        if b.get("doc_number"):
            prefix = b["doc_number"].split("〔")[0]
            r["doc_number"] = f"{prefix}〔{year}〕{rng.randint(1, 400)}号"
            text = text.replace(b["doc_number"], r["doc_number"])
        r["date"] = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        # renumber digits, splice in a paragraph of another letter
        text = "".join(str(rng.randint(0, 9)) if c.isdigit() and rng.random() < 0.5 else c for c in text)
        lines = text.split("\n")
        lines.insert(rng.randint(1, max(1, len(lines) - 2)), rng.choice(paragraphs))
        r["text"] = "\n".join(lines)
        r["handling_category"] = rng.choice(["A", "B", "C", None])
        r["allocated_total_yuan"] = rng.choice([None, rng.randint(1, 5000) * 10_000])
        r["requested_total_yuan"] = rng.choice([None, rng.randint(1, 5000) * 10_000])
        r["actions"] = [{"category": c, "text": "", "start": 0, "end": 0, "rule": "bench"}
                        for c in rng.sample(CATEGORIES, rng.randint(0, 4))]
        r["source"] = f"synthetic/{i:06d}.txt"
        out.append(r)
    return out


def query_set(letters: list[dict], n: int, seed: int = 11) -> list[tuple[str, dict]]:
    import opencc

    s2t = opencc.OpenCC("s2t")
    rng = random.Random(seed)
    topic_words = sorted({t for r in letters[:200] for t in tokens(r.get("proposal_title")) if len(t) >= 2})
    qs = []
    for i in range(n):
        r = rng.choice(letters)
        kind = i % 8
        if kind == 0 and r["proposers"]:
            q = r["proposers"][0]
        elif kind == 1 and r.get("doc_number"):
            q = r["doc_number"]
        elif kind == 2:
            q = " ".join(rng.sample(topic_words, 2))
        elif kind == 3:
            q = s2t.convert(rng.choice(topic_words))
        else:
            q = rng.choice(topic_words)
        flt = {}
        if kind in (4, 5):
            flt = rng.choice([{"year": rng.randint(2000, 2025)}, {"body": "人大"}, {"category": "A"},
                              {"issuer": "民政局"}, {"actions": ["funding"]}, {"min_allocated": 1_000_000}])
        qs.append((q, flt))
    return qs


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2,000 letters and 150 queries")
    ap.add_argument("--letters", type=int, default=None, help="how many synthetic letters (default 20000)")
    ap.add_argument("--queries", type=int, default=None)
    ap.add_argument("--jobs", type=int, default=None, help="tokenising processes (default: all cores, max 8)")
    ap.add_argument("--keep", help="write the index here and keep it")
    args = ap.parse_args(argv)
    n = args.letters or (2000 if args.quick else 20000)
    nq = args.queries or (150 if args.quick else 400)

    t0 = time.perf_counter()
    base = corpus_letters()
    letters = synthesise(base, n)
    print(f"corpus: {len(base)} letters parsed; synthesised {n} letters "
          f"({sum(len(r['text']) for r in letters) / n:.0f} characters each) in {time.perf_counter() - t0:.1f}s")

    with tempfile.TemporaryDirectory() as tmp:
        jl = Path(tmp) / "letters.jsonl"
        with open(jl, "w", encoding="utf-8") as f:
            for r in letters:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        db = Path(args.keep) if args.keep else Path(tmp) / "bench.sqlite"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{db}{suffix}"):
                os.remove(f"{db}{suffix}")
        with Index(db) as ix:
            st = ix.index_paths([jl], jobs=args.jobs)
            print(f"index:    {st.letters} letters in {st.seconds:.1f}s = {st.letters / st.seconds:.0f} letters/s "
                  f"(jobs={args.jobs or min(os.cpu_count() or 1, 8)}, JSONL → jieba → FTS5)")
            st2 = ix.index_paths([jl], jobs=args.jobs)
            print(f"re-index: unchanged {st2.unchanged}/{st2.seen} in {st2.seconds:.1f}s")
            size = sum(os.path.getsize(f"{db}{s}") for s in ("", "-wal") if os.path.exists(f"{db}{s}"))
            print(f"db size:  {size / 1e6:.1f} MB ({size / n / 1e3:.1f} kB per letter)")

            qs = query_set(letters, nq)
            ix.search("预热")  # warm caches
            times, filtered, hits = [], [], []
            for q, flt in qs:
                t = time.perf_counter()
                res = ix.search(q, limit=10, **flt)
                ms = (time.perf_counter() - t) * 1000
                (filtered if flt else times).append(ms)
                hits.append(res.total)
            allms = times + filtered
            print(f"queries:  {len(allms)} (limit 10, with total count and snippets); "
                  f"median {statistics.median(hits):.0f} matching letters per query")
            print(f"latency:  p50 {pct(allms, 50):.1f} ms  p95 {pct(allms, 95):.1f} ms  max {max(allms):.1f} ms")
            print(f"  text only:     p50 {pct(times, 50):.1f} ms  p95 {pct(times, 95):.1f} ms")
            if filtered:
                print(f"  with a filter: p50 {pct(filtered, 50):.1f} ms  p95 {pct(filtered, 95):.1f} ms")
    print(f"total {time.perf_counter() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
