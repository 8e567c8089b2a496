"""``replyparse serve``: the JSON API, the command, and the page in headless Chromium (Debian's
``chromium`` driven over the DevTools protocol with ``websocket-client``; no browser is downloaded).

The browser test types a piece of a gold proposal title into the search box the way a user does
(focus, insert text, Enter) and reads the result list back from the page.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from fixtures.gold_queries import middle

from replyparse.search.index import Index
from replyparse.search.serve import MARK, api_search, make_server, segments



@pytest.fixture(scope="module")
def db(corpus_dir, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("serve") / "corpus.sqlite"
    with Index(path) as ix:
        assert ix.index_paths([corpus_dir]).total_letters > 5
    return str(path)


@pytest.fixture(scope="module")
def gold_letter(corpus_dir):
    """A corpus letter with a proposal title long enough to cut a 12-character piece from."""
    for g in sorted(corpus_dir.glob("*.gold.json")):
        gold = json.loads(g.read_text("utf-8"))
        txt = g.with_name(g.name[: -len(".gold.json")] + ".txt")
        if gold.get("is_reply_letter") and len(gold.get("proposal_title") or "") >= 16 and txt.is_file():
            return os.path.abspath(txt), gold
    pytest.skip("no corpus letter with a long proposal title")


@pytest.fixture(scope="module")
def server(db):
    srv = make_server(db, 0)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _get(url: str) -> tuple[int, dict | bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            body, status, ctype = r.read(), r.status, r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        body, status, ctype = e.read(), e.code, e.headers.get("Content-Type", "")
    return status, (json.loads(body) if ctype.startswith("application/json") else body)


# --------------------------------------------------------------------------- API

def test_segments_split_marks():
    s = f"…在{MARK[0]}老旧小区{MARK[1]}开展{MARK[0]}改造{MARK[1]}"
    assert segments(s) == [["…在", False], ["老旧小区", True], ["开展", False], ["改造", True]]
    assert segments("no hit") == [["no hit", False]]


def test_api_finds_a_title_piece_with_facets(db, gold_letter):
    path, gold = gold_letter
    q = middle(gold["proposal_title"])
    res = api_search(db, {"q": [q]})
    assert any(path in h["paths"] for h in res["hits"][:5]), q
    hit = next(h for h in res["hits"] if path in h["paths"])
    assert any(is_hit for _, is_hit in hit["snippet"]) and q in "".join(t for t, _ in hit["snippet"])
    assert set(res["facets"]) == {"issuer", "year", "body", "kind", "action"}
    assert sum(n for _, n in res["facets"]["body"]) <= res["total"]
    # a facet value narrows to the letters that have it
    year, n = res["facets"]["year"][0]
    narrowed = api_search(db, {"q": [q], "year": [str(year)]})
    assert narrowed["total"] == n <= res["total"]


def test_api_errors_and_pages(server):
    status, body = _get(server + "/api/search?year=twenty")
    assert status == 400 and "year" in body["error"]
    status, body = _get(server + "/api/search?action=bogus")
    assert status == 400 and "bogus" in body["error"]
    status, body = _get(server + "/nowhere")
    assert status == 404
    status, body = _get(server + "/")
    assert status == 200 and b'id="q"' in body
    status, body = _get(server + "/api/search?limit=100000")
    assert status == 200 and len(body["hits"]) <= 100 and body["total"] >= len(body["hits"])


def test_cli_serve_binds_localhost_and_reports_mistakes(db, tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "replyparse", "serve", "--db", db, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
        url = line.split("at ", 1)[1].split()[0]
        status, body = _get(url + "api/search?q=" + urllib.parse.quote("民政局"))
        assert status == 200 and body["total"] >= 1
        # a second server on the same port is a one-line mistake, exit 2
        port = url.rsplit(":", 1)[1].strip("/")
        busy = subprocess.run([sys.executable, "-m", "replyparse", "serve", "--db", db, "--port", port],
                              capture_output=True, text=True, timeout=60)
        assert busy.returncode == 2 and "another --port" in busy.stderr and len(busy.stderr.strip().splitlines()) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    missing = subprocess.run([sys.executable, "-m", "replyparse", "serve", "--db", str(tmp_path / "none.sqlite")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no index at" in missing.stderr


# --------------------------------------------------------------------------- the page in Chromium

RESULTS = """[...document.querySelectorAll('#results li')].map(li => ({
  head: li.querySelector('.head').textContent,
  sources: li.querySelector('.sources').textContent,
  marks: [...li.querySelectorAll('mark')].map(m => m.textContent)}))"""


def test_page_typed_query_lists_the_letter_with_hits_marked(browser, server, gold_letter):
    path, gold = gold_letter
    q = middle(gold["proposal_title"])
    browser.call("Page.navigate", url=server + "/")
    browser.wait_for("document.readyState === 'complete' && document.body.dataset.state === 'done'")
    browser.eval("document.body.dataset.state = ''; document.getElementById('q').focus()")
    browser.call("Input.insertText", text=q)
    for kind in ("keyDown", "keyUp"):
        browser.call("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter", windowsVirtualKeyCode=13,
                     text="\r" if kind == "keyDown" else "")
    browser.wait_for("document.body.dataset.state === 'done'")
    items = browser.eval(RESULTS)
    assert items, browser.eval("document.getElementById('status').textContent")
    rank = next((i for i, it in enumerate(items) if path in it["sources"]), None)
    assert rank is not None and rank < 5, (q, [it["sources"] for it in items[:5]])
    assert q in items[rank]["marks"], items[rank]["marks"]  # the piece is marked whole where it stands
    assert "q=" in browser.eval("location.search")

    # a facet narrows the list: every letter shown has that year, and the filter is shown as a chip
    before = browser.eval("document.getElementById('status').textContent")
    year = browser.eval("(document.querySelector('#facets a[data-facet=year]') || {}).dataset?.value")
    assert year, "no year facet"
    browser.eval("document.body.dataset.state = ''; document.querySelector('#facets a[data-facet=year]').click()")
    browser.wait_for("document.body.dataset.state === 'done'")
    items = browser.eval(RESULTS)
    assert items and all(year in it["head"] for it in items), (year, [it["head"] for it in items])
    assert year in browser.eval("document.getElementById('chips').textContent")
    assert int(browser.eval("document.getElementById('status').textContent").split()[0]) <= int(before.split()[0])
