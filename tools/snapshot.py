"""Write tests/snapshots/records.json: a hash of every field of every record of corpus/ and of the
two real batches (../shared/corpus/real, real-2) — no letter text, only hashes.

``tests/test_snapshot.py`` parses the same files and requires the same hashes, so a change meant to
leave the output alone (an engine rewrite, a speed-up) is shown to do so. A change meant to alter
records (a rule) is followed by ``python tools/snapshot.py`` and the eval figures in the commit.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = REPO / "tests" / "snapshots" / "records.json"
SETS = {"corpus": REPO / "corpus", "real": REPO.parent / "shared" / "corpus" / "real",
        "real-2": REPO.parent / "shared" / "corpus" / "real-2"}
SKIP_FIELDS = {"source"}  # the path differs from one checkout to another


def inputs(name: str, folder: Path) -> list[Path]:
    from replyparse.run.walk import iter_paths

    if not folder.is_dir():
        return []
    files = [p for p in iter_paths([folder]) if p.suffix != ".json"]
    return files if name == "corpus" else [p for p in files if p.suffix == ".txt"]


def field_hashes(rec: dict) -> dict[str, str]:
    return {k: hashlib.sha1(json.dumps(v, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()[:12]
            for k, v in rec.items() if k not in SKIP_FIELDS}


def snapshot(names=SETS) -> dict[str, list[dict[str, str]]]:
    from replyparse.run.batch import process_file
    from replyparse.engine.rules import default_rules

    rules = default_rules()
    out = {}
    for name in names:
        folder = SETS[name]
        for p in inputs(name, folder):
            out[f"{name}/{p.relative_to(folder)}"] = [field_hashes(r.to_dict()) for r in process_file(p, rules).records]
    return out


def main() -> int:
    missing = [n for n, f in SETS.items() if not f.is_dir()]
    if missing:
        print(f"snapshot: {', '.join(missing)} not found beside this checkout; nothing written", file=sys.stderr)
        return 2
    data = snapshot()
    SNAPSHOT.write_text(json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True) + "\n", "utf-8")
    print(f"wrote {SNAPSHOT.relative_to(REPO)}: {len(data)} files, {sum(map(len, data.values()))} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
