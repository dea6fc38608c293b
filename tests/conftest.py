"""Shared test fixtures: the `--bless` switch, the external corpus, and slow-test flags.

- ``--bless``: data-file tests rewrite their expected output instead of comparing
  (review the diff before committing).
- ``--full``: run the full tier of external suites and fuzzers (CI runs the quick tier).
- ``corpus_dir``: ``../shared/corpus`` beside the checkout; tests skip cleanly without it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _corpus_root() -> Path:
    env = os.environ.get("HERON_CORPUS")
    if env:
        return Path(env)
    return ROOT.parent / "shared" / "corpus"


CORPUS = _corpus_root()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--bless", action="store_true", help="rewrite expected outputs of data-file tests")
    parser.addoption("--full", action="store_true", help="run the full tier of slow external suites and fuzzers")


@pytest.fixture
def bless(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--bless"))


@pytest.fixture
def full(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--full"))


@pytest.fixture(scope="session")
def clif_corpus() -> Path:
    d = CORPUS / "clif-runtests"
    if not d.is_dir():
        pytest.skip(f"CLIF corpus not found at {d}")
    return d


@pytest.fixture(scope="session")
def wasm_corpus() -> Path:
    d = CORPUS / "wasm-spec"
    if not d.is_dir():
        pytest.skip(f"Wasm corpus not found at {d}")
    return d
