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
    from .pipeline import parse_paths

    ruleset = _rules(args)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    failed = 0
    try:
        records = [r.to_dict() for r in parse_paths(args.paths, ruleset)] if args.format == "json" else None
        if records is not None:
            json.dump(records, out, ensure_ascii=False, indent=1)
            out.write("\n")
            failed = sum(r["status"] == "error" for r in records)
        else:
            for rec in parse_paths(args.paths, ruleset):
                out.write(json.dumps(rec.to_dict(), ensure_ascii=False) + "\n")
                failed += rec.status == "error"
    finally:
        if out is not sys.stdout:
            out.close()
    return 1 if failed else 0


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

    sp = sub.add_parser("amounts", help="print the money amounts found in any text as JSON")
    sp.add_argument("text", help="the text, or - to read standard input")
    sp.set_defaults(func=cmd_amounts)
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
