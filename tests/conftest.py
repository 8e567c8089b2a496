from pathlib import Path

import pytest

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
