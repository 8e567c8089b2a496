"""Per-file work and its manifest row: what every runner (serial, parallel, Dask) does for one file."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..pipeline import parse_document
from .walk import display_path, input_problem
from ..readers import read_file
from ..record import Record
from ..engine.rules import RuleSet, default_rules
from ..status import Reason, Status


@dataclass
class FileResult:
    """One input file: its manifest row (``files`` table) and the records it gave."""
    path: str
    sha256: str | None = None
    format: str | None = None
    encoding: str | None = None
    pages: int = 0
    status: str = Status.OK  # ok / not_letter / needs_ocr / error / skipped
    reason: str | None = None
    reason_code: str | None = None  # status.Reason
    seconds: float = 0.0
    letters: int = 0
    records: list[Record] = field(default_factory=list)
    # the error may go away on another try (a timeout, a crashed worker, an internal error): such a
    # result is never cached. Not a column of the files table.
    transient: bool = False
    # what RunOptions.finish made of this file (the index's token rows); not cached, not a column
    payload: object = None

    def manifest_row(self) -> dict:
        """The ``files`` row: every field but the records (which are not copied)."""
        return {n: getattr(self, n) for n in _ROW_FIELDS}


_ROW_FIELDS = tuple(f.name for f in fields(FileResult) if f.name not in ("records", "transient", "payload"))


def file_sha256(path: str | Path) -> str | None:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def unread_result(path, problem) -> FileResult:
    """A path that is not read (``pipeline.Problem``): a ``skipped`` files row without a record, or an
    ``error`` row with its error record."""
    if problem.status == Status.ERROR:
        return error_result(path, None, problem.code, problem.reason)
    p = Path(path)
    return FileResult(path=str(path), format=p.suffix.lower().lstrip(".") or None, status=problem.status,
                      reason=problem.reason, reason_code=problem.code)


def error_result(path, sha256: str | None, code: Reason, reason: str, seconds: float = 0.0) -> FileResult:
    """An ``error`` row and its error record; a code that may go away on another try (a timeout, a
    crashed worker) makes the result transient: never cached."""
    p = Path(path)
    rec = Record(source=display_path(path), status=Status.ERROR, reason=reason, reason_code=code,
                 format=p.suffix.lower().lstrip(".") or None)
    return FileResult(path=str(path), sha256=sha256, format=rec.format, status=Status.ERROR, reason=reason,
                      reason_code=code, seconds=round(seconds, 4), records=[rec], transient=Reason(code).transient)


def process_file(path: str | Path, rules: RuleSet | None = None, ocr: bool = False,
                 sha256: str | None = None) -> FileResult:
    """Read and parse one file; never raises for bad input (the row says what went wrong).
    With ``ocr``, a scanned PDF is read by OCR instead of being left ``needs_ocr``. ``sha256``: the
    file's hash when the caller has it (the runner hashes each file to look it up in its cache)."""
    problem = input_problem(path)
    if problem is not None:  # checked again here: the file may have changed since the walk
        return unread_result(path, problem)
    t0 = time.perf_counter()
    res = FileResult(path=str(path), sha256=sha256 or file_sha256(path))
    try:
        doc = read_file(path, ocr=ocr, rules=rules)
        res.format, res.encoding, res.pages = doc.format, doc.encoding, len(doc.pages)
        res.records = parse_document(doc, rules or default_rules())
    except Exception as e:  # a bug on one file must not stop a batch of thousands
        res.records = [Record(source=str(path), status=Status.ERROR, reason_code=Reason.INTERNAL_ERROR,
                              reason=f"internal error: {type(e).__name__}: {e}")]
        res.transient = True
    letters = [r for r in res.records if r.status == Status.OK]
    res.letters = len(letters)
    if letters:
        res.status = Status.OK
    elif res.records:
        first = res.records[0]
        res.status, res.reason, res.reason_code = first.status, first.reason, first.reason_code
    res.seconds = round(time.perf_counter() - t0, 4)
    return res
