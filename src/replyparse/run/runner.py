"""The one executor: every command that parses letters (parse, index, export, report) runs the
same per-file work (``batch.process_file``, then ``RunOptions.finish`` where given) through
``run``: serially, in local worker processes, or on a Dask cluster (``engines.py``), with a
result cache (``cache.py``), per-file timeouts and a progress bar (``progress.py``).

``run(paths, rules, options)`` is a generator of ``FileResult`` in the sorted input order
(``walk.iter_inputs``), whatever the number of workers or the engine. It streams: paths are
walked lazily, at most ``window`` files are in flight or waiting to be emitted, and each result
is handed on (and cached) as soon as every earlier file has been.

Engines:

* ``serial``   — in this process (``--workers 1 --timeout 0``): cheapest, no timeout possible.
* ``local``    — N worker processes, one file at a time each; a file that runs past the timeout
  has its worker killed and replaced, and becomes an ``error`` row.
* ``dask``     — ``dask.distributed.Client(scheduler)``; the rule set is scattered once and each
  task is a batch of files, parsed in a process each worker thread forks once and keeps. Input
  paths must be readable on the workers (shared file system)."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .batch import FileResult, file_sha256, unread_result
from .walk import iter_inputs
from ..engine.rules import RuleSet, default_rules
from .cache import ResultCache
from .engines import finished, make_engine
from .options import RunOptions, RunStats
from .progress import Progress


def run(paths: Iterable[str | Path], rules: RuleSet | None = None, options: RunOptions | None = None,
        stats: RunStats | None = None, on_result: Callable[[FileResult], None] | None = None
        ) -> Iterator[FileResult]:
    """Yield one ``FileResult`` per input file, in input order; see the module doc."""
    opts = options or RunOptions()
    rules = rules or default_rules()
    stats = stats if stats is not None else RunStats()
    paths = list(paths)
    show = opts.progress if opts.progress is not None else (not opts.quiet and sys.stderr.isatty())
    total = sum(1 for _ in iter_inputs(paths)) if show else None
    # an OCR run reads scans a plain run leaves needs_ocr: its results are cached apart, per engine
    # (``ocr`` carries the engine's name)
    ocr_key = "" if not opts.ocr else ":ocr" + (f"-{opts.ocr}" if isinstance(opts.ocr, str) else "")
    cache = ResultCache(opts.cache_dir, rules.version + ocr_key) if opts.cache_dir else None
    t0 = time.perf_counter()
    engine = make_engine(rules, opts)
    window = opts.window or max(64, engine.capacity * 8)
    progress = Progress(show, total)
    source = enumerate(iter_inputs(paths))
    exhausted = False
    next_idx = 0  # next index to emit
    submitted = 0  # indexes handed out so far (to the engine or from the cache)
    buffer: dict[int, FileResult] = {}
    in_flight = 0

    def done(idx: int, res: FileResult, from_cache: bool, blob: bytes | None = None, store: bool = True) -> None:
        buffer[idx] = res
        stats.files += 1
        stats.cached += from_cache
        stats.statuses[res.status] += 1
        stats.letters += res.letters
        if cache is not None and store and not from_cache:
            cache.put(res, blob)
        progress.update(stats)

    try:
        while True:
            # hand out work while the reordering window and the engine allow
            while not exhausted and submitted - next_idx < window and engine.free() > 0:
                try:
                    idx, (path, problem) = next(source)
                except StopIteration:
                    exhausted = True
                    engine.end_of_input()
                    break
                submitted += 1
                if problem is not None:  # not read, so nothing to cache
                    done(idx, unread_result(path, problem), False, store=False)
                    continue
                sha = file_sha256(path) if cache is not None else None
                hit = cache.get(sha, path) if cache is not None and not opts.force else None
                if hit is not None:
                    done(idx, finished(hit, opts.finish), True)
                else:
                    engine.submit(idx, path, sha)
                    in_flight += 1
            # emit in order
            while next_idx in buffer:
                res = buffer.pop(next_idx)
                next_idx += 1
                if on_result:
                    on_result(res)
                yield res
            if exhausted and in_flight == 0 and not buffer:
                break
            if in_flight:
                for idx, res, blob in engine.wait(0.5):
                    in_flight -= 1
                    done(idx, res, False, blob)
                if cache is not None:
                    cache.flush()  # one commit per batch of results: a killed run keeps them
    finally:
        stats.seconds = time.perf_counter() - t0
        engine.close()
        if cache is not None:
            cache.close()
        progress.close(stats)


def run_mixed(paths: Iterable[str | Path], is_records: Callable[[str], bool], read_records: Callable[[str], Iterable],
              from_result: Callable[[FileResult], Iterable], rules: RuleSet | None = None,
              options: RunOptions | None = None) -> Iterator[Any]:
    """Items from a mix of inputs, in the order given: a path ``is_records`` claims (a records
    JSONL, a parse ``--out`` folder) gives what ``read_records`` reads from it; every other path is
    parsed by ``run`` (consecutive ones in one run) and each file gives ``from_result(result)``."""
    pending: list[str] = []

    def parse_pending() -> Iterator[Any]:
        if not pending:
            return
        results = run(list(pending), rules, options or RunOptions(quiet=True))
        pending.clear()
        try:
            for res in results:  # in input order, whatever the number of workers
                yield from from_result(res)
        finally:
            results.close()

    for arg in paths:
        if is_records(str(arg)):
            yield from parse_pending()
            yield from read_records(str(arg))
        else:
            pending.append(str(arg))
    yield from parse_pending()
