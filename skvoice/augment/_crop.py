"""Crop: cut recordings to a duration, as short commands are."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import Degradation

__all__ = ["Crop"]


class Crop(Degradation):
    """Cut each recording to ``duration`` seconds (shorter ones are kept whole).

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the input and the output in Hz.
    duration : float or (float, float), default=1.0
        Length of the crop in seconds, or the range to draw it from per recording.
    position : {"center", "random"}, default="center"
        Where the crop lies: the middle of the recording (a fixed test condition,
        as the benchmarks cut utterances), or drawn per recording.
    random_state : int, RandomState instance or None, default=None
        Seeds the drawn durations and positions.

    Attributes
    ----------
    fitted_ : bool
        True once fitted (nothing is learnt from the data).

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.augment import Crop
    >>> (z,) = Crop(duration=0.5).fit_transform([np.arange(16000) / 16000])
    >>> len(z), float(z[0])
    (8000, 0.25)
    """

    _parameter_constraints = {
        **Degradation._parameter_constraints,
        "duration": [Interval(Real, 0, None, closed="neither"), tuple, list],
        "position": [StrOptions({"center", "random"})],
    }

    def __init__(self, sr=16000, duration=1.0, position="center", random_state=None):
        self.sr = sr
        self.duration = duration
        self.position = position
        self.random_state = random_state

    def _check_params(self):
        super()._check_params()
        d = np.atleast_1d(np.asarray(self.duration, dtype=float))
        if d.size not in (1, 2) or not np.all(d > 0) or d[0] > d[-1]:
            raise ValueError(
                f"duration must be seconds > 0 or a (low, high) pair, got {self.duration!r}"
            )

    def _degrade(self, y, rng):
        d = np.atleast_1d(np.asarray(self.duration, dtype=float))
        seconds = d[0] if d.size == 1 else rng.uniform(d[0], d[1])
        n = max(1, int(round(seconds * self.sr)))
        if len(y) <= n:
            return y
        start = (
            (len(y) - n) // 2 if self.position == "center" else int(rng.integers(len(y) - n + 1))
        )
        return y[start : start + n]
