"""Percentile bootstrap intervals of a statistic of recordings."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["bootstrap_interval"]


@validate_params(
    {
        "statistic": [callable],
        "n_resamples": [Interval(Integral, 1, None, closed="left")],
        "level": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state", np.random.Generator],
    },
    prefer_skip_nested_validation=True,
)
def bootstrap_interval(statistic, *arrays, n_resamples=1000, level=0.95, random_state=0):
    """Percentile interval of ``statistic(*arrays)`` over resamples of the rows.

    The rows of every array are drawn together, with replacement. A resample on
    which the statistic raises ``ValueError`` (an EER of one class only) is
    left out; NaN is returned when none is left.

    Parameters
    ----------
    statistic : callable
        Takes the arrays (resampled alike), returns a number.
    *arrays : array-like of shape (n,)
        Same length.
    n_resamples : int, default=1000
        Resamples drawn.
    level : float in (0, 1), default=0.95
        Confidence level.
    random_state : int, RandomState, Generator or None, default=0
        Seeds the draws.

    Returns
    -------
    low, high : float

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.metrics import bootstrap_interval, equal_error_rate
    >>> rng = np.random.default_rng(0)
    >>> y = np.r_[np.ones(50), np.zeros(50)].astype(int)
    >>> scores = y + rng.normal(size=100)
    >>> low, high = bootstrap_interval(equal_error_rate, y, scores, n_resamples=200)
    >>> bool(low < equal_error_rate(y, scores) < high)
    True
    """
    if not arrays:
        raise ValueError("bootstrap_interval needs at least one array.")
    arrays = [np.asarray(a) for a in arrays]
    n = len(arrays[0])
    if n == 0 or any(len(a) != n for a in arrays):
        raise ValueError(
            f"The arrays need one and the same length; got {[len(a) for a in arrays]}."
        )
    if isinstance(random_state, np.random.Generator):
        rng = random_state
    else:
        from sklearn.utils import check_random_state

        rng = np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))
    values = []
    for idx in rng.integers(0, n, (n_resamples, n)):
        try:
            values.append(float(statistic(*(a[idx] for a in arrays))))
        except ValueError:
            continue
    if not values:
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))
