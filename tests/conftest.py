from pathlib import Path

import pytest

from replyparse.run.batch import process_file
from replyparse.run.walk import iter_paths

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL = SHARED / "corpus" / "real"
CORPUS = REPO / "corpus"


@pytest.fixture(scope="session")
def real_dir() -> Path:
    if not REAL.is_dir():
        pytest.skip("../shared/corpus/real is not beside this checkout")
    return REAL


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


def _rows(folder: Path) -> dict:
    return {Path(r.path).name: r for r in (process_file(p) for p in iter_paths([folder]))}


@pytest.fixture
def manifest_rows():
    """rows(folder): {file name: FileResult} for every file under folder, as a batch run makes its
    manifest (``files`` table) rows."""
    return _rows


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (tests/chromium.py), one per test module."""
    from chromium import CHROMIUM, Chromium

    if not CHROMIUM:
        pytest.skip("chromium is not installed (tools/test.sh installs Debian's chromium)")
    pytest.importorskip("websocket", reason="websocket-client is in the test extra")
    b = Chromium()
    yield b
    b.close()
