"""Search benchmark: index build time, db size, query latency and the wall time of one
``replyparse search`` over 20,000 synthetic letters; hit rate on the real batches.

    python bench/search.py            # 20k letters, 400 queries (a few minutes on 2 cores)
    python bench/search.py --quick    # 2k letters, 150 queries
    python bench/search.py --letters 50000 --jobs 4 --keep /tmp/big.sqlite
    python bench/search.py --real-only   # only the hit rate on ../shared/corpus/real*

The letters are made from the project's own corpus (corpus/*.txt, parsed once): each synthetic
letter takes a corpus letter, gives it a new issuer place, proposers, doc number, date,
handling category, amounts and actions, renumbers the digits in its text and splices in a
paragraph of another letter, so the index holds 20k distinct texts with a realistic vocabulary.
They are written to a JSONL and indexed the way ``replyparse index records.jsonl --db`` does
(tokenising in worker processes), then re-indexed unchanged (the hash check), then queried with
a mix of names, doc numbers, 12-character pieces of proposal titles (also in Traditional), pieces
of the body text, one- and two-word queries and filters. The real batches (``../shared/corpus/real``
and ``real-2``, read in place) are indexed into a second index and every reply letter is looked
up by its gold doc number, first proposer and 12 characters from the middle of its gold proposal
title: the hit rate is the share found in the top 5.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))  # fixtures.gold_queries: the queries the search tests ask

from fixtures.gold_queries import gold_queries, middle  # noqa: E402
from replyparse.pipeline import parse_paths  # noqa: E402
from replyparse.run.options import RunOptions  # noqa: E402
from replyparse.search.index import Index  # noqa: E402
from replyparse.search.tokenise import tokens  # noqa: E402

REAL = [REPO.parent / "shared" / "corpus" / "real", REPO.parent / "shared" / "corpus" / "real-2"]

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



KINDS = ("proposer", "doc number", "title piece", "title piece (Traditional)", "text piece", "two words",
         "one word", "word + filter")


def query_set(letters: list[dict], n: int, seed: int = 11) -> list[tuple[str, str, dict]]:
    import opencc

    s2t = opencc.OpenCC("s2t")
    rng = random.Random(seed)
    topic_words = sorted({t for r in letters[:200] for t in tokens(r.get("proposal_title")) if len(t) >= 2})
    short = [t for t in topic_words if len(t) == 2]
    qs = []
    for i in range(n):
        r = rng.choice(letters)
        kind = KINDS[i % len(KINDS)]
        q = None
        if kind == "proposer" and r["proposers"]:
            q = r["proposers"][0]
        elif kind == "doc number" and r.get("doc_number"):
            q = r["doc_number"].replace("〔", "[").replace("〕", "]")
        elif kind.startswith("title piece") and r.get("proposal_title"):
            q = middle(r["proposal_title"])
            if "Traditional" in kind:
                q = s2t.convert(q)
        elif kind == "text piece":
            body = r["text"].replace("\n", "")
            at = rng.randrange(0, max(1, len(body) - 10))
            q = body[at:at + 8]
        elif kind == "two words":
            q = " ".join(rng.sample(topic_words, 2))
        elif kind == "one word":
            q = rng.choice(short)
        if q is None:
            kind, q = "word + filter", rng.choice(topic_words)
        flt = {}
        if kind == "word + filter":
            flt = rng.choice([{"year": rng.randint(2000, 2025)}, {"body": "人大"}, {"category": "A"},
                              {"issuer": "民政局"}, {"actions": ["funding"]}, {"min_allocated": 1_000_000}])
        qs.append((kind, q, flt))
    return qs


def real_hit_rate(batches: list[Path], db: Path, jobs: int | None) -> None:
    """Each reply letter of the real batches looked up by its gold doc number, first proposer and a
    12-character piece of its gold proposal title; found = among the top 5 (any copy of its text)."""
    batches = [b for b in batches if b.is_dir()]
    if not batches:
        print("real batches: not found (../shared/corpus/real*)")
        return
    with Index(db) as ix:
        st = ix.index_paths([str(b) for b in batches], RunOptions(workers=jobs, quiet=True))
        print(f"real batches: {', '.join(b.name for b in batches)} indexed: {st.total_letters} letters in {st.seconds:.1f}s")
        total = []
        for b in batches:
            res: dict[str, list[bool]] = {}
            for _, path, kind, q in gold_queries(b):
                res.setdefault(kind, []).append(any(path in h.paths for h in ix.search(q, limit=5).hits))
            flat = [x for v in res.values() for x in v]
            total += flat
            print(f"  {b.name}: {sum(flat)}/{len(flat)} = {sum(flat) / len(flat):.3f}  ("
                  + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in res.items()) + ")")
        print(f"  hit rate in the top 5: {sum(total)}/{len(total)} = {sum(total) / len(total):.3f}")


def wall_times(db: Path, queries: list[str]) -> tuple[list[float], list[float]]:
    """Wall time and CPU time (user + system) of the real command, start-up included, with its
    modules byte-compiled as an install has them (PYTHONDONTWRITEBYTECODE, set in some shells,
    would add the compilation of every module to each run)."""
    import resource

    with tempfile.TemporaryDirectory() as pyc:
        env = dict(os.environ, PYTHONPATH=str(REPO / "src"), PYTHONPYCACHEPREFIX=pyc)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cmd = [sys.executable, "-m", "replyparse", "search"]
        subprocess.run(cmd + ["预热", "--db", str(db)], check=True, stdout=subprocess.DEVNULL, env=env)  # compile once
        wall, cpu = [], []
        for q in queries:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(cmd + [q, "--db", str(db)], check=True, stdout=subprocess.DEVNULL, env=env)
            wall.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def print_wall(db: Path, qs) -> None:
    wq = [q for k, q, f in qs if not f and q.strip()][:30]
    wall, cpu = wall_times(db, wq)
    load = os.getloadavg()[0]
    print(f"replyparse search (start-up included, {len(wall)} runs, load average {load:.1f} on {os.cpu_count()} cores):")
    print(f"  wall p50 {pct(wall, 50):.2f} s  p95 {pct(wall, 95):.2f} s  max {max(wall):.2f} s;  "
          f"CPU p50 {pct(cpu, 50):.2f} s  p95 {pct(cpu, 95):.2f} s")


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
    ap.add_argument("--real-only", action="store_true", help="only the hit rate on the real batches")
    ap.add_argument("--wall", metavar="DB", help="only the command's wall time, on an index kept with --keep")
    args = ap.parse_args(argv)
    n = args.letters or (2000 if args.quick else 20000)
    nq = args.queries or (150 if args.quick else 400)
    if args.wall:
        print_wall(Path(args.wall), query_set(synthesise(corpus_letters(), n), nq))
        return 0

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        real_hit_rate(REAL, Path(tmp) / "real.sqlite", args.jobs)
        if args.real_only:
            return 0
        base = corpus_letters()
        letters = synthesise(base, n)
        print(f"corpus: {len(base)} letters parsed; synthesised {n} letters "
              f"({sum(len(r['text']) for r in letters) / n:.0f} characters each) in {time.perf_counter() - t0:.1f}s")
        jl = Path(tmp) / "letters.jsonl"
        with open(jl, "w", encoding="utf-8") as f:
            for r in letters:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        db = Path(args.keep) if args.keep else Path(tmp) / "bench.sqlite"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{db}{suffix}"):
                os.remove(f"{db}{suffix}")
        with Index(db) as ix:
            st = ix.index_paths([jl])
            print(f"index:    {st.letters} letters in {st.seconds:.1f}s = {st.letters / st.seconds:.0f} letters/s "
                  f"(JSONL → jieba + trigram → FTS5, one process)")
            st2 = ix.index_paths([jl])
            print(f"re-index: unchanged {st2.unchanged}/{st2.seen} in {st2.seconds:.1f}s")
            size = sum(os.path.getsize(f"{db}{s}") for s in ("", "-wal") if os.path.exists(f"{db}{s}"))
            print(f"db size:  {size / 1e6:.1f} MB ({size / n / 1e3:.1f} kB per letter)")
            parts = {}
            for name, like in (("letters", "letters%"), ("text+record", "letter_text%"), ("words (fts)", "fts%"),
                               ("fragments (tri)", "tri%")):
                try:
                    parts[name] = ix.con.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE ?",
                                                 (like,)).fetchone()[0]
                except Exception:  # dbstat is a compile-time option of SQLite
                    break
            if parts:
                print("          " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in parts.items() if v))

            qs = query_set(letters, nq)
            ix.search("预热")  # warm caches
            by_kind: dict[str, list[float]] = {}
            hits = []
            for kind, q, flt in qs:
                t = time.perf_counter()
                res = ix.search(q, limit=10, **flt)
                by_kind.setdefault(kind, []).append((time.perf_counter() - t) * 1000)
                hits.append(res.total)
            allms = [x for v in by_kind.values() for x in v]
            print(f"queries:  {len(allms)} (limit 10, with total count and snippets); "
                  f"median {statistics.median(hits):.0f} matching letters per query")
            print(f"latency:  p50 {pct(allms, 50):.1f} ms  p95 {pct(allms, 95):.1f} ms  max {max(allms):.1f} ms")
            for kind in KINDS:
                if kind in by_kind:
                    v = by_kind[kind]
                    print(f"  {kind + ':':27s} p50 {pct(v, 50):5.1f} ms  p95 {pct(v, 95):5.1f} ms  ({len(v)})")
        print_wall(db, qs)
    print(f"total {time.perf_counter() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
