"""``replyparse report``: the review page."""
from __future__ import annotations

import sys
from pathlib import Path

from .options import add_rules_option, add_run_options, run_options


def cmd_report(args) -> int:
    from ..errors import EXIT_FILE_ERRORS, UsageError, existing_inputs, output_file
    from ..engine.rules import load_rules
    # here, not at the top: every command's start would pay for the report module
    from ..out.report import PlotlyMissing, is_out_folder, load_plotly, collect_records, write_report

    existing_inputs(args.paths)
    out = output_file(args.output)
    if args.gold and not Path(args.gold).is_dir():
        raise UsageError(f"--gold {args.gold}: no such folder; give the folder that holds the NAME.gold.json files")
    try:
        load_plotly()
    except PlotlyMissing as e:
        raise UsageError(str(e)) from None
    rules = load_rules(args.rules or []) if any(not is_out_folder(Path(p)) for p in args.paths) else None
    records = collect_records(args.paths, rules, run_options(args))
    if args.gold and not any((Path(args.gold) / (Path(r.get("source") or "").stem + ".gold.json")).is_file()
                             for r in records):
        print(f"replyparse report: no NAME.gold.json in {args.gold} matches a letter; nothing marked", file=sys.stderr)
    write_report(records, out, gold_dir=args.gold, title=args.title, sources=args.paths)
    if not args.quiet:
        letters = sum(r.get("status") == "ok" for r in records)
        size = out.stat().st_size / 1e6
        print(f"replyparse report: {len(records)} records ({letters} letters) → {out} ({size:.1f} MB)", file=sys.stderr)
    return EXIT_FILE_ERRORS if any(r.get("status") == "error" for r in records) else 0


def add_subcommands(sub) -> None:
    """The ``report`` subcommand (README: Review report)."""
    sp = sub.add_parser("report", help="a self-contained HTML review report: charts, a letter table, "
                                       "highlighted evidence (README: Review report)")
    sp.add_argument("paths", nargs="+", metavar="PATH",
                    help="letters (files or folders), records JSONL, or the --out folder of a parse")
    sp.add_argument("-o", "--output", required=True, help="the HTML file to write")
    sp.add_argument("--gold", metavar="DIR", help="a folder of NAME.gold.json: mark where the records disagree")
    sp.add_argument("--title", help="the page title (default: replyparse review report)")
    add_rules_option(sp)
    add_run_options(sp)
    sp.set_defaults(func=cmd_report)
