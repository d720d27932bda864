"""Sources for the export tests: every template of the built-in bank (whatever it holds when the
tests run) and the fixture bank, a few variants each, built once per session."""

from pathlib import Path

import pytest

from quizgen import bank
from quizgen.export import common

FIXTURES = Path(__file__).parent.parent / "fixtures"
VALID = FIXTURES / "banks" / "valid"
PARTIAL_CREDIT = FIXTURES / "banks" / "partial_credit"
BUILTIN_VARIANTS = 2


@pytest.fixture(scope="session")
def builtin_source(builtin_bank) -> common.ExportSource:
    """Every built-in template, seeds 0 and 1 (skipped only when the built-in bank is empty)."""
    the_bank = builtin_bank
    if not the_bank.templates:
        pytest.skip("the built-in bank has no templates yet")
    return common.source_from_bank(
        the_bank, sorted(the_bank.templates), BUILTIN_VARIANTS, title="built-in bank"
    )


@pytest.fixture(scope="session")
def fixture_source() -> common.ExportSource:
    the_bank = bank.load_bank([VALID], include_builtin=False)
    return common.source_from_bank(the_bank, sorted(the_bank.templates), 3, title="fixture bank")


@pytest.fixture(scope="session")
def credit_source() -> common.ExportSource:
    """Templates whose known mistakes earn 50% credit: one number, one choice, several parts."""
    the_bank = bank.load_bank([PARTIAL_CREDIT], include_builtin=False)
    return common.source_from_bank(the_bank, sorted(the_bank.templates), 2, title="partial credit")


EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(scope="session")
def example_source(builtin_bank) -> common.ExportSource:
    """The example exam (examples/midterm.yaml with examples/roster.csv), built in memory."""
    from quizgen import exam

    spec = exam.load_spec(EXAMPLES / "midterm.yaml", builtin_bank)
    manifest = exam.build_exam(spec, exam.load_roster(EXAMPLES / "roster.csv"))
    return common.source_from_manifest(manifest)
