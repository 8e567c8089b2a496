"""What every command shares: the argument parser that fails in one line, ``--rules``, ``--workers``."""
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
