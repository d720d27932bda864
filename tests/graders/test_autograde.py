"""Feedback: the ladder's message at each step, the matched known mistake, and hidden cases that
say how they failed but never on what."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from quizgen.graders.assignment import build_cases, load_assignment, with_hidden_key
from quizgen.graders.autograde import grade_submission
from quizgen.models import Status

ROOT = Path(__file__).resolve().parents[2]
MISTAKES = Path(__file__).parent / "fixtures" / "mistakes"
KEY = b"0123456789abcdef0123456789abcdef-test-key"


def spec(name: str):
    return with_hidden_key(load_assignment(ROOT / "examples" / "assignments" / f"{name}.yaml"), KEY)


def grade(name: str, fixture: str | Path, **kw):
    path = fixture if isinstance(fixture, Path) else MISTAKES / fixture
    return grade_submission(spec(name), path, variant="test-student", **kw)


def checks(grade_, test: str, name: str, hidden: bool | None = None):
    return [
        c
        for case in grade_.cases
        if case.test == test and (hidden is None or case.hidden == hidden)
        for c in case.checks
        if c.name == name
    ]


def test_flipped_kernel_is_named_as_the_convolution_convention():
    g = grade("conv2d", "conv2d_flipped_kernel.py")
    outs = checks(g, "forward", "out")
    # a 1x1 kernel is its own flip: only those cases pass (which cases they are depends on the
    # instructor's key, so they are read from the cases themselves)
    one_by_one = [
        c.params["K"] == 1 for c in build_cases(spec("conv2d"), variant="test-student") if c.test == "forward"
    ]
    assert len(outs) == len(one_by_one) and not all(one_by_one)
    assert [c.correct for c in outs] == one_by_one
    assert all(c.mistake == "flipped_kernel" for c in outs if not c.correct)
    assert "cross-correlation" in next(c for c in outs if not c.correct).message
    assert all(c.correct for c in checks(g, "backward", "db"))


def test_transposed_gradient_fails_on_shape_and_is_recognised():
    g = grade("mlp_backprop", "mlp_transposed_gradients.py")
    dw1 = checks(g, "gradients", "dw1")
    assert all(c.mistake == "transposed" for c in dw1)
    assert "expected shape" in dw1[0].message and "delta1.T @ x" in dw1[0].message
    case = g.cases[0]
    assert case.points == pytest.approx(case.max_points * 3 / 5)  # loss, db1 and db2 are right


def test_textbook_optimizer_forms_are_recognised():
    g = grade("optimizers", "optimizers_textbook_forms.py")
    assert {c.mistake for c in checks(g, "sgd_later_step", "buf_new")} == {"classic_momentum"}
    assert {c.mistake for c in checks(g, "sgd_later_step", "p_new")} <= {"classic_momentum", None}
    assert {c.mistake for c in checks(g, "adam_first_step", "p_new")} == {"no_bias_correction"}
    assert all(c.correct for c in checks(g, "adam_later_step", "m_new"))


def test_summed_loss_and_overflow_get_their_own_messages_and_the_hint():
    g = grade("softmax_cross_entropy", "softmax_naive_sum.py")
    losses = [c for c in checks(g, "loss_and_gradient", "loss") if not c.correct]
    assert losses and all(c.mistake == "sum_not_mean" for c in losses)
    stable = [case for case in g.cases if case.test == "large_scores"]
    assert all(not case.passed for case in stable)
    assert "not a finite number" in stable[0].output
    assert "hint: exp overflows" in stable[0].output


def test_eps_outside_the_square_root_is_recognised():
    g = grade("batchnorm", "batchnorm_eps_outside.py")
    assert {c.mistake for c in checks(g, "forward", "out")} == {"eps_outside"}
    assert "NotImplementedError" in checks(g, "backward", "dx")[0].message


def test_tied_maxima_fail_only_the_ties_test_with_its_hint():
    g = grade("maxpool", "maxpool_ties_to_every_max.py")
    by_test = {t: all(c.passed for c in g.cases if c.test == t) for t in ("forward", "backward", "ties")}
    assert by_test == {"forward": True, "backward": True, "ties": False}
    failed = next(c for c in g.cases if c.test == "ties" and not c.passed)
    assert "first maximum only" in failed.output


def test_ladder_wrong_shape_and_printed_output_on_a_visible_case():
    g = grade("conv2d", "ladder_missteps.py")
    visible = next(c for c in g.cases if c.test == "forward" and not c.hidden)
    assert "out: expected shape (" in visible.output and "got shape (7, 7)" in visible.output
    assert "my secret debugging line" in visible.output
    assert "inputs: N=" in visible.output


def test_ladder_none_is_a_format_error_with_a_hint():
    g = grade("conv2d", "ladder_missteps.py")
    dx = checks(g, "backward", "dx")[0]
    assert dx.status is Status.FORMAT_ERROR
    assert "returned None (a missing return statement?)" in dx.message


def test_ladder_type_and_dtype_steps():
    g = grade("optimizers", "ladder_missteps.py")
    p_new = checks(g, "sgd_first_step", "p_new")[0]
    assert "got a list of" in p_new.message and "np.asarray" in p_new.message
    buf = checks(g, "sgd_first_step", "buf_new")[0]
    assert "float64" in buf.message and "float32" in buf.message
    adam = checks(g, "adam_first_step", "p_new")[0]
    assert adam.message == "expected a tuple, got ndarray"


def test_hidden_cases_say_how_they_failed_but_not_on_what():
    g = grade("maxpool", "ladder_missteps.py")
    hidden = [c for c in g.cases if c.hidden]
    visible = next(c for c in g.cases if c.test == "forward" and not c.hidden)
    assert "first value is" in visible.output.split("Traceback")[0]  # the message, on a visible case
    for case in hidden:
        assert "raised ValueError" in case.output or "not run" in case.output
        assert "inputs:" not in case.output and "seed" not in case.output
        head = [line for line in case.output.splitlines() if "raise ValueError(" not in line]
        assert not any("first value is" in line for line in head)  # the message quotes an input
    g2 = grade("conv2d", "ladder_missteps.py")
    for case in (c for c in g2.cases if c.hidden):
        assert "my secret debugging line" not in case.output
        assert "(expected" not in case.output


def test_missing_function_suggests_the_nearest_name(tmp_path):
    path = tmp_path / "typo.py"
    path.write_text("def softmax_crossentropy(logits, y):\n    return 0.0, logits\n")
    g = grade("softmax_cross_entropy", path)
    loss = checks(g, "loss_and_gradient", "loss")[0]
    assert loss.status is Status.FORMAT_ERROR
    assert "did you mean softmax_crossentropy?" in loss.message


def test_a_syntax_error_is_a_format_error_on_every_check():
    g = grade("lstm", ROOT / "tests/graders/fixtures/submissions/syntax_error.py")
    assert g.score == 0
    assert all(c.status is Status.FORMAT_ERROR for case in g.cases for c in case.checks)
    assert "syntax error" in g.cases[0].output


def test_grading_that_fails_itself_still_returns_a_grade(tmp_path):
    broken = spec("lstm")
    path = ROOT / "examples/assignments/solutions/lstm.py"
    g = grade_submission(broken, path, options="not options")  # the sandbox cannot even start
    assert g.error and g.cases == () and g.score == 0 and not g.passed


def test_bytes_read_elsewhere_grade_like_the_file_and_keep_its_name(tmp_path):
    # a cluster worker gets the file's bytes, not the file: the path it names need not exist there
    solution = ROOT / "examples/assignments/solutions/softmax_cross_entropy.py"
    elsewhere = tmp_path / "not-here" / "alice.py"
    from_file = grade("softmax_cross_entropy", solution)
    from_bytes = grade("softmax_cross_entropy", elsewhere, source=solution.read_bytes())
    assert from_bytes.submission == str(elsewhere) and not elsewhere.exists()
    assert from_bytes.passed and from_bytes.score == from_file.score == from_file.max_score
    broken = grade("softmax_cross_entropy", solution, source=b"def softmax_cross_entropy(:\n")
    assert broken.score == 0 and "syntax error" in broken.cases[0].output


def test_a_hidden_case_quotes_nothing_the_submission_chose_from_its_inputs():
    """An exception class, a returned type's name, a number or a list's length can each carry a
    hidden input out to the feedback; a hidden case names only the kind of thing that failed."""
    fixture = Path(__file__).parent / "fixtures" / "covert" / "smuggles_hidden_inputs_out_through_feedback.py"
    g = grade("softmax_cross_entropy", fixture)
    visible = [c for c in g.cases if not c.hidden]
    assert any(re.search(r"Leak\d", c.output) for c in visible)  # on visible cases, all is shown
    tokens = {}
    for case in build_cases(spec("softmax_cross_entropy"), variant="test-student", hidden=True):
        if case.hidden:
            x = abs(float(np.asarray(case.params["logits"], dtype=float).flat[0]))
            tokens[case.name] = f"{x:.6f}".replace(".", "")
    hidden = [c for c in g.cases if c.hidden]
    assert hidden and all(c.score == 0 for c in hidden for c in c.checks)
    for case in hidden:
        token = tokens[case.name]
        assert not re.search(r"Leak\d", case.output), case.output  # the source line says "Leak" +
        assert token[:5] not in case.output.replace(case.name, ""), case.output
