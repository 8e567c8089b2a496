"""What every command shares: the argument parser that fails in one line, ``--rules``, and the
bulk-run options (``--workers``, ``--timeout``, ``--cache``, ``--force``, ``--engine`` …) that
every command which parses letters (parse, index, export, report) hands to the one executor."""
from __future__ import annotations

import argparse

from ..errors import UsageError
from ..engine.rules import load_rules


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``replyparse: error: …`` and what to read, exit 2."""

    def error(self, message):
        raise UsageError(f"{message} (see: {self.prog} --help)")


def rules_from_args(args):
    return load_rules(args.rules or [])


def add_rules_option(sp) -> None:
    sp.add_argument("--rules", action="append", metavar="DIR",
                    help="a folder of rule files layered over the built-in ones (repeatable)")


def add_workers_option(sp, default_help: str = "all cores") -> None:
    sp.add_argument("--workers", "--jobs", dest="workers", type=int, default=None,
                    help=f"worker processes (default: {default_help})")


def add_run_options(sp, cache_help: str = "result cache folder (default: none)") -> None:
    """The bulk-run options, in their own group (README: Bulk runs)."""
    bulk = sp.add_argument_group("bulk runs (README: Bulk runs)")
    add_workers_option(bulk)
    bulk.add_argument("--timeout", type=float, default=None,
                      help="seconds per file before it becomes an error row (default 120; parse --ocr: 900; 0: no limit)")
    bulk.add_argument("--force", action="store_true", help="ignore cached results and parse every file again")
    bulk.add_argument("--cache", help=cache_help)
    bulk.add_argument("--quiet", action="store_true", help="no progress bar and no summary line")
    bulk.add_argument("--engine", choices=["local", "dask"], default="local")
    bulk.add_argument("--scheduler", help="with --engine dask: the scheduler address (tcp://host:8786)")


def run_options(args, cache_dir=None, ocr=False, **kw):
    """``RunOptions`` from the bulk-run options; ``cache_dir`` is the command's default cache."""
    from ..run.options import DEFAULT_TIMEOUT, RunOptions

    timeout = args.timeout if args.timeout is not None else (900.0 if ocr else DEFAULT_TIMEOUT)  # OCR: seconds a page
    if args.engine == "dask" and not args.scheduler:
        raise UsageError("--engine dask needs --scheduler ADDRESS (tcp://host:8786)")
    return RunOptions(workers=args.workers, timeout=timeout, force=args.force, quiet=args.quiet, engine=args.engine,
                      scheduler=args.scheduler, cache_dir=args.cache or cache_dir, ocr=ocr, **kw)
