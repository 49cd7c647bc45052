"""Fundamental frequency: contours, per-recording statistics, harmonic images."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import WaveformTransformerMixin, collect_outputs
from ._pyin import pyin, yin
from ._spectrogram import filterbank

__all__ = ["F0Extractor"]

_STAT_NAMES = (
    "f0_median_st",
    "f0_mean_st",
    "f0_std_st",
    "f0_p05_st",
    "f0_p25_st",
    "f0_p75_st",
    "f0_p95_st",
    "voiced_fraction",
    "jitter",
)
_ST_REF = 55.0  # semitones are counted from A1 = 55 Hz


def _f0_stats(f0):
    voiced = f0[~np.isnan(f0)]
    out = np.zeros(len(_STAT_NAMES))
    out[7] = voiced.size / max(f0.size, 1)
    if voiced.size == 0:
        return out  # no pitch: F0 features 0, voiced fraction 0 (documented)
    st = 12.0 * np.log2(voiced / _ST_REF)
    out[:7] = [np.median(st), st.mean(), st.std(), *np.percentile(st, [5, 25, 75, 95])]
    # Frame-level jitter: mean relative change of the period between consecutive
    # voiced frames (a proxy: true jitter is per glottal cycle).
    period = 1.0 / f0
    both = ~np.isnan(period[1:]) & ~np.isnan(period[:-1])
    if both.any():
        out[8] = np.mean(np.abs(np.diff(period)[both]) / period[:-1][both])
    return out


class F0Extractor(WaveformTransformerMixin, BaseEstimator):
    """Fundamental frequency (pitch) of recordings, by pYIN or YIN.

    Our own vectorised pYIN (Mauch & Dixon 2014) with an exact sparse, banded
    Viterbi decoding: the same frames and values as ``librosa.pyin`` with the
    same parameters, many times faster.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the input in Hz.
    fmin, fmax : float, default=65.0, 500.0
        Pitch search range in Hz (speech: about 65-500 Hz).
    frame_length : int, default=1024
        Analysis frame in samples; must hold more than one period of ``fmin``.
    hop_length : int, default=256
        Step between frames (frames centred, ``1 + n // hop_length`` of them).
    method : {"pyin", "yin"}, default="pyin"
        pYIN (probabilistic, with voicing) or plain YIN (every frame voiced).
    output : {"contour", "stats", "harmonics"}, default="contour"
        ``"contour"``: one 1-D float32 F0 track per recording (Hz, NaN where
        unvoiced). ``"stats"``: a 2-D array of pitch features per recording
        (median, mean, spread and percentiles of F0 in semitones re 55 Hz,
        voiced fraction, frame jitter; 0 when nothing is voiced). ``"harmonics"``:
        per recording a ``(n_bins, n_frames)`` image on the grid of a
        :class:`SpectrogramExtractor` with the same ``sr``, ``n_fft``,
        ``hop_length``, ``kind`` and ``n_mels``, with lines at F0 and its
        harmonics, for use as a second channel through :class:`ChannelUnion`.
    kind : {"mel", "linear", "log"}, default="mel"
        Frequency grid of the harmonic image.
    n_fft : int, default=1024
        FFT size of the harmonic image's grid.
    n_mels : int, default=64
        Bands of the harmonic image for ``"mel"`` and ``"log"``.
    n_harmonics : int, default=10
        Harmonics drawn in the image (those below Nyquist).
    n_jobs : int, default=None
        Recordings processed in parallel.

    Attributes
    ----------
    frequencies_ : ndarray
        With ``output="harmonics"``: centre frequency of each image bin.

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.preprocessing import F0Extractor
    >>> t = np.arange(16000) / 16000
    >>> tone = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6))
    >>> f0 = F0Extractor().fit_transform([tone])[0]
    >>> round(float(np.nanmedian(f0)))
    150
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="neither")],
        "fmax": [Interval(Real, 0, None, closed="neither")],
        "frame_length": [Interval(Integral, 4, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"pyin", "yin"})],
        "output": [StrOptions({"contour", "stats", "harmonics"})],
        "kind": [StrOptions({"mel", "linear", "log"})],
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "n_harmonics": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        sr=16000,
        fmin=65.0,
        fmax=500.0,
        frame_length=1024,
        hop_length=256,
        method="pyin",
        output="contour",
        kind="mel",
        n_fft=1024,
        n_mels=64,
        n_harmonics=10,
        n_jobs=None,
    ):
        self.sr = sr
        self.fmin = fmin
        self.fmax = fmax
        self.frame_length = frame_length
        self.hop_length = hop_length
        self.method = method
        self.output = output
        self.kind = kind
        self.n_fft = n_fft
        self.n_mels = n_mels
        self.n_harmonics = n_harmonics
        self.n_jobs = n_jobs

    def _check_params(self):
        self._validate_params()
        if not self.fmin < self.fmax <= self.sr / 2:
            raise ValueError(
                f"Need fmin < fmax <= sr / 2; got fmin={self.fmin}, fmax={self.fmax}, "
                f"Nyquist frequency {self.sr / 2}."
            )
        if int(np.ceil(self.sr / self.fmin)) + 1 >= self.frame_length:
            raise ValueError(
                f"frame_length={self.frame_length} must exceed one period of fmin="
                f"{self.fmin} Hz ({int(np.ceil(self.sr / self.fmin)) + 1} samples)."
            )

    def _fit(self):
        if self.output == "harmonics":
            _, self.frequencies_ = filterbank(self.sr, self.kind, self.n_fft, self.n_mels)

    def _track(self, y):
        kw = dict(
            sr=self.sr,
            fmin=self.fmin,
            fmax=self.fmax,
            frame_length=self.frame_length,
            hop_length=self.hop_length,
        )
        if self.method == "yin":
            return yin(y, **kw), np.ones(1 + len(y) // self.hop_length)
        f0, _, prob = pyin(y, **kw)
        return f0, prob

    def _contour_one(self, y):
        return self._track(y)[0].astype(np.float32)

    def _harmonics_one(self, y):
        f0 = self._track(y)[0]
        fb, _ = filterbank(self.sr, self.kind, self.n_fft, self.n_mels)
        n_lin = 1 + self.n_fft // 2
        k = np.arange(1, self.n_harmonics + 1)
        freq = np.nan_to_num(f0)[None, :] * k[:, None]  # (n_harmonics, n_frames)
        pos = freq * self.n_fft / self.sr  # fractional FFT bin of each harmonic
        valid = (freq > 0) & (pos < n_lin - 1)
        lo = np.floor(pos).astype(int)
        frac = pos - lo
        cols = np.broadcast_to(np.arange(f0.size), pos.shape)
        # Each harmonic split linearly between its two nearest FFT bins.
        lines = np.zeros((n_lin, f0.size))
        np.add.at(lines, (lo[valid], cols[valid]), 1.0 - frac[valid])
        np.add.at(lines, (lo[valid] + 1, cols[valid]), frac[valid])
        img = lines if fb is None else fb @ lines
        peak = img.max(axis=0, keepdims=True)
        return (img / np.where(peak > 0, peak, 1.0)).astype(np.float32)

    def transform(self, X):
        """Estimate F0 of each recording, in the form chosen by ``output``.

        Parameters
        ----------
        X : list of 1-D arrays, 2-D array or list of paths
            Recordings at the sample rate ``sr``.

        Returns
        -------
        Xt : list of ndarray or ndarray
            See ``output``.
        """
        if self.output == "stats":
            tracks = self._map(X, lambda y: self._track(y)[0])
            return np.array([_f0_stats(f) for f in tracks])
        one = self._harmonics_one if self.output == "harmonics" else self._contour_one
        return collect_outputs(self._map(X, one), X)

    def voiced_probabilities(self, X):
        """Probability that each frame is voiced (pYIN), one array per recording.

        Parameters
        ----------
        X : list of 1-D arrays, 2-D array or list of paths
            Recordings.

        Returns
        -------
        probs : list of ndarray of shape (n_frames_i,)
        """
        return self._map(X, lambda y: self._track(y)[1].astype(np.float32))

    def get_feature_names_out(self, input_features=None):
        """Names of the ``output="stats"`` columns.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self)
        if self.output != "stats":
            raise AttributeError("Feature names exist only for output='stats'.")
        return np.array(_STAT_NAMES, dtype=object)
