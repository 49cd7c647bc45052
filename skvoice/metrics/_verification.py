"""Error rates of access control: EER, minDCF, Cllr, false acceptance and rejection."""

from numbers import Integral, Real

import numpy as np
from sklearn.metrics import make_scorer, roc_curve
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import Interval, validate_params

from .._labels import allowed_mask
from .._warnings import UnreachableFARWarning, warn_caller

__all__ = [
    "equal_error_rate",
    "false_acceptance_rate",
    "false_rejection_rate",
    "far_at_frr",
    "threshold_at_far",
    "acceptance_by_speaker",
    "min_dcf",
    "cllr",
    "min_cllr",
    "eer_scorer",
    "far_at_frr_scorer",
    "min_dcf_scorer",
    "cllr_scorer",
]


def _binary(y_true, y_other, name, pos_label=None):
    """``y_true`` as 1 (allowed) / 0 (refused) by ``pos_label``, and ``y_other``."""
    y_true = column_or_1d(y_true)
    y_other = column_or_1d(y_other)
    if y_true.shape[0] != y_other.shape[0]:
        raise ValueError(f"y_true has {y_true.shape[0]} values but {name} has {y_other.shape[0]}.")
    return allowed_mask(y_true, pos_label, "y_true").astype(int), y_other


def _accepted(y_pred, pos_label):
    """Which predictions accept: equal to ``pos_label`` (1 when None)."""
    return np.asarray(y_pred) == (1 if pos_label is None else pos_label)


def _roc(y_true, y_score, pos_label=None):
    y_true, y_score = _binary(y_true, y_score, "y_score", pos_label)
    if len(np.unique(y_true)) != 2:
        raise ValueError("Need both allowed (1) and refused (0) recordings to score.")
    if not np.all(np.isfinite(y_score)):
        raise ValueError("y_score contains NaN or infinite values.")
    far, tar, thresholds = roc_curve(y_true, y_score, drop_intermediate=False)
    return far, 1.0 - tar, thresholds


def far_cut(impostor_scores, target_far):
    """The highest impostor score that must be refused to keep FAR <= ``target_far``.

    Accepting only scores strictly above the returned value accepts at most
    ``floor(target_far * n)`` of the ``n`` impostors (fewer with ties), and no
    lower cut does. ``-inf`` when every impostor may be accepted. Warns
    (:class:`UnreachableFARWarning`) when ``target_far * n < 1``: no threshold
    between the scores then reaches the target.
    """
    scores = np.sort(np.asarray(impostor_scores, dtype=np.float64))[::-1]
    if scores.size == 0:
        raise ValueError("No impostor scores to choose a threshold on.")
    if target_far * scores.size < 1 - 1e-9:
        needed = int(np.ceil(1 / target_far - 1e-9))
        warn_caller(
            f"target_far={target_far:g} cannot be reached with {scores.size} impostor "
            f"recording(s): it needs at least {needed}. The threshold is the highest "
            "impostor score, so the false-acceptance rate on voices never heard is "
            "unknown. Add refused speakers (or a cohort of non-users), or raise target_far.",
            UnreachableFARWarning,
        )
    # The small tolerance keeps e.g. 0.29 * 100 = 28.999999999999996 at 29.
    k = int(np.floor(target_far * scores.size + 1e-9))
    return -np.inf if k >= scores.size else float(scores[k])


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "return_threshold": ["boolean"],
        "pos_label": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def equal_error_rate(y_true, y_score, *, return_threshold=False, pos_label=None):
    """Equal error rate: where false acceptance equals false rejection.

    Each distinct score is a threshold and gives one point (FAR, FRR); between
    consecutive points (tied scores make one step) the two rates are joined by a
    straight line, and the EER is read where that polyline crosses FAR = FRR.
    This is the interpolation of the ROC's own points, not of its convex hull.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 for allowed (genuine), 0 for refused (impostor).
    y_score : array-like of shape (n_samples,)
        Higher means more likely allowed.
    return_threshold : bool, default=False
        Also return the score threshold at the crossing.
    pos_label : int, float, bool or str, default=None
        The allowed label of ``y_true``; None: 1 (labels 0/1, False/True or -1/1).

    Returns
    -------
    eer : float
        In ``[0, 1]``.
    threshold : float
        Only when ``return_threshold``.

    Examples
    --------
    >>> from skvoice.metrics import equal_error_rate
    >>> equal_error_rate([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    0.5
    >>> equal_error_rate([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    0.0
    """
    far, frr, thresholds = _roc(y_true, y_score, pos_label)
    diff = frr - far  # decreasing from 1 to -1 along the curve
    i = int(np.flatnonzero(diff <= 0)[0])
    if diff[i] == 0 or i == 0:
        eer, thr = far[i], thresholds[i]
    else:
        # Linear interpolation between points i-1 (frr > far) and i (frr <= far).
        t = diff[i - 1] / (diff[i - 1] - diff[i])
        eer = far[i - 1] + t * (far[i] - far[i - 1])
        thr = thresholds[i]
    eer = float(eer)
    return (eer, float(thr)) if return_threshold else eer


@validate_params(
    {"y_true": ["array-like"], "y_pred": ["array-like"], "pos_label": "no_validation"},
    prefer_skip_nested_validation=True,
)
def false_acceptance_rate(y_true, y_pred, *, pos_label=None):
    """Fraction of refused recordings (``y_true == 0``) that were accepted.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels (1 allowed, 0 refused).
    pos_label : int, float, bool or str, default=None
        The allowed label of ``y_true``; None: 1 (labels 0/1, False/True or -1/1).

    Returns
    -------
    far : float

    Examples
    --------
    >>> from skvoice.metrics import false_acceptance_rate
    >>> false_acceptance_rate([0, 0, 0, 1], [1, 0, 0, 1])
    0.3333333333333333
    """
    y_true, y_pred = _binary(y_true, y_pred, "y_pred", pos_label)
    refused = y_true == 0
    if not refused.any():
        raise ValueError("No refused recordings (y_true == 0): FAR is undefined.")
    return float(np.mean(_accepted(y_pred[refused], pos_label)))


@validate_params(
    {"y_true": ["array-like"], "y_pred": ["array-like"], "pos_label": "no_validation"},
    prefer_skip_nested_validation=True,
)
def false_rejection_rate(y_true, y_pred, *, pos_label=None):
    """Fraction of allowed recordings (``y_true == 1``) that were refused.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels (1 allowed, 0 refused).
    pos_label : int, float, bool or str, default=None
        The allowed label of ``y_true``; None: 1 (labels 0/1, False/True or -1/1).

    Returns
    -------
    frr : float

    Examples
    --------
    >>> from skvoice.metrics import false_rejection_rate
    >>> false_rejection_rate([1, 1, 0, 0], [1, 0, 0, 0])
    0.5
    """
    y_true, y_pred = _binary(y_true, y_pred, "y_pred", pos_label)
    allowed = y_true == 1
    if not allowed.any():
        raise ValueError("No allowed recordings (y_true == 1): FRR is undefined.")
    return float(np.mean(~_accepted(y_pred[allowed], pos_label)))


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "frr": [Interval(Real, 0, 1, closed="both")],
        "pos_label": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def far_at_frr(y_true, y_score, frr=0.05, *, pos_label=None):
    """Lowest false-acceptance rate with a false-rejection rate at most ``frr``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 allowed, 0 refused.
    y_score : array-like of shape (n_samples,)
        Higher means more likely allowed.
    frr : float, default=0.05
        Largest tolerated false-rejection rate.
    pos_label : int, float, bool or str, default=None
        The allowed label of ``y_true``; None: 1 (labels 0/1, False/True or -1/1).

    Returns
    -------
    far : float

    Examples
    --------
    >>> from skvoice.metrics import far_at_frr
    >>> far_at_frr([0, 0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.5, 0.9], frr=0.0)
    0.25
    """
    far, frr_curve, _ = _roc(y_true, y_score, pos_label)
    return float(far[frr_curve <= frr + 1e-12].min())


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "target_far": [Interval(Real, 0, 1, closed="neither")],
        "pos_label": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def threshold_at_far(y_true, y_score, target_far, *, pos_label=None):
    """Lowest threshold whose false-acceptance rate on these scores is at most ``target_far``.

    Accepting ``y_score >= threshold`` (the rule of scikit-learn's
    :class:`~sklearn.model_selection.FixedThresholdClassifier`) accepts at most
    ``floor(target_far * n_refused)`` of the refused recordings, and any lower
    threshold accepts more. Choose it on scores of impostors the model never
    heard (held-out speakers): on the training speakers' scores it is
    optimistic. The estimators' ``target_far`` does this by cross-fitting.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 allowed, 0 refused.
    y_score : array-like of shape (n_samples,)
        Higher means more likely allowed.
    target_far : float in (0, 1)
        Largest tolerated false-acceptance rate.
    pos_label : int, float, bool or str, default=None
        The allowed label of ``y_true``; None: 1 (labels 0/1, False/True or -1/1).

    Returns
    -------
    threshold : float
        ``-inf`` when every refused recording may be accepted.

    Examples
    --------
    >>> from skvoice.metrics import threshold_at_far
    >>> y = [0, 0, 0, 0, 1, 1]
    >>> scores = [0.1, 0.2, 0.3, 0.7, 0.5, 0.9]
    >>> t = threshold_at_far(y, scores, 0.25)  # one impostor of four may pass
    >>> float(t) > 0.3, [s >= t for s in scores]
    (True, [False, False, False, True, True, True])
    """
    y_true, y_score = _binary(y_true, y_score, "y_score", pos_label)
    y_score = np.asarray(y_score, dtype=np.float64)
    if not np.all(np.isfinite(y_score)):
        raise ValueError("y_score contains NaN or infinite values.")
    cut = far_cut(y_score[y_true == 0], target_far)
    return cut if np.isneginf(cut) else float(np.nextafter(cut, np.inf))


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "groups": ["array-like"],
        "n_bootstraps": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "pos_label": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def acceptance_by_speaker(
    y_true, y_pred, groups, *, n_bootstraps=1000, random_state=0, pos_label=None
):
    """Per speaker: how often they were let in, with a bootstrap interval.

    A pooled EER hides who gets in: one impostor accepted half of the time is a
    different risk from many accepted now and then. This gives, for every
    speaker, the share of their recordings accepted (a false acceptance rate for
    a refused speaker, one minus the false rejection rate for an allowed one)
    and a 95 % percentile interval over bootstrap resamples of their recordings.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 allowed, 0 refused.
    y_pred : array-like of shape (n_samples,)
        Decisions: 1 accepted, 0 refused.
    groups : array-like of shape (n_samples,)
        Speaker of each recording.
    n_bootstraps : int, default=1000
        Bootstrap resamples per speaker.
    random_state : int, default=0
        Seed of the resampling.
    pos_label : int, float, bool or str, default=None
        The allowed label of ``y_true``; None: 1 (labels 0/1, False/True or -1/1).

    Returns
    -------
    table : dict of ndarray
        ``speaker``, ``allowed`` (bool), ``recordings``, ``accepted`` (share),
        ``ci_low`` and ``ci_high``, one entry per speaker in sorted order.

    Examples
    --------
    >>> from skvoice.metrics import acceptance_by_speaker
    >>> t = acceptance_by_speaker([1, 1, 0, 0, 0], [1, 0, 0, 1, 1], ["a", "a", "b", "b", "b"])
    >>> t["speaker"].tolist(), t["accepted"].round(2).tolist()
    (['a', 'b'], [0.5, 0.67])
    """
    y_true, y_pred = _binary(y_true, y_pred, "y_pred", pos_label)
    speakers = column_or_1d(np.asarray(groups)).astype(str)
    if len(speakers) != len(y_true):
        raise ValueError(f"groups has {len(speakers)} values but y_true has {len(y_true)}.")
    rng = np.random.default_rng(random_state)
    names = np.unique(speakers)
    out = {k: [] for k in ("speaker", "allowed", "recordings", "accepted", "ci_low", "ci_high")}
    for name in names:
        rows = speakers == name
        labels = np.unique(y_true[rows])
        if len(labels) > 1:
            raise ValueError(f"Speaker {name!r} has allowed and refused recordings.")
        accepted = _accepted(np.asarray(y_pred)[rows], pos_label).astype(float)
        # Every resample at once: (n_bootstraps, n_recordings) indices.
        draws = rng.integers(0, len(accepted), (n_bootstraps, len(accepted)))
        means = accepted[draws].mean(axis=1)
        out["speaker"].append(name)
        out["allowed"].append(bool(labels[0] == 1))
        out["recordings"].append(int(rows.sum()))
        out["accepted"].append(float(accepted.mean()))
        out["ci_low"].append(float(np.percentile(means, 2.5)))
        out["ci_high"].append(float(np.percentile(means, 97.5)))
    return {k: np.asarray(v) for k, v in out.items()}


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "p_target": [Interval(Real, 0, 1, closed="neither")],
        "c_miss": [Interval(Real, 0, None, closed="neither")],
        "c_fa": [Interval(Real, 0, None, closed="neither")],
        "return_threshold": ["boolean"],
        "pos_label": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def min_dcf(
    y_true, y_score, *, p_target=0.01, c_miss=1.0, c_fa=1.0, return_threshold=False, pos_label=None
):
    """Minimum normalised detection cost over all thresholds (NIST SRE, WeSpeaker).

    At a threshold, ``DCF = c_miss * p_target * P_miss + c_fa * (1 - p_target) *
    P_fa``, divided by ``min(c_miss * p_target, c_fa * (1 - p_target))``, the cost
    of the better of accepting or refusing everyone, so that 1 means no better
    than either. The minimum is taken over every threshold the scores allow,
    accepting everyone and refusing everyone included: the cost of the best
    threshold in hindsight, as the EER is a rate of it.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 for allowed (target), 0 for refused (non-target).
    y_score : array-like of shape (n_samples,)
        Higher means more likely allowed.
    p_target : float in (0, 1), default=0.01
        Prior probability of a target trial: 0.01 as VoxCeleb's evaluations,
        0.05 as some SRE conditions.
    c_miss, c_fa : float > 0, default=1.0
        Costs of a false rejection and of a false acceptance.
    return_threshold : bool, default=False
        Also return the threshold at the minimum (accept scores >= it).
    pos_label : int, float, bool or str, default=None
        The allowed label of ``y_true``; None: 1 (labels 0/1, False/True or -1/1).

    Returns
    -------
    min_dcf : float
        In ``[0, 1]``.
    threshold : float
        Only when ``return_threshold``.

    Examples
    --------
    >>> from skvoice.metrics import min_dcf
    >>> y = [0, 0, 0, 1, 1]
    >>> s = [0.1, 0.4, 0.6, 0.5, 0.9]
    >>> # The best: accept >= 0.5, no miss and 1 of 3 false acceptances:
    >>> # (0.5 * 0 + 0.5 * 1/3) / min(0.5, 0.5)
    >>> round(min_dcf(y, s, p_target=0.5), 3)
    0.333
    """
    far, frr, thresholds = _roc(y_true, y_score, pos_label)
    cost = c_miss * p_target * frr + c_fa * (1.0 - p_target) * far
    cost = cost / min(c_miss * p_target, c_fa * (1.0 - p_target))
    best = int(np.argmin(cost))
    value = float(min(cost[best], 1.0))
    return (value, float(thresholds[best])) if return_threshold else value


def _log2_1p_exp(x):
    """``log2(1 + exp(x))``, stable at both ends (``+inf`` stays ``+inf``)."""
    return np.logaddexp(0.0, x) / np.log(2.0)


@validate_params(
    {"y_true": ["array-like"], "llr": ["array-like"], "pos_label": "no_validation"},
    prefer_skip_nested_validation=True,
)
def cllr(y_true, llr, *, pos_label=None):
    """Log-likelihood-ratio cost of calibrated scores, in bits (Brümmer, 2006).

    ``Cllr = (mean over targets of log2(1 + e^-llr) + mean over non-targets of
    log2(1 + e^llr)) / 2``: 0 for perfect, well-calibrated scores; 1 for scores
    that always say ``llr = 0`` (no information); above 1 for scores that are
    worse than no information (miscalibrated). It judges the probabilities, not
    only their ranking: :func:`min_cllr` gives the part that calibration cannot
    remove.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 for allowed (target), 0 for refused (non-target).
    llr : array-like of shape (n_samples,)
        Natural-log likelihood ratios of the allowed class. A calibrated
        log-odds (``decision_function`` of skvoice's estimators) is one when
        its calibration saw as many allowed as refused scores; else subtract
        the log-odds of that prior.
    pos_label : int, float, bool or str, default=None
        The allowed label of ``y_true``; None: 1 (labels 0/1, False/True or -1/1).

    Returns
    -------
    cllr : float

    Examples
    --------
    >>> from skvoice.metrics import cllr
    >>> cllr([0, 1], [0.0, 0.0])
    1.0
    >>> round(cllr([0, 0, 1, 1], [-4.0, -2.0, 3.0, 5.0]), 3)
    0.072
    """
    y_true, llr = _binary(y_true, llr, "llr", pos_label)
    llr = np.asarray(llr, dtype=np.float64)
    if len(np.unique(y_true)) != 2:
        raise ValueError("Need both allowed (1) and refused (0) recordings to score.")
    if np.isnan(llr).any():
        raise ValueError("llr contains NaN values.")
    targets, non_targets = llr[y_true == 1], llr[y_true == 0]
    return float((_log2_1p_exp(-targets).mean() + _log2_1p_exp(non_targets).mean()) / 2)


@validate_params(
    {"y_true": ["array-like"], "y_score": ["array-like"], "pos_label": "no_validation"},
    prefer_skip_nested_validation=True,
)
def min_cllr(y_true, y_score, *, pos_label=None):
    """The Cllr of ``y_score`` after the best monotone calibration (PAV).

    The scores are mapped to posteriors by isotonic regression (the pool
    adjacent violators algorithm, tied scores pooled) and the posteriors to
    log-likelihood ratios by removing the data's own prior; :func:`cllr` of
    those is the discrimination loss alone. ``cllr - min_cllr`` is the loss
    due to calibration.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 for allowed (target), 0 for refused (non-target).
    y_score : array-like of shape (n_samples,)
        Higher means more likely allowed (any monotone scale).
    pos_label : int, float, bool or str, default=None
        The allowed label of ``y_true``; None: 1 (labels 0/1, False/True or -1/1).

    Returns
    -------
    min_cllr : float
        In ``[0, 1]``.

    Examples
    --------
    >>> from skvoice.metrics import min_cllr
    >>> min_cllr([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])  # separable: no loss
    0.0
    >>> min_cllr([0, 1, 0, 1], [1.0, 2.0, 3.0, 4.0]) < 1
    True
    """
    from sklearn.isotonic import IsotonicRegression

    y_true, y_score = _binary(y_true, y_score, "y_score", pos_label)
    y_score = np.asarray(y_score, dtype=np.float64)
    if len(np.unique(y_true)) != 2:
        raise ValueError("Need both allowed (1) and refused (0) recordings to score.")
    if not np.all(np.isfinite(y_score)):
        raise ValueError("y_score contains NaN or infinite values.")
    posterior = IsotonicRegression(y_min=0.0, y_max=1.0).fit_transform(y_score, y_true)
    prior = y_true.mean()
    with np.errstate(divide="ignore"):
        llr = np.log(posterior) - np.log1p(-posterior) - (np.log(prior) - np.log1p(-prior))
    return float(min(cllr(y_true, llr), 1.0))


def _neg_eer(y_true, y_score, **kwargs):
    return -equal_error_rate(y_true, y_score, **kwargs)


def _neg_far_at_frr(y_true, y_score, frr=0.05, **kwargs):
    return -far_at_frr(y_true, y_score, frr=frr, **kwargs)


#: Scorer for ``scoring=``: the negated equal error rate (greater is better).
eer_scorer = make_scorer(_neg_eer, response_method=("decision_function", "predict_proba"))
#: Scorer for ``scoring=``: the negated FAR at 5 % FRR (greater is better).
far_at_frr_scorer = make_scorer(
    _neg_far_at_frr, response_method=("decision_function", "predict_proba")
)


def _neg_min_dcf(y_true, y_score, p_target=0.01, **kwargs):
    return -min_dcf(y_true, y_score, p_target=p_target, **kwargs)


def _neg_cllr(y_true, llr, **kwargs):
    return -cllr(y_true, llr, **kwargs)


#: Scorer for ``scoring=``: the negated minimum DCF at p_target 0.01 (greater is better).
min_dcf_scorer = make_scorer(_neg_min_dcf, response_method=("decision_function", "predict_proba"))
#: Scorer for ``scoring=``: the negated Cllr of ``decision_function`` read as a
#: log-likelihood ratio (greater is better; see :func:`cllr`).
cllr_scorer = make_scorer(_neg_cllr, response_method="decision_function")
