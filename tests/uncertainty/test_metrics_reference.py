"""The calibration and selective-prediction metrics against plain reference loops.

Each reference is written from the metric's definition, one sample or one bin at a
time, independently of the vectorised implementation.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skvoice.uncertainty import (
    area_under_risk_coverage,
    expected_calibration_error,
    negative_log_likelihood,
    risk_coverage_curve,
    selective_decision,
)

# Probabilities on a grid of twentieths: many land exactly on bin edges and on 0.5.
probas = st.lists(st.integers(0, 20).map(lambda k: k / 20), min_size=1, max_size=40)


def _ece_reference(y, p1, n_bins):
    total = 0.0
    width = 0.5 / n_bins
    for b in range(n_bins):
        lo, hi = 0.5 + b * width, 0.5 + (b + 1) * width
        members = []
        for yi, pi in zip(y, p1):
            pred = 1 if pi >= 0.5 else 0
            conf = pi if pred == 1 else 1 - pi
            # Bins are (lo, hi]; the first also holds its lower edge 0.5.
            inside = (lo < conf <= hi + 1e-12) or (b == 0 and conf <= lo + 1e-12)
            if inside:
                members.append((conf, float(pred == yi)))
        if members:
            conf_mean = sum(c for c, _ in members) / len(members)
            acc = sum(a for _, a in members) / len(members)
            total += len(members) * abs(acc - conf_mean)
    return total / len(y)


@given(probas, st.data(), st.sampled_from([1, 2, 5, 10]))
def test_ece_equals_its_definition(p1, data, n_bins):
    y = data.draw(st.lists(st.integers(0, 1), min_size=len(p1), max_size=len(p1)))
    got = expected_calibration_error(y, p1, n_bins=n_bins)
    assert got == pytest.approx(_ece_reference(y, p1, n_bins), abs=1e-9)
    # Both columns give the same as the positive column alone.
    two = np.c_[1 - np.array(p1), p1]
    assert expected_calibration_error(y, two, n_bins=n_bins) == pytest.approx(got)


def test_ece_default_bins_and_edges():
    # Confidences .55 and .65 fall in different bins with 10 bins (width .05) but
    # share one with 5 bins: the default is 10.
    y, p = [1, 1], [0.55, 0.65]
    assert expected_calibration_error(y, p) == pytest.approx((0.45 + 0.35) / 2)
    assert expected_calibration_error(y, p, n_bins=5) == pytest.approx(0.4)
    # p = 0.5 predicts class 1 with confidence 0.5 (right on the lowest edge).
    assert expected_calibration_error([1], [0.5]) == pytest.approx(0.5)
    assert expected_calibration_error([0], [0.5]) == pytest.approx(0.5)
    # A confidence on an inner edge belongs to the bin below it: 0.6 with 0.55 (10
    # bins: (0.55, 0.6]) and apart from 0.62.
    assert expected_calibration_error([1, 0], [0.6, 0.62]) == pytest.approx(
        (abs(1 - 0.6) + abs(0 - 0.62)) / 2
    )
    assert expected_calibration_error([1, 0], [0.58, 0.6]) == pytest.approx(abs(0.5 - 0.59))
    with pytest.raises(ValueError, match="y_true has 2 values but proba has 1"):
        expected_calibration_error([0, 1], [0.5])


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30), st.data())
def test_nll_equals_its_definition(p1, data):
    y = data.draw(st.lists(st.integers(0, 1), min_size=len(p1), max_size=len(p1)))
    proba = np.c_[1 - np.array(p1), p1]
    ref = -sum(math.log(max(row[k], 1e-12)) for row, k in zip(proba, y)) / len(y)
    assert negative_log_likelihood(y, proba) == pytest.approx(ref, rel=1e-9, abs=1e-9)


def test_nll_three_classes_and_a_zero_probability():
    proba = [[0.2, 0.3, 0.5], [0.0, 1.0, 0.0]]
    expected = -(math.log(0.5) + math.log(1e-12)) / 2  # floored at 1e-12
    assert negative_log_likelihood([2, 0], proba) == pytest.approx(expected)


@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1), st.floats(0, 1)), min_size=1))
def test_risk_coverage_equals_its_definition(rows):
    y, pred, u = (list(c) for c in zip(*rows))
    cov, risk = risk_coverage_curve(y, pred, u)
    n = len(rows)
    order = sorted(range(n), key=lambda i: (u[i], i))  # most certain first, stable
    for k in range(1, n + 1):
        kept = order[:k]
        assert cov[k - 1] == pytest.approx(k / n)
        assert risk[k - 1] == pytest.approx(sum(y[i] != pred[i] for i in kept) / k)
    assert area_under_risk_coverage(y, pred, u) == pytest.approx(float(np.mean(risk)))


@given(
    st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=30),
    st.floats(0.01, 1.0),
    st.floats(0.0, 1.0),
)
def test_selective_decision_equals_its_definition(rows, coverage, threshold):
    p, u = (np.array(c) for c in zip(*rows))
    got = selective_decision(p, u, coverage=coverage, threshold=threshold)
    n_keep = math.floor(coverage * len(p) + 1e-9)
    order = sorted(range(len(p)), key=lambda i: (u[i], i))
    for rank, i in enumerate(order):
        if rank < n_keep:
            assert got[i] == (1 if p[i] >= threshold else 0)
        else:
            assert got[i] == -1
    two = selective_decision(np.c_[1 - p, p], u, coverage=coverage, threshold=threshold)
    np.testing.assert_array_equal(two, got)


def test_selective_decision_defaults():
    p = np.array([0.5, 0.49, 0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4])
    u = np.arange(10) / 10
    # Default coverage 0.9 defers the single most uncertain; default threshold 0.5
    # accepts p = 0.5 exactly.
    np.testing.assert_array_equal(selective_decision(p, u), [1, 0, 1, 0, 1, 0, 1, 0, 1, -1])
    for bad in (0, -0.1, 1.01):
        with pytest.raises(ValueError, match="coverage"):
            selective_decision(p, u, coverage=bad)
