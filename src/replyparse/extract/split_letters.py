"""Where a file holds several letters (an archive's 答复汇编 as one .docx or PDF): the span of each,
found with the same segment rules a letter is segmented with."""
from __future__ import annotations

import regex

from ..engine.rules import RuleSet
from .segment import Line, find_title, match_line, rules_by_field, split_lines

_SENTENCE = regex.compile(r"[。；;！？!?]")
_CLAUSE = regex.compile(r"[，,]")


def split_letters(text: str, ruleset: RuleSet, lines: list[Line] | None = None) -> list[tuple[int, int]]:
    """Where a file holds several letters (an archive's 答复汇编), the [start, end) of each.

    A new letter begins at an addressee line (…代表：) with a closing date of the letter before
    between them, or, for a letter before it cut off without one, right under a reply title of
    its own (…的答复). It takes with it the block of short lines above its addressee (letterhead,
    document number, title, 答复类型 …) up to the previous letter's tail: its date, contact,
    抄送 and 印发 lines, or a line of running text."""
    lines = split_lines(text, ruleset) if lines is None else lines
    rules = rules_by_field(ruleset)
    salutations = [i for i, ln in enumerate(lines) if match_line(rules.get("salutation", []), ln)]
    if len(salutations) < 2:
        return [(0, len(text))]
    dates = [i for i, ln in enumerate(lines) if match_line(rules.get("signature_date", []), ln)]
    tail = rules.get("contact", []) + rules.get("cc", []) + rules.get("signature_date", []) + rules.get("letter_tail", [])
    titles = rules.get("title", []) + rules.get("title_top", []) + rules.get("title_end", [])
    starts = [0]
    prev = salutations[0]
    for s in salutations[1:]:
        if not any(prev < d < s for d in dates):
            title = find_title(lines[prev + 1:s + 1], rules, s - prev - 1, True)
            if not title or s - lines.index(title[-1]) > 8:
                continue  # a second addressee inside one letter
        k = s
        while k - 1 > prev and s - (k - 1) <= 12:
            ln = lines[k - 1]
            t = ln.text.strip()
            if t and (len(t) > 60 or _SENTENCE.search(t) or match_line(tail, ln)
                      or _CLAUSE.search(t) and not match_line(titles, ln)):
                break  # running text or the tail of the letter before
            k -= 1
        while k < s and not lines[k].text.strip():
            k += 1
        starts.append(lines[k].start)
        prev = s
    return [(a, b) for a, b in zip(starts, starts[1:] + [len(text)])]
