"""The letter record of ``shared/spec/output.md``, as dataclasses that serialise to its JSON.

Fields after ``warnings`` are replyparse's additions (the contract allows adding fields).
"""
from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

HEADER_FIELDS = (
    "doc_number", "issuer", "title", "proposal_kind", "body", "term", "session", "proposal_no",
    "proposers", "proposal_title", "handling_category", "public", "date", "contact_person",
    "contact_phone", "cc",
)
LIST_FIELDS = ("proposers", "cc")
ACTION_CATEGORIES = ("funding", "planned", "referred", "explained", "studying", "escalated", "completed")
ROLES = ("requested", "allocated", "other")
STATUSES = ("ok", "not_letter", "needs_ocr", "error")


NOT_LETTER_WARNING = "not a reply letter: "  # pipeline writes it; tables and manifests read it


@dataclass
class Span:
    start: int
    end: int


@dataclass
class Amount:
    text: str
    value_yuan: float | int
    value_max_yuan: float | int | None = None
    approx: bool = False
    role: str = "other"
    purpose: str | None = None
    funder: str | None = None
    part_of: int | None = None
    start: int = 0
    end: int = 0
    rule: str | None = None
    page: int | None = None  # addition: the page the amount stands on, for paged inputs


@dataclass
class Action:
    category: str
    text: str
    start: int
    end: int
    rule: str
    page: int | None = None


@dataclass
class Evidence:
    rule: str
    start: int
    end: int
    page: int | None = None


@dataclass
class Record:
    source: str
    is_reply_letter: bool | None = None
    doc_number: str | None = None
    issuer: str | None = None
    title: str | None = None
    proposal_kind: str | None = None
    body: str | None = None
    term: int | None = None
    session: int | None = None
    proposal_no: str | None = None
    proposers: list[str] = field(default_factory=list)
    proposal_title: str | None = None
    handling_category: str | None = None
    public: bool | None = None
    date: str | None = None
    contact_person: str | None = None
    contact_phone: str | None = None
    cc: list[str] = field(default_factory=list)
    amounts: list[Amount] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    requested_total_yuan: float | int | None = None
    allocated_total_yuan: float | int | None = None
    warnings: list[str] = field(default_factory=list)
    # additions
    status: str = "ok"
    reason: str | None = None  # why status is not ok, in words
    reason_code: str | None = None  # the same as a code (status.Reason)
    format: str | None = None
    encoding: str | None = None
    pages: list[list[int]] = field(default_factory=list)  # [start, end] offset of each page in text
    page_meta: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, Evidence] = field(default_factory=dict)
    ocr: bool = False  # some page's text was read by OCR (parse --ocr)
    ocr_confidence: list[float | None] = field(default_factory=list)  # OCR: mean confidence of each page
    text: str | None = None
    # fields declared by rule files (RuleSet.extra_fields): written as top-level keys, before text
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = self.__dict__.get("_final")
        if d is not None:  # a finished record (``final_dict``): its dict, made once
            return d
        d = plain(self)
        extra = d.pop("extra")
        if extra:
            text = d.pop("text")
            d.update(extra)
            d["text"] = text
        return d

    def final_dict(self) -> dict[str, Any]:
        """Declare the record finished (parsing is over; nothing changes it any more) and return its
        dict, which every later ``to_dict`` hands back instead of walking the dataclasses again: a run
        writes a record to its cache and to its output, and that was two walks. Treat it as read-only."""
        self.__dict__.pop("_final", None)
        d = self.__dict__["_final"] = self.to_dict()
        return d

    def json_line(self) -> str:
        """The record as one line of JSON (``records.jsonl``, ``parse``'s output), made once for a
        finished record (``final_dict``): the cache stores this text and a re-run writes it back."""
        line = self.__dict__.get("_line")
        if line is None:
            line = json.dumps(self.to_dict(), ensure_ascii=False)
            if "_final" in self.__dict__:
                self.__dict__["_line"] = line
        return line

    def __getstate__(self):  # to a worker's parent or a pickle: the fields, not the finished dict
        state = dict(self.__dict__)
        state.pop("_final", None)
        state.pop("_line", None)
        return state

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Record":
        known = {f.name for f in fields(cls)} - {"extra"}
        kw = {k: v for k, v in data.items() if k in known}
        kw["extra"] = {k: v for k, v in data.items() if k not in known}  # fields rule files declared
        kw["amounts"] = [Amount(**a) for a in data.get("amounts") or []]
        kw["actions"] = [Action(**a) for a in data.get("actions") or []]
        kw["evidence"] = {k: Evidence(**v) for k, v in (data.get("evidence") or {}).items()}
        return cls(**kw)

    def clear_letter_fields(self) -> None:
        """A non-letter keeps source and warnings; every other spec field is null."""
        for name in HEADER_FIELDS:
            setattr(self, name, [] if name in LIST_FIELDS else None)
        self.amounts, self.actions = [], []
        self.requested_total_yuan = self.allocated_total_yuan = None
        self.evidence = {}
        self.extra = dict.fromkeys(self.extra)


_SCALARS = (str, int, float, bool, type(None))
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def plain(obj):
    """``dataclasses.asdict`` without its deep copies (several times faster on a record)."""
    cls = type(obj)
    if cls in _SCALARS:
        return obj
    names = _FIELD_NAMES.get(cls)
    if names is None and is_dataclass(obj):
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(obj))
    if names is not None:
        return {n: plain(getattr(obj, n)) for n in names}
    if cls is list or cls is tuple:
        return [plain(x) for x in obj]
    if cls is dict:
        return {k: plain(v) for k, v in obj.items()}
    return obj


_ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
_YEAR_IN_DOC = re.compile(r"〔((?:19|20)\d\d)〕")


def letter_year(date: str | None, doc_number: str | None) -> int | None:
    """A letter's year, the one tables, the index and exports file it under: its date's when that is
    a real calendar date, else the 〔YYYY〕 of its document number."""
    if date and _ISO_DATE.match(str(date)):
        try:
            return datetime.date.fromisoformat(str(date)).year
        except ValueError:
            pass
    m = _YEAR_IN_DOC.search(doc_number or "")
    return int(m.group(1)) if m else None
