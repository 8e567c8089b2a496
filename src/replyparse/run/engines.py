"""Where the per-file work runs: in this process, in local worker processes (with per-file
timeouts), or on a Dask cluster (batches of files a task, each parsed in a process forked from
the worker)."""
from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import threading
import time
import weakref
from multiprocessing.connection import wait as mp_wait
from pathlib import Path

from .batch import FileResult, error_result, process_file
from ..engine.rules import RuleSet, default_rules
from .cache import cacheable, encode_result
from .options import RunOptions
from ..status import Reason


SLOW_ENV = "REPLYPARSE_TEST_SLOW"  # test hook: "NAME[:SECONDS]" makes the worker sleep on that file


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


def work(path: str, rules: RuleSet | None = None, ocr: bool = False, sha256: str | None = None) -> FileResult:
    """What every engine runs for one file (``sha256``: its hash, when the runner made it for the cache)."""
    _test_slow(str(path))
    return process_file(path, rules, ocr=ocr, sha256=sha256)


def finished(res: FileResult, finish) -> FileResult:
    """``res`` with what ``RunOptions.finish`` makes of it in ``payload`` (which the cache never stores)."""
    if finish is None:
        return res
    res.payload = finish(res)
    return res


# ---------------------------------------------------------------- cache


class _Engine:
    capacity = 1
    ocr = False  # read scanned PDFs by OCR (RunOptions.ocr)
    finish = None  # RunOptions.finish

    def free(self) -> int:
        raise NotImplementedError

    def submit(self, idx: int, path, sha256: str | None) -> None:
        raise NotImplementedError

    def wait(self, timeout: float) -> list[tuple[int, FileResult, bytes | None]]:
        """Finished files: (index, result, its cache blob if the engine made one)."""
        raise NotImplementedError

    def end_of_input(self) -> None:
        """Nothing more will be submitted."""

    def close(self) -> None:
        pass


class SerialEngine(_Engine):
    def __init__(self, rules: RuleSet, ocr: bool = False, finish=None):
        self.rules, self.task, self.ocr, self.finish = rules, None, ocr, finish

    def free(self) -> int:
        return 0 if self.task else 1

    def submit(self, idx, path, sha256):
        self.task = (idx, path, sha256)

    def wait(self, timeout):
        if not self.task:
            return []
        idx, path, sha256 = self.task
        self.task = None
        return [(idx, finished(work(str(path), self.rules, self.ocr, sha256), self.finish), None)]


def _exit_with_parent(parent_pid: int, every: float = 1.0) -> None:
    """End this worker when the parent is gone (killed with -9, say): a blocked ``recv`` would
    not notice, because forked siblings hold copies of the parent's pipe ends."""
    def watch():
        while True:
            time.sleep(every)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="replyparse-orphan-watch", daemon=True).start()


def _work_item(idx: int, path: str, sha256: str | None, rules: RuleSet, encode: bool, ocr: bool, finish
               ) -> tuple[int, FileResult, bytes | None]:
    res = work(path, rules, ocr, sha256)
    # the cache entry is made here, in parallel, not in the parent
    blob = encode_result(res) if encode and res.sha256 and cacheable(res) else None
    return idx, finished(res, finish), blob


def _pool_worker(conn, rules, encode: bool, parent_pid: int | None = None, ocr: bool = False,
                 finish=None) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    # forked from a Dask worker, this process inherits its handlers: they would close that worker's
    # event loop here, not end this process
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
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
        if isinstance(msg, list):  # a Dask task's batch (``run_batch``): pickled once, here
            conn.send_bytes(pickle.dumps([_work_item(idx, path, sha, rules, encode, ocr, finish) for idx, path, sha in msg],
                                         pickle.HIGHEST_PROTOCOL))
            continue
        conn.send(_work_item(*msg, rules, encode, ocr, finish))


class _Slot:
    __slots__ = ("proc", "conn", "task", "started")

    def __init__(self, proc, conn):
        self.proc, self.conn, self.task, self.started = proc, conn, None, 0.0


class LocalPoolEngine(_Engine):
    """N worker processes fed one file at a time; a worker that overruns the timeout or dies is
    killed and replaced, and its file becomes an ``error`` row."""

    def __init__(self, rules: RuleSet, workers: int, timeout: float | None, encode: bool = False,
                 ocr: bool = False, finish=None):
        self.encode, self.ocr, self.finish = encode, ocr, finish
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        self.ctx = mp.get_context(method)
        self.rules, self.timeout = rules, timeout or None
        self.capacity = workers
        self.slots = [self._spawn() for _ in range(workers)]

    def _spawn(self) -> _Slot:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_pool_worker, args=(child, self.rules, self.encode, os.getpid(), self.ocr, self.finish),
                                daemon=True,
                                name="replyparse-worker")
        # a Dask worker under a nanny is a daemonic process, which multiprocessing forbids to start
        # children lest they outlive it: these end with it (``_exit_with_parent``), so they may
        config = mp.current_process()._config
        daemonic = config.pop("daemon", None)
        try:
            proc.start()
        finally:
            if daemonic is not None:
                config["daemon"] = daemonic
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

    def run_batch(self, items: list[tuple[int, str]]) -> bytes:
        """``items`` parsed one after another by the first worker: the pickled list of
        ``(index, result, cache blob)``, for a caller that only hands it on (a Dask task). No
        timeout here: the caller's."""
        conn = self.slots[0].conn
        conn.send(items)
        return conn.recv_bytes()

    def submit(self, idx, path, sha256):
        for s in self.slots:
            if s.task is None:
                s.conn.send((idx, str(path), sha256))
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
                    out.append((idx, error_result(path, sha, Reason.WORKER_DIED, f"worker process died (exit code {code})",
                                                  now - s.started), None))
                    self._replace(i)
            elif self.timeout and now - s.started >= self.timeout:
                out.append((idx, error_result(path, sha, Reason.TIMEOUT, f"timeout: took longer than {self.timeout:g} s",
                                              now - s.started), None))
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


_helpers = threading.local()  # ``helper``: this Dask worker thread's ``_Helper``


class _Helper:
    """A Dask worker thread's parsing process and what it was started with; the process ends with
    the thread (a cluster in this process, ``processes=False``, would otherwise leave one a thread)."""

    def __init__(self, rules: RuleSet, key: tuple, encode: bool, ocr, finish):
        self.key = key
        self.pool = LocalPoolEngine(rules, 1, None, encode=encode, ocr=ocr, finish=finish)
        self.close = weakref.finalize(self, self.pool.close)


def work_batch(items: list[tuple[int, str, str | None]], rules: RuleSet | None = None, ocr: bool = False, finish=None,
               encode: bool = False) -> bytes:
    """What a Dask task runs: a batch of files (a task per file costs the client more CPU than
    parsing the file), parsed one after another in a process this worker thread forks once and keeps
    (a ``LocalPoolEngine`` of one). Parsed in the Dask worker's own thread, a letter took about a
    third more CPU: a letter's watchdog is a signal, which only a main thread gets, so there every
    rule regex call carried its own time limit (engine/rules.py), and the worker's event loop and
    profiler took the GIL from it. The results come back pickled, and the Dask worker sends the
    bytes on without opening them (the client unpickles them)."""
    rules = rules or default_rules()
    key = (rules.version, ocr, finish, encode)
    helper = getattr(_helpers, "helper", None)
    if helper is None or helper.key != key:
        if helper is not None:
            helper.close()
        helper = _helpers.helper = _Helper(rules, key, encode, ocr, finish)
    try:
        return helper.pool.run_batch(items)
    except (EOFError, OSError):  # the process died on one of these files: the task fails, the next batch forks anew
        _helpers.helper = None
        helper.close()
        raise


class DaskEngine(_Engine):
    """Batches of files as tasks on a ``dask.distributed`` cluster. A batch that runs past
    ``timeout`` plus a second a file (a letter takes milliseconds) is cancelled (its worker restarted
    where the cluster has nannies) and its files are sent again one task each, so the file that
    stalls is found and becomes a timeout row while the others are parsed."""

    BATCH = 200  # files a task: hundreds, so scheduling costs little beside parsing
    OCR_BATCH = 4  # OCR takes seconds a page
    SECONDS_A_FILE = 1.0

    def __init__(self, rules: RuleSet, scheduler, timeout: float | None, encode: bool = False, ocr: bool = False,
                 finish=None):
        self.encode, self.ocr, self.finish = encode, ocr, finish
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
        self.last = False  # the runner has submitted its last file
        self.futures: dict = {}  # future -> (items [(idx, path, sha)], submitted)
        self.in_flight = 0

    def free(self):
        return self.capacity - self.in_flight

    def submit(self, idx, path, sha256):
        self.pending.append((idx, path, sha256))
        self.in_flight += 1
        if len(self.pending) >= self.batch:  # a full batch goes at once
            self._send(self.pending[:self.batch])
            self.pending = self.pending[self.batch:]

    def end_of_input(self):
        self.last = True
        self._flush()

    def _flush(self) -> None:
        """Send what is pending, spread over the cluster's threads, at most BATCH files a task, when
        a thread has nothing queued; else keep it until it makes a full batch (a task of a few files
        costs the scheduler about what a full one does: sending every leftover at each wait shrank
        the batches to a handful of files at 10k letters, 2.3 times slower than local workers). The
        last files go at once, a share for every thread: held back, they went whole to the first
        thread free while the others had nothing left (500 letters: 200 + 100 against 200)."""
        idle = self.threads - len(self.futures)
        if not self.pending or (idle <= 0 and not self.last):
            return
        size = max(1, min(self.batch, -(-len(self.pending) // (self.threads if self.last else idle))))
        for i in range(0, len(self.pending), size):
            self._send(self.pending[i:i + size])
        self.pending = []

    def _send(self, items) -> None:
        fut = self.client.submit(work_batch, [(idx, str(path), sha) for idx, path, sha in items], self.rules, self.ocr,
                                 self.finish, self.encode, pure=False)
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
            out += pickle.loads(batch)  # as ``work_batch`` returns it
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
                out.append((idx, error_result(path, sha, Reason.WORKER_ERROR, f"worker error: {type(exc).__name__}: {exc}",
                                              time.monotonic() - t), None))
        if self.timeout:
            now = time.monotonic()
            late = [f for f, (items, t) in self.futures.items() if now - t >= self._limit(items)]
            for f in late:
                items, t = self.futures.pop(f)
                self._stop(f)
                if self._one_by_one(items):
                    continue
                idx, path, sha = items[0]
                out.append((idx, error_result(path, sha, Reason.TIMEOUT, f"timeout: took longer than {self.timeout:g} s", now - t),
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
        return DaskEngine(rules, options.scheduler, options.timeout, encode=options.cache_dir is not None,
                          ocr=options.ocr, finish=options.finish)
    if options.engine != "local":
        raise ValueError(f"unknown engine {options.engine!r}")
    workers = options.workers or cpu_count()
    if workers <= 1 and not options.timeout:
        return SerialEngine(rules, ocr=options.ocr, finish=options.finish)
    return LocalPoolEngine(rules, max(1, workers), options.timeout, encode=options.cache_dir is not None,
                           ocr=options.ocr, finish=options.finish)


# ---------------------------------------------------------------- the run
