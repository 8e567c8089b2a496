"""What a bulk run is told (``RunOptions``) and what it counts (``RunStats``)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable



DEFAULT_TIMEOUT = 120.0


@dataclass
class RunOptions:
    workers: int | None = None  # None: all cores
    timeout: float | None = DEFAULT_TIMEOUT  # seconds per file; None or 0: no limit
    force: bool = False  # ignore cached results (they are overwritten)
    quiet: bool = False
    progress: bool | None = None  # None: when stderr is a terminal and not quiet
    engine: str = "local"  # local / dask
    scheduler: object = None  # dask scheduler address, or a dask.distributed.Client
    cache_dir: str | Path | None = None  # None: no cache
    window: int | None = None  # max files in flight + waiting for order; None: from workers
    ocr: bool | str = False  # read scans by OCR (True or the engine's name) instead of leaving them needs_ocr
    # a step run on each parsed file where it was parsed (in the worker; in this process for a cache
    # hit), which puts what it makes in ``FileResult.payload``: ``index`` tokenises letters there.
    # A top-level function (it is pickled to the workers); the payload is never cached.
    finish: Callable | None = None


@dataclass
class RunStats:
    files: int = 0
    cached: int = 0
    statuses: Counter = field(default_factory=Counter)
    letters: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [f"{n} {s}" for s, n in sorted(self.statuses.items())]
        rate = self.files / self.seconds if self.seconds > 0 else 0.0
        line = (f"replyparse: {self.files} files ({', '.join(parts) or 'none'}), {self.letters} letters, "
                f"{self.cached} from cache, {self.seconds:.1f} s ({rate:.0f} files/s)")
        scans = self.statuses.get("needs_ocr", 0)
        if scans:  # only a run without --ocr (or without an OCR engine) leaves scans unread
            line += f"; {scans} file{'s' if scans > 1 else ''} need{'' if scans > 1 else 's'} OCR: run again with --ocr"
        return line
