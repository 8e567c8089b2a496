"""What the command line tells a user who made a mistake, and the exit statuses it uses.

Every user mistake is one line ``replyparse: error: …`` that says what to do, never a traceback.
"""
from __future__ import annotations

import os
from pathlib import Path

EXIT_OK = 0
EXIT_FILE_ERRORS = 1  # the run finished; some input files have status error (their rows say why)
EXIT_USAGE = 2  # a wrong option, path or rule file: nothing was read
EXIT_OUTPUT = 3  # the output could not be written (disk full, read-only, permission)
EXIT_BUSY = 4  # another run is writing into the same --out folder
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class RuleError(ValueError):
    """A rule file is malformed; the message names file, rule and line (exit status 2)."""


class UsageError(Exception):
    """A mistake in what the user asked for; the message says what to do instead."""
    exit_status = EXIT_USAGE


def output_file(path: str | Path, what: str = "-o") -> Path:
    """A file the command will write: its folder is created; a folder in its place is a mistake."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{what} {path} is a folder; give a file name (for tables in a folder use --out DIR)")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"{what} {path}: {p.parent} is a file, not a folder") from None
    return p


def output_dir(path: str | Path, what: str = "--out") -> Path:
    """A folder the command will write into (created when missing); an existing file is a mistake."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(f"{what} {path} is a file; give a folder (records into one file: -o FILE)")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"{what} {path}: a part of that path is a file, not a folder") from None
    return p


def existing_inputs(paths, what: str = "input") -> None:
    """Every path named on the command line must exist (files inside folders are checked per file)."""
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise UsageError(f"no such file or folder: {missing[0]}{more}; check the {what} path")
