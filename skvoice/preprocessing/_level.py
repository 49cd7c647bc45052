"""LevelNormalizer: bring every recording to one RMS level."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

from .._base import WaveformTransformerMixin, collect_outputs

__all__ = ["LevelNormalizer"]


class LevelNormalizer(WaveformTransformerMixin, BaseEstimator):
    """Scale each recording so that its RMS level is ``target_dbfs``.

    Devices record the same voice tens of dB apart. A front-end that keeps the
    power as it is (such as the GE2E encoder's mel spectrogram, which is not
    logarithmic) sees the level as part of the voice; scaling every recording
    to one level removes it. The level is ``20 * log10(rms)`` for waveforms in
    [-1, 1] (0 dBFS: a full-scale square wave). A silent recording is left as
    it is.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the input in Hz (checked, not used).
    target_dbfs : float, default=-30.0
        RMS level of the output, in dB relative to full scale. -30 dBFS is the
        level the GE2E encoder was trained at.
    increase_only : bool, default=False
        Only raise quiet recordings, never lower loud ones (the GE2E reference
        preprocessing does so; lowering too makes the output level-free).

    Attributes
    ----------
    fitted_ : bool
        True once fitted (nothing is learnt from the data).

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.preprocessing import LevelNormalizer
    >>> y = 0.5 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)
    >>> (z,) = LevelNormalizer(target_dbfs=-20.0).fit_transform([y])
    >>> round(float(20 * np.log10(np.sqrt(np.mean(z**2)))), 3)
    -20.0
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "target_dbfs": [Interval(Real, None, 0, closed="right")],
        "increase_only": ["boolean"],
    }

    def __init__(self, sr=16000, target_dbfs=-30.0, increase_only=False):
        self.sr = sr
        self.target_dbfs = target_dbfs
        self.increase_only = increase_only

    def _check_params(self):
        self._validate_params()

    def _scale_one(self, y):
        y = np.asarray(y, dtype=np.float32)
        rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
        if rms == 0.0:
            return y
        gain = 10.0 ** (self.target_dbfs / 20.0) / rms
        if self.increase_only and gain < 1.0:
            return y
        return (y * gain).astype(np.float32)

    def transform(self, X):
        """Scale each recording to ``target_dbfs``.

        Parameters
        ----------
        X : list of 1-D arrays, 2-D array or list of paths
            Recordings at the sample rate ``sr``.

        Returns
        -------
        Xt : list of 1-D float32 arrays, or ndarray
            The scaled recordings (a 2-D array when ``X`` is one).
        """
        return collect_outputs(self._map(X, self._scale_one), X)
