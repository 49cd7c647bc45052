"""Intervals of an error rate whose recordings come in speakers."""

from numbers import Real

import numpy as np
from scipy import stats
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["rate_interval"]


@validate_params(
    {
        "errors": ["array-like"],
        "speakers": ["array-like"],
        "level": [Interval(Real, 0, 1, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def rate_interval(errors, speakers, level=0.9):
    """Where an error rate will fall on new speakers like these: a two-sided interval.

    A speaker's recordings are not independent trials: one impostor whose voice
    lies near an allowed user's is accepted again and again. So the rate is
    treated as a mean over speakers (the ratio of the errors to the recordings,
    each speaker a cluster) and the interval is the union of two:

    - a Student-t interval with the cluster-robust variance of that ratio and
      ``n_speakers - 1`` degrees of freedom: wide when the speakers disagree or
      are few (with 2 speakers, 1 degree of freedom);
    - a Jeffreys interval of a binomial proportion on the effective number of
      recordings (the recordings divided by the design effect of the clusters):
      it keeps a width where every speaker agrees (no error at all, say), which
      the t-interval would shrink to a point.

    Parameters
    ----------
    errors : array-like of bool of shape (n_recordings,)
        Whether each recording was an error (an impostor accepted, an allowed
        user refused).
    speakers : array-like of shape (n_recordings,)
        Speaker of each recording.
    level : float in (0, 1), default=0.9
        Confidence level of the interval.

    Returns
    -------
    low, high : float
        The interval, within [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.metrics import rate_interval
    >>> errors = np.r_[np.zeros(20), [1, 0, 0, 0, 0, 1, 1, 0, 0, 0]].astype(bool)
    >>> speakers = np.repeat(["a", "b", "c"], 10)
    >>> low, high = rate_interval(errors, speakers)
    >>> bool(low < errors.mean() < high)
    True
    """
    errors = np.asarray(errors, dtype=bool).ravel()
    speakers = np.asarray(speakers).astype(str).ravel()
    if errors.size == 0:
        raise ValueError("No recordings: an empty rate has no interval.")
    if speakers.size != errors.size:
        raise ValueError(f"{errors.size} errors but {speakers.size} speakers.")
    _, index = np.unique(speakers, return_inverse=True)
    counts = np.bincount(index).astype(float)
    hits = np.bincount(index, weights=errors.astype(float))
    n_speakers, total = len(counts), counts.sum()
    rate = hits.sum() / total
    alpha = 1.0 - level
    # Cluster-robust (ratio-estimator) variance of the rate.
    if n_speakers > 1:
        resid = hits - rate * counts
        var = n_speakers / (n_speakers - 1) * np.sum(resid**2) / total**2
        half = stats.t.ppf(1 - alpha / 2, n_speakers - 1) * np.sqrt(var)
        t_low, t_high = rate - half, rate + half
    else:  # one speaker: nothing tells how another would differ
        var, t_low, t_high = np.inf, 0.0, 1.0
    # Effective recordings: the binomial variance over the clustered one.
    binomial = rate * (1 - rate) / total
    n_eff = total if var == 0 or binomial == 0 else min(total, total * binomial / var)
    if not np.isfinite(n_eff):
        n_eff = 1.0
    n_eff = max(n_eff, 1.0)
    k = rate * n_eff
    j_low = 0.0 if k <= 0 else stats.beta.ppf(alpha / 2, k + 0.5, n_eff - k + 0.5)
    j_high = 1.0 if k >= n_eff else stats.beta.ppf(1 - alpha / 2, k + 0.5, n_eff - k + 0.5)
    return float(max(0.0, min(t_low, j_low))), float(min(1.0, max(t_high, j_high)))
