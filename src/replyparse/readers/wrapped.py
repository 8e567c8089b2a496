"""Plain text hard-wrapped at a fixed width — a PDF or an archive system exported to .txt, a mail
client — has lost its paragraphs: every line ends where the width ran out, in mid-sentence and
mid-number (200\\n万元). Its paragraphs are rebuilt with the layout cues the PDF reader uses
(``rules/layout.yaml``); a text that is not hard-wrapped is returned as it is."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .pdf import Cues, glue, starts_paragraph

MIN_LINES = 6  # fewer lines show no width
# full lines that stop in mid-sentence: a text with a line per paragraph has one longest line or
# two, ending in 。; a wrapped one has several, and most of its full lines run on
MIN_RUNNING_ON = 3


def display_width(s: str) -> int:
    """Columns on a terminal: an ASCII character is one, any other two (Chinese characters and
    their punctuation, ambiguous ones like “ and — counted wide as East Asian wrappers count
    them). Counted in C: this runs on every line of every .txt."""
    return 2 * len(s) - len(s.encode("ascii", "ignore"))


@dataclass(frozen=True)
class Wrap:
    measure: Callable[[str], int]
    width: int
    slack: int  # how much shorter a full line may be (a wrapper moves a ， off a line's start)

    def full(self, line: str) -> bool:
        return self.measure(line) >= self.width - self.slack


def find_wrap(lines: list[str], cues: Cues) -> Wrap | None:
    """The width the text is wrapped at, by columns or by characters, or None. Wrapped means: no
    line is longer, and of the lines that reach it at least three, and at least half, stop in
    the middle of a sentence (in a text with a line per paragraph the longest lines end one)."""
    body = [ln.rstrip() for ln in lines if ln.strip()]
    if len(body) < MIN_LINES:
        return None
    best, most = None, 0
    for measure, slack in ((display_width, 3), (len, 1)):  # wrappers count columns or characters
        widths = [measure(ln) for ln in body]
        wrap = Wrap(measure, max(widths), slack)
        if wrap.width < 20:
            return None
        full = [ln for ln, w in zip(body, widths) if w >= wrap.width - slack]
        running_on = sum(not cues.has("sentence_end", ln) for ln in full)
        if running_on >= MIN_RUNNING_ON and 2 * running_on >= len(full) and running_on > most:
            best, most = wrap, running_on  # the measure the wrapper used fills more lines
    return best


def unwrap(text: str, cues: Cues) -> tuple[str, Wrap | None]:
    """``text`` with each full line that does not end a sentence joined to the next, unless the
    next starts a paragraph (an indent, a numbered point, an addressee, a date) or the full line
    is a title or an addressee. Returns the text and the wrap found (None: unchanged)."""
    lines = text.split("\n")
    wrap = find_wrap(lines, cues)
    if wrap is None:
        return text, None
    out: list[str] = []
    carry = False  # the last line written runs on into the next
    prev = ""
    for raw in lines:
        line = raw.rstrip()
        if carry and line.strip() and line[:1] not in " \t\u3000" and not starts_paragraph(prev, line, cues):
            out[-1] = glue(out[-1], line)
        else:
            out.append(line)
        prev = line
        carry = bool(line.strip()) and wrap.full(line) and not cues.has("sentence_end", line) \
            and not cues.has("title_end", line) and not cues.has("salutation_line", line)
    return "\n".join(out), wrap
