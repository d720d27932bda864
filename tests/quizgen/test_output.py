import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizgen import output

_NUMBERS = st.one_of(st.integers(-(2**60), 2**60), st.floats(allow_nan=True, allow_infinity=True))


def _nested(draw_shape, elements):
    size = math.prod(draw_shape)
    return st.lists(elements, min_size=size, max_size=size).map(
        lambda flat: np.array(flat, dtype=object).reshape(draw_shape).tolist()
    )


_ANSWERS = st.one_of(
    _NUMBERS,
    st.lists(st.integers(1, 4), min_size=1, max_size=3).flatmap(
        lambda shape: _nested(tuple(shape), _NUMBERS)
    ),
    st.lists(st.integers(0, 2), min_size=1, max_size=3).flatmap(
        lambda shape: _nested(tuple(shape), _NUMBERS)
    ),
)


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@given(_ANSWERS)
def test_answer_range_equals_numpy(expected):
    """The plain-Python answer range is the NumPy one (shape, min, max; a NaN anywhere wins)."""
    try:
        want = output._answer_range_numpy(expected)
    except ValueError:  # an empty answer has no range either way
        with pytest.raises(ValueError):
            output.answer_range(expected)
        return
    shape, low, high = output.answer_range(expected)
    assert shape == want[0] and _same(low, want[1]) and _same(high, want[2])


def test_answer_range_of_other_values_goes_through_numpy():
    assert output.answer_range(np.array([[1, 5], [-2, 3]])) == ((2, 2), -2.0, 5.0)
    assert output.answer_range([True, 3]) == ((2,), 1.0, 3.0)


def test_the_overview_counts_distinct_parameter_sets_per_slot():
    from quizgen import bank, engine
    from quizgen.manifest import Question, StudentPaper

    template = bank.load_bank().get("conv.output_size")
    seeds = [1, 2, 1, 3, 2, 1]  # three distinct draws, some twice
    overview = output.Overview()
    for i, seed in enumerate(seeds):
        paper = StudentPaper(f"s{i}", "", "", (Question(1, 1, "A", engine.build_instance(template, seed)),))
        overview.add(output.Overview.record(paper))
    distinct = len({repr(sorted(engine.build_instance(template, s).params.items())) for s in seeds})
    rows = overview.rows()
    assert rows and all(r["variants"] == distinct for r in rows)
    assert distinct == 3
