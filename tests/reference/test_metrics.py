import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizgen.reference import metrics
from quizgen.reference.metrics import (
    accuracy,
    accuracy_from_confusion,
    class_counts,
    confusion_matrix,
    f1,
    fbeta,
    precision,
    recall,
    scores_from_confusion,
)

# Three classes, ten samples.
Y_TRUE = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
Y_PRED = [0, 0, 1, 2, 1, 1, 0, 2, 2, 1]
# Rows true, columns predicted: class 0 -> 2 right, one as 1, one as 2; class 1 -> 2 right, one as 0;
# class 2 -> 2 right, one as 1.
CM = np.array([[2, 1, 1], [1, 2, 0], [0, 1, 2]])
# TP = [2, 2, 2]; column sums [3, 4, 3] -> FP = [1, 2, 1]; row sums [4, 3, 3] -> FN = [2, 1, 1].


def test_confusion_matrix_has_true_rows_and_predicted_columns():
    np.testing.assert_array_equal(confusion_matrix(Y_TRUE, Y_PRED), CM)
    np.testing.assert_array_equal(confusion_matrix(Y_TRUE, Y_PRED, layout="predicted_rows"), CM.T)
    np.testing.assert_array_equal(confusion_matrix([0, 1], [1, 1], num_classes=4)[:2, :2], [[0, 1], [0, 1]])
    assert confusion_matrix([0, 0], [0, 0]).shape == (2, 2)  # at least two classes


def test_class_counts_hand_example():
    tp, fp, fn, support = class_counts(CM)
    np.testing.assert_array_equal(tp, [2, 2, 2])
    np.testing.assert_array_equal(fp, [1, 2, 1])
    np.testing.assert_array_equal(fn, [2, 1, 1])
    np.testing.assert_array_equal(support, [4, 3, 3])


def test_per_class_scores_hand_example():
    p, r, f, support = scores_from_confusion(CM, average=None)
    np.testing.assert_allclose(p, [2 / 3, 2 / 4, 2 / 3])
    np.testing.assert_allclose(r, [2 / 4, 2 / 3, 2 / 3])
    np.testing.assert_allclose(f, [4 / 7, 4 / 7, 4 / 6])  # 2TP / (2TP + FN + FP)
    np.testing.assert_array_equal(support, [4, 3, 3])
    np.testing.assert_allclose(precision(Y_TRUE, Y_PRED, average=None), p)


def test_macro_micro_and_weighted_averages_hand_example():
    # macro P = (2/3 + 1/2 + 2/3)/3 = 11/18; macro R = 11/18; macro F1 = (4/7 + 4/7 + 2/3)/3 = 38/63
    assert precision(Y_TRUE, Y_PRED, average="macro") == pytest.approx(11 / 18)
    assert recall(Y_TRUE, Y_PRED, average="macro") == pytest.approx(11 / 18)
    assert f1(Y_TRUE, Y_PRED, average="macro") == pytest.approx(38 / 63)
    # micro: TP 6, FP 4, FN 4 -> 0.6 = accuracy (6 of 10 on the diagonal)
    for fn in (precision, recall, f1):
        assert fn(Y_TRUE, Y_PRED, average="micro") == pytest.approx(0.6)
    assert accuracy(Y_TRUE, Y_PRED) == pytest.approx(0.6)
    # weighted by support [4, 3, 3]: P = (4·2/3 + 3·1/2 + 3·2/3)/10 = 37/60; R = accuracy = 0.6
    assert precision(Y_TRUE, Y_PRED, average="weighted") == pytest.approx(37 / 60)
    assert recall(Y_TRUE, Y_PRED, average="weighted") == pytest.approx(0.6)
    # macro F1 is the mean of per-class F1, not the F1 of macro P and R (2·(11/18)²/(22/18) = 11/18)
    assert f1(Y_TRUE, Y_PRED, average="macro") != pytest.approx(11 / 18)


@pytest.mark.parametrize("seed", range(5))
def test_micro_f1_equals_accuracy_for_single_label_multiclass(seed):
    rng = np.random.default_rng(seed)
    y_true, y_pred = rng.integers(0, 4, size=30), rng.integers(0, 4, size=30)
    acc = accuracy(y_true, y_pred)
    assert acc == pytest.approx(np.mean(y_true == y_pred))
    for fn in (precision, recall, f1):
        assert fn(y_true, y_pred, average="micro") == pytest.approx(acc)
    assert recall(y_true, y_pred, average="weighted") == pytest.approx(acc)


def test_binary_scores_hand_example():
    y_true = [1, 1, 1, 0, 0, 0, 0, 1]
    y_pred = [1, 0, 1, 1, 0, 1, 0, 1]
    # positive class 1: TP 3 (idx 0, 2, 7), FN 1 (idx 1), FP 2 (idx 3, 5), TN 2
    assert precision(y_true, y_pred) == pytest.approx(3 / 5)
    assert recall(y_true, y_pred) == pytest.approx(3 / 4)
    assert f1(y_true, y_pred) == pytest.approx(2 / 3)  # 6 / (6 + 1 + 2)
    assert fbeta(y_true, y_pred, beta=2.0) == pytest.approx(5 / 7)  # 15 / (15 + 4·1 + 2)
    assert fbeta(y_true, y_pred, beta=0.5) == pytest.approx(0.625)  # 3.75 / (3.75 + 0.25 + 2)
    # positive class 0: TP 2 (idx 4, 6), FP 1 (idx 1), FN 2 (idx 3, 5)
    assert precision(y_true, y_pred, pos_label=0) == pytest.approx(2 / 3)
    assert recall(y_true, y_pred, pos_label=0) == pytest.approx(1 / 2)
    assert scores_from_confusion(confusion_matrix(y_true, y_pred), average="binary").support == 4


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0, 3.0])
def test_f_score_from_counts_equals_note_002_formula_in_precision_and_recall(beta):
    # Note 002 (7.4): F = (α² + 1) P R / (α² P + R); larger α favours recall.
    rng = np.random.default_rng(int(beta * 10))
    y_true, y_pred = rng.integers(0, 2, size=40), rng.integers(0, 2, size=40)
    p, r = precision(y_true, y_pred), recall(y_true, y_pred)
    assert fbeta(y_true, y_pred, beta=beta) == pytest.approx((beta**2 + 1) * p * r / (beta**2 * p + r))


def test_fbeta_with_large_beta_approaches_recall_and_with_zero_beta_is_precision():
    y_true = [1, 1, 1, 0, 0, 0, 0, 1]
    y_pred = [1, 0, 1, 1, 0, 1, 0, 1]
    assert fbeta(y_true, y_pred, beta=0.0) == pytest.approx(3 / 5)
    assert fbeta(y_true, y_pred, beta=1e4) == pytest.approx(3 / 4, rel=1e-6)


def test_zero_division_gives_zero_without_warning():
    y_true, y_pred = [1, 0, 1], [0, 0, 0]  # nothing predicted positive
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert precision(y_true, y_pred) == 0.0
        assert recall(y_true, y_pred) == 0.0  # TP 0 of 2 positives
        assert f1(y_true, y_pred) == 0.0
        assert recall([0, 0], [1, 0]) == 0.0  # no true positives exist
        assert precision([0, 0], [0, 0]) == 0.0  # class 1 appears nowhere


def test_macro_average_skips_classes_absent_from_both_label_lists_like_sklearn():
    # Class 1 never appears. Class 0: P = 1/2 (idx 0, 2 predicted 0), class 2: P = 1/1.
    y_true, y_pred = [0, 2, 2], [0, 2, 0]
    assert precision(y_true, y_pred, average="macro") == pytest.approx(0.75)
    np.testing.assert_allclose(precision(y_true, y_pred, average=None), [0.5, 0.0, 1.0])


def test_reading_a_predicted_rows_table_as_true_rows_swaps_precision_and_recall():
    table = confusion_matrix(Y_TRUE, Y_PRED, layout="predicted_rows")  # note 002's Table 7.1 layout
    right = scores_from_confusion(table, average=None, layout="predicted_rows")
    misread = scores_from_confusion(table, average=None)
    np.testing.assert_allclose(right.precision, [2 / 3, 2 / 4, 2 / 3])
    np.testing.assert_allclose(misread.precision, right.recall)
    np.testing.assert_allclose(misread.recall, right.precision)
    assert accuracy_from_confusion(table) == accuracy_from_confusion(CM) == pytest.approx(0.6)


def test_balanced_accuracy_is_the_mean_recall_by_hand():
    # CM's recalls: 2/4, 2/3, 2/3 -> (1/2 + 2/3 + 2/3) / 3 = 11/18, against the accuracy 6/10
    assert accuracy_from_confusion(CM, balanced=True) == pytest.approx(11 / 18)
    table = confusion_matrix(Y_TRUE, Y_PRED, layout="predicted_rows")
    assert accuracy_from_confusion(table, layout="predicted_rows", balanced=True) == pytest.approx(11 / 18)
    # a class absent from y_true is left out, as scikit-learn's balanced_accuracy_score: (1 + 1/2) / 2
    assert accuracy_from_confusion([[0, 0, 0], [0, 2, 0], [0, 1, 1]], balanced=True) == pytest.approx(0.75)


def test_labels_may_be_bools_or_integral_floats():
    assert accuracy([True, False, True], [True, True, True]) == pytest.approx(2 / 3)
    assert precision([1.0, 0.0, 1.0], [1.0, 1.0, 1.0]) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: accuracy([0, 1], [0, 1, 1]), "y_pred: expected 2 labels like y_true"),
        (lambda: accuracy([], []), "y_true: expected a non-empty 1-D"),
        (lambda: accuracy([[0, 1]], [[0, 1]]), "y_true: expected a non-empty 1-D"),
        (lambda: accuracy([0, -1], [0, 1]), "y_true: expected class labels >= 0"),
        (lambda: accuracy([0, 1], [0.5, 1]), "y_pred: expected integer class labels"),
        (lambda: accuracy(["a", "b"], ["a", "b"]), "y_true: expected integer class labels"),
        (lambda: confusion_matrix([0, 3], [0, 1], num_classes=3), "num_classes: expected more than"),
        (lambda: confusion_matrix([0], [0], layout="sklearn"), "layout: unknown value 'sklearn'"),
        (lambda: precision(Y_TRUE, Y_PRED), "average: 'binary' needs 2 classes, got 3"),
        (lambda: precision([0, 1], [0, 1], average="samples"), "average: unknown value 'samples'"),
        (lambda: precision([0, 1], [0, 1], pos_label=2), "pos_label: expected 0 or 1"),
        (lambda: fbeta([0, 1], [0, 1], beta=-1.0), "beta: expected a number >= 0"),
        (lambda: scores_from_confusion([[1, 2, 3]]), r"cm: expected a square \(K, K\)"),
        (lambda: scores_from_confusion([[1, -1], [0, 1]]), "cm: expected non-negative counts"),
        (lambda: accuracy_from_confusion([[0, 0], [0, 0]]), "cm: expected at least one sample"),
    ],
)
def test_metrics_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_per_class_and_micro_scores_equal_the_scalar_formulas_bit_for_bit():
    """The three ratios are computed as one array division; each must be the scalar ratio."""

    def scalar_scores(tp, fp, fn, b2):
        def ratio(num, den):
            return num / den if den else 0.0

        f_num = (1.0 + b2) * tp
        return ratio(tp, tp + fp), ratio(tp, tp + fn), ratio(f_num, f_num + b2 * fn + fp)

    rng = np.random.default_rng(7)
    for _ in range(300):
        k = int(rng.integers(2, 6))
        cm = rng.integers(0, 4, size=(k, k)) * (rng.random((k, k)) < 0.7)
        if cm.sum() == 0:
            continue
        beta = float(rng.choice([0.0, 0.3, 0.5, 1.0, 2.0]))
        tp = [int(cm[i, i]) for i in range(k)]
        fp = [int(cm[:, i].sum()) - tp[i] for i in range(k)]
        fn = [int(cm[i, :].sum()) - tp[i] for i in range(k)]
        per_class = scores_from_confusion(cm, beta=beta, average=None)
        for i in range(k):
            got = (per_class.precision[i], per_class.recall[i], per_class.fbeta[i])
            assert got == scalar_scores(tp[i], fp[i], fn[i], beta * beta)
        micro = scores_from_confusion(cm, beta=beta, average="micro")
        want = scalar_scores(sum(tp), sum(fp), sum(fn), beta * beta)
        assert (micro.precision, micro.recall, micro.fbeta) == want


def _tables(max_count):
    """Square tables (K = 1..4) of counts in [0, max_count], as lists of lists of ints."""
    return st.integers(1, 4).flatmap(
        lambda k: st.lists(
            st.lists(st.integers(0, max_count), min_size=k, max_size=k), min_size=k, max_size=k
        )
    )


_AVERAGE_NAMES = st.sampled_from([None, "binary", "micro", "macro", "weighted"])
_BETAS = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.7, 1e49, 1e51, 1e200, float("inf")])


@settings(max_examples=400, deadline=None)
@given(
    table=st.one_of(_tables(6), _tables(2**62)),
    beta=_BETAS,
    average=_AVERAGE_NAMES,
    pos_label=st.integers(0, 2),
    layout=st.sampled_from(["true_rows", "predicted_rows"]),
    as_array=st.booleans(),
)
def test_scores_of_an_int_table_in_python_equal_the_array_path_bit_for_bit(
    same_outcome, table, beta, average, pos_label, layout, as_array
):
    """A list of lists of ints or an int64 array is scored from Python ints (any average) and,
    for "binary" and "micro", in Python floats; a tuple of tuples takes the NumPy array path."""
    fast = np.array(table, dtype=np.int64) if as_array and max(map(max, table)) < 2**63 else table
    general = tuple(map(tuple, table))
    kwargs = {"beta": beta, "average": average, "pos_label": pos_label, "layout": layout}
    same_outcome(
        lambda: metrics.scores_from_confusion(fast, **kwargs),
        lambda: metrics.scores_from_confusion(general, **kwargs),
    )
    same_outcome(
        lambda: metrics.accuracy_from_confusion(fast, layout=layout),
        lambda: metrics.accuracy_from_confusion(general, layout=layout),
    )


@settings(max_examples=300)
@given(
    den=st.floats(0.0, 1e308) | st.sampled_from([0.0, 1.0, 3.0, 10.0]),
    share=st.floats(0.0, 1.0) | st.sampled_from([0.0, 1 / 3, 1.0, float("nan")]),
)
def test_ratio_of_one_pair_equals_the_array_ratio_bit_for_bit(same_outcome, den, share):
    """On the ratios scores take, 0 <= num <= den or a NaN num (from an infinite β²)."""
    num = den * share
    same_outcome(lambda: metrics._ratio_or_zero(num, den), lambda: float(metrics._ratio([num], [den])[0]))


@settings(deadline=None)
@given(
    st.integers(1, 40).flatmap(
        lambda k: st.tuples(
            st.lists(st.floats(0, 1e6), min_size=3 * k, max_size=3 * k),
            st.lists(st.floats(0, 1e6), min_size=k, max_size=k),
        )
    )
)
def test_weighted_row_sums_equal_each_rows_own_sum_bit_for_bit(rows_and_weights):
    flat, weights = rows_and_weights
    per_class, w = np.array(flat).reshape(3, -1), np.array(weights)
    assert (per_class * w).sum(axis=1).tobytes() == np.array([(v * w).sum() for v in per_class]).tobytes()


# --- labels= (sklearn's: which classes are scored and averaged) -------------------------------


def test_labels_put_a_class_absent_from_the_data_into_the_macro_mean_hand_example():
    # y_true [0, 0, 1, 1], y_pred [0, 1, 1, 1]: class 0 P 1, R 1/2, F 2/3; class 1 P 2/3, R 1, F 4/5.
    # labels [0, 1, 2]: class 2 occurs nowhere, so its P = R = F = 0 (zero division) join the mean.
    y_true, y_pred = [0, 0, 1, 1], [0, 1, 1, 1]
    assert precision(y_true, y_pred, average="macro", labels=[0, 1, 2]) == pytest.approx(5 / 9, rel=1e-15)
    assert recall(y_true, y_pred, average="macro", labels=[0, 1, 2]) == pytest.approx(0.5, rel=1e-15)
    assert f1(y_true, y_pred, average="macro", labels=[0, 1, 2]) == pytest.approx(22 / 45, rel=1e-15)
    # the default (labels=None) averages the classes present only: (1 + 2/3)/2, (2/3 + 4/5)/2
    assert precision(y_true, y_pred, average="macro") == pytest.approx(5 / 6, rel=1e-15)
    assert f1(y_true, y_pred, average="macro") == pytest.approx(11 / 15, rel=1e-15)
    # per class, in the listed order
    np.testing.assert_allclose(
        f1(y_true, y_pred, average=None, labels=[2, 1, 0]), [0.0, 0.8, 2 / 3], rtol=1e-15
    )


def test_labels_restrict_micro_and_weighted_averages_to_the_listed_classes():
    # CM above: TP [2, 2, 2], FP [1, 2, 1], FN [2, 1, 1], support [4, 3, 3]
    s = scores_from_confusion(CM, average="micro", labels=[1, 2])  # TP 4, FP 3, FN 2
    assert (s.precision, s.recall, s.support) == (pytest.approx(4 / 7), pytest.approx(4 / 6), 6)
    assert precision(Y_TRUE, Y_PRED, average="micro", labels=[1, 2]) == pytest.approx(4 / 7)
    w = scores_from_confusion(CM, average="weighted", labels=[0, 2])  # recalls 1/2 and 2/3, support 4, 3
    assert w.recall == pytest.approx((4 * 0.5 + 3 * (2 / 3)) / 7)
    # all classes listed: the same as the default, absent classes being none
    for average in ("micro", "macro", "weighted"):
        a = scores_from_confusion(CM, average=average, labels=[0, 1, 2])
        b = scores_from_confusion(CM, average=average)
        np.testing.assert_allclose(a[:3], b[:3], rtol=1e-15)
        assert a.support == b.support


def test_labels_are_ignored_for_binary_as_sklearn_uses_pos_label():
    y_true, y_pred = [1, 0, 1, 1], [1, 1, 0, 1]
    assert precision(y_true, y_pred, labels=[0]) == precision(y_true, y_pred) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "labels, message",
    [
        ([0, 0], "labels: expected distinct class labels"),
        ([], "labels: expected a non-empty list"),
        ([-1], "labels: expected an integer >= 0"),
        ([3], r"labels: 3 is not a class of the 3×3 confusion matrix"),
        ("01", "labels: expected a non-empty list"),
    ],
)
def test_bad_labels_are_refused_naming_the_argument(labels, message):
    with pytest.raises(ValueError, match=message):
        scores_from_confusion(CM, average="macro", labels=labels)


def test_labels_beyond_the_data_extend_the_table_unless_num_classes_says_otherwise():
    assert recall([0, 1], [0, 1], average="macro", labels=[0, 1, 5]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="labels: 5 is not a class of the 3×3"):
        recall([0, 1], [0, 1], average="macro", labels=[0, 5], num_classes=3)


def test_topk_accuracy_counts_a_sample_whose_true_class_is_among_the_k_highest():
    from quizgen.reference.metrics import topk_accuracy, topk_error, true_class_ranks

    scores = [[0.1, 0.5, 0.4], [2.0, -1.0, 0.0], [0.3, 0.3, 0.4], [1.0, 2.0, 3.0]]
    y = [2, 0, 0, 0]
    # ranks of the true class: 1 (0.5 above), 0, 1 (0.4 above; the tie at 0.3 is in its favour), 2
    assert topk_accuracy(scores, y) == 0.25
    assert topk_accuracy(scores, y, k=2) == 0.75
    assert topk_accuracy(scores, y, k=3) == 1.0
    assert topk_error(scores, y, k=2) == 0.25
    assert true_class_ranks(scores, y).tolist() == [1, 0, 1, 2]
    with pytest.raises(ValueError, match="target"):
        topk_accuracy(scores, [0, 1, 2])
    with pytest.raises(ValueError, match="target"):
        topk_accuracy(scores, [0, 1, 2, 3])
