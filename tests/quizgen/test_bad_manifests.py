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
from quizgen.manifest import FORMAT, Manifest, load_manifest

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


# ------------------------------------------------------------------ keys the bank does not draw
# Every edit below is what a student holding manifest.json could do to their own paper; grade and
# regrade --manifest must refuse each with one line naming the manifest, the student, the question
# and the part, and the fix, and write nothing.


def _first(data: dict) -> dict:
    return data["students"][0]["questions"][0]["instance"]


def _part(data: dict, part_id: str) -> dict:
    return next(p for p in _first(data)["parts"] if p["id"] == part_id)


def _mistake(data: dict, part_id: str) -> dict:
    return _part(data, part_id)["mistakes"][0]


def _set(path_fn, key, value):
    def edit(data):
        path_fn(data)[key] = value

    return edit


def _credit(data):
    _mistake(data, "a").update(credit=1.0, credit_reason="half the convention counts")


def _points(data):  # 2 points moved from c to a: the question's total is unchanged
    _part(data, "a")["points"] += 2.0
    _part(data, "c")["points"] -= 2.0


EDITS = {
    "expected": (_set(lambda d: _part(d, "a"), "expected", 987654321.0), "part a: its answer key"),
    "expected_vector_element": (
        lambda d: _part(d, "b")["expected"].__setitem__(0, 1.5),
        "part b: its answer key",
    ),
    "mistake_value": (_set(lambda d: _mistake(d, "a"), "value", 1.25), "the value of mistake 'half_convention'"),
    "mistake_credit": (_credit, "the credit of mistake 'half_convention'"),
    "option_text": (lambda d: _part(d, "d")["options"].__setitem__(0, "1.25"), "part d: its option texts"),
    "choice_key": (_set(lambda d: _part(d, "d"), "expected", "A"), "part d: its answer key"),
    "tolerance": (_set(lambda d: _part(d, "a"), "tolerance", {"rtol": 0.5}), "part a: its tolerance"),
    "points": (_points, "part a: its points"),
    "params": (_set(lambda d: _first(d)["params"], "lam", 0.2), "its params"),
    "seed": (_set(_first, "seed", 12345), "seed 12345 is not this student's seed for exam slot 1"),
}  # fmt: skip


def _write_edited(graded, tmp_path, edit) -> Path:
    _, manifest, _, _ = graded
    data = json.loads(manifest.read_text(encoding="utf-8"))
    edit(data)
    edited = tmp_path / "edited" / "manifest.json"
    edited.parent.mkdir()
    edited.write_text(json.dumps(data), encoding="utf-8")
    return edited


@pytest.mark.parametrize("name", EDITS)
def test_grade_refuses_a_manifest_whose_paper_the_bank_does_not_draw(tmp_path, graded, name):
    edit, says = EDITS[name]
    _, manifest, responses, _ = graded
    student = json.loads(manifest.read_text(encoding="utf-8"))["students"][0]
    edited = _write_edited(graded, tmp_path, edit)
    line = refused(["grade", edited, responses, "--out", tmp_path / "g"], watch=tmp_path, names=str(edited))
    number, template = student["questions"][0]["number"], student["questions"][0]["instance"]["template_id"]
    assert f"student {student['id']!r}, question {number} ({template})" in line, line
    assert says in line and "regenerate the exam with 'quizgen generate'" in line, line
    assert not (tmp_path / "g").exists()


def test_a_paper_copied_from_another_student_is_refused(tmp_path, graded):
    def copy(data):  # a friend's question (and seed) on my paper: the redraw alone would pass it
        mine, theirs = data["students"][0]["questions"][0], data["students"][1]["questions"][0]
        mine["instance"] = theirs["instance"]

    _, _, responses, _ = graded
    edited = _write_edited(graded, tmp_path, copy)
    line = refused(["grade", edited, responses, "--out", tmp_path / "g"], watch=tmp_path, names=str(edited))
    assert "is not this student's seed for exam slot 1 (copied from another paper or edited)" in line


def test_regrade_refuses_an_edited_corrected_manifest_and_changes_nothing(tmp_path, graded):
    root, _, _, db = graded
    edited = _write_edited(graded, tmp_path, EDITS["expected"][0])
    line = refused(["regrade", "--db", db, "--manifest", edited], watch=root, names=str(edited))
    assert "part a: its answer key" in line


def test_the_gradebook_refuses_an_edited_paper_whoever_imports_it(tmp_path, graded):
    """serve and the library callers go through the same door as grade and regrade."""
    from quizgen.graders.gradebook import Gradebook

    edited = load_manifest(_write_edited(graded, tmp_path, EDITS["mistake_credit"][0]))
    with Gradebook(tmp_path / "book.sqlite") as book:
        with pytest.raises(SpecError, match="the credit of mistake 'half_convention'"):
            book.import_manifest(edited)
        assert book.db.execute("SELECT COUNT(*) FROM instances").fetchone()[0] == 0


def test_a_manifest_delivered_in_an_lms_is_redrawn_too(tmp_path, graded):
    """An LMS serves any variant to anybody, so the seed is not checked against the student, but
    the keys still are."""

    def delivered(data):
        data["exam"]["delivered_in"] = "moodle"
        _part(data, "c")["expected"] = [1.0, 2.0, 3.0]

    _, _, responses, _ = graded
    edited = _write_edited(graded, tmp_path, delivered)
    line = refused(["grade", edited, responses, "--out", tmp_path / "g"], watch=tmp_path, names=str(edited))
    assert "part c: its answer key" in line


def _count_draws(monkeypatch) -> list:
    from quizgen import engine

    calls: list = []
    real = engine.build_instances
    monkeypatch.setattr(engine, "build_instances", lambda *a, **k: calls.extend(a[1]) or real(*a, **k))
    return calls


def test_papers_sealed_by_generate_are_not_redrawn(tmp_path, graded, monkeypatch):
    _, manifest, responses, _ = graded
    data = json.loads(manifest.read_text(encoding="utf-8"))
    assert all(len(q["seal"]) == 64 for s in data["students"] for q in s["questions"])
    draws = _count_draws(monkeypatch)
    result = CliRunner().invoke(main, ["grade", str(manifest), str(responses), "--out", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    assert draws == []


def test_without_the_key_papers_are_redrawn_once_then_remembered(tmp_path, graded, monkeypatch):
    from quizgen import manifest_check

    _, manifest, responses, _ = graded
    monkeypatch.setenv(manifest_check.KEY_ENV, str(tmp_path / "another machine's key"))
    draws = _count_draws(monkeypatch)
    args = ["grade", str(manifest), str(responses), "--out", str(tmp_path / "g")]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert len(draws) == 3  # three students, one question each: each drawn once
    assert CliRunner().invoke(main, args).exit_code == 0  # the same papers into the same gradebook
    assert len(draws) == 3


def test_a_seal_made_with_another_key_does_not_vouch_for_an_edited_paper(tmp_path, graded):
    from quizgen import manifest_check
    from quizgen.models import Instance

    def forged(data):
        EDITS["expected"][0](data)
        entry = data["students"][0]["questions"][0]
        text = manifest_check.instance_json(Instance.from_dict(entry["instance"]))
        entry["seal"] = manifest_check.seal(b"0" * 64, text)  # the student's own key

    _, _, responses, _ = graded
    edited = _write_edited(graded, tmp_path, forged)
    line = refused(["grade", edited, responses, "--out", tmp_path / "g"], watch=tmp_path, names=str(edited))
    assert "part a: its answer key" in line


def _changed_bank(tmp_path: Path, monkeypatch) -> None:
    """The fixture bank with the weight-decay step's learning rate changed (part c's key)."""
    folder = tmp_path / "bank"
    folder.mkdir()
    text = (FIXTURES / "banks" / "valid" / "penalty.yaml").read_text(encoding="utf-8")
    assert "lr: 0.1," in text
    (folder / "penalty.yaml").write_text(text.replace("lr: 0.1,", "lr: 0.2,"), encoding="utf-8")
    monkeypatch.setattr(bank, "builtin_bank_dir", lambda: folder)


def test_a_manifest_of_a_bank_that_changed_since_says_which_template_changed(tmp_path, graded, monkeypatch):
    from quizgen import manifest_check

    _, manifest, responses, _ = graded
    _changed_bank(tmp_path, monkeypatch)
    # sealed by generate under this machine's key: graded as the students were asked it
    result = CliRunner().invoke(main, ["grade", str(manifest), str(responses), "--out", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    # graded on another machine (no key to check the seals): redrawn, and the change named
    monkeypatch.setenv(manifest_check.KEY_ENV, str(tmp_path / "no key here"))
    line = refused(
        ["grade", manifest, responses, "--out", tmp_path / "g2"], watch=tmp_path, names=str(manifest)
    )
    assert "template 'fixture.l2_chain' changed since this manifest was generated" in line, line
    assert "part c: its answer key differs" in line and "--bank FOLDER" in line, line


def test_a_manifest_from_before_fingerprints_grades_and_is_still_checked(tmp_path, graded, monkeypatch):
    def older(data):  # no fingerprints, no seals
        del data["exam"]["template_sha256"]
        for student in data["students"]:
            for q in student["questions"]:
                del q["seal"]

    _, _, responses, _ = graded
    edited = _write_edited(graded, tmp_path, older)
    result = CliRunner().invoke(main, ["grade", str(edited), str(responses), "--out", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    _changed_bank(tmp_path, monkeypatch)  # then the bank changes: no fingerprint to blame it on
    line = refused(["grade", edited, responses, "--out", tmp_path / "g2"], watch=tmp_path, names=str(edited))
    assert "part c: its answer key differs from what the bank draws from its seed" in line, line
    assert "or grade with the bank the manifest was made with (--bank FOLDER)" in line


def test_every_builtin_templates_seal_survives_the_manifests_json():
    """A seal is taken of the instance's text as generate has it and checked on the text read
    back from manifest.json: the two must be the same for every template, or genuine papers
    would be redrawn for nothing (never accepted wrongly: a seal that does not check redraws)."""
    import quizgen.question_bank
    from quizgen import engine, manifest_check
    from quizgen.manifest import Question, StudentPaper

    real = bank.load_bank([Path(quizgen.question_bank.__file__).parent], include_builtin=False)
    questions = tuple(
        Question(n, n, "", engine.build_instance(t, n, points=7.0))
        for n, t in enumerate(sorted(real.templates.values(), key=lambda t: t.id), 1)
    )
    paper = StudentPaper("s1", "S", "", questions)
    back = StudentPaper.from_dict(json.loads(json.dumps(manifest_check.sealed_student(paper))))
    texts = {("s1", q.number): manifest_check.instance_json(q.instance) for q in back.questions}
    manifest = Manifest({}, (back,))
    assert manifest_check.sealed_by_key(manifest, texts) == set(texts)
