"""The ``replyparse`` command. Each subcommand is a small function; the work is done elsewhere."""
from __future__ import annotations

import argparse
import sqlite3
import sys

from .. import __version__
from ..errors import EXIT_INTERRUPTED, EXIT_OUTPUT, EXIT_USAGE, UsageError
from ..engine.rules import RuleError
from .check import cmd_eval, cmd_rules_check
from .options import Parser, add_rules_option, add_workers_option
from .parse import record_format, cmd_amounts, cmd_parse, cmd_summary


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="replyparse", description="Chinese government reply letters → records")
    p.add_argument("--version", action="version", version=f"replyparse {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    sp = sub.add_parser("parse", help="parse files or folders into letter records")
    sp.add_argument("paths", nargs="+")
    sp.add_argument("-o", "--output", help="write records here (default: standard output)")
    sp.add_argument("--format", type=record_format, default="jsonl", metavar="{jsonl,json}",
                    help="records as JSON lines (default) or one JSON array")
    add_rules_option(sp)
    sp.add_argument("--out", metavar="DIR", help="write the letters/amounts/actions/files tables here "
                    "instead of records to -o/standard output (README: Tables)")
    sp.add_argument("--formats", default=None, help="with --out: any of csv,xlsx,parquet,jsonl (default csv,jsonl)")
    sp.add_argument("--ocr", action="store_true",
                    help="read scans (PDFs without a text layer, their scanned pages, page images) by OCR "
                         "instead of reporting them needs_ocr (README: Input formats)")
    sp.add_argument("--ocr-engine", choices=("rapidocr", "tesseract"), default="rapidocr",
                    help="with --ocr: rapidocr (default; pip install 'replyparse[ocr]', models inside the wheel) "
                         "or tesseract (apt-get install tesseract-ocr tesseract-ocr-chi-sim; slower, less exact)")
    bulk = sp.add_argument_group("bulk runs (README: Bulk runs)")
    add_workers_option(bulk)
    bulk.add_argument("--timeout", type=float, default=None,
                      help="seconds per file before it becomes an error row (default 120, with --ocr 900; 0: no limit)")
    bulk.add_argument("--force", action="store_true", help="ignore cached results and parse every file again")
    bulk.add_argument("--wait", action="store_true",
                      help="with --out: when another run is writing into DIR, wait for it instead of stopping")
    bulk.add_argument("--cache", help="result cache folder (default: OUT/.cache with --out, else none)")
    bulk.add_argument("--quiet", action="store_true", help="no progress bar and no summary line")
    bulk.add_argument("--engine", choices=["local", "dask"], default="local")
    bulk.add_argument("--scheduler", help="with --engine dask: the scheduler address (tcp://host:8786)")
    sp.set_defaults(func=cmd_parse)

    sp = sub.add_parser("eval", help="score against NAME.gold.json files")
    sp.add_argument("gold_dir")
    sp.add_argument("--subset", choices=["clean", "garbled", "all"], default="clean")
    sp.add_argument("--formats", help="only inputs with these extensions, e.g. txt or docx,pdf")
    add_rules_option(sp)
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--details", action="store_true", help="list every mismatch")
    sp.add_argument("--field", help="with --details: only this field")
    sp.set_defaults(func=cmd_eval)

    sp = sub.add_parser("rules", help="rule file tools")
    rsub = sp.add_subparsers(dest="rules_command", required=True)
    rc = rsub.add_parser("check", help="validate rule files and print counts")
    rc.add_argument("dirs", nargs="*", help="rule folders layered over the built-in ones")
    rc.add_argument("--no-examples", action="store_true", help="only validate, do not run the examples")
    rc.set_defaults(func=cmd_rules_check)

    sp = sub.add_parser("summary", help="letters, money and actions per issuer/year/... from parse --out output")
    sp.add_argument("source", metavar="DIR_OR_JSONL", help="a parse --out folder, or a JSONL file of records")
    sp.add_argument("--by", help="group by any of issuer,year,body,proposal_kind,handling_category")
    sp.set_defaults(func=cmd_summary)

    sp = sub.add_parser("amounts", help="print the money amounts found in any text as JSON")
    sp.add_argument("text", help="the text, or - to read standard input")
    sp.set_defaults(func=cmd_amounts)

    from .search import add_subcommands as add_search_subcommands

    add_search_subcommands(sub)  # index, search, serve (README: Search)
    from .export import add_subcommands as add_export_subcommands

    add_export_subcommands(sub)  # export (README: Search)
    from .report import add_subcommands as add_report_subcommands

    add_report_subcommands(sub)  # report (README: Review report)
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

