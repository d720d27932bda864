from pathlib import Path

import pytest

from quizgen import bank

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixture_bank() -> bank.Bank:
    """The small valid bank under fixtures/banks/valid (no built-in templates)."""
    return bank.load_bank([FIXTURES / "banks" / "valid"], include_builtin=False)


@pytest.fixture(scope="session")
def l2_template(fixture_bank):
    return fixture_bank.get("fixture.l2_chain")
