import math

import numpy as np

from quizgen.reference import gradcheck, gradients


def _sigmoid(z):
    return 1 / (1 + math.exp(-z))


def test_chain_gradient_is_the_product_and_matches_finite_differences():
    z, w = np.array([0.0, 1.0]), np.array([2.0, -1.0])
    g = gradients.chain_gradient(z, w)
    # 2 · 0.25 · (-1) · σ(1)(1 - σ(1))
    assert g.gradient == pytest_approx(2 * 0.25 * -_sigmoid(1) * (1 - _sigmoid(1)))
    # the chain itself: a_0 -> a_1 = σ(w_1 a_0 + b_1) -> a_2 = σ(w_2 a_1 + b_2) with z as given at a_0 = 0.3
    a0 = 0.3
    b1 = z[0] - w[0] * a0
    b2 = z[1] - w[1] * _sigmoid(z[0])
    f = lambda a: _sigmoid(w[1] * _sigmoid(w[0] * a[0] + b1) + b2)  # noqa: E731
    num = gradcheck.numerical_gradient(f, np.array([a0]))[0]
    assert abs(num - g.gradient) < 1e-8
    assert gradients.chain_gradient(z, w, local="value").gradient == pytest_approx(2 * 0.5 * -_sigmoid(1))


def pytest_approx(v):
    import pytest

    return pytest.approx(v, rel=1e-9)


def test_the_sigmoid_bound():
    assert gradients.sigmoid_gradient_bound(3) == 0.25**3
    assert gradients.sigmoid_gradient_bound(3, max_derivative=0.5) == 0.125


def test_finite_differences_of_a_cubic():
    c = [1.0, 0.0, 0.0, 1.0]  # f = 1 + x³, f'(2) = 12
    assert gradients.polynomial(c, 2.0) == 9.0
    assert gradients.polynomial_derivative(c, 2.0) == 12.0
    # centred: ((2.1)³ - (1.9)³) / 0.2 = 12.01; forward: ((2.1)³ - 8) / 0.1 = 12.61
    assert abs(gradients.finite_difference(c, 2.0, 0.1) - 12.01) < 1e-12
    assert abs(gradients.finite_difference(c, 2.0, 0.1, scheme="forward") - 12.61) < 1e-12


def test_relative_error_by_its_stated_formula():
    assert gradients.scalar_relative_error(12.0, 12.01) == pytest_approx(0.01 / 12.01)
    assert gradients.scalar_relative_error(12.0, 12.01, denominator="sum") == pytest_approx(0.01 / 24.01)
    assert gradients.scalar_relative_error(0.0, 0.0) == 0.0


def test_recurrent_gradient_is_the_product_through_time_and_matches_finite_differences():
    x, w, u, b = np.array([1.0, -0.5, 2.0]), 0.8, 0.5, 0.1
    r = gradients.recurrent_gradient(x, 0.2, w, u, b)

    def h_last(h0):
        h = h0[0]
        for xt in x:
            h = math.tanh(w * h + u * xt + b)
        return h

    assert r.h[-1] == pytest_approx(h_last(np.array([0.2])))
    num = gradcheck.numerical_gradient(h_last, np.array([0.2]))[0]
    assert abs(num - r.gradient) < 1e-8
    assert r.gradient == pytest_approx(float(np.prod(w * (1 - r.h**2))))
    assert gradients.recurrent_gradient(x, 0.2, w, u, b, factor="no_weight").gradient == pytest_approx(
        r.gradient / w**3
    )
    assert gradients.recurrent_gradient_bound(-1.5, 3) == 1.5**3
