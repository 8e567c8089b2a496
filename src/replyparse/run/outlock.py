"""One run at a time into an ``--out`` folder: an advisory lock on ``DIR/.lock``.

Two runs writing the same tables would interleave or replace each other's rows, so the second run
stops at once naming the first (or waits for it with ``--wait``). The lock is an ``flock``: the OS
drops it when the holder exits, killed or not, so a stale ``.lock`` file never blocks a run.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sys
from pathlib import Path

from ..errors import EXIT_BUSY, UsageError

LOCK_NAME = ".lock"


class OutputBusy(UsageError):
    exit_status = EXIT_BUSY


class OutputLock:
    def __init__(self, out_dir: str | Path, wait: bool = False, quiet: bool = False):
        self.path = Path(out_dir) / LOCK_NAME
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder()
            if not wait:
                os.close(self.fd)
                raise OutputBusy(f"another replyparse run is writing into {out_dir} ({holder}); wait for it "
                                 "to end, add --wait to start when it does, or choose another --out") from None
            if not quiet:
                print(f"replyparse: waiting for the run writing into {out_dir} ({holder})", file=sys.stderr)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        info = {"pid": os.getpid(), "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "command": " ".join(sys.argv[1:])[:500]}
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps(info, ensure_ascii=False).encode("utf-8", "replace"), 0)

    def _holder(self) -> str:
        try:
            info = json.loads(os.pread(self.fd, 4096, 0) or b"{}")
            return f"pid {info.get('pid')} since {info.get('started')}, replyparse {info.get('command', '')}"
        except ValueError:
            return "pid unknown"

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock; the file stays for the next run
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
