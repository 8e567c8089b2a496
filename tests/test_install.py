"""Installed as users install it: a wheel in a fresh virtualenv, run from outside the source tree,
gives exactly the records of the editable install (README: Install)."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(cmd, **kw):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert proc.returncode == 0, (cmd, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory) -> Path:
    """A wheel built from a copy of the project (nothing of the checkout is on the path), installed
    into a new virtualenv that shares the installed dependencies but not the package."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src-copy"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("src", "rules"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", base / "dist", src])
    wheels = list((base / "dist").glob("replyparse-*.whl"))
    assert len(wheels) == 1
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", venv])
    _run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", wheels[0]])
    return venv


def test_wheel_ships_the_rules_and_finds_them_in_the_package(wheel_venv, tmp_path):
    code = ("import replyparse, replyparse.engine.rules as r; rs = r.load_rules(); "
            "print(replyparse.__file__); print(r.builtin_rules_dir()); print(len(rs.families))")
    out = _run([wheel_venv / "bin" / "python", "-c", code], cwd=tmp_path).stdout.splitlines()
    assert out[0].startswith(str(wheel_venv)), out  # the wheel's copy, not the checkout's
    assert out[1].startswith(str(wheel_venv)) and out[1].endswith("builtin_rules")
    assert int(out[2]) >= 14
    installed = Path(out[1])
    assert (installed / "jieba_userdict.txt").is_file() and (installed / "money.yaml").is_file()
    package = Path(out[0]).parent
    for data in ("engine/rules_schema.json", "out/report_assets/page.html", "search/serve_assets/index.html"):
        assert (package / data).is_file(), data


def test_wheel_records_equal_the_editable_install(wheel_venv, tmp_path):
    shutil.copytree(REPO / "corpus", tmp_path / "corpus")
    wheel = _run([wheel_venv / "bin" / "replyparse", "parse", "corpus", "--quiet"], cwd=tmp_path).stdout
    editable = _run([sys.executable, "-m", "replyparse", "parse", "corpus", "--quiet"], cwd=tmp_path).stdout
    records = [json.loads(ln) for ln in wheel.splitlines()]
    assert sum(r["status"] == "ok" for r in records) >= 40  # letters recognised, not all not_letter
    assert wheel == editable
    # the rules' own examples pass from the wheel too
    _run([wheel_venv / "bin" / "replyparse", "rules", "check"], cwd=tmp_path)


def test_a_rule_set_missing_a_family_is_an_error(wheel_venv, tmp_path):
    """An install that lost a rule file stops with one line naming it, instead of empty records."""
    venv = tmp_path / "broken"
    shutil.copytree(wheel_venv, venv, symlinks=True)
    site = next(venv.glob("lib/python*/site-packages/replyparse/builtin_rules"))
    (site / "roles.yaml").unlink()
    (tmp_path / "a.txt").write_text("张三代表：\n  您提出的建议收悉。\n", "utf-8")
    proc = subprocess.run([venv / "bin" / "python", "-m", "replyparse", "parse", "a.txt"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and not proc.stdout
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "roles" in proc.stderr and "no rules" in proc.stderr
