"""The ``replyparse`` command: one module per command group (``parse``, ``check``, ``search``,
``export``, ``report``), each adding its subcommands; ``main`` turns every user mistake into one
line and an exit status (``errors.py``). Each subcommand is a small function; the work is done
elsewhere."""
from __future__ import annotations

import argparse
import sqlite3
import sys

from .. import __version__
from ..errors import EXIT_INTERRUPTED, EXIT_OUTPUT, EXIT_USAGE, RuleError, UsageError
from . import check, export, parse, report, search
from .options import Parser


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="replyparse", description="Chinese government reply letters → records")
    p.add_argument("--version", action="version", version=f"replyparse {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    for group in (parse, check, search, export, report):
        group.add_subcommands(sub)
    return p


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except UsageError as e:
        print(f"replyparse: error: {e}", file=sys.stderr)
        return e.exit_status
    except RuleError as e:
        print(f"replyparse: rule error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("replyparse: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except (OSError, sqlite3.OperationalError) as e:  # output that cannot be written: disk full, read-only
        where = f": {e.filename}" if getattr(e, "filename", None) else ""
        print(f"replyparse: error: output could not be written{where}: {getattr(e, 'strerror', None) or e}; "
              "free space or choose another place, then run the same command again", file=sys.stderr)
        return EXIT_OUTPUT

