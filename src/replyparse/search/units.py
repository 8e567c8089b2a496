"""What goes into the index: a file's records (parsed here or read from JSONL) as rows."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import regex

from ..record import letter_year
from .tokenise import flat, text_key, token_text, tokens, tri_values


JSONL_EXTS = {".jsonl", ".ndjson"}


# --------------------------------------------------------------------------- inputs

@dataclass
class Unit:
    """One indexable unit: a file (or one source of a JSONL) and the records it gave."""
    path: str
    sha256: str | None
    origin: str  # "fs" or "jsonl:<abs path of the jsonl>"
    status: str = "ok"
    reason: str | None = None
    records: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)  # prepared letter rows (with tokens)
    given: str | None = None  # the path as given on the command line (records' ``source``)


def record_year(rec: dict) -> int | None:
    return letter_year(rec.get("date"), rec.get("doc_number"))


def is_letter(rec: dict) -> bool:
    return rec.get("status", "ok") == "ok" and rec.get("is_reply_letter") is not False


def prepare_rows(unit: Unit) -> Unit:
    """Letter rows with their token columns (the expensive part; runs in worker processes)."""
    unit.rows = []
    for n, rec in enumerate(unit.records):
        if not is_letter(rec):
            continue
        cats = list(dict.fromkeys(a["category"] if isinstance(a, dict) else a for a in rec.get("actions") or []))
        stored = {k: v for k, v in rec.items() if k != "text"}
        row = {
            "letter_no": n,
            "source": rec.get("source") or unit.path,
            "doc_number": rec.get("doc_number"),
            "date": rec.get("date"),
            "year": record_year(rec),
            "issuer": rec.get("issuer"),
            "title": rec.get("title"),
            "proposal_title": rec.get("proposal_title"),
            "proposers": json.dumps(rec.get("proposers") or [], ensure_ascii=False),
            "body": rec.get("body"),
            "proposal_kind": rec.get("proposal_kind"),
            "handling_category": rec.get("handling_category"),
            "allocated_total_yuan": rec.get("allocated_total_yuan"),
            "requested_total_yuan": rec.get("requested_total_yuan"),
            "actions": cats,
            "text": rec.get("text"),
            "record": json.dumps(stored, ensure_ascii=False),
            "text_key": text_key(rec.get("text")),
            "tok": {
                "title": token_text(rec.get("title")),
                "proposal_title": token_text(rec.get("proposal_title")),
                # each name also as one whole token, so a name query matches however jieba cuts it
                "proposers": " ".join(
                    " ".join([flat(p).replace(" ", "")] + tokens(p)) for p in rec.get("proposers") or []),
                "issuer": token_text(rec.get("issuer")),
                "doc_number": token_text(rec.get("doc_number")),
                "text": token_text(rec.get("text")),
            },
        }
        row["tri"] = tri_values(row)
        unit.rows.append(row)
    unit.records = []  # rows carry everything needed; do not ship records back from workers
    return unit


def index_rows(res) -> list[dict]:
    """The index's rows of one parsed file (a ``run.batch.FileResult``), tokens included: the
    ``RunOptions.finish`` step of ``index``, so the tokenising runs in the workers."""
    return prepare_rows(Unit(path=res.path, sha256=res.sha256, origin="fs",
                             records=[r.to_dict() for r in res.records])).rows


def _records_sha(records: list[dict]) -> str:
    h = hashlib.sha256()
    for r in records:
        h.update(json.dumps(r, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def read_jsonl_units(path: str | Path) -> list[Unit]:
    """Records of a JSONL written by ``replyparse parse``, grouped by source file (``a.txt#2`` → ``a.txt``)."""
    origin = "jsonl:" + os.path.abspath(path)
    groups: dict[str, list[dict]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            src = str(rec.get("source") or "")
            key = regex.sub(r"#\d+$", "", src) or f"{path}:{len(groups)}"
            groups.setdefault(key, []).append(rec)
    units = []
    for key, recs in groups.items():
        statuses = [r.get("status", "ok") for r in recs]
        status = "ok" if "ok" in statuses else statuses[0]
        units.append(Unit(path=key, sha256=_records_sha(recs), origin=origin, status=status, records=recs))
    return units


def is_jsonl(path: str | Path) -> bool:
    return Path(path).suffix.lower() in JSONL_EXTS
