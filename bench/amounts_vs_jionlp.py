"""Compare replyparse's money finder with JioNLP's ``extract_money`` on the real letters.

    python bench/amounts_vs_jionlp.py [--corpus DIR ...] [--show]

For each corpus (default: both real batches, ``shared/corpus/real`` and ``real-2``), reads
``NAME.txt`` of the clean subset (gold ``script`` != garbled) in place, normalises it with
``replyparse.text.normalize.normalise``, and compares the amounts each tool finds with the gold
``amounts`` as multisets of ``value_yuan``. Prints, per batch, both tools' precision, recall
and F1 side by side and their throughput (letters per second), measured in the same run.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from replyparse.extract.money import find_money  # noqa: E402
from replyparse.text.normalize import normalise  # noqa: E402
from replyparse.engine.rules import default_rules  # noqa: E402

DEFAULT_CORPORA = [ROOT.parent / "shared" / "corpus" / "real", ROOT.parent / "shared" / "corpus" / "real-2"]


def _key(v) -> float:
    return round(float(v), 2)


def load(corpus: Path):
    letters = []
    for gold_path in sorted(corpus.glob("*.gold.json")):
        gold = json.loads(gold_path.read_text("utf-8"))
        if gold.get("script") == "garbled" or gold.get("is_reply_letter") is False:
            continue  # garbled mirrors and non-letters (news, notices: their amounts are not recorded)
        txt = gold_path.with_name(gold_path.name[:-len(".gold.json")] + ".txt")
        if not txt.exists():
            continue
        text = normalise(txt.read_text("utf-8", errors="replace"))
        amounts = [a["value_yuan"] for a in gold.get("amounts") or [] if a.get("value_yuan") is not None]
        letters.append((txt.stem, text, Counter(_key(v) for v in amounts)))
    return letters


def score(pred: list[Counter], gold: list[Counter]):
    tp = fp = fn = 0
    for p, g in zip(pred, gold):
        common = sum((p & g).values())
        tp += common
        fp += sum(p.values()) - common
        fn += sum(g.values()) - common
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1


def run_replyparse(letters):
    rules = default_rules()
    find_money("预热 100万元", rules)
    t0 = time.perf_counter()
    out = [Counter(_key(s.value_yuan) for s in find_money(text, rules)) for _, text, _ in letters]
    return out, time.perf_counter() - t0


def _jio_value(item):
    """JioNLP's parsed detail: {'num': '100.00' or [lo, hi], 'case': '元', ...}; yuan only."""
    detail = item.get("detail") or {}
    case = detail.get("case", "元")
    if case not in ("元", "人民币"):
        return None
    num = detail.get("num")
    if isinstance(num, list):
        num = num[0]
    try:
        return _key(float(num))
    except (TypeError, ValueError):
        return None


def run_jionlp(letters):
    import jionlp

    try:
        jionlp.ner.extract_money("预热100万元")
    except Exception:
        pass
    out = []
    t0 = time.perf_counter()
    for _, text, _ in letters:
        c = Counter()
        try:
            items = jionlp.ner.extract_money(text, with_parsing=True)
        except Exception:  # JioNLP raises on some ordinary texts (its issues #79, #240)
            items = []
        for it in items:
            v = _jio_value(it)
            if v is not None:
                c[v] += 1
        out.append(c)
    return out, time.perf_counter() - t0


def _row(tool, prf, n, secs):
    p, r, f = prf
    return f"  {tool:<11} P={p:.3f} R={r:.3f} F1={f:.3f}  {n / secs if secs else 0:,.0f} letters/s"


def bench(corpus: Path, show: bool, jio: bool):
    letters = load(corpus)
    gold = [g for _, _, g in letters]
    rp, rp_t = run_replyparse(letters)
    print(f"{corpus.name}: {len(letters)} letters (clean subset, reply letters), "
          f"{sum(sum(g.values()) for g in gold)} gold amounts")
    rp_s = score(rp, gold)
    print(_row("replyparse", rp_s, len(letters), rp_t))
    if show:
        for (name, _, g), pr in zip(letters, rp):
            if pr != g:
                print(f"    {name}: missed {dict(g - pr)} extra {dict(pr - g)}")
    if not jio:
        return rp_s[2], None
    try:
        jn, jn_t = run_jionlp(letters)
    except ImportError:
        print("  JioNLP not installed (pip install jionlp, or the 'bench' extra)")
        return rp_s[2], None
    jn_s = score(jn, gold)
    print(_row("JioNLP", jn_s, len(letters), jn_t))
    print(f"  amount F1 replyparse {rp_s[2]:.3f} vs JioNLP {jn_s[2]:.3f}; speed-up {jn_t / rp_t:.1f}x")
    return rp_s[2], jn_s[2]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, action="append",
                    help="a folder of NAME.txt + NAME.gold.json (repeatable; default: both real batches)")
    ap.add_argument("--show", action="store_true", help="list the letters where replyparse differs from gold")
    ap.add_argument("--no-jionlp", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    for corpus in args.corpus or [c for c in DEFAULT_CORPORA if c.is_dir()]:
        rows.append((corpus.name, *bench(corpus, args.show, not args.no_jionlp)))
    if len(rows) > 1:
        print("\namount value F1 (clean subset)")
        print(f"  {'batch':<12}{'replyparse':>11}{'JioNLP':>9}")
        for name, rp_f, jn_f in rows:
            jn = "-" if jn_f is None else f"{jn_f:.3f}"
            print(f"  {name:<12}{rp_f:>11.3f}{jn:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
