"""Rule files: load, validate, compose and compile the YAML pattern files in ``rules/``.

A rule file holds one field family (``doc_number.yaml``, ``money.yaml`` ...):

    defs:      named regex fragments, used in patterns as {NAME}
    rules:     list of rules, each with a stable ``id``
    examples:  phrases the family must (or must not) extract, run by the tests

``common.yaml`` holds only ``defs`` that every file may use. Folders given later
(``--rules DIR``) layer over earlier ones: a rule with an existing id replaces it,
a new id is added, and defs of the same name override.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import signal
import sys
import threading
from dataclasses import dataclass, field as dc_field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import regex

from ..errors import RuleError
from .prefilter import FilteredPattern, required_literals

# the families every stage of the pipeline reads: a rule set without one of them would give
# records with fields silently empty, so loading it is an error
PIPELINE_FAMILIES = ("letter", "segment", "doc_number", "issuer", "title", "proposal", "proposers",
                     "handling", "date", "contact", "cc", "money", "roles", "actions", "layout")
DEF_REF = regex.compile(r"\{([A-Z][A-Z0-9_]*)\}")
COMMON = "common"


MAX_RULE_FILE_BYTES = 1 << 20  # the largest built-in rule file is ~25 kB




@dataclass(frozen=True)
class Rule:
    id: str
    family: str
    pattern: Any  # compiled regex.Pattern or None
    source: str  # pattern text after {DEF} substitution
    file: str
    line: int
    segment: tuple[str, ...] = ("any",)
    field: str | None = None
    value: Any = None
    priority: int = 0
    params: dict = dc_field(default_factory=dict)  # family-specific keys (role, category, ...)

    def get(self, key: str, default=None):
        return self.params.get(key, default)


@dataclass(frozen=True)
class Example:
    family: str
    text: str
    expect: dict
    segment: str | None
    file: str
    line: int
    note: str | None = None


@dataclass
class RuleSet:
    families: dict[str, list[Rule]]
    defs: dict[str, dict[str, str]]
    examples: dict[str, list[Example]]
    sources: list[str]
    version: str
    kinds: dict[str, str] = dc_field(default_factory=dict)  # family -> header / segment / letter / money / roles / actions
    extra_fields: tuple = ()  # FieldSpec of the fields rule files declare beyond the spec's
    _memo: dict = dc_field(default_factory=dict, repr=False, compare=False)  # of_kind lists, the literal index

    def __getstate__(self):  # what the disk cache and worker processes get: without the memo
        state = dict(self.__dict__)
        state["_memo"] = {}
        return state

    def rules(self, family: str) -> list[Rule]:
        return self.families.get(family, [])

    def kind(self, family: str) -> str:
        from .fields import family_kind

        return family_kind(family, self.kinds)

    def of_kind(self, kind: str) -> list[Rule]:
        """The rules of every family of this kind (a region's own ``actions_local.yaml`` beside
        ``actions.yaml``), highest priority first."""
        key = ("kind", kind)
        if key not in self._memo:
            fams = [f for f in self.families if self.kind(f) == kind]
            self._memo[key] = (self.families[fams[0]] if len(fams) == 1 else
                               sorted((r for f in fams for r in self.families[f]), key=lambda r: -r.priority))
        return self._memo[key]

    def memo(self, key, make):
        """What ``make()`` builds from this rule set, built once (an extractor's plan of its rules);
        dropped when the set is pickled. Treat it as read-only: it is shared by every letter."""
        value = self._memo.get(key)
        if value is None:
            value = self._memo[key] = make()
        return value

    def literals_in(self, text: str) -> frozenset:
        """The rule literals ``text`` holds (prefilter.LiteralIndex), for ``prefilter.may_match_in``."""
        index = self._memo.get("literals")
        if index is None:
            from .prefilter import LiteralIndex

            index = self._memo["literals"] = LiteralIndex(
                p for rules in self.families.values() for r in rules
                for p in (r.pattern, *(v for v in r.params.values() if hasattr(v, "finditer"))))
        return index.present(text)

    def header_families(self) -> tuple[str, ...]:
        """The families that fill letter fields: the built-in ones in their order, then the others."""
        if "header_families" not in self._memo:
            from .fields import HEADER_FAMILIES

            fams = [f for f in self.families if self.kind(f) == "header"]
            self._memo["header_families"] = (tuple(f for f in HEADER_FAMILIES if f in fams)
                                             + tuple(sorted(f for f in fams if f not in HEADER_FAMILIES)))
        return self._memo["header_families"]

    def fields(self) -> tuple:
        """The letter's fields (``fields.FieldSpec``): the spec's, then those rule files declare."""
        if "fields" not in self._memo:
            from .fields import BUILTIN_FIELDS

            self._memo["fields"] = BUILTIN_FIELDS + tuple(self.extra_fields)
        return self._memo["fields"]

    def compile(self, family: str, text: str, flags=0):
        """Compile an ad-hoc pattern with the family's defs (for code that builds a pattern from a list)."""
        return regex.compile(expand_defs(text, self.defs.get(family, {}), family, "<code>", 0), flags | regex.V0)

    def fragment(self, family: str, name: str) -> str:
        return expand_defs("{%s}" % name, self.defs.get(family, {}), family, "<code>", 0)

    def counts(self) -> dict[str, dict[str, int]]:
        return {f: {"rules": len(self.families.get(f, [])), "examples": len(self.examples.get(f, []))}
                for f in sorted(set(self.families) | set(self.examples))}


def expand_defs(pattern: str, defs: dict[str, str], file: str, rule_id: str, line: int, _depth=0) -> str:
    if _depth > 20:
        raise RuleError(f"{file}:{line}: rule {rule_id}: defs nest too deep (a cycle?)")

    def sub(m):
        name = m.group(1)
        if name not in defs:
            raise RuleError(f"{file}:{line}: rule {rule_id}: unknown def {{{name}}}")
        return expand_defs(defs[name], defs, file, rule_id, line, _depth + 1)

    return DEF_REF.sub(sub, pattern)


def builtin_rules_dir():
    """The built-in rule folder: package data (pyproject maps the repository's top-level ``rules/``
    to ``replyparse.builtin_rules``), found the same way in a checkout, an editable install and a wheel."""
    try:
        return resources.files("replyparse.builtin_rules")
    except ModuleNotFoundError:
        raise RuleError("replyparse.builtin_rules:0: the built-in rules are not installed "
                        "(reinstall replyparse: pip install --force-reinstall replyparse)") from None


@functools.lru_cache(maxsize=1)
def rule_schema() -> dict:
    return json.loads(resources.files(__package__).joinpath("rules_schema.json").read_text("utf-8"))


def _validate(doc: Any, path: Path) -> None:
    import jsonschema  # only when a rule file is read, not when the compiled set comes from the cache

    validator = jsonschema.Draft202012Validator(rule_schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    err = errors[0]
    # walk down to the innermost mapping to report its line and rule id
    node, line, rule_id = doc, getattr(doc, "line", 0), "-"
    for key in err.absolute_path:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict):
            line = getattr(node, "line", line)
            rule_id = node.get("id", rule_id)
    where = "/".join(str(p) for p in err.absolute_path) or "(top)"
    raise RuleError(f"{path}:{line}: rule {rule_id}: {err.message} (at {where})")


def _rule_files(folder) -> list:
    """The ``*.yaml`` files of a folder (a Path or an importlib.resources Traversable), by name."""
    return sorted((p for p in folder.iterdir() if p.name.endswith(".yaml") and p.is_file()), key=lambda p: p.name)


def _rule_dirs(extra: Iterable[str | Path] | None) -> list:
    dirs = [builtin_rules_dir()]
    for d in extra or []:
        p = Path(d)
        if not p.is_dir():
            raise RuleError(f"{p}:0: rules folder not found")
        dirs.append(p)
    return dirs


def load_rules(extra_dirs: Iterable[str | Path] | None = None, builtin: bool = True,
               required: Iterable[str] = PIPELINE_FAMILIES) -> RuleSet:
    """Load the built-in rules, then each folder of ``extra_dirs`` over them.

    Raises ``RuleError`` for an invalid file, and for a set lacking rules of a ``required`` family."""
    dirs = _rule_dirs(extra_dirs) if builtin else [Path(d) for d in extra_dirs or []]
    files = [[(path, _read_rule_file(path)) for path in _rule_files(d)] for d in dirs]
    digest = hashlib.sha256()
    for folder in files:
        for path, data in folder:
            digest.update(path.name.encode() + b"\0" + data)
    version = digest.hexdigest()[:16]
    key = _cache_key(version, dirs, files, tuple(required))
    cached = _cache_load(key)
    if cached is not None:
        return cached
    ruleset = _build(dirs, files, tuple(required), version)
    _cache_store(key, ruleset)
    return ruleset


def _read_rule_file(path) -> bytes:
    with path.open("rb") as f:
        data = f.read(MAX_RULE_FILE_BYTES + 1)
    if len(data) > MAX_RULE_FILE_BYTES:
        raise RuleError(f"{path}:0: rule file larger than {MAX_RULE_FILE_BYTES // 1024} kB; split it or shorten it")
    return data


# ---------------------------------------------------------------- compiled rule sets cached on disk
# Parsing and validating the YAML takes ~0.3 s, a process start ten times over; the compiled set is
# cached per user, keyed by every rule file's bytes, their folders and the versions that shape it.

def cache_dir() -> Path:
    if os.environ.get("REPLYPARSE_CACHE_DIR"):
        return Path(os.environ["REPLYPARSE_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "replyparse"


def _cache_key(version: str, dirs, files, required: tuple) -> str:
    from .. import __version__

    h = hashlib.sha256(f"{version}|{__version__}|{regex.__version__}|{sys.version_info[:2]}|{required}".encode())
    h.update(_code_digest())  # a change to how rules compile (this module, the schema) is a new set
    for d, folder in zip(dirs, files):
        h.update(f"|{d}:{','.join(p.name for p, _ in folder)}".encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:32]


@functools.lru_cache(maxsize=1)
def _code_digest() -> bytes:
    h = hashlib.sha256()
    for name in ("rules.py", "prefilter.py", "rule_yaml.py", "fields.py", "rules_schema.json"):
        h.update(resources.files(__package__).joinpath(name).read_bytes())
    return h.digest()


def _cache_load(key: str) -> RuleSet | None:
    if os.environ.get("REPLYPARSE_NO_RULE_CACHE"):
        return None
    try:
        with open(cache_dir() / f"rules-{key}.pickle", "rb") as f:
            ruleset = pickle.load(f)
        return ruleset if isinstance(ruleset, RuleSet) else None
    except Exception:  # missing, unreadable or from another version: parse the YAML again
        return None


def _cache_store(key: str, ruleset: RuleSet) -> None:
    if os.environ.get("REPLYPARSE_NO_RULE_CACHE"):
        return
    try:
        d = cache_dir()
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f".rules-{key}.{os.getpid()}.tmp"
        tmp.write_bytes(pickle.dumps(ruleset, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, d / f"rules-{key}.pickle")
    except OSError:  # a read-only home: every process parses the YAML, nothing else changes
        pass


def _build(dirs, files, required: tuple, version: str) -> RuleSet:
    from .rule_yaml import LineDict, read_yaml

    raw_rules: dict[str, dict[str, tuple[dict, Path]]] = {}  # family -> id -> (rule, file)
    defs: dict[str, dict[str, str]] = {}
    examples: dict[str, list[Example]] = {}
    sources: list[str] = []
    seen_ids: dict[str, tuple[str, Path]] = {}
    kinds: dict[str, str] = {}
    declared: dict[str, tuple[dict, Path]] = {}  # field name -> (declaration, file)
    for folder in files:
        ids_in_dir: dict[str, Path] = {}
        for path, data in folder:
            family = path.name[: -len(".yaml")]
            sources.append(str(path))
            doc = read_yaml(path, data)
            if doc is None:
                doc = LineDict()
            _validate(doc, path)
            if doc.get("kind"):
                kinds[family] = doc["kind"]
            for fd in doc.get("fields") or []:
                declared[fd["name"]] = (fd, path)
            defs.setdefault(family, {}).update(doc.get("defs") or {})
            fam_rules = raw_rules.setdefault(family, {})
            for r in doc.get("rules") or []:
                rid = r["id"]
                if rid in ids_in_dir:
                    raise RuleError(f"{path}:{r.line}: rule {rid}: duplicate id (also in {ids_in_dir[rid]})")
                ids_in_dir[rid] = path
                if rid in seen_ids and seen_ids[rid][0] != family:
                    raise RuleError(f"{path}:{r.line}: rule {rid}: id already used in {seen_ids[rid][1]}")
                seen_ids[rid] = (family, path)
                fam_rules[rid] = (r, path)
            for ex in doc.get("examples") or []:
                examples.setdefault(family, []).append(Example(
                    family=family, text=ex["text"], expect=_plain(ex.get("expect") or {}),
                    segment=ex.get("segment"), file=str(path), line=ex.line, note=ex.get("note")))
    common = defs.pop(COMMON, {})
    raw_rules.pop(COMMON, None)
    families: dict[str, list[Rule]] = {}
    for family, by_id in raw_rules.items():
        fam_defs = {**common, **defs.get(family, {})}
        defs[family] = fam_defs
        compiled = []
        for rid, (r, path) in by_id.items():
            compiled.append(_compile_rule(r, family, fam_defs, path))
        compiled.sort(key=lambda rule: -rule.priority)  # stable: file order within a priority
        families[family] = compiled
    for family in examples:
        defs.setdefault(family, dict(common))
    extra_fields = _declared_fields(declared, kinds, raw_rules)
    missing = [f for f in required if not families.get(f)]
    if missing:
        where = ", ".join(str(d) for d in dirs) or "(no folder)"
        raise RuleError(f"{where}:0: no rules for {', '.join(missing)} (the pipeline needs "
                        f"{', '.join(f + '.yaml' for f in missing)}; is the package installed whole?)")
    return RuleSet(families=families, defs=defs, examples=examples, sources=sources, version=version,
                   kinds=kinds, extra_fields=extra_fields)


def _declared_fields(declared: dict, kinds: dict, raw_rules: dict) -> tuple:
    """The fields rule files declare, checked: a new name, and every rule of a new header family
    fills a field that exists (else its values would vanish without a word)."""
    from .fields import GROUP_ALIASES, HEADER_FAMILIES, FieldSpec, family_kind
    from ..record import HEADER_FIELDS, Record

    taken = set(Record.__dataclass_fields__)
    out = []
    for name, (fd, path) in declared.items():
        if name in taken:
            raise RuleError(f"{path}:{fd.line}: field {name}: a record field of that name exists already")
        out.append(FieldSpec(name, fd.get("type", "text"), fd.get("column", True), path.name[: -len(".yaml")],
                             fd.get("description", "")))
    known = set(HEADER_FIELDS) | set(declared)
    for family, by_id in raw_rules.items():
        if family_kind(family, kinds) != "header" or family in HEADER_FAMILIES:
            continue
        for rid, (r, path) in by_id.items():
            target = r.get("field") or GROUP_ALIASES.get(family, family)
            if "when" not in r and target not in known:
                raise RuleError(f"{path}:{r.line}: rule {rid}: it fills field {target!r}, which no rule file declares "
                                f"(add to {path.name}: fields: [{{name: {target}, type: text}}])")
    return tuple(out)


_KNOWN = {"id", "pattern", "segment", "field", "value", "priority", "description", "flags"}
_FLAGS = {"IGNORECASE": regex.IGNORECASE, "MULTILINE": regex.MULTILINE, "DOTALL": regex.DOTALL}


def _compile_rule(r: dict, family: str, defs: dict, path: Path) -> Rule:
    rid, line = r["id"], r.line
    compiled = None
    source = ""
    if "pattern" in r:
        source = expand_defs(r["pattern"], defs, str(path), rid, line)
        flags = regex.V0 | regex.MULTILINE
        for f in r.get("flags") or []:
            flags |= _FLAGS[f]
        try:
            compiled = with_prefilter(regex.compile(source, flags))
        except regex.error as e:
            raise RuleError(f"{path}:{line}: rule {rid}: bad regex: {e}") from None
    params = {}
    for k, v in r.items():
        if k in _KNOWN:
            continue
        if isinstance(v, str) and k in ("before", "after", "not_before", "not_after", "context", "purpose", "funder"):
            v = _compile_param(expand_defs(v, defs, str(path), rid, line), path, line, rid, k)
        elif k == "letter" and isinstance(v, dict):
            # a condition on the letter's own fields (its proposal title names money): field -> regex
            v = {f: _compile_param(expand_defs(str(pat), defs, str(path), rid, line), path, line, rid, f"letter.{f}")
                 for f, pat in v.items()}
        params[k] = _plain(v)
    seg = r.get("segment", "any")
    return Rule(id=rid, family=family, pattern=compiled, source=source, file=str(path), line=line,
                segment=tuple(seg) if isinstance(seg, list) else (seg,), field=r.get("field"),
                value=r.get("value"), priority=int(r.get("priority", 0)), params=params)


def _plain(value):
    """YAML mappings as plain dicts (rule_yaml.LineDict is a dict that knows its line): a rule set
    loaded from the cache must not import rule_yaml and PyYAML (~12 ms of every start) to unpickle."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _compile_param(text: str, path: Path, line: int, rid: str, key: str):
    try:
        return with_prefilter(regex.compile(text, regex.V0))
    except regex.error as e:
        raise RuleError(f"{path}:{line}: rule {rid}: bad regex in {key}: {e}") from None


def with_prefilter(compiled):
    """The compiled regex behind its literal prefilter when it has one (see prefilter.py)."""
    if os.environ.get("REPLYPARSE_NO_PREFILTER"):
        return compiled
    lits = required_literals(compiled.pattern, ignore_case=bool(compiled.flags & regex.IGNORECASE))
    return FilteredPattern(compiled.pattern, compiled.flags, lits, compiled)


# ---------------------------------------------------------------- time limits on rule regexes
# A rule regex may backtrack for ever on a hostile text. A time limit on each call (``timeout=``)
# costs two clock_gettime system calls, ~1.7 µs, and a letter makes over a thousand of them: a
# third of a letter's time. So a letter is parsed under one watchdog instead (``bounded``), an
# interval timer whose signal ``regex`` notices inside a match; only when the letter overruns it is
# the letter parsed again with a limit on every call, as before, so the records are the same.

RULE_TIMEOUT = 0.5  # seconds one rule may spend on one part of one letter (the guarded path)
LETTER_BUDGET = 2.0  # seconds a letter may take before it is parsed again with per-call limits


class _Limits(threading.local):
    timeout: float | None = RULE_TIMEOUT  # None while this thread's letter runs under a watchdog


_limits = _Limits()


class LetterOverrun(BaseException):
    """The letter's watchdog fired. Raised from the signal handler wherever the letter was, so not
    an Exception: no ``except Exception`` on the way (money, a reader) may take it for a bad span."""


def _overrun(signum, frame):
    raise LetterOverrun()


def _can_watch() -> bool:
    """A watchdog needs the main thread (signals go there) and an interval timer nobody else uses."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return False
    return signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None) and \
        signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def bounded(fn, *args):
    """``fn(*args)`` (one letter's extraction) under one watchdog of ``LETTER_BUDGET`` seconds, the
    rule regexes called without a limit each; if it fires, ``fn`` runs again with a limit on every
    call (the rule that stalls gives nothing, with a warning). Where no watchdog can be set (a
    thread other than the main one: Dask, the web server), the limit on every call is kept."""
    if _limits.timeout is None or not _can_watch():  # nested, or no watchdog possible
        return fn(*args)
    old = signal.signal(signal.SIGALRM, _overrun)
    try:
        _limits.timeout = None
        try:
            signal.setitimer(signal.ITIMER_REAL, LETTER_BUDGET)
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            _limits.timeout = RULE_TIMEOUT
            signal.signal(signal.SIGALRM, old)
    except LetterOverrun:
        pass
    return fn(*args)


def rule_timeout(timeout: float = RULE_TIMEOUT) -> float | None:
    """The limit for one regex call: ``timeout``, or None under a letter's watchdog."""
    return timeout if _limits.timeout is not None else None


def search(pattern, text: str, timeout: float = RULE_TIMEOUT):
    """``pattern.search`` that gives up (returns None) on a pathological text instead of stalling."""
    if _limits.timeout is None:  # under a letter's watchdog: the plain call (a keyword costs, hundreds of times a letter)
        return pattern.search(text)
    try:
        return pattern.search(text, timeout=timeout)
    except TimeoutError:
        return None


def match(pattern, text: str, timeout: float = RULE_TIMEOUT):
    """``pattern.match`` bounded like ``search``."""
    if _limits.timeout is None:
        return pattern.match(text)
    try:
        return pattern.match(text, timeout=timeout)
    except TimeoutError:
        return None


def finditer(pattern, text: str, timeout: float = RULE_TIMEOUT) -> list:
    """``pattern.finditer`` as a list, bounded like ``search``."""
    if _limits.timeout is None:
        return list(pattern.finditer(text))
    try:
        return list(pattern.finditer(text, timeout=timeout))
    except TimeoutError:
        return []


@functools.lru_cache(maxsize=8)
def load_rules_cached(extra_dirs: tuple[str, ...] = ()) -> RuleSet:
    """``load_rules`` once per process for each tuple of ``--rules`` folders (worker processes)."""
    return default_rules() if not extra_dirs else load_rules(extra_dirs)


_DEFAULT: RuleSet | None = None


def default_rules() -> RuleSet:
    """The built-in rule set, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_rules()
    return _DEFAULT
