"""The one table of letter fields: name, type, whether it is a column of the letters table.

The spec's header fields are built in; a rule file may declare more (``fields:`` in a header
family, e.g. a ``deadline.yaml`` for a region whose replies promise a date). The record, the
tables, the index's stored records, the Elasticsearch export and ``eval`` all take the declared
fields from ``RuleSet.extra_fields``: a new field is one rule file, no code.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..record import HEADER_FIELDS, LIST_FIELDS

# the built-in header families, and the short group names their patterns may use for a field
HEADER_FAMILIES = ("doc_number", "issuer", "title", "proposal", "proposers", "handling", "date", "contact", "cc")
GROUP_ALIASES = {"kind": "proposal_kind", "no": "proposal_no", "ptitle": "proposal_title",
                 "person": "contact_person", "phone": "contact_phone", "category": "handling_category"}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = "text"
    column: bool = True  # a column of the letters table
    family: str = ""  # the rule file that declared it
    description: str = ""


_BUILTIN_TYPES = {"term": "int", "session": "int", "public": "bool", "date": "date",
                  **{f: "list" for f in LIST_FIELDS}}
BUILTIN_FIELDS = tuple(FieldSpec(f, _BUILTIN_TYPES.get(f, "text"), family="(built in)") for f in HEADER_FIELDS)

# the families of the built-in rule files that are not header families, and what they are
BUILTIN_KINDS = {"letter": "letter", "segment": "segment", "money": "money", "roles": "roles", "actions": "actions",
                 "ocr": "repair", "layout": "layout"}


def family_kind(family: str, declared: dict[str, str]) -> str:
    """What a family's rules are for: what its file says (``kind:``), else the built-in family's
    kind, else a header family (a new rule file fills letter fields)."""
    return declared.get(family) or BUILTIN_KINDS.get(family, "header")
