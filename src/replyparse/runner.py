"""Bulk runs: the same per-file work (``batch.process_file``) run serially, in local worker
processes, or on a Dask cluster, with a result cache, per-file timeouts and a progress bar.

``run(paths, rules, options)`` is a generator of ``FileResult`` in the sorted input order
(``walk.iter_inputs``), whatever the number of workers or the engine. It streams: paths are
walked lazily, at most ``window`` files are in flight or waiting to be emitted, and each result
is handed on (and cached) as soon as every earlier file has been.

Engines:

* ``serial``   — in this process (``--workers 1 --timeout 0``): cheapest, no timeout possible.
* ``local``    — N worker processes, one file at a time each; a file that runs past the timeout
  has its worker killed and replaced, and becomes an ``error`` row.
* ``dask``     — ``dask.distributed.Client(scheduler)``; the rule set is scattered once and each
  file is a task. Input paths must be readable on the workers (shared file system).
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import sqlite3
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import wait as mp_wait
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import __version__
from .batch import FileResult, error_result, file_sha256, process_file, unread_result
from .walk import display_path, iter_inputs
from .record import Record
from .rules import RuleSet, default_rules

DEFAULT_TIMEOUT = 120.0
CACHE_DIRNAME = ".cache"
CACHE_FILE = "results.sqlite"
SLOW_ENV = "REPLYPARSE_TEST_SLOW"  # test hook: "NAME[:SECONDS]" makes the worker sleep on that file


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
    ocr: bool = False  # read scanned PDFs with Tesseract instead of leaving them needs_ocr


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


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# ---------------------------------------------------------------- per-file work


def _test_slow(path: str) -> None:
    spec = os.environ.get(SLOW_ENV)
    if not spec:
        return
    name, _, secs = spec.partition(":")
    if Path(path).name == name:
        time.sleep(float(secs or 3600))


def work(path: str, rules: RuleSet | None = None, ocr: bool = False) -> FileResult:
    """What every engine runs for one file."""
    _test_slow(str(path))
    return process_file(path, rules, ocr=ocr)


# ---------------------------------------------------------------- cache

def encode_result(res: FileResult) -> bytes:
    """A result as the cache stores it (compressed JSON)."""
    data = {"row": res.manifest_row(), "records": [r.to_dict() for r in res.records]}
    # surrogateescape: a file name in foreign bytes (GBK from Windows) is kept byte for byte
    return zlib.compress(json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogateescape"), 1)


class CachedRecord(Record):
    """A record rebuilt from the cache: ``to_dict`` hands back the stored dict instead of walking
    the dataclasses again (a re-run is mostly this). Treat it as read-only."""

    def to_dict(self):
        return self._stored


class ResultCache:
    """Finished results in ``DIR/.cache/results.sqlite``, keyed by the file's sha256, its
    extension (the reader depends on it), the rule set's version and replyparse's version.
    Timeouts, crashed workers and internal errors are not cached: they may go away."""

    def __init__(self, cache_dir: str | Path, rules_version: str):
        self.dir = Path(cache_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.dir / CACHE_FILE), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, data BLOB NOT NULL)")
        self.suffix = f"{rules_version}:{__version__}"
        self._pending: list[tuple[str, bytes]] = []

    def key(self, sha256: str, path) -> str:
        return f"{sha256}:{display_path(Path(path).suffix.lower())}:{self.suffix}"

    def get(self, sha256: str | None, path) -> FileResult | None:
        if not sha256:
            return None
        row = self.db.execute("SELECT data FROM results WHERE key=?", (self.key(sha256, path),)).fetchone()
        if row is None:
            return None
        try:
            data = json.loads(zlib.decompress(row[0]).decode("utf-8", "surrogateescape"))
            return _rebase(data, path)
        except Exception:  # a damaged entry is a miss
            return None

    def put(self, res: FileResult, blob: bytes | None = None) -> None:
        if not res.sha256 or not cacheable(res):
            return
        self._pending.append((self.key(res.sha256, res.path), blob or encode_result(res)))

    def flush(self) -> None:
        if self._pending:
            with self.db:
                self.db.execute("BEGIN")
                self.db.executemany("INSERT OR REPLACE INTO results (key, data) VALUES (?, ?)", self._pending)
            self._pending.clear()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.db.close()


def cacheable(res: FileResult) -> bool:
    return not res.transient


def _rebase(data: dict, path) -> FileResult:
    """A cached result for the same content, possibly under another name: use this path."""
    row = dict(data["row"])
    old_src, new_src = display_path(row["path"]), display_path(path)
    row["path"] = str(path)
    res = FileResult(**{k: v for k, v in row.items() if k in FileResult.__dataclass_fields__})
    for d in data["records"]:
        src = d.get("source") or ""
        if src == old_src or src.startswith(old_src + "#"):
            d["source"] = new_src + src[len(old_src):]
        rec = CachedRecord.from_dict(d)
        rec._stored = d
        res.records.append(rec)
    return res


# ---------------------------------------------------------------- engines


class _Engine:
    capacity = 1
    ocr = False  # read scanned PDFs by OCR (RunOptions.ocr)

    def free(self) -> int:
        raise NotImplementedError

    def submit(self, idx: int, path, sha256: str | None) -> None:
        raise NotImplementedError

    def wait(self, timeout: float) -> list[tuple[int, FileResult, bytes | None]]:
        """Finished files: (index, result, its cache blob if the engine made one)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class SerialEngine(_Engine):
    def __init__(self, rules: RuleSet, ocr: bool = False):
        self.rules, self.task, self.ocr = rules, None, ocr

    def free(self) -> int:
        return 0 if self.task else 1

    def submit(self, idx, path, sha256):
        self.task = (idx, path)

    def wait(self, timeout):
        if not self.task:
            return []
        idx, path = self.task
        self.task = None
        return [(idx, work(str(path), self.rules, self.ocr), None)]


def _exit_with_parent(parent_pid: int, every: float = 1.0) -> None:
    """End this worker when the parent is gone (killed with -9, say): a blocked ``recv`` would
    not notice, because forked siblings hold copies of the parent's pipe ends."""
    import threading

    def watch():
        while True:
            time.sleep(every)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="replyparse-orphan-watch", daemon=True).start()


def _pool_worker(conn, rules, encode: bool, parent_pid: int | None = None, ocr: bool = False) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    if parent_pid is not None:
        _exit_with_parent(parent_pid)
    rules = rules or default_rules()
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        idx, path = msg
        res = work(path, rules, ocr)
        # the cache entry is made here, in parallel, not in the parent
        conn.send((idx, res, encode_result(res) if encode and res.sha256 and cacheable(res) else None))


class _Slot:
    __slots__ = ("proc", "conn", "task", "started")

    def __init__(self, proc, conn):
        self.proc, self.conn, self.task, self.started = proc, conn, None, 0.0


class LocalPoolEngine(_Engine):
    """N worker processes fed one file at a time; a worker that overruns the timeout or dies is
    killed and replaced, and its file becomes an ``error`` row."""

    def __init__(self, rules: RuleSet, workers: int, timeout: float | None, encode: bool = False,
                 ocr: bool = False):
        self.encode, self.ocr = encode, ocr
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        self.ctx = mp.get_context(method)
        self.rules, self.timeout = rules, timeout or None
        self.capacity = workers
        self.slots = [self._spawn() for _ in range(workers)]

    def _spawn(self) -> _Slot:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_pool_worker, args=(child, self.rules, self.encode, os.getpid(), self.ocr),
                                daemon=True,
                                name="replyparse-worker")
        proc.start()
        child.close()
        return _Slot(proc, parent)

    def _replace(self, i: int) -> None:
        s = self.slots[i]
        if s.proc.is_alive():
            s.proc.kill()
        s.proc.join(5)
        s.conn.close()
        self.slots[i] = self._spawn()

    def free(self) -> int:
        return sum(s.task is None for s in self.slots)

    def submit(self, idx, path, sha256):
        for s in self.slots:
            if s.task is None:
                s.conn.send((idx, str(path)))
                s.task, s.started = (idx, path, sha256), time.monotonic()
                return
        raise RuntimeError("no free worker")

    def wait(self, timeout):
        busy = [s for s in self.slots if s.task is not None]
        if not busy:
            return []
        now = time.monotonic()
        if self.timeout:
            timeout = max(0.0, min(timeout, min(s.started + self.timeout - now for s in busy)))
        ready = set(mp_wait([s.conn for s in busy], timeout))
        out = []
        now = time.monotonic()
        for i, s in enumerate(self.slots):
            if s.task is None:
                continue
            idx, path, sha = s.task
            if s.conn in ready:
                try:
                    msg = s.conn.recv()
                    s.task = None
                    out.append(msg)
                    continue
                except (EOFError, OSError):
                    code = s.proc.exitcode
                    out.append((idx, error_result(path, sha, f"worker process died (exit code {code})",
                                                  now - s.started, transient=True), None))
                    self._replace(i)
            elif self.timeout and now - s.started >= self.timeout:
                out.append((idx, error_result(path, sha, f"timeout: took longer than {self.timeout:g} s",
                                              now - s.started, transient=True), None))
                self._replace(i)
        return out

    def close(self):
        for s in self.slots:
            try:
                if s.task is None:
                    s.conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        for s in self.slots:
            if s.task is not None:
                s.proc.kill()
            s.proc.join(max(0.0, deadline - time.monotonic()))
            if s.proc.is_alive():
                s.proc.kill()
                s.proc.join(1)
            s.conn.close()


def work_batch(items: list[tuple[int, str]], rules: RuleSet | None = None, ocr: bool = False
               ) -> list[tuple[int, FileResult]]:
    """What a Dask task runs: a batch of files, one after another (a task per file costs the
    client more CPU than parsing the file)."""
    return [(idx, work(path, rules, ocr)) for idx, path in items]


class DaskEngine(_Engine):
    """Batches of files as tasks on a ``dask.distributed`` cluster. A batch that runs past
    ``timeout`` plus a second a file (a letter takes milliseconds) is cancelled (its worker restarted
    where the cluster has nannies) and its files are sent again one task each, so the file that
    stalls is found and becomes a timeout row while the others are parsed."""

    BATCH = 200  # files a task: hundreds, so scheduling costs little beside parsing
    OCR_BATCH = 4  # OCR takes seconds a page
    SECONDS_A_FILE = 1.0

    def __init__(self, rules: RuleSet, scheduler, timeout: float | None, ocr: bool = False):
        self.ocr = ocr
        try:
            from dask.distributed import Client
        except ImportError as e:  # pragma: no cover - depends on the extra
            raise SystemExit("replyparse: --engine dask needs dask[distributed]: pip install 'replyparse[dask]'") from e
        if isinstance(scheduler, Client):
            self.client, self._own = scheduler, False
        else:
            self.client, self._own = Client(scheduler), True
        self.timeout = timeout or None
        self.threads = sum(self.client.nthreads().values()) or 1
        self.batch = self.OCR_BATCH if ocr else self.BATCH
        self.capacity = self.threads * 2 * self.batch
        self._ruleset = rules
        self.rules = self.client.scatter(rules, broadcast=True, hash=False)
        self.pending: list[tuple[int, str, str | None]] = []  # submitted, not yet in a task
        self.futures: dict = {}  # future -> (items [(idx, path, sha)], submitted)
        self.in_flight = 0

    def free(self):
        return self.capacity - self.in_flight

    def submit(self, idx, path, sha256):
        self.pending.append((idx, path, sha256))
        self.in_flight += 1
        if len(self.pending) >= self.batch:
            self._flush()

    def _flush(self) -> None:
        """Send what is pending, spread over the cluster's threads, at most BATCH files a task."""
        if not self.pending:
            return
        size = max(1, min(self.batch, -(-len(self.pending) // self.threads)))
        for i in range(0, len(self.pending), size):
            self._send(self.pending[i:i + size])
        self.pending = []

    def _send(self, items) -> None:
        fut = self.client.submit(work_batch, [(idx, str(path)) for idx, path, _ in items], self.rules, self.ocr,
                                 pure=False)
        self.futures[fut] = (items, time.monotonic())

    def _one_by_one(self, items) -> bool:
        """A batch that failed or stalled is sent again a file a task, to find the file at fault;
        False for a single file: that file is the one."""
        if len(items) == 1:
            return False
        for it in items:
            self._send([it])
        return True

    def wait(self, timeout):
        from dask.distributed import wait as dwait

        self._flush()
        if not self.futures:
            return []
        now = time.monotonic()
        if self.timeout:
            timeout = max(0.01, min(timeout, min(t + self._limit(items) - now for items, t in self.futures.values())))
        try:
            done, _ = dwait(list(self.futures), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        except Exception:  # some versions raise dask's own timeout type
            done = set()
        out = []
        ok = [f for f in done if f.status == "finished"]
        for f, batch in zip(ok, self.client.gather(ok, errors="skip") if ok else []):
            self.futures.pop(f)
            out += [(idx, res, None) for idx, res in batch]
        for f in done:
            if f in self.futures:
                items, t = self.futures.pop(f)
                if self._one_by_one(items):
                    continue
                try:
                    exc = f.exception(timeout=1)
                except Exception as e:
                    exc = e
                idx, path, sha = items[0]
                out.append((idx, error_result(path, sha, f"worker error: {type(exc).__name__}: {exc}",
                                              time.monotonic() - t, transient=True), None))
        if self.timeout:
            now = time.monotonic()
            late = [f for f, (items, t) in self.futures.items() if now - t >= self._limit(items)]
            for f in late:
                items, t = self.futures.pop(f)
                self._stop(f)
                if self._one_by_one(items):
                    continue
                idx, path, sha = items[0]
                out.append((idx, error_result(path, sha, f"timeout: took longer than {self.timeout:g} s", now - t,
                                         transient=True),
                            None))
        self.in_flight -= len(out)
        return out

    def _limit(self, items) -> float:
        return self.timeout if len(items) == 1 else self.timeout + self.SECONDS_A_FILE * len(items)

    def _stop(self, fut) -> None:
        try:
            processing = self.client.processing()
            where = [w for w, keys in processing.items() if fut.key in keys]
            fut.cancel()
            if where:
                self.client.restart_workers(where, timeout=30, raise_for_error=False)
                # a restarted worker has lost the scattered rule set: send it again
                self.rules = self.client.scatter(self._ruleset, broadcast=True, hash=False)
        except Exception:
            pass  # a cluster without nannies: the task is cancelled, the thread runs on

    def close(self):
        for f in list(self.futures):
            f.cancel()
        self.futures.clear()
        self.pending = []
        if self._own:
            self.client.close()


def make_engine(rules: RuleSet, options: RunOptions) -> _Engine:
    if options.engine == "dask":
        return DaskEngine(rules, options.scheduler, options.timeout, ocr=options.ocr)
    if options.engine != "local":
        raise ValueError(f"unknown engine {options.engine!r}")
    workers = options.workers or cpu_count()
    if workers <= 1 and not options.timeout:
        return SerialEngine(rules, ocr=options.ocr)
    return LocalPoolEngine(rules, max(1, workers), options.timeout, encode=options.cache_dir is not None,
                           ocr=options.ocr)


# ---------------------------------------------------------------- the run


class _Progress:
    def __init__(self, enabled: bool, total: int | None):
        self.bar = None
        if enabled:
            import tqdm

            tqdm.tqdm.monitor_interval = 0  # no monitor thread: worker processes are forked
            try:
                sized = os.get_terminal_size(sys.stderr.fileno()).columns > 0
            except (OSError, ValueError, AttributeError):
                sized = False
            # a terminal that reports no width (some ptys) would get a zero-width, invisible bar
            self.bar = tqdm.tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=sized,
                                 ncols=None if sized else 100, smoothing=0.05, desc="parse")

    def update(self, stats: RunStats) -> None:
        if self.bar is not None:
            self.bar.update(1)
            errors = stats.statuses.get("error", 0)
            if self.bar.n % 25 == 0 or errors:
                self.bar.set_postfix(errors=errors, cached=stats.cached, refresh=False)

    def close(self, stats: RunStats) -> None:
        if self.bar is not None:
            self.bar.set_postfix(errors=stats.statuses.get("error", 0), cached=stats.cached, refresh=False)
            self.bar.close()


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
    progress = _Progress(show, total)
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
                    break
                submitted += 1
                if problem is not None:  # not read, so nothing to cache
                    done(idx, unread_result(path, problem), False, store=False)
                    continue
                sha = file_sha256(path) if cache is not None else None
                hit = cache.get(sha, path) if cache is not None and not opts.force else None
                if hit is not None:
                    done(idx, hit, True)
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
