"""The progress line of a bulk run on a terminal."""
from __future__ import annotations

import os
import sys

from .options import RunStats


class Progress:
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
