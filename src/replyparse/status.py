"""The status of a file or record, and the code of the reason behind it.

Every files row and every record has a ``status`` (``Status``) and, when it is not ``ok``, a
``reason_code`` (``Reason``) beside the human ``reason`` message. Code decides on the codes, never
on the wording of a message, so a message can be reworded (or translated) without changing what
the program does; users filter tables on the codes the same way.
"""
from __future__ import annotations

from enum import Enum


class _Code(str, Enum):
    """A code that is its own value wherever a string goes (JSON, CSV, Parquet, SQLite, ==)."""

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__


class Status(_Code):
    OK = "ok"
    NOT_LETTER = "not_letter"  # read, but not a reply letter (a news story, a blank template …)
    NEEDS_OCR = "needs_ocr"  # a scan: no text without OCR (parse --ocr)
    ERROR = "error"  # could not be read or parsed; the reason says why
    SKIPPED = "skipped"  # a file in a folder in a format replyparse does not read


class Reason(_Code):
    # the file itself (walk.py, before it is opened)
    NO_SUCH_FILE = "no_such_file"
    PERMISSION_DENIED = "permission_denied"
    CANNOT_READ = "cannot_read"  # an I/O error, a name past the OS limit
    NOT_REGULAR_FILE = "not_regular_file"  # a named pipe, socket or device
    TOO_LARGE = "too_large"
    UNSUPPORTED = "unsupported"  # an extension replyparse does not read
    CANNOT_LIST_FOLDER = "cannot_list_folder"
    # what is in it (readers/, normalize.py)
    EMPTY = "empty"  # no bytes, or no text
    BINARY = "binary"  # bytes that are not text
    UNDECODABLE = "undecodable"
    MOJIBAKE = "mojibake"  # text decoded with a wrong codec upstream
    WRONG_FORMAT = "wrong_format"  # named .pdf/.docx/.doc but holding something else
    DAMAGED = "damaged"  # a damaged PDF, Word file, web page or image
    PASSWORD = "password"  # a PDF that needs a password to open
    NO_TEXT = "no_text"  # a readable document without text (only images, no article, no pages)
    SCAN = "scan"  # no text layer: needs OCR
    CONVERTER_MISSING = "converter_missing"  # LibreOffice not installed (legacy .doc)
    CONVERTER_FAILED = "converter_failed"
    # the letter (pipeline.py)
    NOT_LETTER = "not_letter"
    # the run (run/)
    TIMEOUT = "timeout"
    WORKER_DIED = "worker_died"
    WORKER_ERROR = "worker_error"
    INTERNAL_ERROR = "internal_error"  # a bug met on this file; the batch went on

    @property
    def transient(self) -> bool:
        """The error may go away on another try (such results are never cached)."""
        return self in _TRANSIENT


_TRANSIENT = frozenset({Reason.TIMEOUT, Reason.WORKER_DIED, Reason.WORKER_ERROR, Reason.INTERNAL_ERROR})
