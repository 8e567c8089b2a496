"""``replyparse parse``, ``summary`` and ``amounts``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import EXIT_FILE_ERRORS, EXIT_INTERRUPTED, UsageError, output_dir, output_file
from .options import add_rules_option, add_run_options, rules_from_args, run_options


def record_format(value: str) -> str:
    if value in ("jsonl", "json"):
        return value
    if value in ("csv", "xlsx", "parquet"):
        raise argparse.ArgumentTypeError(
            f"{value!r} is a table format: tables are written with --out DIR --formats {value} "
            "(--format is for records: jsonl or json)")
    raise argparse.ArgumentTypeError(f"{value!r}: records are written as jsonl or json")


def cmd_parse(args) -> int:
    from ..run.options import RunStats
    from ..run.runner import run

    out_dir = getattr(args, "out", None)
    if args.formats is not None and not out_dir:
        raise UsageError("--formats writes tables into a folder: add --out DIR "
                         "(records to standard output or -o FILE take --format jsonl|json)")
    if out_dir and args.output:
        raise UsageError("give either --out DIR (tables) or -o FILE (records), not both")
    if out_dir:
        from ..out.tables import parse_formats

        try:
            parse_formats(args.formats)
        except ValueError as e:
            raise UsageError(f"--formats: {e}") from None
        output_dir(out_dir)
    elif args.output:
        output_file(args.output)
    ruleset = rules_from_args(args)
    # the OCR engine's name travels as the flag
    opts = run_options(args, Path(out_dir) / ".cache" if out_dir else None, args.ocr_engine if args.ocr else False)
    lock = None
    if out_dir:
        from ..run.outlock import OutputLock

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
        from ..run.walk import iter_inputs

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
                if args.format == "json":  # the same bytes as json.dump(list, indent=1), streamed
                    out.write(("[\n" if n == 0 else ",\n")
                              + textwrap.indent(json.dumps(rec.to_dict(), ensure_ascii=False, indent=1), " "))
                else:
                    out.write(rec.json_line() + "\n")
                n += 1
            out.flush()
        if args.format == "json":
            out.write("\n]\n" if n else "[]\n")
    finally:
        if out is not sys.stdout:
            out.close()


def _write_tables(results, args, ruleset) -> None:
    from ..out.tables import TableWriter

    writer = TableWriter(args.out, args.formats, extra_fields=ruleset.extra_fields)
    complete = False
    try:
        for fr in results:
            writer.add(fr)
        complete = True
    finally:
        writer.close(complete=complete)


def cmd_summary(args) -> int:
    from ..out.summary import format_table, load_letters, parse_by, summarize, write_summary_csv

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
    from ..extract.money import amounts_json

    text = sys.stdin.read() if args.text == "-" else args.text
    print(amounts_json(text))
    return 0


def add_subcommands(sub) -> None:
    """The ``parse``, ``summary`` and ``amounts`` subcommands."""
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
    add_run_options(sp, "result cache folder (default: OUT/.cache with --out, else none)")
    sp.add_argument("--wait", action="store_true",
                    help="with --out: when another run is writing into DIR, wait for it instead of stopping")
    sp.set_defaults(func=cmd_parse)

    sp = sub.add_parser("summary", help="letters, money and actions per issuer/year/... from parse --out output")
    sp.add_argument("source", metavar="DIR_OR_JSONL", help="a parse --out folder, or a JSONL file of records")
    sp.add_argument("--by", help="group by any of issuer,year,body,proposal_kind,handling_category")
    sp.set_defaults(func=cmd_summary)

    sp = sub.add_parser("amounts", help="print the money amounts found in any text as JSON")
    sp.add_argument("text", help="the text, or - to read standard input")
    sp.set_defaults(func=cmd_amounts)
