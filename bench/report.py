"""Review report benchmark: a report of 5,000 letters, its size and how fast it opens.

    python bench/report.py                 # 5,000 letters, 3 openings in headless Chromium
    python bench/report.py --letters 20000 --keep /tmp/big.html

The letters are the project's own corpus (corpus/, parsed once) repeated with varied ids (each
copy gets its own ``source``), written to a records JSONL and turned into a page by the real
command (``replyparse report records.jsonl -o report.html``). The page is opened in Debian's
headless Chromium (the DevTools client of tests/test_report.py); "open" is the time from
navigation start until the table is built and every chart has drawn (``window.rpReadyMs``,
measured by the browser), "first letter" the time from a click on a table row until that
letter's highlighted text is on the page, clicked as soon as the page is ready (so it includes
unpacking the letters' texts, which the page starts by itself right after it is ready). For scale, the same browser also opens a page
holding nothing but Plotly's script ("Plotly alone"): on 2 shared cores most of the opening time
is the browser compiling and starting Plotly, whatever the number of letters.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from chromium import CHROMIUM, Chromium  # noqa: E402


def replyparse(*args):
    res = subprocess.run([sys.executable, "-m", "replyparse", *map(str, args)], cwd=REPO, capture_output=True, text=True)
    if res.returncode not in (0, 1):
        sys.exit(f"replyparse {' '.join(map(str, args))}: {res.stderr}")
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--letters", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3, help="openings of the page (the median is reported)")
    ap.add_argument("--keep", help="keep the page here")
    args = ap.parse_args()
    if not CHROMIUM:
        sys.exit("chromium is not installed (apt-get install chromium)")
    tmp = Path(tempfile.mkdtemp(prefix="rp-bench-report-"))
    try:
        replyparse("parse", "corpus", "-o", tmp / "corpus.jsonl", "--quiet")
        base = [json.loads(line) for line in (tmp / "corpus.jsonl").read_text("utf-8").splitlines()]
        with open(tmp / "records.jsonl", "w", encoding="utf-8") as f:
            for n in range(args.letters):
                rec = dict(base[n % len(base)])
                src = rec["source"]
                rec["source"] = f"bench/{n:06d}-{Path(src).name}"
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        page = tmp / "report.html"
        t0 = time.perf_counter()
        replyparse("report", tmp / "records.jsonl", "-o", page, "--quiet")
        build = time.perf_counter() - t0
        size = page.stat().st_size
        from plotly.offline import get_plotlyjs

        bare = tmp / "plotly.html"
        bare.write_text("<!doctype html><html><body><script>" + get_plotlyjs() + "</script><script>"
                        "window.rpReadyMs = Math.round(performance.now());"
                        "document.body.setAttribute('data-ready', '1')</script></body></html>", encoding="utf-8")
        opens, loads, clicks, plotly_alone = [], [], [], []
        for _ in range(args.runs):
            b = Chromium()
            try:
                b.open(bare.as_uri(), timeout=120)
                b.wait_for("document.body.getAttribute('data-ready') === '1'", timeout=120)
                plotly_alone.append(b.eval("window.rpReadyMs") / 1000)
            finally:
                b.close()
            b = Chromium()  # a fresh browser each time: nothing cached
            try:
                loads.append(b.open(page.as_uri(), timeout=120))
                b.wait_for("document.body.getAttribute('data-ready') === '1'", timeout=120)
                opens.append(b.eval("window.rpReadyMs") / 1000)
                problems = b.problems()
                if problems:
                    sys.exit(f"console errors: {problems}")
                rows = b.eval("document.querySelectorAll('#letters tbody tr').length")
                charts = b.eval("document.querySelectorAll('.chart .main-svg').length")
                t1 = time.perf_counter()
                b.click('#letters tbody tr[data-i="0"]')
                b.wait_for("document.getElementById('ltext') !== null", every=0.005)
                clicks.append(time.perf_counter() - t1)
            finally:
                b.close()
        if args.keep:
            shutil.copy(page, args.keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"report of {args.letters:,} letters: {size / 1e6:.1f} MB, built in {build:.1f} s")
    print(f"opened in headless Chromium (median of {args.runs}): {statistics.median(opens):.2f} s to table and "
          f"charts drawn (load event {statistics.median(loads):.2f} s); first letter shown "
          f"{statistics.median(clicks):.2f} s after its click; {rows} table rows on a page, {charts} chart layers")
    print(f"Plotly alone (a page with only its script): {statistics.median(plotly_alone):.2f} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
