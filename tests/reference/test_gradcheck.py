import numpy as np
import pytest

from quizgen.reference.gradcheck import numerical_gradient, numerical_gradient_array, relative_error


def test_numerical_gradient_of_a_cubic_matches_the_derivative():
    x = np.array([[-1.5, 0.25], [2.0, 3.0]])
    grad = numerical_gradient(lambda z: float(np.sum(z**3)), x)
    assert relative_error(grad, 3 * x**2) < 1e-9


def test_numerical_gradient_leaves_its_input_untouched():
    x = np.array([1.0, 2.0, 3.0])
    numerical_gradient(lambda z: float(z @ z), x)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


def test_numerical_gradient_array_is_the_vector_jacobian_product():
    a = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])  # f(x) = a @ x, so d/dx sum(f * dout) = a.T dout
    x = np.array([0.3, -0.7])
    dout = np.array([1.0, -2.0, 0.5])
    grad = numerical_gradient_array(lambda z: a @ z, x, dout)
    assert relative_error(grad, a.T @ dout) < 1e-9


def test_relative_error_is_zero_for_equal_and_large_for_different():
    assert relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0, 0.0], [-1.0, 0.0]) == pytest.approx(1.0)


def test_relative_error_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="shapes differ"):
        relative_error(np.zeros(2), np.zeros(3))
