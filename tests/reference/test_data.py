import numpy as np
import pytest

from quizgen.reference import data


def test_minmax_and_zscore_by_hand():
    x = np.array([[2.0, 10.0], [4.0, 10.0], [6.0, 40.0]])
    np.testing.assert_allclose(data.minmax_scale(x), [[0, 0], [0.5, 0], [1, 1]])
    np.testing.assert_allclose(data.minmax_scale([2.0, 4.0, 6.0], feature_range=(-1, 1)), [-1, 0, 1])
    np.testing.assert_allclose(data.minmax_scale([2.0, 4.0, 6.0], denominator="max"), [0, 1 / 3, 2 / 3])
    # mean 4, population std sqrt(8/3), sample std 2
    np.testing.assert_allclose(data.zscore([2.0, 4.0, 6.0]), [-(1.5**0.5), 0, 1.5**0.5])
    np.testing.assert_allclose(data.zscore([2.0, 4.0, 6.0], ddof=1), [-1, 0, 1])
    st = data.feature_stats([2.0, 4.0, 6.0])
    assert (st.min, st.max, st.mean) == (2.0, 6.0, 4.0)
    assert st.std == pytest.approx((8 / 3) ** 0.5)
    with pytest.raises(ValueError, match="constant"):
        data.zscore(x[:, :1].repeat(2, axis=1) * 0 + 1)


def test_one_hot_rows_and_its_transpose():
    np.testing.assert_array_equal(data.one_hot([2, 0, 1], 4), [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    np.testing.assert_array_equal(data.one_hot([2, 0], 3, layout="classes_rows"), [[0, 1], [0, 0], [1, 0]])
    with pytest.raises(ValueError, match=r"0\.\.2"):
        data.one_hot([3], 3)


def test_standardize_applies_the_training_statistics_to_new_data():
    # worked by hand: train [8, 10, 12] has mean 10 and population std sqrt(8/3)
    train, test = np.array([8.0, 10.0, 12.0]), np.array([13.0, 7.0])
    st = data.feature_stats(train)
    got = data.standardize(test, st.mean, st.std)
    np.testing.assert_allclose(got, [3 / np.sqrt(8 / 3), -3 / np.sqrt(8 / 3)])
    np.testing.assert_allclose(data.standardize(train, st.mean, st.std), data.zscore(train))
    np.testing.assert_allclose(data.standardize([[1.0, 5.0]], [0.0, 1.0], [2.0, 4.0]), [[0.5, 1.0]])
    with pytest.raises(ValueError, match="std"):
        data.standardize(test, 1.0, 0.0)
