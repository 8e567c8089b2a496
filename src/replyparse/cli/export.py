"""``replyparse export``: letters for Elasticsearch / OpenSearch."""
from __future__ import annotations


from ..out.export import doc_id, es_document, es_mapping, export_es_bulk, iter_units, write_es_bulk


def cmd_export(args) -> int:
    import sys

    from ..errors import existing_inputs, output_file
    from ..engine.rules import load_rules

    existing_inputs(args.paths)
    output_file(args.output)
    if args.mapping:
        output_file(args.mapping, "--mapping")
    rules = load_rules(args.rules or [])
    n, mapping = export_es_bulk(args.paths, args.output, args.mapping, index=args.index,
                                include_non_letters=args.all, rules=rules)
    print(f"{n} letters → {args.output} (bulk NDJSON), mapping → {mapping}", file=sys.stderr)
    return 0


def add_subcommands(sub) -> None:
    """The ``export`` subcommand (README: Search)."""
    from .options import add_rules_option

    sp = sub.add_parser("export", help="write letters for a search engine (Elasticsearch/OpenSearch bulk)")
    sp.add_argument("paths", nargs="+", help="files, folders, or JSONL written by replyparse parse")
    sp.add_argument("--format", choices=["es-bulk"], default="es-bulk")
    sp.add_argument("-o", "--output", required=True, help="the NDJSON file")
    sp.add_argument("--mapping", help="where to write the index mapping (default: OUTPUT.mapping.json)")
    sp.add_argument("--index", default="replyparse", help="index name in the action lines")
    sp.add_argument("--all", action="store_true", help="include records that are not reply letters")
    add_rules_option(sp)
    sp.set_defaults(func=cmd_export)


__all__ = ["es_mapping", "es_document", "write_es_bulk", "export_es_bulk", "doc_id", "iter_units"]
