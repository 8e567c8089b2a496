"""Bulk runs (src/replyparse/run/): order, cache and resume, timeouts, streaming, Dask."""
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from replyparse import cli
from replyparse.run.walk import iter_paths
from replyparse.run.engines import SLOW_ENV
from replyparse.run.options import RunOptions, RunStats
from replyparse.run.runner import run

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.fixture(scope="module")
def letters(tmp_path_factory) -> Path:
    """40 corpus letters spread over nested folders, plus a broken one, in no sorted order."""
    root = tmp_path_factory.mktemp("letters")
    files = sorted(CORPUS.glob("*.txt"))
    for i, f in enumerate(reversed(files)):
        sub = root / ("b" if i % 3 else "a") / ("z" if i % 2 else "")
        sub.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, sub / f"{i:02d}-{f.name}")
    (root / "a" / "broken.txt").write_bytes(b"\x00\x01\x02" * 200)
    return root


def _dump(results) -> list[str]:
    return [json.dumps([r.to_dict() for r in fr.records], ensure_ascii=False) for fr in results]


def _run(paths, **kw):
    stats = RunStats()
    kw.setdefault("quiet", True)
    out = list(run(paths, options=RunOptions(**kw), stats=stats))
    return out, stats


def test_order_is_input_order_whatever_the_workers(letters):
    expected = [str(p) for p in iter_paths([letters])]
    assert expected == sorted(expected, key=lambda s: Path(s).relative_to(letters).parts)
    serial, _ = _run([letters], workers=1, timeout=0)
    pooled, _ = _run([letters], workers=2, timeout=30, window=4)  # a small window forces reordering
    assert [r.path for r in serial] == expected == [r.path for r in pooled]
    assert _dump(serial) == _dump(pooled)
    assert {r.status for r in serial} == {"ok", "not_letter", "error"}


def test_cache_resume_and_force(letters, tmp_path):
    cache = tmp_path / "cache"
    first, s1 = _run([letters], workers=2, cache_dir=cache)
    assert s1.cached == 0 and s1.files == len(first)
    again, s2 = _run([letters], workers=2, cache_dir=cache)
    assert s2.cached == len(first)  # every file, the broken one too (its error is deterministic)
    assert _dump(again) == _dump(first)
    assert [r.manifest_row() for r in again] == [r.manifest_row() for r in first]
    forced, s3 = _run([letters], workers=2, cache_dir=cache, force=True)
    assert s3.cached == 0 and _dump(forced) == _dump(first)
    # same content under another name: a hit, reported under the new name
    other = tmp_path / "copy"
    other.mkdir()
    src = first[0].path
    shutil.copy(src, other / "renamed.txt")
    (hit,), s4 = _run([other], workers=1, timeout=0, cache_dir=cache)
    assert s4.cached == 1 and hit.path == str(other / "renamed.txt")
    assert hit.records[0].source == str(other / "renamed.txt")
    # a changed file is a miss
    (other / "renamed.txt").write_text(Path(src).read_text("utf-8") + "\n补充。", "utf-8")
    _, s5 = _run([other], workers=1, timeout=0, cache_dir=cache)
    assert s5.cached == 0


def test_timeout_kills_the_worker_and_the_batch_goes_on(letters, tmp_path, monkeypatch):
    paths = list(iter_paths([letters]))
    slow = paths[3]
    monkeypatch.setenv(SLOW_ENV, f"{slow.name}:60")
    t0 = time.monotonic()
    out, stats = _run([letters], workers=2, timeout=1.5, cache_dir=tmp_path / "c")
    assert time.monotonic() - t0 < 20
    assert [r.path for r in out] == [str(p) for p in paths]
    bad = out[3]
    assert bad.status == "error" and bad.reason_code == "timeout" and bad.reason.startswith("timeout")
    assert bad.records[0].status == "error" and bad.records[0].source == str(slow)
    assert stats.files == len(paths) and sum(r.status == "ok" for r in out) >= 30
    # a timeout is not cached: the next run tries the file again
    monkeypatch.delenv(SLOW_ENV)
    again, s2 = _run([letters], workers=2, timeout=30, cache_dir=tmp_path / "c")
    assert s2.cached == len(paths) - 1 and again[3].status == "ok"


def test_cli_streams_and_a_killed_run_resumes(letters, tmp_path):
    paths = list(iter_paths([letters]))
    out, cache = tmp_path / "out.jsonl", tmp_path / "cache"
    env = dict(os.environ, **{SLOW_ENV: f"{paths[-1].name}:120"})
    cmd = [sys.executable, "-m", "replyparse", "parse", str(letters), "-o", str(out), "--cache", str(cache),
           "--workers", "1", "--timeout", "0"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:  # records appear while the run is still going
            if out.exists() and out.read_text("utf-8").count("\n") >= len(paths) - 1:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
    lines = out.read_text("utf-8").splitlines()
    assert len(lines) == len(paths) - 1
    assert [json.loads(line)["source"] for line in lines] == [str(p) for p in paths[:-1]]
    # the re-run takes the finished files from the cache and writes the same records
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert f"{len(paths) - 1} from cache" in res.stderr
    assert out.read_text("utf-8").splitlines()[:-1] == lines


def test_json_output_streams_the_same_bytes(letters, tmp_path, capsys):
    cli.main(["parse", str(letters), "--format", "json", "-o", str(tmp_path / "a.json"), "--workers", "2", "--quiet"])
    records = [r.to_dict() for fr in _run([letters], workers=1, timeout=0)[0] for r in fr.records]
    expected = json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    assert (tmp_path / "a.json").read_text("utf-8") == expected
    assert capsys.readouterr().err == ""  # --quiet: no bar, no summary


def _tables(folder: Path) -> dict[str, bytes]:
    """Every table file under an --out folder; the files table without its timing column, run.json
    without its clock times."""
    out = {}
    for f in sorted(folder.iterdir()):
        if f.is_file() and not f.name.startswith("."):  # .lock names the process that wrote the folder
            data = f.read_bytes()
            if f.name == "run.json":
                data = re.sub(rb'"(started|finished)": "[^"]*"', rb'"\1": ""', data)
            if f.stem == "files":
                data = re.sub(rb"[,:] ?\d+\.\d+(\}?)\r?$", rb"\1", data, flags=re.M)  # seconds is last
            out[f.name] = data
    return out


def test_dask_cluster_writes_the_same_bytes(letters, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    local, remote = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    cli.main(["parse", str(letters), "-o", str(local), "--workers", "2", "--quiet"])
    cli.main(["parse", str(letters), "--out", str(tmp_path / "local"), "--workers", "2", "--quiet"])
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        rc = cli.main(["parse", str(letters), "-o", str(remote), "--engine", "dask",
                       "--scheduler", cluster.scheduler_address, "--quiet"])
        cli.main(["parse", str(letters), "--out", str(tmp_path / "dask"), "--engine", "dask",
                  "--scheduler", cluster.scheduler_address, "--quiet"])
        with distributed.Client(cluster) as client:
            out, stats = _run([letters], engine="dask", scheduler=client)
    assert rc == 1  # the broken file
    assert remote.read_bytes() == local.read_bytes()
    assert [r.path for r in out] == [str(p) for p in iter_paths([letters])]
    assert stats.statuses["error"] == 1
    a, b = _tables(tmp_path / "local"), _tables(tmp_path / "dask")
    assert "files.csv" in a and a == b


def test_dask_batch_with_a_stalled_file_gives_the_others_and_a_timeout_row(tmp_path, monkeypatch):
    """Files go to Dask in batches; a batch held up by one file is split up, so only that file is lost."""
    distributed = pytest.importorskip("distributed")
    d = tmp_path / "in"
    d.mkdir()
    for f in sorted(CORPUS.glob("*.txt"))[:5]:
        shutil.copy(f, d / f.name)
    slow = sorted(p.name for p in d.iterdir())[2]
    monkeypatch.setenv(SLOW_ENV, f"{slow}:30")  # longer than the batch's limit (2 s + 1 s a file)
    # worker processes under a nanny, as on a real cluster: a stalled worker is restarted
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            out, stats = _run([d], engine="dask", scheduler=client, timeout=2)
    by_name = {Path(r.path).name: r for r in out}
    assert [Path(r.path).name for r in out] == sorted(by_name)
    assert by_name[slow].status == "error" and by_name[slow].reason.startswith("timeout")
    assert {n: (r.status, r.reason) for n, r in by_name.items() if r.status == "error"} == {slow: (by_name[slow].status, by_name[slow].reason)}
    assert stats.statuses["error"] == 1


def test_out_folder_rerun_uses_its_cache(letters, tmp_path, capsys):
    args = ["parse", str(letters), "--out", str(tmp_path / "o"), "--workers", "2"]
    cli.main(args)
    first = _tables(tmp_path / "o")
    assert (tmp_path / "o" / ".cache").is_dir()
    capsys.readouterr()
    cli.main(args)
    assert f"{len(list(iter_paths([letters])))} from cache" in capsys.readouterr().err
    assert _tables(tmp_path / "o") == first


def test_workers_end_when_the_parent_is_killed(letters, tmp_path):
    """kill -9 on `replyparse parse` must not leave its worker processes running."""
    if sys.platform == "win32" or not Path("/proc").is_dir():
        pytest.skip("needs /proc")
    slow = sorted(letters.rglob("*.txt"))[0]
    env = dict(os.environ, **{SLOW_ENV: f"{slow.name}:60"})
    proc = subprocess.Popen([sys.executable, "-m", "replyparse", "parse", str(letters), "--out", str(tmp_path / "o"),
                             "--workers", "2", "--timeout", "0"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def children() -> list[int]:
        found = []
        for task in Path(f"/proc/{proc.pid}/task").glob("*"):
            kids = (task / "children").read_text().split() if (task / "children").exists() else []
            found += [int(k) for k in kids]
        return found

    deadline = time.monotonic() + 30
    kids = []
    while time.monotonic() < deadline and len(kids) < 2:
        time.sleep(0.2)
        kids = children()
    assert len(kids) >= 2, "the workers did not start"
    time.sleep(1.0)  # one worker sleeps on the slow file, the other finishes the rest and waits
    proc.kill()
    proc.wait()

    def alive(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(k) for k in kids):
        time.sleep(0.2)
    left = [k for k in kids if alive(k)]
    for k in left:
        os.kill(k, 9)
    assert not left, f"workers {left} outlived their parent"
