import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from quizgen.graders import parse as parse_mod
from quizgen.graders.parse import MAX_CHARS, FormatError, parse_answer


@pytest.mark.parametrize(
    "text, value",
    [
        ("42", 42.0),
        ("-0.25", -0.25),
        (".5", 0.5),
        ("1e-3", 1e-3),
        ("1.2E+05", 1.2e5),
        ("3×10^-2", 0.03),
        ("3*10**-2", 0.03),
        ("10⁻³", 1e-3),
        ("3/4", 0.75),
        ("e^-2", math.exp(-2)),
        ("exp(-2)", math.exp(-2)),
        ("exp -2", math.exp(-2)),
        ("sqrt(2)/2", math.sqrt(2) / 2),
        ("√2/2", math.sqrt(2) / 2),
        ("1 - 0.25", 0.75),
        ("1 -0.25", 0.75),  # a single number: no MATLAB splitting
        ("pi", math.pi),
        ("π/4", math.pi / 4),
        ("2pi", 2 * math.pi),
        ("ln 2", math.log(2)),
        ("log(2)", math.log(2)),  # natural log, as NumPy and PyTorch
        ("log10(1000)", 3.0),
        ("ln 2^3", math.log(8)),  # the argument binds like a power
        ("sqrt(2)^2", 2.0),
        ("2^3", 8.0),
        ("2^3^2", 512.0),  # right-associative
        ("-2^2", -4.0),  # power before unary minus
        ("\u22120.5", -0.5),  # unicode minus
        ("5%", 0.05),
        ("\\frac{3}{4}", 0.75),
        ("e^{-2}", math.exp(-2)),
        ("2 \\times 10^{-3}", 2e-3),
        ("1/(1 + e^-1)", 1 / (1 + math.exp(-1))),
        ("  0.5  ", 0.5),
    ],
)
def test_real_answers_parse_to_their_value(text, value):
    out = parse_answer(text, "real")
    assert out.shape == () and out.dtype == np.float64
    assert float(out) == pytest.approx(value, rel=1e-15)


def test_integers_accept_integral_expressions_and_return_int64():
    assert parse_answer("2^5", "integer").dtype == np.int64
    assert int(parse_answer("2^5", "integer")) == 32
    assert int(parse_answer("1e3", "integer")) == 1000
    with pytest.raises(
        FormatError, match=r"expected a whole number such as 42 or 2\^5; got 8.5, which is not a whole number"
    ):
        parse_answer("8.5", "integer")


@pytest.mark.parametrize(
    "text",
    [
        "[[1,2],[3,4]]",
        "[[1, 2], [3, 4]]",
        "[1 2; 3 4]",
        "[1, 2; 3, 4]",
        "1 2\n3 4",
        "1, 2\n3, 4\n",
        "[[1,2],\n [3,4]]",
        "[[1. 2.]\n [3. 4.]]",  # NumPy's printout
        "array([[1., 2.], [3., 4.]])",
        "np.array([[1, 2], [3, 4]], dtype=float32)",
        "[1 2\n 3 4]",
        "[[2/2, sqrt(4)], [3, 2^2]]",
    ],
)
def test_matrix_notations_all_give_the_same_matrix(text):
    np.testing.assert_array_equal(parse_answer(text, "matrix"), [[1.0, 2.0], [3.0, 4.0]])


def test_matlab_space_before_a_sign_starts_a_new_element_but_spaced_operators_do_not():
    np.testing.assert_array_equal(parse_answer("[1 -2]", "vector"), [1.0, -2.0])
    np.testing.assert_array_equal(parse_answer("[1 - 2]", "vector"), [-1.0])
    np.testing.assert_array_equal(parse_answer("[1 -2 +3]", "vector"), [1.0, -2.0, 3.0])
    np.testing.assert_array_equal(parse_answer("[(1 -2) 3]", "vector"), [-1.0, 3.0])


@pytest.mark.parametrize("text", ["[1, 2, 3]", "1, 2, 3", "1 2 3", "(1, 2, 3)", "[1; 2; 3]", "[[1, 2, 3]]"])
def test_vectors_may_be_rows_columns_or_tuples(text):
    np.testing.assert_array_equal(parse_answer(text, "vector"), [1.0, 2.0, 3.0])


def test_single_row_and_column_matrices_are_two_dimensional():
    assert parse_answer("[1 2 3;]", "matrix").shape == (1, 3)
    assert parse_answer("[[1, 2, 3]]", "matrix").shape == (1, 3)
    assert parse_answer("[1; 2; 3]", "matrix").shape == (3, 1)


def test_numpy_printouts_with_wrapped_rows_parse_as_printed():
    long_row = np.linspace(-1.0, 1.0, 30)
    with np.printoptions(floatmode="unique", linewidth=75):
        matrix = np.stack([long_row, long_row[::-1]])
        assert "\n" in str(long_row)
        np.testing.assert_array_equal(parse_answer(str(long_row), "vector"), long_row)
        np.testing.assert_array_equal(parse_answer(str(matrix), "matrix"), matrix)


def test_rows_on_separate_lines_of_unequal_length_are_a_ragged_format_error_unless_the_last_is_shorter():
    np.testing.assert_array_equal(parse_answer("1 2 3\n4 5", "vector"), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(parse_answer("[1 2 3\n 4 5]", "tensor"), [1, 2, 3, 4, 5])
    with pytest.raises(FormatError, match="ragged"):
        parse_answer("1 2\n3 4 5", "matrix")


def test_tensors_are_nested_lists_including_numpy_printouts():
    expected = np.arange(1.0, 9.0).reshape(2, 2, 2)
    np.testing.assert_array_equal(parse_answer("[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]", "tensor"), expected)
    printed = "[[[1. 2.]\n  [3. 4.]]\n\n [[5. 6.]\n  [7. 8.]]]"
    np.testing.assert_array_equal(parse_answer(printed, "tensor"), expected)


@pytest.mark.parametrize(
    "text",
    [
        "4x4x10",
        "4 x 4 x 10",
        "4×4×10",
        "4 X 4 X 10",
        "4 by 4 by 10",
        "(4, 4, 10)",
        "[4,4,10]",
        "4, 4, 10",
        "torch.Size([4, 4, 10])",
        "(2*2, 4, 10)",
    ],
)
def test_shape_notations_give_int_dimensions(text):
    out = parse_answer(text, "shape")
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [4, 4, 10])


def test_one_and_zero_dimensional_shapes():
    np.testing.assert_array_equal(parse_answer("(5,)", "shape"), [5])
    np.testing.assert_array_equal(parse_answer("10", "shape"), [10])
    assert parse_answer("()", "shape").shape == (0,)


@pytest.mark.parametrize(
    "text, detail",
    [
        ("(4, -1)", "got -1, but a dimension is a whole number >= 0"),
        ("4.5x2", "got 4.5, but a dimension"),
        ("4.5, 2", "got 4.5, but a dimension"),
        ("[[4, 4]]", "got a 2-d array of shape"),
        ("1e300 x 2", "unknown name 'x'"),
        ("9" * 300 + "x2", "a dimension is a whole number"),
    ],
)
def test_shapes_need_nonnegative_whole_dimensions(text, detail):
    with pytest.raises(FormatError, match=r"^expected a shape such as 4x4x10.*" + detail):
        parse_answer(text, "shape")


@pytest.mark.parametrize(
    "text, letter", [("A", "A"), ("b", "B"), ("(b)", "B"), (" c) ", "C"), ("D.", "D"), ("e:", "E")]
)
def test_choice_letters_in_any_case_and_wrapping(text, letter):
    assert parse_answer(text, "choice") == letter


@pytest.mark.parametrize(
    "text, kind, message",
    [
        ("AB", "choice", r"expected an option letter such as B; got 'AB' \(write one letter\)"),
        (
            "[1, 2",
            "matrix",
            r"expected a 2-d matrix such as \[\[1, 2\], \[3, 4\]\] or \[1 2; 3 4\]; got '\[1, 2' \(missing '\]' at the end\)",
        ),
        ("[1, 2, 3]", "matrix", r"expected a 2-d matrix .*; got a list of 3 numbers \(write a single row as"),
        ("[[[1]]]", "matrix", r"got a 3-d array of shape \(1, 1, 1\)"),
        (
            "[[1, 2], [3]]",
            "tensor",
            r"the list is ragged: item \[0\] has 2 entries but item \[1\] has 1 entry",
        ),
        ("[[1, 2], 3]", "tensor", r"ragged: item \[0\] has 2 entries but item \[1\] has a number"),
        (
            "[[[1], [2]], [[1], [2, 3]]]",
            "tensor",
            r"item \[1\]\[0\] has 1 entry but item \[1\]\[1\] has 2 entries",
        ),
        ("1, 2, 3", "real", r"expected a single number such as 0.25.*; got a list of 3 numbers: '1, 2, 3'"),
        ("0.5", "vector", r"expected a vector such as \[1, 2, 3\] or 1 2 3; got a single number"),
        ("0.5", "tensor", r"got a single number"),
        ("0.2.5", "real", r"unexpected '.5' at character 4"),
        ("foo", "real", r"unknown name 'foo' at character 1; known names: pi, e,"),
        ("nan", "real", r"unknown name 'nan'"),
        ("1,,2", "vector", r"expected a number at ','"),
        ("1/0", "real", r"division by zero"),
        ("0^-1", "real", r"0 to a negative power"),
        ("(-8)^(1/3)", "real", r"is not a real number"),
        ("sqrt(-1)", "real", r"sqrt needs a number >= 0, got -1"),
        ("ln 0", "real", r"ln needs a number > 0"),
        ("1e400", "real", r"too large"),
        ("exp(1000)", "real", r"too large"),
        ("[1, 2] + 1", "vector", r"cannot compute with a list"),
        ("1 +", "real", r"ends where a number was expected"),
        ("2 $ 3", "real", r"unexpected character '\$'"),
        ("   ", "real", r"got an empty answer"),
        ("sqrt", "real", r"sqrt needs an argument"),
        ("1, 2,", "vector", r"trailing comma"),
    ],
)
def test_format_errors_say_what_was_expected_and_what_is_wrong(text, kind, message):
    with pytest.raises(FormatError, match=message):
        parse_answer(text, kind)


def test_format_error_is_a_value_error_and_unknown_kind_is_a_plain_value_error():
    assert issubclass(FormatError, ValueError)
    with pytest.raises(ValueError, match=r"kind must be one of .*got 'complex'"):
        parse_answer("1", "complex")
    with pytest.raises(FormatError, match="got NoneType instead of text"):
        parse_answer(None, "real")


@pytest.mark.parametrize(
    "text, message",
    [
        ("9^9^9^9", "a power is too large"),
        ("2^" * 1000 + "2", "nested more than"),
        ("(" * 5000 + "1" + ")" * 5000, "nested more than"),
        ("[" * 40 + "1" + "]" * 40, "nested more than"),
        ("sqrt " * 100 + "2", "nested more than"),
        ("1" * 500, "digits at character 1 is too long"),
        ("1," * MAX_CHARS, "the answer is too long"),
    ],
)
def test_abusive_answers_fail_fast_with_a_format_error(text, message):
    start = time.perf_counter()
    with pytest.raises(FormatError, match=message):
        parse_answer(text, "tensor" if text.startswith("[") else "real")
    assert time.perf_counter() - start < 0.5


def test_many_unary_signs_do_not_recurse():
    assert float(parse_answer("-" * 5001 + "1", "real")) == -1.0


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=100, deadline=None)
@given(finite)
def test_a_formatted_float_parses_back_exactly(x):
    assert float(parse_answer(repr(x), "real")) == x
    assert float(parse_answer(f"{x:.17e}".replace("e", "E"), "real")) == x


@settings(max_examples=30, deadline=None)
@given(
    hnp.arrays(
        np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=5), elements=st.floats(-1e6, 1e6)
    )
)
def test_a_matrix_written_in_python_matlab_or_numpy_notation_parses_back(a):
    python = repr(a.tolist())
    matlab = "[" + "; ".join(" ".join(repr(float(v)) for v in row) for row in a) + ";]"
    np.testing.assert_array_equal(parse_answer(python, "matrix"), a)
    np.testing.assert_array_equal(parse_answer(matlab, "matrix"), a)
    with np.printoptions(floatmode="unique", threshold=10_000):
        np.testing.assert_array_equal(parse_answer(str(a), "matrix"), a)


@settings(max_examples=30, deadline=None)
@given(
    hnp.arrays(
        np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=3), elements=st.floats(-1e3, 1e3)
    )
)
def test_a_tensor_printed_by_numpy_parses_back(a):
    with np.printoptions(floatmode="unique", threshold=10_000):
        np.testing.assert_array_equal(parse_answer(str(a), "tensor"), a)
        np.testing.assert_array_equal(parse_answer(repr(a), "tensor"), a)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 512), min_size=1, max_size=5))
def test_a_shape_written_any_way_parses_back(dims):
    for text in ("x".join(map(str, dims)), str(tuple(dims)), str(dims)):
        np.testing.assert_array_equal(parse_answer(text, "shape"), dims)


# ---- the fast path must agree with the full parser on everything it accepts -----------------


_numbers = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.floats(-1e6, 1e6).map(lambda x: f"{x:.6g}"),
    st.from_regex(r"\s*[-+]?(\d{1,4}\.?\d{0,4}|\.\d{1,3})([eE][-+]?\d{1,3})?\s*", fullmatch=True),
)


def _nested(depth):
    return (
        st.lists(_numbers, min_size=1, max_size=4)
        if depth == 1
        else st.lists(_nested(depth - 1), min_size=1, max_size=3)
    )


_lists = st.one_of(_nested(1), _nested(2), _nested(3)).map(lambda v: str(v).replace("'", ""))


def _same(kind, text):
    fast = parse_mod._fast(text, kind)
    if fast is None:
        return
    slow = parse_mod._KIND_PARSERS[kind](text)
    assert fast.dtype == slow.dtype and fast.shape == slow.shape, (text, fast, slow)
    assert np.array_equal(fast, slow), (text, fast, slow)


@given(_numbers, st.sampled_from(["real", "integer"]))
def test_fast_path_reads_numbers_exactly_as_the_full_parser(text, kind):
    _same(kind, text)


@given(_lists, st.sampled_from(["vector", "matrix", "tensor"]))
def test_fast_path_reads_lists_exactly_as_the_full_parser(text, kind):
    _same(kind, text)


def test_fast_path_leaves_everything_else_to_the_full_parser():
    for text, kind in [
        ("1/2", "real"),
        ("nan", "real"),
        ("1e999", "real"),
        ("[1 2; 3 4]", "matrix"),
        ("[[1, 2], [3]]", "matrix"),
        ("[1., 2]", "vector"),
        ("2.5", "integer"),
        ("[]", "vector"),
    ]:
        assert parse_mod._fast(text, kind) is None
