"""Malformed and hostile responses files, fed to the real ``quizgen grade`` command: each must
fail at once with exit status 1 or 2 and one line naming the file and the place (no traceback),
and write nothing; and any bytes at all given to the reader either read or raise SpecError."""

import json
import os
import re
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from grading_fixtures import manifest_dict, write_manifest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizgen.cli import main
from quizgen.errors import QuizgenError, SpecError
from quizgen.graders.responses import MAX_CELL, read_responses
from quizgen.manifest import Manifest

pytestmark = pytest.mark.usefixtures("hand_written_papers")


class _NoBank:
    """The grading fixtures' templates are not in the bank; never load it (a second each)."""

    def get(self, template_id):
        raise QuizgenError(f"no template {template_id!r}")


@pytest.fixture(autouse=True)
def _no_bank(monkeypatch):
    monkeypatch.setattr("quizgen.cli_grade.bank_mod.load_bank", lambda dirs=(): _NoBank())


def _billion_laughs() -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\ns1:\n  q1.a: *l9\n"


def _merge_bomb() -> str:
    return "base: &b {q1.a: '1'}\ns1:\n  <<: *b\n"


#: name -> (bytes, the place the one-line error must name (a line, or a key where JSON has no
#: line), a word the message must hold)
CORPUS = {
    "alias_bomb.yaml": (_billion_laughs().encode(), 2, "alias"),
    "merge_alias.yaml": (_merge_bomb().encode(), 3, "alias"),
    "cell_128k.csv": (b"student_id,name,q1.a\ns1,Ada," + b"1" * 131_072 + b"\n", 2, "characters"),
    "cell_quote_unclosed.csv": (b'student_id,name,q1.a\ns1,Ada,"0.5\n' + b"s2,x,1\n" * 30_000, 2, "quote"),
    "cell_30k.csv": (b"student_id;name;q1.a\ns1;Ada;" + b"9" * (MAX_CELL + 1) + b"\n", 2, "characters"),
    "value_128k.json": (json.dumps({"s1": {"q1.a": "1" * 131_072}}).encode(), ": s1.q1.a", "characters"),
    "value_128k.yaml": (b"s1:\n  q1.a: '" + b"1" * 131_072 + b"'\n", 2, "characters"),
    "nested_deep.json": (b'{"s1": {"q1.a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}", 1, "nested"),
    "nested_40.json": (b'{"s1": {"q1.a": ' + b"[" * 40 + b"1" + b"]" * 40 + b"}}", 1, "nested"),
    "nested_deep_lines.json": (b'{"s1":\n {"q1.a":\n' + b"[\n" * 50 + b"]" * 50 + b"}}", 36, "nested"),
    "nested_deep.yaml": (b"s1:\n  q1.a: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", 2, "nested"),
    "nested_block.yaml": (
        b"s1:\n" + b"".join(b"  " * (i + 1) + b"k:\n" for i in range(60)) + b"  " * 61 + b"x: 1\n",
        35,
        "nested",
    ),
    "header_only.csv": (b"student_id,name,q1.a,q1.b,q2.a,q2.b\n", 2, "no student"),
    "header_only_crlf.csv": (b"student_id,name,q1.a\r\n\r\n,,\r\n", 4, "no student"),
    "empty_mapping.json": (b"{}", 1, "no student"),
    "no_ids.csv": (b"student_id,name,q1.a\n,Ada,1\n,Alan,2\n", 4, "no student"),
    "other_exam.csv": (b"student_id,q1.a\nx1,5\nx2,6\n", 2, "another exam"),
    "other_exam.json": (b'{"x1": {}, "x2": {"q1.a": "5"}}', "", "another exam"),
    "empty.csv": (b"", 1, "empty"),
    "empty.yaml": (b"# nothing\n", 1, "mapping"),
    "cp1252_excel.csv": ("student_id,name,q1.a\ns1,Zoë Œil,6\n".encode("cp1252"), 2, "UTF-8"),
    "latin1.csv": ("student_id,name,q1.a\ns1,José,½\n".encode("latin-1"), 2, "UTF-8"),
    "latin1.yaml": ("s1:\n  name: Müller\n  q1.a: 6\n".encode("latin-1"), 2, "UTF-8"),
    "utf16_no_bom.csv": ("student_id,name,q1.a\ns1,Zoë,6\n".encode("utf-16-le"), 1, "UTF-16"),
    "utf16_bad.csv": (b"\xff\xfe" + "student_id,q1.a\n".encode("utf-16-le") + b"\x00\xd8a\x00", 2, "UTF-16"),
    "binary.csv": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), 3, "binary"),
    "binary.json": (bytes(range(256)) * 4, 1, "binary"),
    "nul_in_utf8.yaml": (b"s1:\n  q1.a: 1\x002\n", 2, "NUL"),
    "bad_syntax.yaml": (b"s1: [\n  q1.a: 1\n", 3, "YAML"),
    "unhashable_key.yaml": (b"s1:\n  ? [1, 2]\n  : 3\n", 2, "YAML"),
    "bad_syntax.json": (b'{"s1": {"q1.a": 1,}}', 1, "JSON"),
    "not_a_mapping.json": (b"[1, 2, 3]", 1, "mapping"),
    "control_char.yaml": (b"s1:\n  q1.a: 1\x01\n", 2, "U+0001"),
    "no_id_column.csv": (b"name,q1.a\nAda,1\n", 1, "student_id"),
}


@pytest.fixture
def manifest_path(tmp_path):
    path = tmp_path / "manifest.json"
    write_manifest(path)
    return path


def _grade(manifest_path, responses, out):
    return CliRunner().invoke(main, ["grade", str(manifest_path), str(responses), "--out", str(out)])


def _assert_refused(result, path, line, word, out):
    assert result.exit_code in (1, 2), (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    err = result.stderr
    assert err.endswith("\n") and err.count("\n") == 1, err
    place = re.escape(str(path)) + (f":{line}" if isinstance(line, int) else re.escape(line or ""))
    assert re.match(rf"error: {place}: ", err), err
    assert word.lower() in err.lower(), err
    assert len(err) < 600, err
    assert not out.exists(), sorted(out.rglob("*"))


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_hostile_responses_file_is_refused_in_one_line_and_nothing_is_written(
    name, tmp_path, manifest_path
):
    data, line, word = CORPUS[name]
    path = tmp_path / name
    path.write_bytes(data)
    out = tmp_path / "out"
    start = time.perf_counter()
    result = _grade(manifest_path, path, out)
    assert time.perf_counter() - start < 5
    _assert_refused(result, path, line, word, out)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_a_fifo_is_refused_without_blocking(tmp_path, manifest_path):
    path = tmp_path / "responses.csv"
    os.mkfifo(path)
    out = tmp_path / "out"
    _assert_refused(_grade(manifest_path, path, out), path, None, "regular file", out)


def test_the_control_file_grades_so_the_harness_can_tell_refused_from_broken(tmp_path, manifest_path):
    path = tmp_path / "responses.csv"
    path.write_text("student_id,name,q1.a,q1.b\ns1,Ada,6,7\n")
    result = _grade(manifest_path, path, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "grades.csv").exists()


@pytest.mark.parametrize(
    "name", ["alias_bomb.yaml", "header_only.csv", "cp1252_excel.csv", "nested_deep.json"]
)
def test_regrade_with_a_hostile_responses_file_changes_nothing(name, tmp_path, manifest_path):
    good = tmp_path / "responses.csv"
    good.write_text("student_id,name,q1.a,q1.b\ns1,Ada,6,7\n")
    out = tmp_path / "out"
    assert _grade(manifest_path, good, out).exit_code == 0
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    path = tmp_path / name
    path.write_bytes(CORPUS[name][0])
    result = CliRunner().invoke(main, ["regrade", "--out", str(out), "--responses", str(path)])
    assert result.exit_code in (1, 2) and "Traceback" not in result.output, result.output
    assert result.stderr.startswith(f"error: {path}:") and result.stderr.count("\n") == 1, result.stderr
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before


def test_the_alias_bomb_fails_fast_in_a_real_process(tmp_path, manifest_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_billion_laughs())
    out = tmp_path / "out"
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from quizgen.cli import main; main()",
            "grade",
            manifest_path,
            path,
            "--out",
            out,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.perf_counter() - start < 20
    assert proc.returncode == 2, proc.stderr
    assert (
        proc.stderr.startswith(f"error: {path}:2: an alias (*l0) is not allowed")
        and proc.stderr.count("\n") == 1
    )
    assert "Traceback" not in proc.stderr + proc.stdout and not out.exists()


# ------------------------------------------------------------------------------ read as written


def test_a_utf16_file_with_a_byte_order_mark_is_read(tmp_path):
    manifest = Manifest.from_dict(manifest_dict())
    for encoding in ("utf-16", "utf-32", "utf-8-sig"):
        path = tmp_path / f"r-{encoding}.txt"  # Excel's "Unicode text": UTF-16, tab-separated
        path.write_bytes("student_id\tname\tq1.a\ns1\tZoë\t−0,5\n".encode(encoding))
        rs = read_responses(path, manifest)
        assert rs.for_question("s1", 1) == {"a": "−0,5"}, encoding


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.from_regex(r"[0-9+.][0-9._:xXeEoObB+-]{0,10}", fullmatch=True).filter(
            lambda v: not v.endswith(":")
        ),
        st.sampled_from(
            ["yes", "No", "on", "OFF", "true", "null", "~", "Null", "1:30", "010", "0x10", ".5", "1e3"]
        ),
    )
)
def test_yaml_values_are_the_text_written_never_yaml_numbers_or_booleans(tmp_path_factory, value):
    manifest = Manifest.from_dict(manifest_dict())
    path = tmp_path_factory.mktemp("y") / "r.yaml"
    path.write_text(f"s1:\n  q1.a: {value}\n  q1.b: '{value}'\n", encoding="utf-8")
    rs = read_responses(path, manifest)
    assert rs.for_question("s1", 1) == {"a": value, "b": value}


def test_yaml_tags_are_ignored_so_every_value_is_text(tmp_path):
    manifest = Manifest.from_dict(manifest_dict())
    path = tmp_path / "r.yaml"
    path.write_text(
        "s1:\n  q1.a: !!int 010\n  q1.b: !!python/object/apply:os.system ['false']\ns2:\n  q2.a: !!int\n"
    )
    rs = read_responses(path, manifest)
    assert rs.for_question("s1", 1) == {"a": "010", "b": "[false]"}
    assert rs.for_question("s2", 2) == {"a": None}  # an empty value is blank, whatever its tag


def test_yaml_ids_and_json_numbers_keep_their_digits(tmp_path):
    d = manifest_dict()
    d["students"][0]["id"] = "007"
    manifest = Manifest.from_dict(d)
    path = tmp_path / "r.yaml"
    path.write_text("007:\n  q1.a: 1:30\n  q1.b: [0x10, 010]\n")
    assert read_responses(path, manifest).for_question("007", 1) == {"a": "1:30", "b": "[0x10, 010]"}
    path = tmp_path / "r.json"
    path.write_text('{"007": {"q1.a": 1e400, "q1.b": [0.10, 1' + "0" * 5000 + "]}}")
    got = read_responses(path, manifest).for_question("007", 1)
    assert got == {"a": "1e400", "b": "[0.10, 1" + "0" * 5000 + "]"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from([".csv", ".json", ".yaml"]),
    st.one_of(
        st.binary(max_size=400),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.lists(
            st.sampled_from(
                ["student_id", "s1", "q1.a", "&a", "*a", "[", "]", "{", "}", '"', "'", ",", ";", ":", "\n", " ", "- ",
                 "\xff", "\x00", "0,5", "1:30", "!!int", "<<", "#", "\t", "\ufeff", "é"]
            ),
            max_size=60,
        ).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass")),
    ),
)  # fmt: skip
def test_any_bytes_either_read_or_raise_one_line_spec_error(tmp_path, suffix, data):
    manifest = Manifest.from_dict(manifest_dict())
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        read_responses(path, manifest)
    except SpecError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path)), str(exc)
