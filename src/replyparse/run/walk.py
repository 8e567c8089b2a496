"""Walking the inputs: every path met, in order, with why it is not read when it is not
(``Problem``), and file names shown readably whatever bytes they are in."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from ..readers.document import SUPPORTED_EXTS
from ..status import Reason, Status


def display_path(path: str | Path) -> str:
    """The path as text that can be written out: a file name in GBK bytes (common on archives
    copied from Windows) is shown decoded instead of as undecodable surrogates."""
    s = str(path)
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        raw = os.fsencode(s)
        for codec in ("gb18030", "big5"):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                continue
        return raw.decode("utf-8", "replace")


MAX_INPUT_BYTES = 1 << 30  # a compiled PDF of a year's replies is far less; a bigger file is not hashed or read


@dataclass(frozen=True)
class Problem:
    """Why a file met on the command line or in a folder is not read: ``skipped`` or ``error``,
    the reason's code (``status.Reason``) and the reason in words."""
    status: str
    code: str
    reason: str


def input_problem(path: str | Path) -> Problem | None:
    """None for a regular file replyparse may open; else why not. Checked before a file is hashed
    or opened, so a named pipe never blocks a run and a 20 GB file is never read."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Problem(Status.ERROR, Reason.NO_SUCH_FILE, "no such file")
    except PermissionError:
        return Problem(Status.ERROR, Reason.PERMISSION_DENIED, "permission denied")
    except OSError as e:  # a name past the OS limit, a symlink loop, an I/O error
        return Problem(Status.ERROR, Reason.CANNOT_READ, f"cannot read: {e.strerror or e}")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a named pipe" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a file")
        return Problem(Status.ERROR, Reason.NOT_REGULAR_FILE, f"not a regular file ({kind})")
    if st.st_size > MAX_INPUT_BYTES:
        return Problem(Status.ERROR, Reason.TOO_LARGE, f"file too large: {st.st_size} bytes (limit {MAX_INPUT_BYTES})")
    return None


def iter_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and supported files under folders (recursive, sorted, no link loops)."""
    for p, problem in iter_inputs(paths):
        if problem is None:
            yield p


def iter_inputs(paths: Iterable[str | Path]) -> Iterator[tuple[Path, Problem | None]]:
    """Every path met, in order: (path, None) for a file to read — named directly, or under a folder
    with an extension replyparse reads — and (path, Problem) for one that is not read: a file under a
    folder in a format replyparse does not read (``skipped``), a folder that cannot be listed, a path
    that does not exist, a named pipe or device, a file past the size limit (``error``)."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for fp, problem in _walk(p):
                if problem is None and fp.suffix.lower() not in SUPPORTED_EXTS:
                    ext = fp.suffix.lower()
                    problem = Problem(Status.SKIPPED, Reason.UNSUPPORTED, f"not a format replyparse reads ({ext or 'no extension'})")
                yield fp, problem or input_problem(fp)
        else:
            yield p, input_problem(p)


def _walk(root: Path) -> Iterator[tuple[Path, Problem | None]]:
    """Files under ``root``, sorted, each folder once (symlink loops), with a Problem for each
    folder that cannot be listed (permission, a path past the OS limit) instead of silence."""
    seen = set()
    unlisted: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=unlisted.append):
        while unlisted:
            e = unlisted.pop(0)
            yield Path(e.filename or dirpath), Problem(Status.ERROR, Reason.CANNOT_LIST_FOLDER, f"cannot list folder: {e.strerror or e}")
        try:
            st = os.stat(dirpath)
        except OSError as e:
            yield Path(dirpath), Problem(Status.ERROR, Reason.CANNOT_LIST_FOLDER, f"cannot list folder: {e.strerror or e}")
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            dirnames[:] = []
            continue
        seen.add(key)
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name, None
    for e in unlisted:
        yield Path(e.filename or root), Problem(Status.ERROR, Reason.CANNOT_LIST_FOLDER, f"cannot list folder: {e.strerror or e}")
