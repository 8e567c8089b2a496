"""``replyparse export``: letters for Elasticsearch / OpenSearch."""
from __future__ import annotations

from .options import add_rules_option, add_run_options, run_options


def cmd_export(args) -> int:
    import sys

    from ..errors import existing_inputs, output_file
    from ..engine.rules import load_rules
    from ..out.export import export_es_bulk  # here, not at the top: every command's start would pay for it

    existing_inputs(args.paths)
    output_file(args.output)
    if args.mapping:
        output_file(args.mapping, "--mapping")
    rules = load_rules(args.rules or [])
    n, mapping = export_es_bulk(args.paths, args.output, args.mapping, index=args.index,
                                include_non_letters=args.all, rules=rules, options=run_options(args))
    print(f"{n} letters → {args.output} (bulk NDJSON), mapping → {mapping}", file=sys.stderr)
    return 0


def add_subcommands(sub) -> None:
    """The ``export`` subcommand (README: Search)."""
    sp = sub.add_parser("export", help="write letters for a search engine (Elasticsearch/OpenSearch bulk)")
    sp.add_argument("paths", nargs="+", help="files, folders, or JSONL written by replyparse parse")
    sp.add_argument("--format", choices=["es-bulk"], default="es-bulk")
    sp.add_argument("-o", "--output", required=True, help="the NDJSON file")
    sp.add_argument("--mapping", help="where to write the index mapping (default: OUTPUT.mapping.json)")
    sp.add_argument("--index", default="replyparse", help="index name in the action lines")
    sp.add_argument("--all", action="store_true", help="include records that are not reply letters")
    add_rules_option(sp)
    add_run_options(sp)
    sp.set_defaults(func=cmd_export)

