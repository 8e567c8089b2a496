"""Money amounts with their roles (placeholder until the money rules land)."""
from __future__ import annotations


def extract_amounts(text, seg, ruleset):
    return []
