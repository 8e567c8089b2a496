"""``replyparse serve``: a local web page over a search index, on the standard library alone.

``GET /`` is one HTML page (``serve_assets/index.html``, package data): a search box, facets,
the letters with their hits marked. ``GET /api/search?q=…&issuer=…&year=…&body=…&kind=…
&category=…&action=…&limit=…&offset=…`` answers with the JSON of ``replyparse search --json``
plus ``facets`` and ``terms``; each hit's ``snippet`` is a list of ``[text, is_hit]`` pieces so
the page builds it from text nodes (letter text is never read as HTML).

The server binds 127.0.0.1 only: the index holds whatever letters were given to it, and nobody
asked for them to be published. Each request opens the index read-only, so ``replyparse index``
can update it while the page is being used.
"""
from __future__ import annotations

import json
import sys
from importlib import resources

from ..record import ACTION_CATEGORIES
from .schema import IndexUnreadable

HOST = "127.0.0.1"
MARK = ("\ue000", "\ue001")  # private-use characters: cannot occur in a normalised letter
MAX_LIMIT = 100


def page() -> bytes:
    return resources.files(__package__).joinpath("serve_assets", "index.html").read_bytes()


def segments(snip: str) -> list[list]:
    """A snippet marked with MARK as ``[text, is_hit]`` pieces."""
    out: list[list] = []
    rest = snip
    while rest:
        a = rest.find(MARK[0])
        if a < 0:
            out.append([rest, False])
            break
        b = rest.find(MARK[1], a)
        if b < 0:
            b = len(rest)
        if a:
            out.append([rest[:a], False])
        out.append([rest[a + 1:b], True])
        rest = rest[b + 1:]
    return out


def _int(qs: dict, name: str, default: int | None, lo: int = 0, hi: int | None = None) -> int | None:
    v = (qs.get(name) or [None])[0]
    if v in (None, ""):
        return default
    try:
        n = int(v)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {v!r}") from None
    n = max(lo, n)
    return min(hi, n) if hi is not None else n


def api_search(db: str, qs: dict[str, list[str]]) -> dict:
    """The answer of ``/api/search`` for the parsed query string ``qs``."""
    def one(name):
        v = (qs.get(name) or [""])[0].strip()
        return v or None

    actions = [a for a in qs.get("action", []) if a]
    for a in actions:
        if a not in ACTION_CATEGORIES:
            raise ValueError(f"unknown action {a!r}; one of {', '.join(ACTION_CATEGORIES)}")
    from .index import Index  # here: `replyparse parse` registers this command without loading the index code

    with Index(db, readonly=True) as ix:
        res = ix.search(one("q") or "", issuer=one("issuer"), year=_int(qs, "year", None),
                        body=one("body"), kind=one("kind"), category=one("category"), actions=actions,
                        limit=_int(qs, "limit", 20, 1, MAX_LIMIT), offset=_int(qs, "offset", 0),
                        mark=MARK, snippet_width=160, facets=True)
    d = res.to_dict()
    for h in d["hits"]:
        h["snippet"] = segments(h["snippet"])
    d["terms"] = res.terms
    return d


def make_handler(db: str):
    # http.server is imported here, not at the top: every replyparse command registers `serve`,
    # and `replyparse search` should not pay for an HTTP stack it does not use
    from http.server import BaseHTTPRequestHandler
    from urllib.parse import parse_qs, urlsplit

    class Handler(BaseHTTPRequestHandler):
        server_version = "replyparse"

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "no-store")
            if ctype.startswith("text/html"):
                self.send_header("Content-Security-Policy",
                                 "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, obj) -> None:
            self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

        def do_GET(self):  # noqa: N802 (the http.server name)
            url = urlsplit(self.path)
            if url.path in ("/", "/index.html"):
                self._send(200, page(), "text/html; charset=utf-8")
            elif url.path == "/api/search":
                try:
                    self._json(200, api_search(db, parse_qs(url.query)))
                except (ValueError, IndexUnreadable) as e:
                    self._json(400, {"error": str(e).splitlines()[0]})
            else:
                self._json(404, {"error": f"no such page: {url.path}"})

        def log_message(self, fmt, *args):  # one line per request on stderr only when asked
            if getattr(self.server, "verbose", False):
                sys.stderr.write(f"{self.address_string()} {fmt % args}\n")

    return Handler


def make_server(db: str, port: int = 8765, verbose: bool = False):
    from http.server import ThreadingHTTPServer

    srv = ThreadingHTTPServer((HOST, port), make_handler(db))
    srv.daemon_threads = True
    srv.verbose = verbose
    return srv


def cmd_serve(args) -> int:
    import os

    from ..errors import UsageError
    from .index import Index

    if not os.path.isfile(args.db):
        raise UsageError(f"no index at {args.db}; build one with: replyparse index PATH... --db {args.db}")
    try:
        Index(args.db, readonly=True).close()
    except IndexUnreadable as e:
        raise UsageError(str(e)) from None
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: give a port from 1 to 65535 (0: any free port)")
    try:
        srv = make_server(args.db, args.port, args.verbose)
    except OSError as e:
        raise UsageError(f"cannot listen on {HOST}:{args.port} ({e.strerror or e}); give another --port") from None
    print(f"serving {args.db} at http://{HOST}:{srv.server_address[1]}/  (Ctrl-C to stop)", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0


def add_subcommand(sub) -> None:
    sp = sub.add_parser("serve", help="a local web page over an index: search box, facets, hits marked")
    sp.add_argument("--db", required=True, help="the index built by replyparse index")
    sp.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765; 0: any free port)")
    sp.add_argument("--verbose", action="store_true", help="log each request on standard error")
    sp.set_defaults(func=cmd_serve)
