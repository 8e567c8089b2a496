"""Put a few real-format letters into corpus/: .docx, .pdf and .html rendered from corpus
letters (with NAME.gold.json copied beside each), so one `replyparse parse corpus/` or
`replyparse eval corpus/` covers every input format. Run from the repository root:

    python tools/render_corpus.py
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from replyparse.readers import read_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fixtures import render  # noqa: E402 (a test fixture, not part of the package)

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
PICKS = {
    "docx": ["sy-jianyi-2021-309", "xq-yijian-2011-057", "km-tian-2021-112", "lz-jianyi-2020-023"],
    "pdf": ["cd-jianyi-2023-218", "hd-jianyi-2022-166", "tj-tian-2020-007", "zj-jianyi-2024-087"],
    "html": ["fx-jianyi-2023-088", "qz-tian-2021-027", "ws-jianyi-2005-039"],
}


def main() -> None:
    for fmt, names in PICKS.items():
        for name in names:
            src = CORPUS / f"{name}.txt"
            gold = CORPUS / f"{name}.gold.json"
            if not src.is_file() or not gold.is_file():
                print(f"skip {name}: no .txt or gold")
                continue
            out_name = f"{name}-{fmt}"
            text = read_file(src).text
            out = CORPUS / f"{out_name}.{fmt}"
            if fmt == "html":
                g = json.loads(gold.read_text("utf-8"))
                render.to_html(text, out, {"issuer": g.get("issuer"), "date": g.get("date"),
                                           "doc_number": g.get("doc_number"), "title": g.get("title")})
            else:
                getattr(render, f"to_{fmt}")(text, out)
            shutil.copyfile(gold, CORPUS / f"{out_name}.gold.json")
            print(f"wrote {out.relative_to(CORPUS.parent)}")


if __name__ == "__main__":
    main()
