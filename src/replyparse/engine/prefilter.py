"""Literal prefilters for rule regexes: one ``in`` test decides that a rule cannot match a text.

``required_literals(pattern)`` reads a regex (``regex`` module syntax, as the rule files write it)
and returns strings of which every match must contain at least one — or None when it cannot tell.
Most rules are anchored on words (联系人, 抄送, 答复, 万元 …): a text without any of them is passed
over without running the regex, which is most of the regex calls a letter would otherwise make.

The analysis is conservative: whatever it does not understand (inline flags, case folding,
backreferences, unusual syntax) gives None, and the rule always runs. ``tests/test_prefilter.py``
checks on every letter of the corpus that a rule that matches is never filtered out.
"""
from __future__ import annotations

from typing import Optional

Req = Optional[frozenset]  # strings of which a match contains one; None: no guarantee

_ZERO_WIDTH_ESCAPES = set("bBAZzGmM")  # \b \B \A \Z … match no text
_CLASS_ESCAPES = set("dDwWsShHvVXRNpPQE")  # a character of a class, or syntax we do not read
_LITERAL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "a": "\a", "e": "\x1b", "0": "\0"}


class _Unknown(Exception):
    pass


class _Parser:
    def __init__(self, src: str):
        self.s = src
        self.i = 0
        self.looking = 0  # how many lookarounds the parser is inside

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    # alternation: every branch must give a literal
    def alternation(self) -> Req:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence())
        if any(b is None for b in branches):
            return None
        return frozenset().union(*branches)

    def sequence(self) -> Req:
        required: list[frozenset] = []
        run = ""

        def close_run():
            nonlocal run
            if run:
                required.append(frozenset([run]))
            run = ""

        while self.i < len(self.s) and self.peek() not in "|)":
            kind, value = self.atom()
            lo, hi = self.quantifier()
            if kind == "char":
                if lo == 0:  # optional: breaks the run
                    close_run()
                elif hi == 1:
                    run += value
                else:  # repeated: required once, then anything of it may follow
                    run += value
                    close_run()
            elif kind == "zero":
                continue  # anchors and lookarounds: no text of the match, but no break in it either
            else:
                close_run()
                if kind == "group" and value is not None and lo >= 1:
                    required.append(value)
        close_run()
        if not required:
            return None
        # the set whose shortest string is longest says the most about a text
        return max(required, key=lambda r: (min(map(len, r)), -len(r)))

    def atom(self) -> tuple[str, object]:
        c = self.peek()
        if c == "(":
            return self.group()
        if c == "[":
            self.char_class()
            return "class", None
        if c == "\\":
            return self.escape()
        if c in "^$":
            self.i += 1
            return "zero", None
        if c == ".":
            self.i += 1
            return "class", None
        if c in "*+?{":  # a quantifier without an atom, or {…} that is not one (fuzzy matching {e<=1})
            raise _Unknown("unexpected " + c)
        self.i += 1
        return "char", c

    def escape(self) -> tuple[str, object]:
        c = self.peek(1)
        if not c:
            raise _Unknown("trailing backslash")
        if c in _ZERO_WIDTH_ESCAPES:
            self.i += 2
            return "zero", None
        if c in ("p", "P"):  # \p{Han}: one character of a property
            self.i += 2
            if self.peek() == "{":
                end = self.s.find("}", self.i)
                if end < 0:
                    raise _Unknown("unclosed \\p{")
                self.i = end + 1
            else:
                self.i += 1
            return "class", None
        if c == "x":
            return self._hex(2, 2)
        if c in ("u", "U"):
            return self._hex(2, 4 if c == "u" else 8)
        if c == "N" or c == "g" or c.isdigit() and c != "0" or c == "k":
            raise _Unknown("named characters and backreferences")
        if c in _CLASS_ESCAPES:
            self.i += 2
            return "class", None
        if c in _LITERAL_ESCAPES:
            self.i += 2
            return "char", _LITERAL_ESCAPES[c]
        if c.isalnum():
            raise _Unknown(f"escape \\{c}")
        self.i += 2
        return "char", c

    def _hex(self, skip: int, n: int) -> tuple[str, object]:
        digits = self.s[self.i + skip:self.i + skip + n]
        if len(digits) != n or any(d not in "0123456789abcdefABCDEF" for d in digits):
            raise _Unknown("hex escape")
        self.i += skip + n
        return "char", chr(int(digits, 16))

    def char_class(self) -> None:
        self.i += 1
        if self.peek() == "^":
            self.i += 1
        if self.peek() == "]":
            self.i += 1
        while self.i < len(self.s):
            c = self.peek()
            if c == "\\":
                self.i += 2
                continue
            if c == "[" and self.peek(1) == ":":  # [[:alpha:]]
                end = self.s.find(":]", self.i)
                if end < 0:
                    raise _Unknown("POSIX class")
                self.i = end + 2
                continue
            if c == "[":
                raise _Unknown("nested set")
            self.i += 1
            if c == "]":
                return
        raise _Unknown("unclosed [")

    def group(self) -> tuple[str, object]:
        self.i += 1
        look = False
        if self.peek() == "?":
            nxt = self.peek(1)
            if nxt == ":" or nxt == ">" or nxt == "|":
                self.i += 2
            elif nxt in "=!":
                self.i += 2
                look = True
            elif nxt == "<" and self.peek(2) in "=!":
                self.i += 3
                look = True
            elif nxt == "P" and self.peek(2) == "<" or nxt == "<":
                end = self.s.find(">", self.i)
                if end < 0:
                    raise _Unknown("group name")
                self.i = end + 1
            elif nxt == "#":
                end = self.s.find(")", self.i)
                if end < 0:
                    raise _Unknown("comment")
                self.i = end + 1
                return "zero", None
            else:  # inline flags (?i), conditionals, recursion: not read
                raise _Unknown(f"group (?{nxt}")
        self.looking += look
        inner = self.alternation()
        self.looking -= look
        if self.peek() != ")":
            raise _Unknown("unclosed (")
        self.i += 1
        return ("zero", None) if look else ("group", inner)

    def _is_quantifier(self) -> bool:
        end = self.s.find("}", self.i)
        if end < 0:
            return False
        body = self.s[self.i + 1:end]
        parts = body.split(",")
        return 1 <= len(parts) <= 2 and all(p.strip().isdigit() or p.strip() == "" for p in parts) \
            and any(p.strip() for p in parts)

    def quantifier(self) -> tuple[int, float]:
        c = self.peek()
        lo, hi = 1, 1
        if c == "?":
            lo, hi = 0, 1
            self.i += 1
        elif c == "*":
            lo, hi = 0, float("inf")
            self.i += 1
        elif c == "+":
            lo, hi = 1, float("inf")
            self.i += 1
        elif c == "{":
            if not self._is_quantifier():  # fuzzy matching {e<=1} and the like: not read
                raise _Unknown("{…}")
            end = self.s.find("}", self.i)
            parts = [p.strip() for p in self.s[self.i + 1:end].split(",")]
            lo = int(parts[0]) if parts[0] else 0
            hi = (int(parts[1]) if parts[1] else float("inf")) if len(parts) == 2 else lo
            self.i = end + 1
        else:
            return lo, hi
        if self.peek() in ("?", "+"):  # lazy or possessive
            self.i += 1
        return lo, hi


def required_literals(pattern: str, ignore_case: bool = False) -> frozenset | None:
    """Strings of which every match of ``pattern`` contains one, or None when that cannot be told."""
    if ignore_case:
        return None
    p = _Parser(pattern)
    try:
        req = p.alternation()
        if p.i != len(pattern):
            return None
    except (_Unknown, ValueError, IndexError):
        return None
    if req is None or any(not r for r in req):
        return None
    return req


# punctuation that often splits a letter into short runs: where a rule can never consume one of
# them, its matches lie between two of them (see ``barrier_chars``)
BARRIER_CANDIDATES = ("。", "\n", "；", "！", "？")


class _Atoms(_Parser):
    """The parser above, noting what each atom of the pattern can consume: the source of every
    character class, every literal character, and whether there is any zero-width test."""

    def __init__(self, src: str):
        super().__init__(src)
        self.classes: list[str] = []
        self.chars: set[str] = set()
        self.zero_width = False
        self.first: str | None = None  # the source of the first atom that consumes text

    def atom(self) -> tuple[str, object]:
        start = self.i
        kind, value = super().atom()
        if self.looking and kind in ("class", "char"):
            return kind, value  # inside a lookaround: consumes nothing of the match
        if kind in ("class", "char") and self.first is None:
            self.first = self.s[start:self.i]
        if kind == "class":
            self.classes.append(self.s[start:self.i])
        elif kind == "char":
            self.chars.add(value)
        elif kind == "zero":  # anchors, lookarounds, \b, comments: they look past a bound
            self.zero_width = True
        return kind, value


def starts_anywhere(pattern: str, flags: int, probe: str = "的") -> bool:
    """Whether the first atom of ``pattern`` is a class that takes ordinary Han text (``probe``,
    the commonest character): such a pattern is tried at almost every position of a letter, and
    searching only the stretches that hold its literal (``stretches``) saves most of its time; a
    pattern that starts with a word or a rare character is found as fast by the regex's own scan."""
    import regex

    p = _Atoms(pattern)
    try:
        p.alternation()
        return p.first is not None and p.first not in p.chars and \
            regex.compile(p.first, flags & regex.DOTALL).fullmatch(probe) is not None
    except (_Unknown, ValueError, IndexError, regex.error):
        return False


def line_anchored(pattern: str, flags: int) -> bool:
    """Whether every match of ``pattern`` starts at the start of a line: it has one top-level branch
    and that opens with ``^`` under MULTILINE. Such a pattern is tried at every character by a
    scan (about 70 ns each, whatever fails first), where one ``match`` at each line start finds the
    same matches. Conservative: what the parser does not understand gives False."""
    import regex

    if not flags & regex.MULTILINE or not pattern.startswith("^"):
        return False
    p = _Parser(pattern)
    try:
        p.sequence()
    except (_Unknown, ValueError, IndexError):
        return False
    return p.i == len(pattern)  # no top-level | after the first branch


def line_matches(rx, text: str, starts) -> list:
    """The matches ``rx.finditer(text)`` gives, for a ``line_anchored`` pattern: ``rx.match`` at each
    line start (``starts``, ascending) not inside the match before."""
    out, end = [], 0
    for p in starts:
        if p < end:
            continue
        m = rx.match(text, p)
        if m is not None:
            out.append(m)
            end = m.end() if m.end() > p else p + 1
    return out


def barrier_chars(pattern: str, flags: int, candidates=BARRIER_CANDIDATES, lookarounds: bool = False) -> frozenset:
    """The ``candidates`` no match of ``pattern`` can contain (no atom of it consumes them), when the
    pattern has no zero-width test at all (anchors, lookarounds, \\b), or an empty set.

    Such a pattern's matches lie between two barrier characters, and what it does there depends on
    nothing outside: ``finditer(text, pos, endpos)`` over each barrier-free stretch gives exactly
    the matches of ``finditer(text)`` in it. With a required literal, only the stretches holding
    one need searching. Conservative like ``required_literals``: what is not understood gives none.

    ``lookarounds``: keep the barriers of a pattern with zero-width tests too (their classes count
    as atoms). Its matches still lie between barriers, but a test at a stretch's end sees the end of
    the text, not the barrier: the caller must show that this changes no match (money's patterns,
    tests/test_prefilter.py)."""
    import regex

    if flags & regex.IGNORECASE:
        return frozenset()
    p = _Atoms(pattern)
    try:
        p.alternation()
        if p.i != len(pattern) or p.zero_width and not lookarounds:
            return frozenset()
        # a lookaround's atoms consume nothing of the match; without ``lookarounds`` they do not count
        # anyway (a zero-width test gives no barriers), with it they are the caller's to show harmless
        tests = [regex.compile(src, flags & regex.DOTALL) for src in p.classes]
    except (_Unknown, ValueError, IndexError, regex.error):
        return frozenset()
    return frozenset(c for c in candidates if c not in p.chars and not any(t.fullmatch(c) for t in tests))


def barrier_finders(barriers: frozenset):
    """Two compiled searches for the characters ``barriers``: the next one, and (``(?r)``) the last
    one before a position; None for an empty set."""
    if not barriers:
        return None
    import regex

    cls = "[" + "".join(regex.escape(c) for c in sorted(barriers)) + "]"
    return regex.compile(cls), regex.compile("(?r)" + cls)


def stretches(text: str, words, finders) -> list[tuple[int, int]]:
    """The [start, end) of each stretch of ``text`` between two barrier characters (``finders``)
    that holds one of ``words``, in order. The words hold no barrier character (they are literals
    of a pattern that cannot consume one), so each occurrence lies inside one stretch."""
    nxt, last = finders
    out = set()
    for w in words:
        i = text.find(w)
        while i >= 0:
            m = last.search(text, 0, i)
            a = m.end() if m else 0
            m = nxt.search(text, i + len(w))
            b = m.start() if m else len(text)
            out.add((a, b))
            i = text.find(w, b)
    return sorted(out)


def holds_any(text: str, words) -> bool:
    """Whether ``text`` holds one of ``words`` (substring tests in C)."""
    for w in words:  # a plain loop: this runs hundreds of times a letter, and a generator costs more than the tests
        if w in text:
            return True
    return False


class FilteredPattern:
    """A rule regex behind its literal prefilter: ``search``/``finditer``/``match`` give nothing, at
    once, for a text holding none of the literals every match needs."""

    __slots__ = ("pattern", "flags", "literals", "_compiled")

    def __init__(self, pattern: str, flags: int, literals: frozenset | None, compiled=None):
        self.pattern = pattern
        self.flags = flags
        self.literals = tuple(sorted(literals, key=len, reverse=True)) if literals else None
        self._compiled = compiled

    @property
    def regex(self):
        if self._compiled is None:
            import regex

            self._compiled = regex.compile(self.pattern, self.flags)
        return self._compiled

    @property
    def groupindex(self):
        return self.regex.groupindex

    def _may(self, text: str) -> bool:
        # substring tests in C; a letter's rules were already cut down by one Aho-Corasick pass
        # (LiteralIndex), so this runs on the parts of letters that hold some of the words
        return self.literals is None or holds_any(text, self.literals)

    # search and match are the calls a letter makes most (segment lines, role cues): the test of
    # ``_may`` and the compiled regex are written out in them, two Python calls fewer each
    def search(self, text, *args, **kw):
        lits = self.literals
        if lits is not None:
            for lit in lits:
                if lit in text:
                    break
            else:
                return None
        return (self._compiled or self.regex).search(text, *args, **kw)

    def match(self, text, *args, **kw):
        lits = self.literals
        if lits is not None:
            for lit in lits:
                if lit in text:
                    break
            else:
                return None
        return (self._compiled or self.regex).match(text, *args, **kw)

    def fullmatch(self, text, *args, **kw):
        return self.regex.fullmatch(text, *args, **kw) if self._may(text) else None

    def finditer(self, text, *args, **kw):
        return self.regex.finditer(text, *args, **kw) if self._may(text) else iter(())

    def findall(self, text, *args, **kw):
        return self.regex.findall(text, *args, **kw) if self._may(text) else []

    def sub(self, repl, text, *args, **kw):
        return self.regex.sub(repl, text, *args, **kw) if self._may(text) else text

    def __reduce__(self):  # regex pickles its compiled program, so loading it again is cheap
        return (FilteredPattern, (self.pattern, self.flags, frozenset(self.literals) if self.literals else None,
                                  self.regex))

    def __repr__(self):
        return f"FilteredPattern({self.pattern!r}, literals={list(self.literals or ())[:5]})"


class LiteralIndex:
    """Every literal of a rule set in one Aho-Corasick automaton (pyahocorasick): one pass over a
    letter gives the literals it holds, and a rule whose literals are none of them is dropped for
    the whole letter with a set test instead of a scan per rule."""

    def __init__(self, patterns):
        import ahocorasick

        self.automaton = ahocorasick.Automaton()
        words = {lit for p in patterns for lit in getattr(p, "literals", None) or ()}
        for w in words:
            self.automaton.add_word(w, w)
        self.empty = not words
        if words:
            self.automaton.make_automaton()

    def present(self, text: str) -> frozenset:
        if self.empty:
            return frozenset()
        return frozenset({w for _, w in self.automaton.iter(text)})  # a set display: no generator frames


def may_match_in(pattern, present: frozenset) -> bool:
    """False when none of the pattern's literals is among those a text holds (``LiteralIndex.present``)."""
    lits = getattr(pattern, "literals", None)
    return lits is None or not present.isdisjoint(lits)


def unfiltered(pattern):
    """The regex itself, for a caller that has already applied the prefilter (``may_match_in``)."""
    return pattern.regex if isinstance(pattern, FilteredPattern) else pattern
