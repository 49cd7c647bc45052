"""Uncertainty of probabilistic predictions: decomposition, calibration, selection."""

from numbers import Integral, Real

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

__all__ = [
    "uncertainty_decomposition",
    "expected_calibration_error",
    "negative_log_likelihood",
    "misclassification_auroc",
    "risk_coverage_curve",
    "area_under_risk_coverage",
    "selective_decision",
]

_EPS = 1e-12


def _entropy(p, axis=-1):
    return -np.sum(p * np.log(np.clip(p, _EPS, 1.0)), axis=axis)


@validate_params(
    {
        "member_proba": ["array-like"],
        "positive_class": [Interval(Integral, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def uncertainty_decomposition(member_proba, positive_class=1):
    """Split the uncertainty of an ensemble of predictions into its parts.

    Parameters
    ----------
    member_proba : ndarray of shape (n_members, n_samples, n_classes)
        Probabilities of each member (deep-ensemble member or MC-dropout pass).
    positive_class : int, default=1
        Column whose probability spread is reported as ``std``.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Mean probability.
    uncertainty : :class:`~sklearn.utils.Bunch`
        ``total`` (entropy of the mean, nats), ``aleatoric`` (mean entropy of the
        members), ``epistemic`` (their difference: the mutual information between
        prediction and member, BALD) and ``std`` (standard deviation of the
        positive-class probability over members), one value per sample.

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.uncertainty import uncertainty_decomposition
    >>> members = np.array([[[0.9, 0.1]], [[0.1, 0.9]]])  # two confident, disagreeing
    >>> proba, u = uncertainty_decomposition(members)
    >>> proba.round(2).tolist(), round(float(u.epistemic[0]), 3)
    ([[0.5, 0.5]], 0.368)
    """
    member_proba = np.asarray(member_proba, dtype=np.float64)
    if member_proba.ndim != 3:
        raise ValueError(
            f"member_proba must be (n_members, n_samples, n_classes), got {member_proba.shape}."
        )
    proba = member_proba.mean(axis=0)
    total = _entropy(proba)
    aleatoric = _entropy(member_proba).mean(axis=0)
    # Clip the rounding error: the mutual information is never negative.
    epistemic = np.clip(total - aleatoric, 0.0, None)
    col = positive_class if member_proba.shape[2] > positive_class else 0
    std = member_proba[:, :, col].std(axis=0)
    return proba, Bunch(total=total, aleatoric=total - epistemic, epistemic=epistemic, std=std)


def _check_binary_proba(y_true, proba):
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 2:
        proba = proba[:, 1]
    if proba.shape[0] != y_true.shape[0]:
        raise ValueError(f"y_true has {len(y_true)} values but proba has {len(proba)}.")
    return y_true.astype(int), proba


@validate_params(
    {
        "y_true": ["array-like"],
        "proba": ["array-like"],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def expected_calibration_error(y_true, proba, *, n_bins=10):
    """Expected calibration error of binary probabilities (equal-width bins).

    The confidence of a prediction is the probability of the predicted class; ECE
    is the weighted mean over bins of ``|accuracy - confidence|``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        0/1 labels.
    proba : array-like of shape (n_samples,) or (n_samples, 2)
        Probability of class 1 (or both columns).
    n_bins : int, default=10
        Bins over the confidence range [0.5, 1].

    Returns
    -------
    ece : float

    Examples
    --------
    >>> from skvoice.uncertainty import expected_calibration_error
    >>> expected_calibration_error([1, 0, 1, 1], [0.9, 0.1, 0.8, 0.7])
    0.175
    """
    y_true, p1 = _check_binary_proba(y_true, proba)
    pred = (p1 >= 0.5).astype(int)
    conf = np.where(pred == 1, p1, 1.0 - p1)
    correct = (pred == y_true).astype(float)
    edges = np.linspace(0.5, 1.0, n_bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins)
    acc = np.bincount(idx, weights=correct, minlength=n_bins)
    cf = np.bincount(idx, weights=conf, minlength=n_bins)
    nz = counts > 0
    return float(np.sum(np.abs(acc[nz] - cf[nz])) / len(y_true))


@validate_params(
    {"y_true": ["array-like"], "proba": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def negative_log_likelihood(y_true, proba):
    """Mean negative log-likelihood of the true class (nats).

    Probabilities are floored at 1e-12, so a true class given probability zero
    costs about 27.6 nats instead of infinity.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Class indices (columns of ``proba``).
    proba : array-like of shape (n_samples, n_classes)
        Probabilities.

    Returns
    -------
    nll : float

    Examples
    --------
    >>> from skvoice.uncertainty import negative_log_likelihood
    >>> round(negative_log_likelihood([0, 1], [[0.5, 0.5], [0.5, 0.5]]), 4)
    0.6931
    """
    proba = np.asarray(proba, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=int)
    p = proba[np.arange(len(y_true)), y_true]
    return float(-np.mean(np.log(np.clip(p, _EPS, 1.0))))


@validate_params(
    {"y_true": ["array-like"], "y_pred": ["array-like"], "uncertainty": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def misclassification_auroc(y_true, y_pred, uncertainty):
    """How well an uncertainty flags the misclassified samples (ROC AUC).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    uncertainty : array-like of shape (n_samples,)
        Higher means less certain.

    Returns
    -------
    auroc : float
        0.5 is chance, 1.0 ranks every error above every correct prediction;
        NaN when all predictions are right (or all wrong).

    Examples
    --------
    >>> from skvoice.uncertainty import misclassification_auroc
    >>> misclassification_auroc([0, 1, 1, 0], [0, 1, 0, 0], [0.1, 0.2, 0.9, 0.3])
    1.0
    """
    wrong = np.asarray(y_true) != np.asarray(y_pred)
    if wrong.all() or not wrong.any():
        return float("nan")
    return float(roc_auc_score(wrong, uncertainty))


@validate_params(
    {"y_true": ["array-like"], "y_pred": ["array-like"], "uncertainty": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def risk_coverage_curve(y_true, y_pred, uncertainty):
    """Error rate among the most certain predictions, at every coverage.

    Samples are sorted by increasing uncertainty; keeping the ``k`` most certain
    gives coverage ``k / n`` and risk = their error rate.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    uncertainty : array-like of shape (n_samples,)
        Higher means less certain.

    Returns
    -------
    coverage : ndarray of shape (n_samples,)
    risk : ndarray of shape (n_samples,)

    Examples
    --------
    >>> from skvoice.uncertainty import risk_coverage_curve
    >>> cov, risk = risk_coverage_curve([0, 1, 1, 0], [0, 1, 0, 0], [0.1, 0.2, 0.9, 0.3])
    >>> cov.tolist(), risk.round(2).tolist()
    ([0.25, 0.5, 0.75, 1.0], [0.0, 0.0, 0.0, 0.25])
    """
    wrong = (np.asarray(y_true) != np.asarray(y_pred)).astype(float)
    order = np.argsort(np.asarray(uncertainty), kind="stable")
    k = np.arange(1, len(wrong) + 1)
    return k / len(wrong), np.cumsum(wrong[order]) / k


@validate_params(
    {"y_true": ["array-like"], "y_pred": ["array-like"], "uncertainty": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def area_under_risk_coverage(y_true, y_pred, uncertainty):
    """Area under the risk-coverage curve (lower is better).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    uncertainty : array-like of shape (n_samples,)
        Higher means less certain.

    Returns
    -------
    aurc : float
        Mean risk over coverages 1/n, ..., 1.

    Examples
    --------
    >>> from skvoice.uncertainty import area_under_risk_coverage
    >>> area_under_risk_coverage([0, 1, 1, 0], [0, 1, 0, 0], [0.1, 0.2, 0.9, 0.3])
    0.0625
    """
    _, risk = risk_coverage_curve(y_true, y_pred, uncertainty)
    return float(np.mean(risk))


@validate_params(
    {
        "proba": ["array-like"],
        "uncertainty": ["array-like"],
        "coverage": [Interval(Real, 0, 1, closed="right")],
        "threshold": [Interval(Real, 0, 1, closed="both")],
    },
    prefer_skip_nested_validation=True,
)
def selective_decision(proba, uncertainty, *, coverage=0.9, threshold=0.5):
    """Accept, refuse or defer: decide only on the most certain recordings.

    The ``1 - coverage`` share of recordings with the highest uncertainty is
    deferred (for example to a second authentication factor); the others are
    accepted when the allowed probability reaches ``threshold``.

    Parameters
    ----------
    proba : array-like of shape (n_samples,) or (n_samples, 2)
        Probability of "allowed" (or both columns).
    uncertainty : array-like of shape (n_samples,)
        Higher means less certain (e.g. ``Bunch.total`` or ``Bunch.epistemic``).
    coverage : float, default=0.9
        Share of recordings decided on, in (0, 1].
    threshold : float, default=0.5
        Acceptance threshold on the allowed probability.

    Returns
    -------
    decision : ndarray of int
        1 accept, 0 refuse, -1 defer.

    Examples
    --------
    >>> from skvoice.uncertainty import selective_decision
    >>> selective_decision([0.9, 0.2, 0.6, 0.1], [0.1, 0.2, 0.9, 0.05], coverage=0.75)
    array([ 1,  0, -1,  0])
    """
    proba = np.asarray(proba, dtype=np.float64)
    p1 = proba[:, 1] if proba.ndim == 2 else proba
    u = np.asarray(uncertainty, dtype=np.float64)
    n_keep = int(np.floor(coverage * len(p1) + 1e-9))
    order = np.argsort(u, kind="stable")
    decision = np.full(len(p1), -1)
    keep = order[:n_keep]
    decision[keep] = (p1[keep] >= threshold).astype(int)
    return decision
