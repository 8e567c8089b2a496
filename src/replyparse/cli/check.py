"""``replyparse eval`` and ``replyparse rules check``."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import UsageError
from ..engine.rules import load_rules
from .options import add_rules_option, rules_from_args


def cmd_eval(args) -> int:
    from ..evaluate import evaluate, format_report

    from ..evaluate import find_gold

    gold_dir = Path(args.gold_dir)
    if not gold_dir.is_dir():
        raise UsageError(f"no such folder: {args.gold_dir}; eval takes a folder of NAME.txt + NAME.gold.json")
    if not any(True for _ in find_gold(gold_dir)):
        raise UsageError(f"{args.gold_dir} holds no NAME.gold.json beside a letter file; nothing to score")
    ruleset = rules_from_args(args)
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
    from ..engine.examples import run_examples

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


def add_subcommands(sub) -> None:
    """The ``eval`` and ``rules check`` subcommands."""
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
