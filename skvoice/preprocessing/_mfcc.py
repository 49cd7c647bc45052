"""MFCC statistics per recording: the classical speaker baseline."""

from numbers import Integral

import numpy as np
import scipy.fft
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .._base import WaveformTransformerMixin
from ._spectrogram import SpectrogramExtractor

__all__ = ["MFCCStatistics"]


class MFCCStatistics(WaveformTransformerMixin, BaseEstimator):
    """Mean and standard deviation of each MFCC over a recording.

    MFCCs as ``librosa.feature.mfcc`` (type-II orthonormal DCT of the log-mel
    spectrogram), pooled over time: a fixed-length vector per recording for any
    scikit-learn classifier. The classical baseline a speaker CNN must beat.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate in Hz.
    n_mfcc : int, default=20
        Coefficients kept.
    n_mels : int, default=40
        Mel bands before the DCT.
    n_fft : int, default=512
        FFT size (32 ms at 16 kHz).
    hop_length : int, default=160
        Step (10 ms at 16 kHz).
    drop_c0 : bool, default=True
        Leave out the 0th coefficient (the recording's level).
    n_jobs : int, default=None
        Recordings processed in parallel.

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.preprocessing import MFCCStatistics
    >>> X = [np.random.default_rng(0).standard_normal(8000)]
    >>> MFCCStatistics().fit_transform(X).shape
    (1, 38)
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "n_mfcc": [Interval(Integral, 1, None, closed="left")],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "drop_c0": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self, sr=16000, n_mfcc=20, n_mels=40, n_fft=512, hop_length=160, drop_c0=True, n_jobs=None
    ):
        self.sr = sr
        self.n_mfcc = n_mfcc
        self.n_mels = n_mels
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.drop_c0 = drop_c0
        self.n_jobs = n_jobs

    def _check_params(self):
        self._validate_params()
        if self.n_mfcc > self.n_mels:
            raise ValueError(f"n_mfcc={self.n_mfcc} exceeds n_mels={self.n_mels}.")

    def _mfcc(self, y):
        ext = SpectrogramExtractor(
            sr=self.sr,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            n_mels=self.n_mels,
            normalize=None,
            to_db=True,
        )
        logmel = ext.spectrogram_one(y)
        return scipy.fft.dct(logmel, type=2, axis=0, norm="ortho")[: self.n_mfcc]

    def _stats_one(self, y):
        m = self._mfcc(y)[1 if self.drop_c0 else 0 :]
        return np.r_[m.mean(axis=1), m.std(axis=1)]

    def transform(self, X):
        """MFCC means then standard deviations, per recording.

        Parameters
        ----------
        X : list of 1-D arrays, 2-D array or list of paths
            Recordings at the sample rate ``sr``.

        Returns
        -------
        Xt : ndarray of shape (n_recordings, 2 * n_coefficients)
        """
        return np.array(self._map(X, self._stats_one))

    def get_feature_names_out(self, input_features=None):
        """Names ``mfcc1_mean`` ... ``mfcc1_std`` ....

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self)
        first = 1 if self.drop_c0 else 0
        idx = range(first, self.n_mfcc)
        return np.array(
            [f"mfcc{i}_mean" for i in idx] + [f"mfcc{i}_std" for i in idx], dtype=object
        )
