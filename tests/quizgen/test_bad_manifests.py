"""Malformed manifests fed to every command that reads one (grade, regrade --manifest, the
exports): exit 1 or 2, one line naming the file and the place, no traceback, nothing written or
changed; and random JSON to the one manifest reader (grading and the exports share it)."""

import json
from pathlib import Path

import pytest
from bad_input import refused
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from quizgen import bank
from quizgen.cli import main
from quizgen.errors import SpecError
from quizgen.manifest import FORMAT, load_manifest

FIXTURES = Path(__file__).parent / "fixtures"
HEAD = f'{{"format": "{FORMAT}", "exam": {{"title": "Q"}}, "students": '

CORPUS = {
    "binary": (bytes(range(256)) * 4, "manifest.json:1", "a binary file"),
    "latin1": (f'{HEAD}[], "x": "Pr\xfcfung"}}'.encode("latin-1"), "manifest.json:1", "not UTF-8"),
    "utf16_no_bom": ('{"format": 1}'.encode("utf-16-le"), "manifest.json:1", "UTF-16 text without a byte-order mark"),
    "not_json": (b'{"format": \n oops', "manifest.json:2", "not valid JSON"),
    "a_list": (b"[]", "manifest.json", "not a quizgen manifest"),
    "foreign": (b'{"format": "something-else/1"}', "manifest.json", "not a quizgen manifest"),
    "no_students": (f"{HEAD}[]}}".encode(), "manifest.json", "no students"),
    "deep": (f"{HEAD}{'[' * 100}{']' * 100}}}".encode(), "manifest.json", "nested more than 64"),
    "very_deep": (f"{HEAD}{'[' * 100000}{']' * 100000}}}".encode(), "manifest.json", "nested more than 64"),
    "bad_student": (f"{HEAD}[1]}}".encode(), "manifest.json", "manifest"),
    "bad_question": (f'{HEAD}[{{"id": "s1", "questions": [{{"number": "x"}}]}}]}}'.encode(), "manifest.json", ""),
}  # fmt: skip


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A small exam from the fixture bank, graded: (folder, manifest, responses, gradebook)."""
    root = tmp_path_factory.mktemp("graded")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bank, "builtin_bank_dir", lambda: FIXTURES / "banks" / "valid")
        exam = root / "exam"
        args = [
            "generate",
            str(FIXTURES / "exams" / "small.yaml"),
            "--roster",
            str(FIXTURES / "exams" / "roster.csv"),
        ]
        assert CliRunner().invoke(main, [*args, "--out", str(exam)]).exit_code == 0
        responses = exam / "responses_template.csv"
        result = CliRunner().invoke(
            main, ["grade", str(exam / "manifest.json"), str(responses), "--out", str(root / "g")]
        )
        assert result.exit_code == 0, result.output
    return root, exam / "manifest.json", responses, root / "g" / "gradebook.sqlite"  # fmt: skip


@pytest.fixture(autouse=True)
def _fixture_bank_only(monkeypatch):
    monkeypatch.setattr(bank, "builtin_bank_dir", lambda: FIXTURES / "banks" / "valid")


@pytest.mark.parametrize("command", ["grade", "regrade", "moodle", "qti", "pdf"])
@pytest.mark.parametrize("name", CORPUS)
def test_commands_refuse_a_bad_manifest(tmp_path, graded, name, command):
    data, where, says = CORPUS[name]
    root, _, responses, db = graded
    bad = tmp_path / "manifest.json"
    bad.write_bytes(data)
    out = tmp_path / "out"
    args = {
        "grade": ["grade", bad, responses, "--out", out],
        "regrade": ["regrade", "--db", db, "--manifest", bad],
        "moodle": ["export", "moodle", "--manifest", bad, "--out", out / "m.xml"],
        "qti": ["export", "qti", "--manifest", bad, "--out", out / "q.zip"],
        "pdf": ["export", "pdf", "--manifest", bad, "--out", out, "--tex-only"],
    }[command]
    refused(args, watch=root if command == "regrade" else tmp_path, names=where, where=says)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
KEYS = st.sampled_from(
    ["id", "name", "email", "questions", "number", "slot", "instance", "parts", "template_id"]
)


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(
        JSON,
        st.dictionaries(KEYS, JSON, max_size=4).map(
            lambda d: {"format": FORMAT, "exam": {"title": "Q"}, "students": [d]}
        ),
    )
)
def test_random_json_gives_a_manifest_or_a_spec_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("m") / "manifest.json"
    path.write_text(json.dumps(data))
    try:
        load_manifest(path)
    except SpecError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)


def test_a_manifest_with_an_edited_answer_key_is_refused(tmp_path, graded):
    _, manifest, responses, _ = graded
    data = json.loads(manifest.read_text(encoding="utf-8"))
    part = data["students"][0]["questions"][0]["instance"]["parts"][0]
    part["expected"] = 987654321 if isinstance(part["expected"], int) else [987654321.0]
    edited = tmp_path / "manifest.json"
    edited.write_text(json.dumps(data), encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", str(edited), str(responses), "--out", str(tmp_path / "g")])
    assert result.exit_code in (1, 2) and "manifest.json" in result.output
