"""``replyparse index`` and ``replyparse search``."""
from __future__ import annotations

import json
import os
import sqlite3


from ..record import ACTION_CATEGORIES
from .options import add_rules_option, add_run_options, run_options


# --------------------------------------------------------------------------- command line

def cmd_index(args) -> int:
    import sys

    from ..errors import UsageError, existing_inputs, output_file
    from ..engine.rules import load_rules
    # the search modules here, not at the top: every command's start would pay for them
    from ..search.index import Index
    from ..search.schema import IndexUnreadable

    existing_inputs(args.paths)
    output_file(args.db, "--db")
    load_rules(args.rules or [])  # a bad --rules folder stops here, before the index is touched
    try:
        ix = Index(args.db)
    except IndexUnreadable as e:
        raise UsageError(str(e)) from None
    except sqlite3.DatabaseError as e:
        raise UsageError(f"{args.db} is not a replyparse index, or it is damaged ({e}); give another --db") from None
    with ix:
        st = ix.index_paths(args.paths, run_options(args), prune=args.prune, rule_dirs=args.rules or ())
    for w in st.warnings:
        print(f"replyparse index: {w}", file=sys.stderr)
    if not args.quiet:
        print(st.summary())
    return 0


def cmd_search(args) -> int:
    import sys

    from ..errors import UsageError
    from ..search.index import Index
    from ..search.query import format_hits, parse_yuan
    from ..search.schema import IndexUnreadable
    from ..search.tokenise import normalise_query, query_terms, tokens

    if not os.path.isfile(args.db):
        raise UsageError(f"no index at {args.db}; build one with: replyparse index PATH... --db {args.db}")
    try:
        min_alloc = parse_yuan(args.min_allocated) if args.min_allocated is not None else None
        min_req = parse_yuan(args.min_requested) if args.min_requested is not None else None
    except ValueError:
        raise UsageError("--min-allocated/--min-requested take yuan, optionally with 万 or 亿 (100万)") from None
    try:
        ix = Index(args.db, readonly=True)
    except IndexUnreadable as e:
        raise UsageError(str(e)) from None
    with ix:
        try:
            res = ix.search(args.query or "", issuer=args.issuer, year=args.year, body=args.body,
                            category=args.category, actions=args.action or (), kind=args.kind,
                            min_allocated=min_alloc, min_requested=min_req, limit=args.limit, offset=args.offset)
        except ValueError as e:
            raise UsageError(str(e)) from None
    if args.show_query:
        print(f"terms:  {' | '.join(query_terms(args.query or ''))}", file=sys.stderr)
        print(f"match:  {res.match}", file=sys.stderr)
        # the jieba tokens a search engine fed by `export --format es-bulk` needs (loads jieba)
        print(f"tokens: {' | '.join(' '.join(tokens(g)) for g in normalise_query(args.query or '').split())}",
              file=sys.stderr)
    if args.json:
        print(json.dumps(res.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(format_hits(res))
    return 0


def add_subcommands(sub) -> None:
    """The ``index``, ``search`` and ``serve`` subcommands (README: Search)."""
    sp = sub.add_parser("index", help="build or update a full-text index (SQLite FTS5) of letters")
    sp.add_argument("paths", nargs="+", help="files, folders, or JSONL written by replyparse parse")
    sp.add_argument("--db", required=True, help="the index file (.sqlite); created when missing")
    add_rules_option(sp)
    sp.add_argument("--prune", action="store_true", help="also drop indexed files that no longer exist anywhere")
    add_run_options(sp)
    sp.set_defaults(func=cmd_index)

    sp = sub.add_parser("search", help="search an index built by replyparse index")
    sp.add_argument("query", nargs="?", default="",
                    help="pieces of the letters as written, 3+ characters (any fragment: a name, a doc number, part of a "
                         "title), or 1-2 character words; space = AND; Traditional is converted; empty: filters only, "
                         "newest first")
    sp.add_argument("--db", required=True)
    sp.add_argument("--issuer", help="issuer contains this text (民政局)")
    sp.add_argument("--year", type=int, help="year of the letter's date (or of its doc number)")
    sp.add_argument("--body", help="人大 or 政协")
    sp.add_argument("--kind", help="建议, 提案 or 议案")
    sp.add_argument("--category", help="handling category A/B/C/D")
    sp.add_argument("--action", action="append", choices=ACTION_CATEGORIES,
                    help="the letter shows this action (repeat: all of them)")
    sp.add_argument("--min-allocated", help="allocated total at least this (yuan; 100万 and 1.2亿 accepted)")
    sp.add_argument("--min-requested", help="requested total at least this")
    sp.add_argument("--limit", type=int, default=10)
    sp.add_argument("--offset", type=int, default=0)
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--show-query", action="store_true", help="print the query's terms and what they are matched with")
    sp.set_defaults(func=cmd_search)


    from ..search.serve import add_subcommand as add_serve

    add_serve(sub)
