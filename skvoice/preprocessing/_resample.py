"""Resampler: bring recordings to the sample rate a model was built for."""

from numbers import Integral

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

from .._base import WaveformTransformerMixin, collect_outputs
from ..io import resample

__all__ = ["Resampler"]


class Resampler(WaveformTransformerMixin, BaseEstimator):
    """Resample recordings from ``sr`` to ``target_sr`` (soxr, high quality).

    Put it first in a pipeline whose model was built for another rate, for
    example 8 kHz telephone audio into the 16 kHz pretrained encoder. Upsampling
    adds no content above the original Nyquist frequency: the pretrained encoder
    was trained with such band-limited input among its augmentations.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the input in Hz.
    target_sr : int, default=16000
        Sample rate of the output in Hz.
    n_jobs : int, default=None
        Recordings processed in parallel.

    Attributes
    ----------
    fitted_ : bool
        True once fitted (nothing is learnt from the data).

    See Also
    --------
    skvoice.io.resample : The same for one signal.

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.preprocessing import Resampler
    >>> y = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)  # 1 s at 8 kHz
    >>> [len(w) for w in Resampler(sr=8000, target_sr=16000).fit_transform([y])]
    [16000]
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "target_sr": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(self, sr=16000, target_sr=16000, n_jobs=None):
        self.sr = sr
        self.target_sr = target_sr
        self.n_jobs = n_jobs

    def _check_params(self):
        self._validate_params()

    def _resample_one(self, y):
        return resample(y, self.sr, self.target_sr)

    def transform(self, X):
        """Resample each recording.

        Parameters
        ----------
        X : list of 1-D arrays, 2-D array or list of paths
            Recordings at the sample rate ``sr``.

        Returns
        -------
        Xt : list of 1-D float32 arrays, or ndarray
            The recordings at ``target_sr`` (a 2-D array when ``X`` is one).
        """
        return collect_outputs(self._map(X, self._resample_one), X)
