"""Records unchanged: every field of every record of corpus/ and of both real batches hashes as in
tests/snapshots/records.json (written by tools/snapshot.py; see its docstring for when to refresh)."""
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import snapshot as snap  # noqa: E402


@pytest.mark.parametrize("name", list(snap.SETS))
def test_records_equal_the_snapshot(name):
    if not snap.SETS[name].is_dir():
        pytest.skip(f"{snap.SETS[name]} not beside this checkout")
    stored = json.loads(snap.SNAPSHOT.read_text("utf-8"))
    want = {k: v for k, v in stored.items() if k.startswith(name + "/")}
    got = snap.snapshot([name])
    assert want, "the snapshot has no files of this set: run python tools/snapshot.py"
    assert set(got) == set(want)
    changed = {}
    for key in sorted(want):
        if got[key] != want[key]:
            fields = sorted({f for a, b in zip(got[key], want[key]) for f in set(a) | set(b) if a.get(f) != b.get(f)})
            changed[key] = fields or ["(number of records)"]
    assert not changed, f"{len(changed)} files changed: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in
                                                                       list(changed.items())[:15])
