"""Score records against gold files (``NAME.gold.json`` beside ``NAME.<ext>``), with the
scoring conventions of ``shared/corpus/real/README.md``."""
from __future__ import annotations

import json
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import regex

from .pipeline import parse_file
from .record import HEADER_FIELDS, LIST_FIELDS, Record
from .engine.rules import RuleSet, default_rules

SUBSETS = ("clean", "garbled", "all")
_WS = regex.compile(r"\s+")
_DOCNUM = regex.compile(r"^(?P<p>.*?)[〔\[【(（［]\s*(?P<y>\d{4})\s*[〕\]】)）］]\s*0*(?P<n>\d+)\s*号$")


def norm(v):
    if isinstance(v, str):
        return _WS.sub("", unicodedata.normalize("NFKC", v))
    return v


def _ptitle(v: str) -> str:
    v = norm(v).strip("《》“”\"")
    v = regex.sub(r"^关于", "", v)
    return regex.sub(r"(?:的)?(?:建议|提案|议案)$", "", v)


def same(fieldname: str, pred, gold, gold_rec: dict | None = None) -> bool:
    if pred is None or gold is None:
        return False
    p, g = norm(pred), norm(gold)
    if fieldname == "doc_number":
        mp, mg = _DOCNUM.match(p), _DOCNUM.match(g)
        if mp and mg:
            return (mp["p"], mp["y"], mp["n"]) == (mg["p"], mg["y"], mg["n"])
    if fieldname == "proposal_no":
        return str(p).lstrip("0") == str(g).lstrip("0")
    if fieldname == "proposal_title":
        return _ptitle(p) == _ptitle(g)
    if fieldname == "title" and p != g:
        issuer = norm((gold_rec or {}).get("issuer") or "")
        return bool(issuer) and (issuer + p == g or p == issuer + g)
    return p == g


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: "Tally"):
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self):
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self):
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self):
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _multiset(pred: list, gold: list) -> Tally:
    cp, cg = Counter(pred), Counter(gold)
    tp = sum((cp & cg).values())
    return Tally(tp, sum(cp.values()) - tp, sum(cg.values()) - tp)


def score_field(f: str, pred, gold, gold_rec=None) -> Tally:
    if f in LIST_FIELDS:
        return _multiset([norm(x) for x in pred or []], [norm(x) for x in gold or []])
    t = Tally()
    if pred is not None and gold is not None and same(f, pred, gold, gold_rec):
        t.tp = 1
    else:
        t.fp = int(pred is not None)
        t.fn = int(gold is not None)
    return t


def _value(v):
    return round(float(v), 2) if v is not None else None


@dataclass
class Report:
    n: int = 0
    fields: dict[str, Tally] = field(default_factory=lambda: {f: Tally() for f in HEADER_FIELDS})
    letter_correct: int = 0
    amounts: Tally = field(default_factory=Tally)
    amounts_role: Tally = field(default_factory=Tally)
    actions: Tally = field(default_factory=Tally)
    per_file: dict[str, dict] = field(default_factory=dict)

    @property
    def header(self) -> Tally:
        """Micro over the spec's 16 header fields (declared fields are listed, not counted in it)."""
        t = Tally()
        for f in HEADER_FIELDS:
            t.add(self.fields[f])
        return t

    @property
    def letter_accuracy(self) -> float:
        return self.letter_correct / self.n if self.n else 1.0

    def as_dict(self) -> dict:
        return {
            "letters": self.n,
            "fields": {f: {"precision": t.precision, "recall": t.recall, "f1": t.f1, "tp": t.tp, "fp": t.fp,
                           "fn": t.fn} for f, t in self.fields.items()},
            "header_micro_f1": self.header.f1,
            "is_reply_letter_accuracy": self.letter_accuracy,
            "amount_value_f1": self.amounts.f1,
            "amount_value_role_f1": self.amounts_role.f1,
            "actions_micro_f1": self.actions.f1,
        }


def compare(rec: Record, gold: dict, report: Report, name: str) -> None:
    report.n += 1
    detail = {}
    if bool(rec.is_reply_letter) == bool(gold.get("is_reply_letter")):
        report.letter_correct += 1
    else:
        detail["is_reply_letter"] = (rec.is_reply_letter, gold.get("is_reply_letter"))
    for f in HEADER_FIELDS:
        t = score_field(f, getattr(rec, f), gold.get(f), gold)
        report.fields[f].add(t)
        if t.fp or t.fn:
            detail[f] = (getattr(rec, f), gold.get(f))
    for f, v in rec.extra.items():  # a field a rule file declared: scored where the gold has it
        if f in gold:
            t = score_field(f, v, gold.get(f), gold)
            report.fields.setdefault(f, Tally()).add(t)
            if t.fp or t.fn:
                detail[f] = (v, gold.get(f))
    pv = [_value(a.value_yuan) for a in rec.amounts]
    gv = [_value(a["value_yuan"]) for a in gold.get("amounts") or []]
    t = _multiset(pv, gv)
    report.amounts.add(t)
    if t.fp or t.fn:
        detail["amounts"] = (sorted(pv), sorted(gv))
    pr = [(_value(a.value_yuan), a.role) for a in rec.amounts]
    gr = [(_value(a["value_yuan"]), a["role"]) for a in gold.get("amounts") or []]
    t = _multiset(pr, gr)
    report.amounts_role.add(t)
    if t.fp or t.fn:
        detail["amount_roles"] = (sorted(Counter(pr) - Counter(gr)), sorted(Counter(gr) - Counter(pr)))
    pa = sorted({a.category for a in rec.actions})
    ga = sorted(set(gold.get("actions") or []))
    t = _multiset(pa, ga)
    report.actions.add(t)
    if t.fp or t.fn:
        detail["actions"] = (pa, ga)
    report.per_file[name] = detail


def find_gold(gold_dir: Path) -> list[tuple[str, Path, Path]]:
    """(name, input file, gold file) for every NAME.gold.json with an input beside it."""
    out = []
    for g in sorted(gold_dir.glob("*.gold.json")):
        name = g.name[: -len(".gold.json")]
        inputs = sorted(p for p in gold_dir.glob(name + ".*") if not p.name.endswith(".gold.json"))
        for p in inputs:
            out.append((p.name, p, g))
    return out


def evaluate(gold_dir: str | Path, subset: str = "clean", rules: RuleSet | None = None,
             formats: set[str] | None = None) -> Report:
    ruleset = rules or default_rules()
    report = Report()
    for name, path, gpath in find_gold(Path(gold_dir)):
        if formats and path.suffix.lower().lstrip(".") not in formats:
            continue
        gold = json.loads(gpath.read_text("utf-8"))
        script = gold.get("script", "simplified")
        if subset == "clean" and script == "garbled" or subset == "garbled" and script != "garbled":
            continue
        recs = parse_file(path, ruleset)
        compare(recs[0], gold, report, name)
    return report


def format_report(r: Report, subset: str) -> str:
    lines = [f"replyparse eval — {r.n} letters, subset {subset}", "",
             f"{'field':<20}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>5}{'fn':>5}"]
    for f, t in r.fields.items():
        lines.append(f"{f:<20}{t.precision:7.3f}{t.recall:7.3f}{t.f1:7.3f}{t.tp:6d}{t.fp:5d}{t.fn:5d}")
    h = r.header
    lines += ["",
              f"{'header micro':<20}{h.precision:7.3f}{h.recall:7.3f}{h.f1:7.3f}{h.tp:6d}{h.fp:5d}{h.fn:5d}",
              f"{'amount value':<20}{r.amounts.precision:7.3f}{r.amounts.recall:7.3f}{r.amounts.f1:7.3f}"
              f"{r.amounts.tp:6d}{r.amounts.fp:5d}{r.amounts.fn:5d}",
              f"{'amount value+role':<20}{r.amounts_role.precision:7.3f}{r.amounts_role.recall:7.3f}"
              f"{r.amounts_role.f1:7.3f}{r.amounts_role.tp:6d}{r.amounts_role.fp:5d}{r.amounts_role.fn:5d}",
              f"{'actions micro':<20}{r.actions.precision:7.3f}{r.actions.recall:7.3f}{r.actions.f1:7.3f}"
              f"{r.actions.tp:6d}{r.actions.fp:5d}{r.actions.fn:5d}",
              f"{'is_reply_letter acc':<20}{r.letter_accuracy:7.3f}"]
    return "\n".join(lines)
