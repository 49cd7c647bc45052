"""Spectrograms: linear, mel and log-frequency, computed with torch.stft."""

from functools import lru_cache
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._base import WaveformTransformerMixin, collect_outputs

__all__ = ["SpectrogramExtractor", "filterbank"]

_AMIN = 1e-10  # power floor before the log, as librosa.power_to_db


def _window(window, win_length, n_fft):
    from scipy.signal import get_window

    w = get_window(window, win_length, fftbins=True).astype(np.float32)
    left = (n_fft - win_length) // 2  # centre a short window in the frame, as librosa
    return np.pad(w, (left, n_fft - win_length - left))


@lru_cache(maxsize=32)
def _filterbank_cached(sr, kind, n_fft, n_bins, fmin, fmax):
    import librosa

    fft_freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    if kind == "linear":
        return None, fft_freqs
    if kind == "mel":
        fb = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_bins, fmin=fmin, fmax=fmax)
        centres = librosa.mel_frequencies(n_bins + 2, fmin=fmin, fmax=fmax)[1:-1]
        return fb.astype(np.float32), centres
    # "log": triangular filters with geometrically spaced centres, each at least
    # one FFT bin wide so that no low band is empty.
    lo = fmin if fmin > 0 else 50.0
    edges = np.geomspace(lo, fmax, n_bins + 2)
    centres = edges[1:-1]
    df = sr / n_fft
    left = np.minimum(edges[:-2], centres - df)
    right = np.maximum(edges[2:], centres + df)
    f = fft_freqs[None, :]
    rise = (f - left[:, None]) / (centres - left)[:, None]
    fall = (right[:, None] - f) / (right - centres)[:, None]
    fb = np.maximum(0.0, np.minimum(rise, fall))
    fb /= fb.sum(axis=1, keepdims=True)  # unit area: a band's value is a mean power
    return fb.astype(np.float32), centres


@lru_cache(maxsize=32)
def _torch_filters(window, win_length, n_fft, sr, kind, n_mels, fmin, fmax):
    """Window and filterbank as torch tensors, cached per parameter set."""
    import torch

    fb, _ = filterbank(sr, kind, n_fft, n_mels, fmin, fmax)
    win = torch.from_numpy(_window(window, win_length, n_fft))
    return win, None if fb is None else torch.from_numpy(fb)


@validate_params(
    {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "kind": [StrOptions({"linear", "mel", "log"})],
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither"), None],
    },
    prefer_skip_nested_validation=True,
)
def filterbank(sr=16000, kind="mel", n_fft=1024, n_bins=64, fmin=0.0, fmax=None):
    """Frequency weights of a spectrogram kind and the centre of each bin.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate in Hz.
    kind : {"linear", "mel", "log"}, default="mel"
        ``"linear"`` (STFT bins, no matrix), ``"mel"`` (librosa's Slaney mel
        filterbank) or ``"log"`` (triangular filters with log-spaced centres).
    n_fft : int, default=1024
        FFT size.
    n_bins : int, default=64
        Number of mel or log bands (ignored for ``"linear"``).
    fmin, fmax : float
        Frequency range of the bands; ``fmax=None`` means ``sr / 2``.

    Returns
    -------
    weights : ndarray of shape (n_bins, 1 + n_fft // 2) or None
        Filterbank, or None for ``"linear"``.
    frequencies : ndarray of shape (n_bins,)
        Centre frequency of each output bin in Hz.

    Examples
    --------
    >>> from skvoice.preprocessing import filterbank
    >>> weights, freqs = filterbank(kind="log", n_bins=8)
    >>> weights.shape, bool(freqs[0] < freqs[-1])
    ((8, 513), True)
    """
    fmax = sr / 2.0 if fmax is None else float(fmax)
    return _filterbank_cached(int(sr), kind, int(n_fft), int(n_bins), float(fmin), fmax)


class SpectrogramExtractor(WaveformTransformerMixin, BaseEstimator):
    """Time-frequency images of recordings: linear, mel or log-frequency.

    Values equal librosa's (``librosa.stft``, ``librosa.feature.melspectrogram``,
    ``librosa.power_to_db``) for the same parameters, computed with
    :func:`torch.stft` one recording at a time for speed.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the input in Hz.
    kind : {"mel", "linear", "log"}, default="mel"
        Frequency axis: librosa's mel filterbank, the STFT bins, or triangular
        bands with log-spaced centres (``fmin`` of 0 means 50 Hz there).
    n_fft : int, default=1024
        FFT size.
    hop_length : int, default=256
        Step between frames in samples.
    win_length : int, default=None
        Window length; ``None`` means ``n_fft``.
    window : str, default="hann"
        Window name understood by :func:`scipy.signal.get_window`.
    n_mels : int, default=64
        Number of bands for ``"mel"`` and ``"log"``.
    fmin : float, default=0.0
        Lowest band frequency in Hz.
    fmax : float, default=None
        Highest band frequency in Hz; ``None`` means ``sr / 2``.
    power : float, default=2.0
        Exponent of the magnitude (1: magnitude, 2: power).
    to_db : bool, default=True
        Convert to decibels as ``librosa.power_to_db(S, ref=1.0, top_db=top_db)``
        (``amplitude_to_db`` when ``power=1``).
    top_db : float or None, default=80.0
        Floor of the dB image below its maximum.
    normalize : {"recording", "frequency"} or None, default="recording"
        ``"recording"`` subtracts one mean and divides by one standard deviation
        per recording, which removes the recording level (devices differ by tens
        of dB) but keeps the spectral shape that carries much of a speaker's
        identity; the waveform is first scaled to unit peak, so that the dB
        floor (``top_db``, and the smallest power taken into the logarithm) is
        relative to the recording too and a recording 40 dB quieter gives the
        same image; ``"frequency"`` normalises every band separately (removes that
        shape too); ``None`` keeps the values.
    duration : float, default=None
        If set, every recording is centre-cropped or looped to this many seconds
        and the output is one 3-D array ``(n, n_bins, n_frames)``.
    dtype : {"float32", "float16"}, default="float32"
        Type of the output; float16 halves the memory of a large corpus.
    n_jobs : int, default=None
        Recordings processed in parallel.

    Attributes
    ----------
    frequencies_ : ndarray of shape (n_bins,)
        Centre frequency of each bin in Hz.
    n_bins_ : int
        Number of frequency bins.

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.preprocessing import SpectrogramExtractor
    >>> X = [np.random.default_rng(0).standard_normal(16000)]
    >>> S = SpectrogramExtractor(n_mels=40).fit_transform(X)
    >>> S[0].shape
    (40, 63)
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "kind": [StrOptions({"mel", "linear", "log"})],
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "win_length": [Interval(Integral, 1, None, closed="left"), None],
        "window": [str],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither"), None],
        "power": [Interval(Real, 0, None, closed="neither")],
        "to_db": ["boolean"],
        "top_db": [Interval(Real, 0, None, closed="neither"), None],
        "normalize": [StrOptions({"recording", "frequency"}), None],
        "duration": [Interval(Real, 0, None, closed="neither"), None],
        "dtype": [StrOptions({"float32", "float16"})],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        sr=16000,
        kind="mel",
        n_fft=1024,
        hop_length=256,
        win_length=None,
        window="hann",
        n_mels=64,
        fmin=0.0,
        fmax=None,
        power=2.0,
        to_db=True,
        top_db=80.0,
        normalize="recording",
        duration=None,
        dtype="float32",
        n_jobs=None,
    ):
        self.sr = sr
        self.kind = kind
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.power = power
        self.to_db = to_db
        self.top_db = top_db
        self.normalize = normalize
        self.duration = duration
        self.dtype = dtype
        self.n_jobs = n_jobs

    def _check_params(self):
        self._validate_params()
        nyquist = self.sr / 2.0
        if self.fmax is not None and self.fmax > nyquist:
            raise ValueError(f"fmax={self.fmax} exceeds the Nyquist frequency {nyquist}.")
        fmax = nyquist if self.fmax is None else self.fmax
        if self.fmin >= fmax:
            raise ValueError(f"fmin={self.fmin} must be below fmax={fmax}.")
        if self.win_length is not None and self.win_length > self.n_fft:
            raise ValueError(f"win_length={self.win_length} exceeds n_fft={self.n_fft}.")

    def _fit(self):
        fb, self.frequencies_ = filterbank(
            self.sr, self.kind, self.n_fft, self.n_mels, self.fmin, self.fmax
        )
        self.n_bins_ = len(self.frequencies_)

    def _fix_length(self, y):
        n = int(round(self.duration * self.sr))
        if len(y) >= n:
            start = (len(y) - n) // 2
            return y[start : start + n]
        return np.resize(y, n)  # loops the recording

    def spectrogram_one(self, y):
        """Spectrogram of one waveform (no validation), shape ``(n_bins, n_frames)``."""
        import torch

        if self.duration is not None:
            y = self._fix_length(y)
        window, fb = _torch_filters(
            self.window,
            self.win_length or self.n_fft,
            self.n_fft,
            self.sr,
            self.kind,
            self.n_mels,
            self.fmin,
            self.fmax,
        )
        x = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))
        if self.normalize == "recording":
            # The output is level-free anyway; scaling first makes the absolute
            # log floor (amin) relative to the recording, so a quiet device's
            # clean recording is not floored where a loud one is not.
            peak = x.abs().max()
            if peak > 0:
                x = x / peak
        # librosa pads with zeros (pad_mode="constant"); torch.stft only reflects,
        # so pad here and call it with center=False.
        pad = self.n_fft // 2
        x = torch.nn.functional.pad(x[None, None], (pad, pad))[0, 0]
        if x.shape[0] < self.n_fft:
            x = torch.nn.functional.pad(x, (0, self.n_fft - x.shape[0]))
        spec = torch.stft(
            x, self.n_fft, self.hop_length, window=window, center=False, return_complex=True
        )
        ri = torch.view_as_real(spec)
        S = ri[..., 0] ** 2 + ri[..., 1] ** 2
        if self.power != 2.0:
            S = S ** (self.power / 2.0)
        if fb is not None:
            S = fb @ S
        if self.to_db:
            amin = _AMIN ** (self.power / 2.0)
            S = (20.0 / self.power) * torch.log10(torch.clamp(S, min=amin))
            if self.top_db is not None:
                S = torch.maximum(S, S.max() - self.top_db)
        if self.normalize == "recording":
            S = (S - S.mean()) / (S.std(correction=0) + 1e-5)
        elif self.normalize == "frequency":
            S = (S - S.mean(dim=1, keepdim=True)) / (
                S.std(dim=1, keepdim=True, correction=0) + 1e-5
            )
        return S.numpy().astype(self.dtype, copy=False)

    def transform(self, X):
        """Compute the spectrogram of each recording.

        Parameters
        ----------
        X : list of 1-D arrays, 2-D array or list of paths
            Recordings at the sample rate ``sr``.

        Returns
        -------
        Xt : list of ndarray of shape (n_bins, n_frames_i), or ndarray
            One image per recording, with ``1 + n_samples // hop_length`` frames
            (frames centred); a 3-D array when ``duration`` is set.
        """
        out = self._map(X, self.spectrogram_one)
        return np.stack(out) if self.duration is not None else collect_outputs(out, X)

    def frame_times(self, n_frames):
        """Time in seconds of the centre of each frame.

        Parameters
        ----------
        n_frames : int
            Number of frames.

        Returns
        -------
        times : ndarray of shape (n_frames,)
        """
        return np.arange(n_frames) * self.hop_length / self.sr
