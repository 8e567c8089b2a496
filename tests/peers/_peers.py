"""Shared helpers for the peer suites: other projects' test cases, read in place from
``shared/peers`` (see its README for attribution), and the one list of out-of-scope cases."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
PEERS = Path(__file__).resolve().parents[3] / "shared" / "peers"
OUT_OF_SCOPE_FILE = HERE / "out_of_scope.yaml"


def load_json(name: str):
    return json.loads((PEERS / name).read_text("utf-8"))


def load_jsonl(name: str):
    return [json.loads(line) for line in (PEERS / name).read_text("utf-8").splitlines() if line.strip()]


def out_of_scope(suite: str) -> dict[str, str]:
    """case text → reason, for one suite."""
    data = yaml.safe_load(OUT_OF_SCOPE_FILE.read_text("utf-8")) or []
    return {str(e["case"]): e["reason"] for e in data if e["suite"] == suite}


def report(suite: str, passed: int, total: int, skipped: int, failures: list) -> float:
    rate = passed / total if total else 1.0
    print(f"\n[{suite}] in scope {passed}/{total} = {rate:.3f}; out of scope {skipped}")
    for f in failures[:40]:
        print("   FAIL", f)
    return rate


def num_eq(a, b, tol=1e-6) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    return abs(a - b) <= tol * max(1.0, abs(b))


def run_suite(suite: str, cases, key: str, check, floor: float, label=None) -> float:
    """Score ``check`` (None for a pass, else why not) over a suite's in-scope cases, print the
    rate and failures, and hold the rate at ``floor``."""
    scope = out_of_scope(suite)
    passed = total = skipped = 0
    failures = []
    for case in cases:
        if str(case[key]) in scope:
            skipped += 1
            continue
        total += 1
        err = check(case)
        if err is None:
            passed += 1
        else:
            failures.append(f"{label(case) if label else repr(case[key])}: {err}")
    rate = report(suite, passed, total, skipped, failures)
    assert rate >= floor
    return rate
