"""The ``replyparse`` command. Each subcommand is a small function; the work is done elsewhere."""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

from . import __version__
from .errors import (EXIT_FILE_ERRORS, EXIT_INTERRUPTED, EXIT_OUTPUT, EXIT_USAGE, UsageError, output_dir,
                     output_file)
from .rules import RuleError, load_rules


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``replyparse: error: …`` and what to read, exit 2."""

    def error(self, message):
        raise UsageError(f"{message} (see: {self.prog} --help)")


def _rules(args):
    return load_rules(args.rules or [])


def _record_format(value: str) -> str:
    if value in ("jsonl", "json"):
        return value
    if value in ("csv", "xlsx", "parquet"):
        raise argparse.ArgumentTypeError(
            f"{value!r} is a table format: tables are written with --out DIR --formats {value} "
            "(--format is for records: jsonl or json)")
    raise argparse.ArgumentTypeError(f"{value!r}: records are written as jsonl or json")


def cmd_parse(args) -> int:
    from .runner import RunOptions, RunStats, run

    out_dir = getattr(args, "out", None)
    if args.formats is not None and not out_dir:
        raise UsageError("--formats writes tables into a folder: add --out DIR "
                         "(records to standard output or -o FILE take --format jsonl|json)")
    if out_dir and args.output:
        raise UsageError("give either --out DIR (tables) or -o FILE (records), not both")
    if out_dir:
        from .tables import parse_formats

        try:
            parse_formats(args.formats)
        except ValueError as e:
            raise UsageError(f"--formats: {e}") from None
        output_dir(out_dir)
    elif args.output:
        output_file(args.output)
    ruleset = _rules(args)
    cache_dir = args.cache or (Path(out_dir) / ".cache" if out_dir else None)
    timeout = args.timeout if args.timeout is not None else (900.0 if args.ocr else 120.0)  # OCR: seconds a page
    opts = RunOptions(workers=args.workers, timeout=timeout, force=args.force, quiet=args.quiet,
                      engine=args.engine, scheduler=args.scheduler, cache_dir=cache_dir,
                      ocr=args.ocr_engine if args.ocr else False)  # the engine's name travels as the flag
    if opts.engine == "dask" and not opts.scheduler:
        raise UsageError("--engine dask needs --scheduler ADDRESS (tcp://host:8786)")
    lock = None
    if out_dir:
        from .outlock import OutputLock

        lock = OutputLock(out_dir, wait=args.wait, quiet=args.quiet)
    stats = RunStats()
    results = run(args.paths, ruleset, opts, stats)
    try:
        if out_dir:
            _write_tables(results, args, ruleset)
        else:
            _write_records(results, args)
    except KeyboardInterrupt:
        results.close()  # stops the workers; what finished is in the tables and the cache
        from .walk import iter_inputs

        total = sum(1 for _ in iter_inputs(args.paths))
        print(f"replyparse: interrupted after {stats.files} of {total} files; run the same command "
              "again to resume" + ("" if out_dir else " (with --out DIR, finished files are not parsed again)"),
              file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        results.close()
        if lock is not None:
            lock.release()
    if not args.quiet:
        print(stats.summary(), file=sys.stderr)
    return EXIT_FILE_ERRORS if stats.statuses.get("error") else 0


def _write_records(results, args) -> None:
    """Records to standard output or ``-o FILE`` as they come (JSONL, or one JSON array)."""
    import textwrap

    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        n = 0
        for fr in results:
            for rec in fr.records:
                d = rec.to_dict()
                if args.format == "json":  # the same bytes as json.dump(list, indent=1), streamed
                    out.write(("[\n" if n == 0 else ",\n") + textwrap.indent(json.dumps(d, ensure_ascii=False, indent=1), " "))
                else:
                    out.write(json.dumps(d, ensure_ascii=False) + "\n")
                n += 1
            out.flush()
        if args.format == "json":
            out.write("\n]\n" if n else "[]\n")
    finally:
        if out is not sys.stdout:
            out.close()


def _write_tables(results, args, ruleset) -> None:
    from .tables import TableWriter

    writer = TableWriter(args.out, args.formats, extra_fields=ruleset.extra_fields)
    complete = False
    try:
        for fr in results:
            writer.add(fr)
        complete = True
    finally:
        writer.close(complete=complete)


def cmd_eval(args) -> int:
    from .evaluate import evaluate, format_report

    from .evaluate import find_gold

    gold_dir = Path(args.gold_dir)
    if not gold_dir.is_dir():
        raise UsageError(f"no such folder: {args.gold_dir}; eval takes a folder of NAME.txt + NAME.gold.json")
    if not any(True for _ in find_gold(gold_dir)):
        raise UsageError(f"{args.gold_dir} holds no NAME.gold.json beside a letter file; nothing to score")
    ruleset = _rules(args)
    formats = set(args.formats.split(",")) if args.formats else None
    report = evaluate(gold_dir, args.subset, ruleset, formats)
    if report.n == 0:
        raise UsageError(f"no letter of {args.gold_dir} is in subset {args.subset!r}"
                         + (f" with format {args.formats}" if formats else "") + "; nothing to score")
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        print(format_report(report, args.subset))
    if args.details:
        for name, d in report.per_file.items():
            for k, v in d.items():
                if not args.field or k == args.field:
                    print(f"{name}\t{k}\t{v}")
    return 0


def cmd_rules_check(args) -> int:
    from .examples import run_examples

    ruleset = load_rules(args.dirs)
    counts = ruleset.counts()
    for fam, c in counts.items():
        print(f"{fam:<16}{c['rules']:>5} rules{c['examples']:>5} examples")
    print(f"{'total':<16}{sum(c['rules'] for c in counts.values()):>5} rules"
          f"{sum(c['examples'] for c in counts.values()):>5} examples  (version {ruleset.version})")
    if args.no_examples:
        return 0
    n, failures = run_examples(ruleset)
    for f in failures:
        print(f"FAIL {f}")
    print(f"examples: {n - len({id(f.example) for f in failures})}/{n} pass")
    return 1 if failures else 0


def cmd_summary(args) -> int:
    from .summary import format_table, load_letters, parse_by, summarize, write_summary_csv

    try:
        by = parse_by(args.by)
        letters, folder = load_letters(args.source)
    except (ValueError, FileNotFoundError) as e:
        raise UsageError(f"summary: {e}") from None
    df = summarize(letters, by)
    print(format_table(df))
    dest = write_summary_csv(df, folder / "summary.csv")
    print(f"wrote {dest}", file=sys.stderr)
    return 0


def cmd_amounts(args) -> int:
    from .money import amounts_json

    text = sys.stdin.read() if args.text == "-" else args.text
    print(amounts_json(text))
    return 0


def add_rules_option(sp) -> None:
    sp.add_argument("--rules", action="append", metavar="DIR",
                    help="a folder of rule files layered over the built-in ones (repeatable)")


def add_workers_option(sp, default_help: str = "all cores") -> None:
    sp.add_argument("--workers", "--jobs", dest="workers", type=int, default=None,
                    help=f"worker processes (default: {default_help})")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="replyparse", description="Chinese government reply letters → records")
    p.add_argument("--version", action="version", version=f"replyparse {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    sp = sub.add_parser("parse", help="parse files or folders into letter records")
    sp.add_argument("paths", nargs="+")
    sp.add_argument("-o", "--output", help="write records here (default: standard output)")
    sp.add_argument("--format", type=_record_format, default="jsonl", metavar="{jsonl,json}",
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


if __name__ == "__main__":
    sys.exit(main())
