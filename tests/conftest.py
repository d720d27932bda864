"""Fixtures shared by the whole suite.

The suite runs across worker processes (pytest-xdist, ``-n auto`` in pyproject's addopts): a
session-scoped fixture is built once per worker, so every fixture here must be read-only for
the tests that use it (the bank and its templates are frozen dataclasses).
"""

import pytest

from quizgen import bank


@pytest.fixture(scope="session")
def builtin_bank() -> bank.Bank:
    """The built-in bank, loaded once per worker process (loading parses every YAML file of the
    bank: about a second). Tests must not change it."""
    return bank.load_bank()
