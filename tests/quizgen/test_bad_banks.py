"""Malformed bank folders (``--bank DIR``) fed to every command that reads one: exit 1 or 2,
one line naming the file and the place, no traceback, nothing written."""

from pathlib import Path

import pytest
from bad_input import refused

from quizgen import bank

FIXTURES = Path(__file__).parent / "fixtures"
VALID = (FIXTURES / "banks" / "valid" / "penalty.yaml").read_text()
OTHER = VALID.replace("id: fixture.l2_chain", "id: fixture.other")
ROSTER = FIXTURES / "exams" / "roster.csv"
SPEC = FIXTURES / "exams" / "small.yaml"

CORPUS = {
    "latin1": (OTHER.replace("L2 penalty", "L2 P\xe9nalit\xe9").encode("cp1252", "replace"), "t.yaml:", "not UTF-8"),
    "utf16_no_bom": (OTHER.encode("utf-16-le"), "t.yaml:", "save it as UTF-8"),
    "syntax": (OTHER.replace("difficulty: 2", "difficulty: [2").encode(), "t.yaml:", "invalid YAML"),
    "redefines_builtin": (VALID.encode(), "t.yaml:3", "duplicate template id"),
    "not_a_mapping": (b"- 1\n", "t.yaml", "expected"),
    "unknown_function": (OTHER.replace("regularization.l2_penalty", "regularization.nope").encode(), "t.yaml:", "nope"),
    "deep": (b"family: x\ntemplates: " + b"[" * 100 + b"]" * 100 + b"\n", "t.yaml", "nested"),
    "alias_loop": (b"family: x\ntemplates: &t [*t]\n", "t.yaml:2", "alias"),
    # YAML 1.1 reads 1e-06 (no point) as text, which reached Tolerance and raised a TypeError
    "tolerance_as_text": (OTHER.replace("        kind: real\n", "        kind: real\n        tolerance: {atol: 1e-06}\n", 1).encode(), "t.yaml:25", "write it with a point"),
}  # fmt: skip
#: A template that loads but whose constraint asks for 10 ** (10 ** 10) when drawn.
HUGE_POWER = OTHER.replace('- "lam != 0.5"', '- "lam != 0.5 and 10 ** (10 ** 10) > 0"')


@pytest.fixture(autouse=True)
def _fixture_bank_is_builtin(monkeypatch):
    """The valid fixture bank stands for the built-in one (fixture.l2_chain is 'built in')."""
    monkeypatch.setattr(bank, "builtin_bank_dir", lambda: FIXTURES / "banks" / "valid")


def _commands(folder, out):
    return {
        "list": ["bank", "list", "--bank", folder],
        "show": ["bank", "show", "fixture.l2_chain", "--bank", folder],
        "preview": ["preview", "fixture.l2_chain", "--bank", folder],
        "generate": ["generate", SPEC, "--bank", folder, "--roster", ROSTER, "--out", out],
        "validate": ["bank", "validate", folder, "--quiet", "--seeds", "3"],
    }


@pytest.mark.parametrize("command", ["list", "show", "preview", "generate", "validate"])
@pytest.mark.parametrize("name", CORPUS)
def test_commands_refuse_a_bad_bank(tmp_path, name, command):
    data, where, says = CORPUS[name]
    folder = tmp_path / "mybank"
    folder.mkdir()
    (folder / "t.yaml").write_bytes(data)
    args = _commands(folder, tmp_path / "out")[command]
    refused(args, watch=tmp_path, names=where, where=says, status=(1,) if command == "validate" else (2,))


@pytest.mark.parametrize("command", ["preview", "generate", "validate"])
def test_a_huge_power_in_a_template_is_refused_not_computed(tmp_path, command):
    folder = tmp_path / "mybank"
    folder.mkdir()
    (folder / "t.yaml").write_text(HUGE_POWER)
    args = _commands(folder, tmp_path / "out")[command]
    if command == "preview":
        args[1] = "fixture.other"
    if command == "generate":
        spec = tmp_path / "exam.yaml"
        spec.write_text("title: Q\nseed: 1\nsections:\n  - {pick: 1, ids: [fixture.other]}\n")
        args[1] = spec
    refused(args, watch=tmp_path, names="t.yaml:3", where="is too large",
            status=(1,) if command == "validate" else (2,))  # fmt: skip


# ------------------------------------------------------------------ text-option kinds (#17)
OPTIONS_BANK = """family: t
templates:
  - id: t.mc
    title: A text choice
    topic: t
    difficulty: 1
    params: {n: {int: [1, 9]}}
    steps: {}
    text: "n = {{ n }}"
    parts:
      - id: a
        kind: text_choice
        prompt: "Pick one."
        options:
          - {id: right, text: "n is {{ n }}", correct: "n > 0", feedback: "n is at least 1."}
          - {id: wrong, text: "n is negative", feedback: "n is drawn from 1 to 9."}
    solution: "n > 0."
"""
#: (what is changed, the line the error names, what the message says)
BAD_OPTIONS = {
    "answer_on_text_choice": (('        kind: text_choice\n', '        kind: text_choice\n        answer: x\n'), "t.yaml:13", "takes no answer"),
    "one_option": (('          - {id: wrong, text: "n is negative", feedback: "n is drawn from 1 to 9."}\n', ""), "t.yaml:14", "at least two"),
    "no_feedback": ((', feedback: "n is drawn from 1 to 9."', ""), "t.yaml:16", "needs feedback naming the misconception"),
    "unknown_name": (('correct: "n > 0"', 'correct: "m > 0"'), "t.yaml:15", "uses 'm'"),
    "braces_in_expression": (('correct: "n > 0"', 'correct: "{{ n > 0 }}"'), "t.yaml:15", "without {{ }}"),
    "repeated_id": (("{id: wrong,", "{id: right,"), "t.yaml:16", "used twice"),
    "credit_without_reason": (('feedback: "n is drawn from 1 to 9."', 'feedback: "n is drawn from 1 to 9.", credit: 0.5'), "t.yaml:16", "needs a credit_reason"),
    "mistakes_on_text_choice": (('    solution:', '        mistakes: [{id: x, feedback: y}]\n    solution:'), "t.yaml:17", "misconceptions are its options"),
    "true_false_without_truth": (('kind: text_choice', 'kind: true_false'), "t.yaml:11", "needs truth"),
    "ordering_with_correct": (('kind: text_choice', 'kind: ordering'), "t.yaml:15", "remove correct"),
    "ordering_mistake_not_a_permutation": (
        (('kind: text_choice', 'kind: ordering'), (', correct: "n > 0", feedback: "n is at least 1."', ''),
         (', feedback: "n is drawn from 1 to 9."', ''),
         ('    solution:', '        mistakes: [{id: swap, feedback: y, order: [wrong]}]\n    solution:')),
        "t.yaml:17", "each option id once"),
}  # fmt: skip


@pytest.mark.parametrize("name", BAD_OPTIONS)
def test_a_bad_text_option_part_is_one_line_naming_file_line_template_and_fix(tmp_path, name):
    edits, where, says = BAD_OPTIONS[name]
    edits = edits if isinstance(edits[0], tuple) else (edits,)
    text = OPTIONS_BANK
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "t.yaml"
    path.write_text(text)
    templates, problems = bank.load_file(path)
    assert templates == [] and problems
    lines = [str(p) for p in problems]
    assert all("\n" not in line and "template t.mc" in line for line in lines)
    assert any(where in line and says in line for line in lines), lines


def test_the_text_option_fixture_itself_loads(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(OPTIONS_BANK)
    templates, problems = bank.load_file(path)
    assert problems == [] and [t.id for t in templates] == ["t.mc"]
