"""Malformed rosters fed to every command that reads one (generate): exit 1 or 2, one line
naming the file and line, no traceback, nothing written."""

import tempfile
from pathlib import Path

import pytest
from bad_input import refused
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizgen import bank
from quizgen.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
SPEC = FIXTURES / "exams" / "small.yaml"

CORPUS = {
    "cp1252_names": (b"id,name\ns1,Jos\xe9 M\xfcller\n", "roster.csv:2", "save it as UTF-8 CSV"),
    "latin1_header": (b"id,n\xe4me\ns1,A\n", "roster.csv:1", "not UTF-8"),
    "utf16_without_bom": (
        "id,name\ns1,A\n".encode("utf-16-le"),
        "roster.csv:1",
        "UTF-16 text without a byte-order mark",
    ),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00", "roster.csv", "UTF-8"),
    "empty": (b"", "roster.csv:1", "header"),
    "no_header": (b"s1,Ann\ns2,Bob\n", "roster.csv:1", "header"),
    "header_only": (b"id,name\n", "roster.csv", "no students"),
    "empty_id": (b"id,name\n,Ann\n", "roster.csv:2", "empty student id"),
    "duplicate_id": (b"id,name\ns1,A\ns1,B\n", "roster.csv:3", "already on line 2"),
    # the same id typed twice, once with a precomposed "é" and once with "e" + a combining accent
    "duplicate_id_nfc_nfd": (
        "id,name\n\u00e91,A\ne\u03011,B\n".encode(),
        "roster.csv:3",
        "already on line 2",
    ),
    "huge_cell": (b"id,name\ns1," + b"x" * 200_000 + b"\n", "roster.csv:2", "not a readable CSV"),
}


@pytest.fixture(autouse=True)
def _fixture_bank_only(monkeypatch):
    """The fixture bank stands for the built-in one (loading the real one costs a second)."""
    monkeypatch.setattr(bank, "builtin_bank_dir", lambda: FIXTURES / "banks" / "valid")


@pytest.mark.parametrize("name", CORPUS)
def test_generate_refuses_a_bad_roster(tmp_path, name):
    data, where, says = CORPUS[name]
    roster = tmp_path / "roster.csv"
    roster.write_bytes(data)
    out = tmp_path / "out"
    refused(["generate", SPEC, "--roster", roster, "--out", out], watch=tmp_path, names=where, where=says)
    assert not list(out.glob("*")) if out.exists() else True


def test_utf8_bom_and_utf16_rosters_are_read(tmp_path):
    for i, encoding in enumerate(("utf-8-sig", "utf-16")):
        roster = tmp_path / f"r{i}.csv"
        roster.write_bytes("id,name\ns1,José Müller\n".encode(encoding))
        out = tmp_path / f"out{i}"
        result = CliRunner().invoke(main, ["generate", str(SPEC), "--roster", str(roster), "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "José Müller" in (out / "manifest.json").read_text(encoding="utf-8")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.binary(max_size=200),
        st.text(alphabet="id,name\n\"'=é\r\t\x00s1", max_size=60).map(lambda t: t.encode("utf-8")),
    )
)
def test_any_roster_bytes_give_an_exam_or_one_line(data):
    with tempfile.TemporaryDirectory() as tmp:
        roster = Path(tmp) / "roster.csv"
        roster.write_bytes(data)
        result = CliRunner().invoke(
            main, ["generate", str(SPEC), "--roster", str(roster), "--out", str(Path(tmp) / "o"), "--quiet"]
        )
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        if result.exit_code != 0:
            assert result.exit_code in (1, 2) and "Traceback" not in result.output
            lines = result.output.strip().splitlines()
            assert len(lines) == 1 and str(roster) in lines[0], result.output
            assert not (Path(tmp) / "o" / "manifest.json").exists()
