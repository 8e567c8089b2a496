"""``replyparse report``: the HTML review page, rendered for ``corpus/`` by the real command and
opened in headless Chromium (Debian's ``chromium``, driven over the DevTools protocol with
``websocket-client``; no browser is downloaded). Skipped only when chromium is absent.

Set ``REPLYPARSE_REPORT_SCREENSHOT=docs/report.png`` to keep the screenshots the README shows
(``docs/report.png`` the overview, ``docs/report-letter.png`` a letter opened from the table).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
from chromium import CHROMIUM  # the DevTools client is tests/chromium.py; the browser fixture is in conftest


def replyparse(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "replyparse", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The report of corpus/ with its gold, by the real command; and the records of a plain parse."""
    tmp = tmp_path_factory.mktemp("report")
    out = tmp / "report.html"
    res = replyparse("report", "corpus", "-o", out, "--gold", "corpus", "--workers", "2", "--quiet")
    assert res.returncode == 0, res.stderr
    res = replyparse("parse", "corpus", "-o", tmp / "records.jsonl", "--workers", "2", "--quiet")
    assert res.returncode == 0, res.stderr
    records = [json.loads(line) for line in (tmp / "records.jsonl").read_text("utf-8").splitlines()]
    return out, records, tmp


def page_json(html: str, element_id: str):
    """The data a report page embeds under this id (the letters' details are packed)."""
    from replyparse.out.report import unpack_json

    start = html.index(f'id="{element_id}"')
    start = html.index(">", start) + 1
    text = html[start:html.index("</script>", start)]
    return unpack_json(text) if element_id == "rp-details" else json.loads(text)


# ---------------------------------------------------------------- the file


def test_one_self_contained_file(built):
    out, records, _ = built
    html = out.read_text("utf-8")
    assert html.startswith("<!doctype html>")
    low = html.lower()
    # nothing fetched: no external script, stylesheet, font or frame
    for bad in ('<script src', '<link ', '@import', '@font-face', '<iframe'):
        assert bad not in low, bad
    assert low.count("<script>") == 2  # Plotly once, the page's own script once
    rows = page_json(html, "rp-rows")
    assert [r["src"] for r in rows] == [r["source"] for r in records]
    by_src = {r["source"]: r for r in records}
    for row in rows:
        rec = by_src[row["src"]]
        assert row["st"] == rec["status"] and row["iss"] == rec["issuer"]
        assert row["req"] == rec["requested_total_yuan"] and row["alloc"] == rec["allocated_total_yuan"]
        assert row["cats"] == list(dict.fromkeys(a["category"] for a in rec["actions"]))
    details = page_json(html, "rp-details")
    assert [d["text"] for d in details] == [r["text"] or "" for r in records]


def test_out_folder_gives_the_same_page_data(built):
    out, _, tmp = built
    res = replyparse("parse", "corpus", "--out", tmp / "parsed", "--quiet", "--workers", "2")
    assert res.returncode == 0, res.stderr
    res = replyparse("report", tmp / "parsed", "-o", tmp / "from_out.html", "--gold", "corpus", "--quiet")
    assert res.returncode == 0, res.stderr
    a, b = out.read_text("utf-8"), (tmp / "from_out.html").read_text("utf-8")
    for element in ("rp-rows", "rp-details", "rp-charts"):
        assert page_json(a, element) == page_json(b, element), element


def test_gold_mismatches_are_evaluate_s(built):
    """The page marks exactly what ``replyparse eval``'s comparison finds."""
    from replyparse.evaluate import Report, compare
    from replyparse.record import Record

    out, records, _ = built
    rows = page_json(out.read_text("utf-8"), "rp-rows")
    details = page_json(out.read_text("utf-8"), "rp-details")
    checked = 0
    for row, rec, det in zip(rows, records, details):
        gold_file = CORPUS / (Path(rec["source"]).stem + ".gold.json")
        if not gold_file.is_file():
            assert row["miss"] is None
            continue
        rep = Report()
        compare(Record.from_dict(rec), json.loads(gold_file.read_text("utf-8")), rep, "x")
        found = rep.per_file["x"]
        header = {f for f in found if f not in ("amounts", "amount_roles", "actions")}
        assert {f[0] for f in det["fields"] if f[5]} == header - {"is_reply_letter"}
        assert (row["miss"] > 0) == bool(found), rec["source"]
        checked += 1
    assert checked >= 40
    assert any(r["miss"] for r in rows)  # the corpus is not perfect: the marking is exercised


@pytest.mark.parametrize("args, message", [
    (["report", "no/such/folder", "-o", "{tmp}/r.html"], "no such file or folder: no/such/folder"),
    (["report", "corpus", "-o", "{tmp}"], "is a folder; give a file name"),
    (["report", "corpus", "-o", "{tmp}/r.html", "--gold", "no/such/gold"], "--gold no/such/gold: no such folder"),
])
def test_mistakes_are_one_line(tmp_path, args, message):
    res = replyparse(*[a.format(tmp=tmp_path) for a in args])
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and message in res.stderr, res.stderr
    assert not (tmp_path / "r.html").exists()


def test_out_folder_without_records_is_a_mistake(tmp_path):
    res = replyparse("parse", "corpus/bs-tian-2022-036.txt", "--out", tmp_path / "o", "--formats", "csv", "--quiet")
    assert res.returncode == 0, res.stderr
    res = replyparse("report", tmp_path / "o", "-o", tmp_path / "r.html")
    assert res.returncode == 2 and "without records.jsonl" in res.stderr and res.stderr.count("\n") == 1


# ---------------------------------------------------------------- in the browser


def test_opens_in_chromium(built, browser):
    out, records, tmp = built
    seconds = browser.open(out.as_uri())
    browser.wait_for("document.body.getAttribute('data-ready')", timeout=30)
    assert browser.eval("document.body.getAttribute('data-ready')") == "1"
    assert browser.problems() == []
    # nothing but the file itself was loaded
    assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in browser.requests()), browser.requests()

    # every chart drew, with bars in it
    charts = browser.eval("""[...document.querySelectorAll('.chart')].map(c => [c.id,
        c.querySelectorAll('.plotly .main-svg').length, c.querySelectorAll('.bars .point path').length])""")
    assert [c[0] for c in charts] == ["chart-year", "chart-money_year", "chart-money_issuer", "chart-class",
                                      "chart-actions", "chart-gaps"]
    for chart_id, svgs, bars in charts:
        assert svgs >= 1 and bars >= 1, (chart_id, svgs, bars)
    # the year chart counts every reply letter once
    letters = sum(r["status"] == "ok" for r in records)
    total = browser.eval("""(() => { const d = document.getElementById('chart-year').data;
        return d.reduce((s, t) => s + t.y.reduce((a, b) => a + b, 0), 0); })()""")
    assert total == letters

    # the table lists every record (one page of 100 at most)
    assert browser.eval("document.querySelectorAll('#letters tbody tr').length") == min(100, len(records))
    if os.environ.get("REPLYPARSE_REPORT_SCREENSHOT"):
        shot = browser.screenshot(tmp / "overview.png")
        dest = REPO / os.environ["REPLYPARSE_REPORT_SCREENSHOT"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, dest)
    print(f"report of {len(records)} records: {out.stat().st_size / 1e6:.1f} MB, load event {seconds:.2f} s")


def _letter_to_review(records):
    """A letter a reviewer would open first: warnings, amounts of more than one role, actions."""
    return max((i for i, r in enumerate(records) if r["status"] == "ok"),
               key=lambda i: (bool(records[i]["warnings"]), len({a["role"] for a in records[i]["amounts"]}),
                              len(records[i]["actions"]), -i))


def test_clicking_a_letter_shows_its_highlighted_text(built, browser):
    out, records, tmp = built
    browser.open(out.as_uri())
    browser.wait_for("document.body.getAttribute('data-ready') === '1'")
    i = _letter_to_review(records)
    rec = records[i]
    assert browser.eval("document.getElementById('ltext')") is None
    browser.click(f'#letters tbody tr[data-i="{i}"] td:nth-child(2)')
    browser.wait_for("document.getElementById('ltext') !== null")
    assert browser.eval("document.querySelector('#letters tr.sel').getAttribute('data-i')") == str(i)
    # the text is the record's text, character for character
    assert browser.eval("document.getElementById('ltext').textContent") == rec["text"]
    # every value with a span has a highlight at that span, with its rule on hover
    spans = browser.eval("""[...document.querySelectorAll('#ltext .hl')].map(e => {
        const r = document.createRange(); r.selectNodeContents(document.getElementById('ltext'));
        r.setEndBefore(e); return [e.getAttribute('data-m'), r.toString().length, e.textContent.length, e.title, e.className]; })""")
    assert spans

    def covered(mark, start, end):
        pieces = [(s, s + n, t, c) for m, s, n, t, c in spans if mark in m.split()]
        assert pieces, mark
        assert min(p[0] for p in pieces) == start and max(p[1] for p in pieces) == end, (mark, pieces, start, end)
        return pieces

    for f, e in rec["evidence"].items():
        if e["end"] > e["start"]:
            for *_, title, _ in covered(f"f:{f}", e["start"], e["end"]):
                assert f"{f} = " in title and e["rule"] in title
    for k, a in enumerate(rec["amounts"]):
        for *_, title, cls in covered(f"a:{k}", a["start"], a["end"]):
            assert f"r-{a['role']}" in cls and a["rule"] in title
    for k, c in enumerate(rec["actions"]):
        for *_, title, _ in covered(f"c:{k}", c["start"], c["end"]):
            assert f"action · {c['category']}" in title and c["rule"] in title
    # the warnings stand at the top, before the text
    warn = browser.eval("""(() => { const b = document.querySelector('#letter .box.warnings:not(.ocr)');
        return b && [[...b.querySelectorAll('li')].map(l => l.textContent),
                     !!(b.compareDocumentPosition(document.getElementById('ltext')) & Node.DOCUMENT_POSITION_FOLLOWING)]; })()""")
    assert warn == [rec["warnings"], True]
    # an unsure role is outlined at its amount
    unsure = [a for a in rec["amounts"] if f"role unsure: {a['text']} at {a['start']}" in rec["warnings"]]
    assert browser.eval("document.querySelectorAll('#ltext .unsure').length") >= len(unsure)
    assert browser.problems() == []
    if os.environ.get("REPLYPARSE_REPORT_SCREENSHOT"):
        browser.eval("document.getElementById('review').scrollIntoView()")
        shot = browser.screenshot(tmp / "letter.png")
        dest = REPO / os.environ["REPLYPARSE_REPORT_SCREENSHOT"]
        shutil.copy(shot, dest.with_name(dest.stem + "-letter" + dest.suffix))


def test_filters_sorting_and_gold_marks(built, browser):
    out, records, _ = built
    browser.open(out.as_uri())
    browser.wait_for("document.body.getAttribute('data-ready') === '1'")
    # filter by body: only those rows remain
    want = sum(r["body"] == "政协" for r in records)
    browser.eval("""(() => { const s = document.querySelector('select[data-f="body"]'); s.value = '政协';
        s.dispatchEvent(new Event('change', {bubbles: true})); })()""")
    assert browser.eval("document.querySelectorAll('#letters tbody tr').length") == want
    # sort by requested, largest first
    browser.click('#letters th[data-k="req"]')
    shown = browser.eval("[...document.querySelectorAll('#letters tbody tr')].map(t => +t.getAttribute('data-i'))")
    reqs = [records[i]["requested_total_yuan"] for i in shown]
    stated = [v for v in reqs if v is not None]
    assert stated == sorted(stated, reverse=True) and reqs[: len(stated)] == stated
    browser.click("#clear")
    # a letter that disagrees with gold: its mismatches listed and marked in the text
    rows = page_json(out.read_text("utf-8"), "rp-rows")
    details = page_json(out.read_text("utf-8"), "rp-details")
    marked = [r["i"] for r, d in zip(rows, details) if r["miss"] and (
        any(f[5] and f[3] is not None for f in d["fields"]) or any(a[10] for a in d["amounts"]) or any(c[4] for c in d["actions"]))]
    assert marked
    i = marked[0]
    browser.eval(f"""(() => {{ const s = document.querySelector('select[data-f="miss"]'); s.value = '(disagrees)';
        s.dispatchEvent(new Event('change', {{bubbles: true}})); }})()""")
    assert browser.eval("document.querySelectorAll('#letters tbody tr').length") == sum(bool(r["miss"]) for r in rows)
    browser.click(f'#letters tbody tr[data-i="{i}"]')
    browser.wait_for("document.getElementById('ltext') !== null")
    assert browser.eval("document.querySelectorAll('#letter .box.gold li').length") == rows[i]["miss"]
    assert browser.eval("document.querySelectorAll('#ltext .miss').length") >= 1
    assert browser.problems() == []


def test_chart_clicks_and_links(built, browser):
    """A bar of the gap chart opens its letter, a class bar filters the table, #L<n> opens letter n."""
    out, records, _ = built
    browser.open("about:blank")  # else only the fragment changes: no new page, no load event
    browser.open(out.as_uri() + "#L2")
    browser.wait_for("document.body.getAttribute('data-ready') === '1'")
    browser.wait_for("document.getElementById('ltext') !== null")
    assert browser.eval("document.getElementById('ltext').textContent") == records[1]["text"]
    gaps = sorted(((r["requested_total_yuan"] - (r["allocated_total_yuan"] or 0), i) for i, r in enumerate(records)
                   if r["status"] == "ok" and r["requested_total_yuan"] is not None), reverse=True)
    if gaps and gaps[0][0] > 0:
        bars = browser.eval("document.getElementById('chart-gaps').data[0].customdata")
        browser.click("#chart-gaps .bars .point path")
        browser.wait_for(f"location.hash === '#L{bars[0] + 1}'")
        assert browser.eval("document.getElementById('ltext').textContent") == records[bars[0]]["text"]
        assert set(bars) <= {i for _, i in gaps[:10]}
    browser.click("#chart-class .bars .point path")
    cls = browser.eval("document.querySelector('select[data-f=\"cls\"]').value")
    shown = browser.eval("[...document.querySelectorAll('#letters tbody tr')].map(t => +t.getAttribute('data-i'))")
    assert shown and all(records[i]["handling_category"] == cls for i in shown)
    assert len(shown) == sum(r["handling_category"] == cls for r in records)
    assert browser.problems() == []


def test_without_plotly_the_command_says_what_to_install(tmp_path, monkeypatch, capsys):
    from replyparse.cli import main

    monkeypatch.setitem(sys.modules, "plotly", None)  # as if it were not installed
    assert main(["report", "corpus/bs-tian-2022-036.txt", "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'replyparse[report]'" in err
    assert not (tmp_path / "r.html").exists()


def test_odd_records_still_make_a_page(tmp_path, request):
    """A records JSONL with a file name in foreign bytes, spans past the text, no text at all."""
    recs = [
        {"source": "a\udcb4.txt", "status": "ok", "is_reply_letter": True, "text": "甲乙丙", "issuer": "某局",
         "amounts": [{"text": "5元", "value_yuan": 5, "role": "other", "start": 1, "end": 99, "rule": "r"}],
         "actions": [], "warnings": ["role unsure: 5元 at 1"], "evidence": {"issuer": {"rule": "x", "start": 0, "end": 2}},
         "ocr": True, "ocr_confidence": [0.912, None]},
        {"source": "b.pdf", "status": "error", "reason": "damaged PDF", "text": None, "warnings": []},
    ]
    (tmp_path / "r.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs), "utf-8")
    res = replyparse("report", tmp_path / "r.jsonl", "-o", tmp_path / "r.html", "--quiet")
    assert res.returncode == 1, res.stderr  # a record with status error, as parse reports it
    html = (tmp_path / "r.html").read_text("utf-8")
    rows, details = page_json(html, "rp-rows"), page_json(html, "rp-details")
    assert [r["st"] for r in rows] == ["ok", "error"] and rows[1]["w"] == ["error: damaged PDF"]
    assert details[0]["amounts"][0][5:7] == [1, 3]  # the span is cut at the end of the text
    if CHROMIUM:  # and the page works: charts with nothing to draw say so, both rows open
        browser = request.getfixturevalue("browser")
        browser.open((tmp_path / "r.html").as_uri())
        browser.wait_for("document.body.getAttribute('data-ready') === '1'")
        assert browser.eval("document.querySelectorAll('.chart .main-svg').length") >= 6
        browser.click('#letters tbody tr[data-i="0"]')
        browser.wait_for("document.getElementById('ltext') !== null")
        assert browser.eval("document.getElementById('ltext').textContent") == "甲乙丙"
        assert browser.eval("[...document.querySelectorAll('#ltext .unsure')].map(e => e.textContent).join('')") == "乙丙"
        assert browser.eval("document.querySelector('#letter .box.ocr').textContent") == \
            "read by OCR — confidence by page: page 1 0.912 · page 2 text layer"
        browser.click('#letters tbody tr[data-i="1"]')
        browser.wait_for("document.querySelector('#letter .src').textContent.includes('b.pdf')")
        assert "damaged PDF" in browser.eval("document.getElementById('letter').textContent")
        assert browser.problems() == []
