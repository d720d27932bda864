import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizgen.models import GradeResult, Status, Tolerance

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
tolerances = st.sampled_from(
    [
        Tolerance(),
        Tolerance(rtol=1e-3, atol=1e-6),
        Tolerance(sigfigs=3),
        Tolerance(decimals=2),
        Tolerance(exact=True),
    ]
)


@given(tolerances, finite, finite)
def test_scalar_fast_path_agrees_with_the_array_rule(tol, e, g):
    assert tol.close_scalar(e, g) == bool(tol.close(np.array([e]), np.array([g]))[0])
    assert tol.accepts(e, g) == tol.close_scalar(e, g)


def test_relative_tolerance_is_anchored_on_the_expected_value():
    tol = Tolerance(rtol=0.01, atol=0.0)
    assert tol.accepts(100.0, 101.0) and not tol.accepts(100.0, 101.5)
    assert tol.margin(-200.0) == pytest.approx(2.0)


def test_sigfigs_accept_what_rounds_to_the_same_figures():
    tol = Tolerance(sigfigs=3)
    assert tol.accepts(0.012345, 0.0123) and tol.accepts(0.012345, 0.01235)
    assert not tol.accepts(0.012345, 0.0124)
    assert tol.accepts(0.0, 0.004) and not tol.accepts(0.0, 0.006)  # exponent 0 when expected is 0


def test_decimals_accept_half_a_unit_in_the_last_place():
    tol = Tolerance(decimals=2)
    assert tol.accepts(1.234, 1.23) and tol.accepts(1.0, 1.005) and not tol.accepts(1.0, 1.0051)


def test_non_finite_answers_are_never_accepted():
    for tol in (Tolerance(), Tolerance(exact=True), Tolerance(sigfigs=2)):
        assert not tol.accepts(1.0, math.nan)
        assert not tol.accepts(1.0, math.inf)
        assert not tol.close(np.array([1.0, 2.0]), np.array([np.nan, 2.0]))[0]


def test_array_shapes_must_agree():
    assert not Tolerance().accepts([1.0, 2.0], [1.0, 2.0, 3.0])
    assert Tolerance().accepts([[1.0, 2.0]], [[1.001, 2.001]])


def test_invalid_tolerances_are_rejected():
    with pytest.raises(ValueError, match="choose one"):
        Tolerance(sigfigs=2, exact=True)
    with pytest.raises(ValueError, match="rtol and atol"):
        Tolerance(rtol=-1)


def test_grade_result_score_must_be_a_fraction():
    with pytest.raises(ValueError, match="score must be in"):
        GradeResult("a", 1.5, 1.0, Status.CORRECT, "")
    assert GradeResult("a", 0.5, 4.0, Status.PARTIAL, "").points == 2.0


nested = st.integers(1, 3).flatmap(
    lambda n: st.lists(st.lists(finite, min_size=n, max_size=n), min_size=1, max_size=3)
)


@given(tolerances, nested, nested)
def test_plain_list_path_agrees_with_the_array_rule(tol, e, g):
    want = np.shape(e) == np.shape(g) and bool(np.all(tol.close(np.array(e), np.array(g))))
    assert tol.accepts(e, g) == want
    assert tol.accepts(e[0], g[0]) == (len(e[0]) == len(g[0]) and bool(np.all(tol.close(e[0], g[0]))))


def test_plain_lists_of_other_shapes_or_types_are_not_accepted():
    tol = Tolerance()
    assert not tol.accepts([[1.0, 2.0]], [1.0, 2.0])
    assert not tol.accepts([1.0, 2.0], [1.0, 2.0, 3.0])
    assert tol.accepts([[1, 2], [3, 4]], [[1.0, 2.0], [3.0, 4.0]])
    assert not tol.accepts([1.0, float("nan")], [1.0, float("nan")])


def test_to_dict_keeps_each_tolerances_own_numbers():
    assert Tolerance(rtol=1).to_dict() == {"rtol": 1} and type(Tolerance(rtol=1).to_dict()["rtol"]) is int
    assert type(Tolerance(rtol=1.0).to_dict()["rtol"]) is float
    tol = Tolerance(sigfigs=3)
    d = tol.to_dict()
    d["sigfigs"] = 9  # the caller's own dict
    assert tol.to_dict() == {"sigfigs": 3} and Tolerance().to_dict() == {}


def test_quick_init_builds_what_the_generated_init_builds():
    from dataclasses import FrozenInstanceError, dataclass, field

    from quizgen.models import quick_init

    def make(decorate):
        @dataclass(frozen=True)
        class Point:
            x: int
            y: int = 2
            tags: tuple = ()

            def __post_init__(self):
                if self.x < 0:
                    raise ValueError("x < 0")

        return decorate(Point)

    slow, quick = make(lambda c: c), make(quick_init)
    for args, kwargs in (((1,), {}), ((1, 5), {"tags": ("a",)}), ((), {"x": 3, "y": 4})):
        a, b = slow(*args, **kwargs), quick(*args, **kwargs)
        assert (b.x, b.y, b.tags) == (a.x, a.y, a.tags) and repr(b) == repr(a)
        assert hash(b) == hash(quick(*args, **kwargs)) and b == quick(*args, **kwargs)
    with pytest.raises(FrozenInstanceError):
        quick(1).x = 2
    with pytest.raises(ValueError, match="x < 0"):
        quick(-1)
    with pytest.raises(TypeError):
        quick()

    @dataclass(frozen=True)
    class Listed:
        items: list = field(default_factory=list)

    with pytest.raises(TypeError, match="needs the generated __init__"):
        quick_init(Listed)
