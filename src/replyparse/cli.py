"""The ``replyparse`` command. Each subcommand is a small function; the work is done elsewhere."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .rules import RuleError, load_rules


def _rules(args):
    return load_rules(args.rules or [])


def cmd_parse(args) -> int:
    from .runner import RunOptions, RunStats, run

    ruleset = _rules(args)
    out_dir = getattr(args, "out", None)
    cache_dir = args.cache or (Path(out_dir) / ".cache" if out_dir else None)
    timeout = args.timeout if args.timeout is not None else (900.0 if args.ocr else 120.0)  # OCR: seconds a page
    opts = RunOptions(workers=args.workers, timeout=timeout, force=args.force, quiet=args.quiet,
                      engine=args.engine, scheduler=args.scheduler, cache_dir=cache_dir, ocr=args.ocr)
    if opts.engine == "dask" and not opts.scheduler:
        print("replyparse: --engine dask needs --scheduler ADDRESS", file=sys.stderr)
        return 2
    if out_dir:
        from .tables import parse_formats

        try:
            parse_formats(args.formats)
        except ValueError as e:
            print(f"replyparse: --formats: {e}", file=sys.stderr)
            return 2
    stats = RunStats()
    results = run(args.paths, ruleset, opts, stats)
    if out_dir:
        _write_tables(results, args)
    else:
        _write_records(results, args)
    if not args.quiet:
        print(stats.summary(), file=sys.stderr)
    return 1 if stats.statuses.get("error") else 0


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


def _write_tables(results, args) -> None:
    from .tables import TableWriter

    writer = TableWriter(args.out, args.formats)
    try:
        for fr in results:
            writer.add(fr)
    finally:
        writer.close()


def cmd_eval(args) -> int:
    from .evaluate import evaluate, format_report

    ruleset = _rules(args)
    formats = set(args.formats.split(",")) if args.formats else None
    report = evaluate(args.gold_dir, args.subset, ruleset, formats)
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
        print(f"replyparse: summary: {e}", file=sys.stderr)
        return 2
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="replyparse", description="Chinese government reply letters → records")
    p.add_argument("--version", action="version", version=f"replyparse {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    sp = sub.add_parser("parse", help="parse files or folders into letter records")
    sp.add_argument("paths", nargs="+")
    sp.add_argument("-o", "--output", help="write records here (default: standard output)")
    sp.add_argument("--format", choices=["jsonl", "json"], default="jsonl")
    sp.add_argument("--rules", action="append", help="a folder of rule files layered over the built-in ones")
    sp.add_argument("--out", metavar="DIR", help="write the letters/amounts/actions/files tables here "
                    "instead of records to -o/standard output (README: Tables)")
    sp.add_argument("--formats", default="csv,jsonl", help="with --out: any of csv,xlsx,parquet,jsonl (default csv,jsonl)")
    sp.add_argument("--ocr", action="store_true",
                    help="read scanned PDFs (no text layer) with Tesseract (tesseract-ocr, tesseract-ocr-chi-sim) "
                         "instead of reporting them needs_ocr; slow: seconds a page")
    bulk = sp.add_argument_group("bulk runs (README: Bulk runs)")
    bulk.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    bulk.add_argument("--timeout", type=float, default=None,
                      help="seconds per file before it becomes an error row (default 120, with --ocr 900; 0: no limit)")
    bulk.add_argument("--force", action="store_true", help="ignore cached results and parse every file again")
    bulk.add_argument("--cache", help="result cache folder (default: OUT/.cache with --out, else none)")
    bulk.add_argument("--quiet", action="store_true", help="no progress bar and no summary line")
    bulk.add_argument("--engine", choices=["local", "dask"], default="local")
    bulk.add_argument("--scheduler", help="with --engine dask: the scheduler address (tcp://host:8786)")
    sp.set_defaults(func=cmd_parse)

    sp = sub.add_parser("eval", help="score against NAME.gold.json files")
    sp.add_argument("gold_dir")
    sp.add_argument("--subset", choices=["clean", "garbled", "all"], default="clean")
    sp.add_argument("--formats", help="only inputs with these extensions, e.g. txt or docx,pdf")
    sp.add_argument("--rules", action="append")
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

    add_search_subcommands(sub)  # index, search, export (README: Search)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RuleError as e:
        print(f"replyparse: rule error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
