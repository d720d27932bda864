"""Fixtures shared by the whole suite.

The suite runs across worker processes (pytest-xdist, ``-n auto`` in pyproject's addopts): a
session-scoped fixture is built once per worker, so every fixture here must be read-only for
the tests that use it (the bank and its templates are frozen dataclasses).

Every test run signs and checks manifests with a key of its own (quizgen/manifest_check.py),
never the instructor's key in ~/.config/quizgen; subprocesses inherit it.
"""

import os
import tempfile

import pytest

from quizgen import bank

os.environ["QUIZGEN_KEY_FILE"] = os.path.join(tempfile.mkdtemp(prefix="quizgen-key-"), "manifest.key")


@pytest.fixture(scope="session")
def builtin_bank() -> bank.Bank:
    """The built-in bank, loaded once per worker process (loading parses every YAML file of the
    bank: about a second). Tests must not change it."""
    return bank.load_bank()


#: Files of many independent, CPU-heavy tests (one per template) and no module-scoped fixture:
#: their tests are spread over the workers one by one; every other file runs on one worker.
SPREAD = ("tests/question_bank/test_templates.py", "tests/question_bank/test_bank_quality.py")


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # before xdist's own choice
def pytest_xdist_make_scheduler(config, log):
    """With ``--dist loadfile`` (pyproject's addopts): a file's tests run on one worker, so a
    module-scoped fixture (a graded class, a CLI run over the example exam) is built once, not
    once per worker, and the tests of SPREAD are spread. xdist schedules the biggest files
    first and these single tests last, so they even out the end of the run."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SpreadScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return nodeid if path in SPREAD else path

    return SpreadScheduling(config, log)


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for this worker (tests/postgres.py), stopped at the end;
    the test is skipped, saying why, where none can be started."""
    import postgres

    try:
        server = postgres.start()
    except postgres.Unavailable as exc:
        pytest.skip(f"PostgreSQL: {exc}")
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """The URL of an empty PostgreSQL database of this test's own."""
    return postgres_server.new_database()


@pytest.fixture(scope="module")
def dask_cluster():
    """A local Dask cluster of 2 worker processes, as on a real cluster (each with its own fork
    server, limits and uid), one per test module; skipped, saying why, without the dask extra."""
    distributed = pytest.importorskip("distributed", reason="the dask extra (distributed) is not installed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        yield local
