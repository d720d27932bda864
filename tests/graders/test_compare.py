import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizgen.graders.compare import close_rows, compare_arrays, match_mistake
from quizgen.models import EXACT, KnownMistake, Status, Tolerance

TOL = Tolerance()  # rtol 1e-2, atol 1e-8


def test_equal_arrays_score_full_and_say_correct():
    c = compare_arrays([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]], TOL)
    assert (c.score, c.status, c.n_wrong, c.wrong, c.shape_ok) == (1.0, Status.CORRECT, 0, (), True)
    assert c.correct


def test_values_within_relative_tolerance_are_accepted_and_just_outside_are_not():
    # margin for 100 is 1e-8 + 0.01 * 100 = 1.00000001
    assert compare_arrays(100.0, 100.99, TOL).correct
    assert not compare_arrays(100.0, 101.01, TOL).correct


def test_shape_mismatch_scores_zero_with_both_shapes_in_the_message():
    c = compare_arrays(np.zeros((2, 3)), np.ones((3, 2)), TOL)
    assert c.score == 0.0 and c.status is Status.INCORRECT and not c.shape_ok
    assert c.message == "expected shape (2, 3), got shape (3, 2)"
    assert c.max_error == math.inf


def test_shape_mismatch_names_a_transpose_or_a_reshape_of_the_right_values():
    e = np.arange(6.0).reshape(2, 3)
    assert compare_arrays(e, e.T, TOL).message.endswith("; the answer is the transpose of the right one")
    assert compare_arrays(e, e.reshape(-1), TOL).message.endswith(
        "; the numbers are right but arranged in the wrong shape"
    )
    assert compare_arrays(e, np.zeros((3, 2)), TOL).message == "expected shape (2, 3), got shape (3, 2)"


def test_array_for_a_scalar_is_a_shape_error_naming_a_single_number():
    c = compare_arrays(1.0, [1.0], TOL)
    assert not c.shape_ok and c.message == "expected a single number, got shape (1,)"


def test_partial_credit_is_the_share_right_beyond_the_best_trivial_answer():
    expected = np.arange(8.0).reshape(2, 4)
    given = expected.copy()
    given[0, 1] += 1.0
    given[1, 3] -= 5.0
    c = compare_arrays(expected, given, TOL)
    assert c.score == pytest.approx((6 - 1) / (8 - 1))  # all zeros would get 1 of 8 right
    assert c.status is Status.PARTIAL
    assert c.n_wrong == 2 and c.wrong == ((0, 1), (1, 3))
    assert c.max_error == pytest.approx(5.0)
    assert "2 of 8 elements are off (at [0, 1], [1, 3]" in c.message
    assert "the largest error is 5 at [1, 3]" in c.message


def test_all_or_nothing_gives_zero_for_one_wrong_element():
    c = compare_arrays([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], TOL, partial=False)
    assert c.score == 0.0 and c.status is Status.INCORRECT and c.n_wrong == 1
    assert "1 of 3 elements is off (at [2]" in c.message
    assert "2 of 3 elements are off" in compare_arrays([1.0, 2.0, 3.0], [1.0, 5.0, 4.0], TOL).message
    assert compare_arrays([1.0], [2.0], TOL).message.startswith("1 of 1 element is off")


def test_non_finite_values_are_wrong_and_reported():
    c = compare_arrays([1.0, 2.0, 3.0, 4.0], [1.0, np.nan, np.inf, 4.0], TOL)
    assert c.score == pytest.approx((2 - 1) / (4 - 1)) and c.n_wrong == 2 and c.max_error == math.inf
    assert "2 not a finite number (first at [1])" in c.message
    s = compare_arrays(1.0, float("nan"), TOL)
    assert s.score == 0.0 and "not a finite number" in s.message


def test_many_wrong_elements_list_only_the_first_few():
    c = compare_arrays(np.zeros(20), np.ones(20), TOL)
    assert c.n_wrong == 20 and len(c.wrong) == 5 and ", ..." in c.message


def test_scalar_message_gives_absolute_and_relative_error_but_not_the_answer():
    c = compare_arrays(2.0, 2.5, TOL)
    # |2.5 - 2| = 0.5, 0.5 / 2 = 0.25 relative; margin 0.02 + 1e-8
    assert c.message.startswith("too high by 0.5 (0.25 relative); it must be within ±0.02 of the key")
    assert "2.0" not in c.message and " 2 " not in c.message
    assert compare_arrays(2.0, 1.0, TOL).message.startswith("too low by 1 (0.5 relative)")


def test_scalar_sign_flip_and_power_of_ten_are_named():
    assert "the sign is flipped" in compare_arrays(0.25, -0.25, TOL).message
    assert "off by a factor of 10^1" in compare_arrays(0.25, 2.5, TOL).message
    assert "off by a factor of 10^-3" in compare_arrays(1500.0, 1.5, TOL).message


def test_show_values_adds_expected_and_given_of_the_worst_element():
    c = compare_arrays([1.0, 2.0], [1.0, 7.0], TOL, show_values=True)
    assert "(expected 2, got 7)" in c.message


def test_exact_tolerance_rejects_any_difference():
    assert compare_arrays([4, 4, 10], [4, 4, 10], EXACT).correct
    c = compare_arrays(3, 3.0000001, EXACT)
    assert (
        not c.correct
        and c.message.startswith("too high by")
        and "the key must be matched exactly" in c.message
    )


def test_not_numbers_or_none_score_zero_with_a_reason():
    assert "None" in compare_arrays(1.0, None, TOL).message
    assert "not an array of numbers" in compare_arrays([1.0, 2.0], [[1.0], [1.0, 2.0]], TOL).message
    assert "text" in compare_arrays(1.0, "abc", TOL).message
    assert compare_arrays(1.0, 1 + 2j, TOL).score == 0.0
    assert compare_arrays([1.0, 2.0], ["1", "2"], TOL).message == "expected shape (2,); got text, not numbers"


def test_empty_arrays_of_the_same_shape_are_correct():
    assert compare_arrays(np.zeros((0, 3)), np.zeros((0, 3)), TOL).correct


def test_sigfigs_tolerance_accepts_a_value_rounded_to_that_many_figures():
    tol = Tolerance(sigfigs=3)
    assert compare_arrays(0.0123456, 0.0123, tol).correct
    assert not compare_arrays(0.0123456, 0.0124, tol).correct


def _floor_by_brute_force(expected, tol):
    """The most elements one number typed everywhere gets right, over 0 and the key's values."""
    flat = list(np.ravel(expected))
    return max(sum(tol.accepts(e, c) for e in flat) for c in [0.0, *flat])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from([0.0, 1.0, -2.0, 3.5, 1e-3]) | st.floats(-1e6, 1e6, allow_nan=False),
        min_size=1,
        max_size=12,
    ),
    st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_score_is_the_share_right_beyond_the_best_trivial_answer(values, flips):
    expected = np.array(values)
    given_ = expected.copy()
    flip = np.array(flips[: len(values)])
    given_[flip] += 10.0 * (np.abs(expected[flip]) + 1.0)
    c = compare_arrays(expected, given_, TOL)
    right, n = int((~flip).sum()), len(values)
    floor = _floor_by_brute_force(expected, TOL)
    if right == n:
        assert c.score == 1.0
    elif floor >= n:
        assert c.score == 0.0
    else:
        assert c.score == pytest.approx(max(0, right - floor) / (n - floor))
    assert c.n_wrong == int(flip.sum())
    assert 0.0 <= c.score <= 1.0
    for trivial in (np.zeros_like(expected), -expected, np.full_like(expected, expected[0])):
        t = compare_arrays(expected, trivial, TOL)
        assert t.correct or t.score == 0.0


def test_all_zeros_constant_and_sign_flipped_arrays_earn_zero():
    key = np.array([0.0, 0.0, 0.0, 1.0])  # relu'(x) at [-2, -1, 0, 3]
    assert compare_arrays(key, np.zeros(4), TOL).score == 0.0
    assert compare_arrays(key, [0.0, 0.0, 1.0, 1.0], TOL).score == 0.0  # 3 right, as many as zeros
    assert compare_arrays(key, [0.0, 0.0, 0.0, 2.0], TOL).score == 0.0
    assert compare_arrays([1.0, -2.0, 3.0], [-1.0, 2.0, -3.0], TOL).score == 0.0
    assert (
        compare_arrays([1.0, 1.0, 1.0, 2.0], [5.0, 5.0, 5.0, 2.0], TOL).score == 0.0
    )  # 1 right, as a constant gets 3
    assert compare_arrays([1.0, 1.0, 2.0, 3.0], [1.0, 1.0, 2.0, 0.0], TOL).score == pytest.approx(0.5)


def test_a_transposed_square_matrix_is_named_and_scores_zero():
    e = np.array([[1.0, 2.0], [3.0, 4.0]])
    c = compare_arrays(e, e.T, TOL)
    assert c.score == 0.0 and c.status is Status.INCORRECT
    assert c.message.endswith("; the answer is the transpose of the right one")
    symmetric = np.array([[1.0, 2.0], [2.0, 5.0]])
    assert compare_arrays(symmetric, symmetric.T, TOL).correct


def test_zero_is_never_off_by_a_power_of_ten_or_flipped():
    for key, zero in ((3e-5, 0.0), ([3e-5, -2e-7], [0.0, 0.0]), (2e-9, 0.0)):
        message = compare_arrays(key, zero, TOL).message
        assert "factor" not in message and "sign" not in message, message
    assert "off by a factor of 10^-3" in compare_arrays(3e-5, 3e-8, TOL).message


def _mistakes():
    return (
        KnownMistake("same_as_answer", "indistinguishable", 1.0, distinguishable=False),
        KnownMistake("no_bias_correction", "divide m by 1 - beta1^t", 0.5),
        KnownMistake("also_half", "second match", 0.5),
        KnownMistake("failed", "could not be computed", None),
        KnownMistake("vec", "a vector", [1.0, 2.0]),
    )


def test_match_mistake_returns_the_first_distinguishable_match_in_order():
    m = match_mistake(0.501, _mistakes(), TOL)
    assert m is not None and m.id == "no_bias_correction"


def test_match_mistake_ignores_indistinguishable_and_missing_values():
    assert match_mistake(1.0, _mistakes(), TOL) is None
    assert match_mistake(7.0, _mistakes(), TOL) is None


def test_match_mistake_needs_the_same_shape():
    assert match_mistake([1.0, 2.0], _mistakes(), TOL).id == "vec"
    assert match_mistake([[1.0, 2.0]], _mistakes(), TOL) is None


def test_match_mistake_compares_option_letters_case_insensitively():
    mistakes = (KnownMistake("m", "f", "C"),)
    assert match_mistake("c", mistakes, EXACT).id == "m"
    assert match_mistake("B", mistakes, EXACT) is None
    assert match_mistake(3.0, mistakes, EXACT) is None


def test_the_trivial_floor_judges_every_pair_as_close_rows_does():
    """trivial_floor's pairs (each key element against each other one) are judged as
    close_rows judges the whole cube, edges of significant figures, zeros and NaN included."""
    from quizgen.graders.compare import _close_pairs

    rng = np.random.default_rng(1)
    tolerances = [Tolerance(sigfigs=s) for s in (1, 3, 4)] + [
        Tolerance(decimals=2),
        Tolerance(),
        Tolerance(exact=True),
    ]
    edges = [0.0, 1.0, 10.0, 0.5, 0.05, 1.05, 1.005, -1.0, 100.0, 0.15, 0.25, 1.2345, 1.2355]
    for trial in range(40):
        m = int(rng.integers(1, 17))
        block = rng.choice(edges, size=(12, m)) if trial % 2 else rng.normal(size=(12, m))
        if trial % 5 == 0:
            block[rng.random(block.shape) < 0.1] = np.nan
        cube = (12, m, m)
        for tol in tolerances:
            with np.errstate(invalid="ignore"):
                want = close_rows(
                    tol, np.broadcast_to(block[:, :, None], cube), np.broadcast_to(block[:, None, :], cube)
                )
            assert np.array_equal(_close_pairs(tol, block), want), (tol, block)
