"""Response actions (placeholder until the action rules land)."""
from __future__ import annotations


def extract_actions(text, seg, ruleset):
    return []
