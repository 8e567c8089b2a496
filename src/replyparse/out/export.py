"""Feeds for search engines: Elasticsearch / OpenSearch bulk NDJSON and its index mapping.

The Chinese text goes in twice: as written (stored, not analysed) and pre-tokenised with the
same jieba search-mode tokens as the SQLite index (``*_tok`` fields, whitespace analyzer), so
the cluster needs no Chinese analysis plugin. A client tokenises its query the same way
(``replyparse search --show-query`` prints the tokens) and sends them to a ``match`` query on
the ``*_tok`` fields."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import IO, Iterable, Iterator

from ..search.units import Unit, is_jsonl, is_letter, read_jsonl_units, record_year
from ..search.tokenise import token_text


_KW = {"type": "keyword"}
_TOK = {"type": "text", "analyzer": "ws_lower", "norms": True}


_ES_TYPES = {"text": _KW, "list": _KW, "int": {"type": "integer"}, "bool": {"type": "boolean"},
             "date": {"type": "date", "format": "yyyy-MM-dd"}}


def es_mapping(extra_fields=()) -> dict:
    """Index settings and mapping (ES 7/8 and OpenSearch 1/2: no mapping types), with a property
    for each field a rule file declared."""
    mapping = _es_mapping()
    for f in extra_fields:
        mapping["mappings"]["properties"][f.name] = _ES_TYPES.get(f.type, _KW)
    return mapping


def _es_mapping() -> dict:
    return {
        "settings": {
            "analysis": {"analyzer": {"ws_lower": {"type": "custom", "tokenizer": "whitespace",
                                                   "filter": ["lowercase"]}}},
        },
        "mappings": {
            "dynamic": False,
            "properties": {
                "source": _KW, "path": _KW, "sha256": _KW, "status": _KW,
                "doc_number": _KW, "issuer": _KW, "proposal_kind": _KW, "body": _KW,
                "handling_category": _KW, "proposal_no": _KW, "proposers": _KW, "cc": _KW,
                "contact_person": _KW, "contact_phone": _KW, "actions": _KW,
                "term": {"type": "integer"}, "session": {"type": "integer"}, "year": {"type": "integer"},
                "public": {"type": "boolean"},
                "date": {"type": "date", "format": "yyyy-MM-dd"},
                "title": {"type": "text", "index": False, "fields": {"raw": {"type": "keyword", "ignore_above": 512}}},
                "proposal_title": {"type": "text", "index": False,
                                   "fields": {"raw": {"type": "keyword", "ignore_above": 512}}},
                "text": {"type": "text", "index": False},
                "title_tok": _TOK, "proposal_title_tok": _TOK, "proposers_tok": _TOK,
                "issuer_tok": _TOK, "text_tok": _TOK,
                "requested_total_yuan": {"type": "double"}, "allocated_total_yuan": {"type": "double"},
                "amounts": {"type": "nested", "properties": {
                    "text": _KW, "value_yuan": {"type": "double"}, "value_max_yuan": {"type": "double"},
                    "approx": {"type": "boolean"}, "role": _KW, "purpose": {"type": "keyword", "ignore_above": 256},
                    "funder": _KW, "part_of": {"type": "integer"}}},
                "warnings": {"type": "keyword", "ignore_above": 512},
            },
        },
    }


def es_document(rec: dict, path: str, sha256: str | None) -> dict:
    from ..record import Record

    declared = {k: v for k, v in rec.items() if k not in Record.__dataclass_fields__}  # fields rule files add
    cats = list(dict.fromkeys(a["category"] if isinstance(a, dict) else a for a in rec.get("actions") or []))
    amounts = [{k: a.get(k) for k in ("text", "value_yuan", "value_max_yuan", "approx", "role", "purpose",
                                      "funder", "part_of")} for a in rec.get("amounts") or []]
    doc = {
        "source": rec.get("source") or path, "path": path, "sha256": sha256, "status": rec.get("status", "ok"),
        **{k: rec.get(k) for k in ("doc_number", "issuer", "title", "proposal_kind", "body", "term", "session",
                                   "proposal_no", "proposal_title", "handling_category", "public", "date",
                                   "contact_person", "contact_phone", "requested_total_yuan",
                                   "allocated_total_yuan")},
        "year": record_year(rec),
        "proposers": rec.get("proposers") or [], "cc": rec.get("cc") or [],
        "actions": cats, "amounts": amounts, "warnings": rec.get("warnings") or [],
        "text": rec.get("text"),
        **declared,
        "title_tok": token_text(rec.get("title")),
        "proposal_title_tok": token_text(rec.get("proposal_title")),
        "proposers_tok": " ".join(token_text(p) for p in rec.get("proposers") or []),
        "issuer_tok": token_text(rec.get("issuer")),
        "text_tok": token_text(rec.get("text")),
    }
    return doc


def doc_id(source: str) -> str:
    """A stable id per letter (its source path, with #N for a file of several letters)."""
    return hashlib.sha1(source.encode("utf-8")).hexdigest()


def iter_units(paths: Iterable[str | Path], rules=None, options=None) -> Iterator[Unit]:
    """Units with records (not yet tokenised) from files, folders and JSONL record files, in the
    order given; files are parsed by the one executor (``run.runner.run_mixed`` with ``options``, a
    ``RunOptions``) with ``rules`` (default: the built-in rule set), consecutive ones in one run."""
    from ..run.runner import run_mixed

    def unit(res) -> list[Unit]:
        return [Unit(path=str(res.path), sha256=res.sha256, origin="fs", status=res.status, reason=res.reason,
                     records=[r.to_dict() for r in res.records])]

    return run_mixed(paths, lambda arg: is_jsonl(arg) and os.path.isfile(arg), read_jsonl_units, unit, rules,
                     options)


def write_es_bulk(paths: Iterable[str | Path], out: IO[str], index: str = "replyparse",
                  include_non_letters: bool = False, rules=None, options=None) -> int:
    """Write bulk NDJSON (action line, document line) for every letter; return the letter count."""
    n = 0
    for u in iter_units(paths, rules, options):
        for rec in u.records:
            if not include_non_letters and not is_letter(rec):
                continue
            doc = es_document(rec, u.path, u.sha256)
            out.write(json.dumps({"index": {"_index": index, "_id": doc_id(doc["source"])}}, ensure_ascii=False))
            out.write("\n")
            out.write(json.dumps(doc, ensure_ascii=False))
            out.write("\n")
            n += 1
    return n


def export_es_bulk(paths: Iterable[str | Path], output: str | Path, mapping: str | Path | None = None,
                   index: str = "replyparse", include_non_letters: bool = False, rules=None,
                   options=None) -> tuple[int, str]:
    """Write ``output`` and its mapping (default ``OUTPUT.mapping.json``); return (letters, mapping path)."""
    mapping = str(mapping or f"{output}.mapping.json")
    with open(output, "w", encoding="utf-8") as f:
        n = write_es_bulk(paths, f, index, include_non_letters, rules, options)
    with open(mapping, "w", encoding="utf-8") as f:
        json.dump(es_mapping(getattr(rules, "extra_fields", ())), f, ensure_ascii=False, indent=1)
        f.write("\n")
    return n, mapping
