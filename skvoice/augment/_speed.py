"""SpeedPerturbation: a recording played faster or slower, as a new voice."""

from numbers import Real

import numpy as np
import soxr
from sklearn.utils._param_validation import Interval

from ._base import Degradation

__all__ = ["SpeedPerturbation"]


class SpeedPerturbation(Degradation):
    """Play each recording ``factor`` times faster: tempo, pitch and formants all move.

    The waveform is resampled (soxr) from ``sr`` to ``sr / factor`` and read
    back at ``sr``: 1.1 shortens it by a tenth and raises every frequency by a
    tenth, as a shorter vocal tract and a higher voice would. Kaldi and WeSpeaker
    take speed-perturbed recordings (0.9 and 1.1) as new speakers; skvoice uses
    them as impostors from the user's own channel
    (:class:`~skvoice.decisions.TargetFARClassifierCV`'s ``impostor_augmentation``).

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the input and the output in Hz.
    factor : float or (float, float), default=1.1
        Speed factor (> 1: faster and higher), or the range to draw it from per
        recording.
    random_state : int, RandomState instance or None, default=None
        Seeds the drawn factors.

    Attributes
    ----------
    fitted_ : bool
        True once fitted (nothing is learnt from the data).

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.augment import SpeedPerturbation
    >>> t = np.arange(16000) / 16000
    >>> (z,) = SpeedPerturbation(factor=1.25).fit_transform([np.sin(2 * np.pi * 200 * t)])
    >>> len(z)
    12800
    """

    _parameter_constraints = {
        **Degradation._parameter_constraints,
        "factor": [Interval(Real, 0, None, closed="neither"), tuple, list],
    }

    def __init__(self, sr=16000, factor=1.1, random_state=None):
        self.sr = sr
        self.factor = factor
        self.random_state = random_state

    def _check_params(self):
        super()._check_params()
        f = np.atleast_1d(np.asarray(self.factor, dtype=float))
        if f.size not in (1, 2) or not np.all(f > 0) or f[0] > f[-1]:
            raise ValueError(f"factor must be > 0 or a (low, high) pair, got {self.factor!r}")

    def _degrade(self, y, rng):
        f = np.atleast_1d(np.asarray(self.factor, dtype=float))
        factor = f[0] if f.size == 1 else rng.uniform(f[0], f[1])
        return soxr.resample(y, self.sr, self.sr / factor, quality="HQ").astype(np.float32)
