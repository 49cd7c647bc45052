"""Silence removal."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted

from .._base import WaveformTransformerMixin, collect_outputs
from ..io._lazy import LazyRecordings
from ..io._validation import all_paths, as_waveform

__all__ = ["SilenceTrimmer", "frame_rms_db"]


@validate_params(
    {
        "y": ["array-like"],
        "frame_length": [Interval(Integral, 1, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "ref": [StrOptions({"max"}), Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def frame_rms_db(y, *, frame_length=2048, hop_length=512, ref="max"):
    """RMS level of centred frames in dB, as ``librosa.feature.rms`` + ``amplitude_to_db``.

    Frames are centred (zero padding of ``frame_length // 2``), so there are
    ``1 + len(y) // hop_length`` of them. Computed from a running sum of squares:
    O(n): no overlapping frames are formed.

    Parameters
    ----------
    y : ndarray, shape (n_samples,)
        Waveform.
    frame_length, hop_length : int
        Frame size and step in samples.
    ref : "max" or float, default="max"
        Reference amplitude of 0 dB: the loudest frame, or an absolute amplitude
        (1.0 is digital full scale).

    Returns
    -------
    db : ndarray, shape (1 + n_samples // hop_length,)

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.preprocessing import frame_rms_db
    >>> frame_rms_db(np.ones(4096), ref=1.0).round(1)[:3]
    array([-3. , -1.2,  0. ])
    """
    y = np.asarray(y, dtype=np.float32)
    pad = frame_length // 2
    n_frames = 1 + len(y) // hop_length
    sq = np.pad(y * y, (pad, pad))
    if frame_length % hop_length == 0:
        # Frames are whole numbers of hops: sum the squares per hop block once,
        # then add k consecutive blocks per frame.
        k = frame_length // hop_length
        n_blocks = n_frames + k - 1
        sq = np.pad(sq, (0, max(0, n_blocks * hop_length - len(sq))))
        blocks = (
            sq[: n_blocks * hop_length].reshape(n_blocks, hop_length).sum(axis=1, dtype=np.float64)
        )
        cs = np.concatenate([[0.0], np.cumsum(blocks)])
        energy = cs[k : k + n_frames] - cs[:n_frames]
    else:
        cs = np.concatenate([[0.0], np.cumsum(sq, dtype=np.float64)])
        starts = np.arange(n_frames) * hop_length
        ends = np.minimum(starts + frame_length, len(cs) - 1)
        energy = cs[ends] - cs[starts]
    rms = np.sqrt(np.maximum(energy, 0.0) / frame_length)
    amin = 1e-5
    ref_value = rms.max() if isinstance(ref, str) else float(ref)
    return 20.0 * (np.log10(np.maximum(amin, rms)) - np.log10(max(amin, ref_value)))


class _Trim:
    """Picklable per-recording step of a lazy trimmed sequence."""

    def __init__(self, trimmer, upstream=None):
        self.trimmer = trimmer
        self.upstream = upstream

    def __call__(self, y, index):
        if self.upstream is not None:
            y = self.upstream(y, index)
        y = as_waveform(y, index, np.float32)
        return self.trimmer._trim_one(y, index)

    def __repr__(self):
        return f"trim with {self.trimmer!r}"


def _crossfade_join(y, intervals, n_fade):
    """Concatenate ``y[start:end]`` for each interval, raised-cosine crossfades between."""
    pieces = [y[s:e] for s, e in intervals]
    out = pieces[0]
    for piece in pieces[1:]:
        n = min(n_fade, len(out), len(piece))
        if n == 0:
            out = np.concatenate([out, piece])
            continue
        fade_in = 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
        mixed = out[-n:] * (1.0 - fade_in) + piece[:n] * fade_in
        out = np.concatenate([out[:-n], mixed, piece[n:]])
    return out.astype(y.dtype, copy=False)


#: Frames whose RMS level is below this (dB re full scale) are silent whatever
#: ``ref`` says: the level of one step of 16-bit audio, about -90.3 dBFS.
_ONE_STEP = 1.0 / 32768
DIGITAL_SILENCE_DB = 20.0 * np.log10(_ONE_STEP)


class SilenceTrimmer(WaveformTransformerMixin, BaseEstimator):
    """Remove silence from recordings.

    A frame is silent when its RMS level is more than ``top_db`` below the
    reference ``ref``. ``mode="edges"`` trims leading and trailing silence
    exactly as :func:`librosa.effects.trim`; ``mode="all"`` also removes inner
    pauses longer than ``min_silence`` seconds and joins the speech around them
    with a short crossfade.

    Frames below one step of 16-bit audio (about -90 dBFS) are silent whatever
    the reference, so an all-zero (digitally silent) recording is recognised as
    silent. Inner stretches of such digital silence longer than ``min_silence``
    are removed in both modes (joined with the crossfade): zeros never hold
    speech, and a long run of them (an edit, a muted line, a codec's gap) would
    otherwise fill the windows the network averages over.

    A recording in which no frame is above the threshold is returned whole,
    with a warning naming its index, so one silent file cannot break a batch.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the input in Hz.
    top_db : float, default=30
        Threshold below the reference, in dB.
    frame_length : int, default=2048
        Analysis frame in samples.
    hop_length : int, default=512
        Step between frames in samples.
    mode : {"edges", "all"}, default="edges"
        Trim the two ends (and inner digital silence) only, or remove inner
        pauses too.
    min_silence : float, default=0.25
        Inner pauses (with ``mode="all"``) and inner digital silence shorter
        than this (seconds) are kept.
    crossfade : float, default=0.01
        Length of the raised-cosine crossfade in seconds where inner silence
        is removed.
    ref : "max" or float, default="max"
        Level of 0 dB: the loudest frame of each recording (relative), or an
        absolute amplitude such as 1.0 (full scale), useful for noisy recordings
        whose peak says little about the noise floor.
    n_jobs : int, default=None
        Recordings processed in parallel.

    Attributes
    ----------
    fitted_ : bool
        True once fitted (nothing is learnt from the data).

    See Also
    --------
    librosa.effects.trim : The same edge trimming for one signal.

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.preprocessing import SilenceTrimmer
    >>> y = np.r_[np.zeros(8000), np.sin(np.arange(16000) * 0.1), np.zeros(8000)]
    >>> Xt = SilenceTrimmer().fit_transform([y])
    >>> len(y), len(Xt[0])
    (32000, 17920)
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "top_db": [Interval(Real, 0, None, closed="neither")],
        "frame_length": [Interval(Integral, 1, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "mode": [StrOptions({"edges", "all"})],
        "min_silence": [Interval(Real, 0, None, closed="left")],
        "crossfade": [Interval(Real, 0, None, closed="left")],
        "ref": [StrOptions({"max"}), Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        sr=16000,
        top_db=30,
        frame_length=2048,
        hop_length=512,
        mode="edges",
        min_silence=0.25,
        crossfade=0.01,
        ref="max",
        n_jobs=None,
    ):
        self.sr = sr
        self.top_db = top_db
        self.frame_length = frame_length
        self.hop_length = hop_length
        self.mode = mode
        self.min_silence = min_silence
        self.crossfade = crossfade
        self.ref = ref
        self.n_jobs = n_jobs

    def _check_params(self):
        self._validate_params()

    def _intervals_one(self, y):
        """Kept ``(start, end)`` sample intervals of one waveform, or None if silent."""
        level = frame_rms_db(
            y, frame_length=self.frame_length, hop_length=self.hop_length, ref=1.0
        )
        ref_db = level.max() if self.ref == "max" else 20.0 * np.log10(max(1e-5, self.ref))
        # Digital silence is silent whatever the reference: an all-zero recording
        # is its own loudest frame, and would otherwise count as loud throughout.
        digital = level <= DIGITAL_SILENCE_DB
        loud = (level - ref_db > -self.top_db) & ~digital
        idx = np.flatnonzero(loud)
        if idx.size == 0:
            return None
        n = len(y)
        if self.mode == "edges":
            # Between the ends, only digital silence goes: zeros never hold speech
            # (an edit, a muted line, a codec's gap), while pauses are left alone.
            keep = np.zeros_like(loud)
            keep[idx[0] : idx[-1] + 1] = True
            keep &= ~digital
            if keep[idx[0] : idx[-1] + 1].all():
                return np.array(
                    [[idx[0] * self.hop_length, min(n, (idx[-1] + 1) * self.hop_length)]]
                )
        else:
            keep = loud
        # Runs of kept frames, as librosa.effects.split.
        edges = np.flatnonzero(np.diff(keep.astype(np.int8))) + 1
        if keep[0]:
            edges = np.r_[0, edges]
        if keep[-1]:
            edges = np.r_[edges, len(keep)]
        runs = np.minimum(edges.reshape(-1, 2) * self.hop_length, n)
        # Close the gaps shorter than min_silence.
        gap = runs[1:, 0] - runs[:-1, 1]
        keep_gap = gap >= self.min_silence * self.sr
        starts = np.r_[runs[0, 0], runs[1:, 0][keep_gap]]
        ends = np.r_[runs[:-1, 1][keep_gap], runs[-1, 1]]
        if self.mode == "edges" and len(starts) > 1:
            # Frames place a cut up to a frame inside the zeros: at the inner
            # joins, cut at the last and first samples that are not zero.
            for k, (start, end) in enumerate(zip(starts.copy(), ends.copy())):
                nonzero = np.flatnonzero(np.abs(y[start:end]) >= _ONE_STEP)
                if nonzero.size:  # a loop over the few joins, not over frames
                    starts[k] = start + nonzero[0] if k > 0 else start
                    ends[k] = start + nonzero[-1] + 1 if k < len(ends) - 1 else end
        return np.stack([starts, ends], axis=1)

    def _trim_one(self, y, index):
        intervals = self._intervals_one(y)
        if intervals is None:
            level = frame_rms_db(
                y, frame_length=self.frame_length, hop_length=self.hop_length, ref=1.0
            )
            what = (
                "digital silence (every frame below -90 dBFS)"
                if np.all(level <= DIGITAL_SILENCE_DB)
                else f"no frame above -{self.top_db} dB"
            )
            warnings.warn(
                f"Recording {index}: {what}; returned untrimmed.", UserWarning, stacklevel=3
            )
            return y
        if len(intervals) == 1:
            s, e = intervals[0]
            return y[s:e].copy()
        return _crossfade_join(y, intervals, int(round(self.crossfade * self.sr)))

    def transform(self, X):
        """Trim each recording.

        Parameters
        ----------
        X : list of 1-D arrays, 2-D array or list of paths
            Recordings at the sample rate ``sr``.

        Returns
        -------
        Xt : list of 1-D float32 arrays, or LazyRecordings
            The speech of each recording, never empty (an ndarray when ``X`` is a
            2-D array: 2-D if the lengths agree, else 1-D of objects). When ``X``
            holds file paths only (or is a :class:`~skvoice.io.LazyRecordings`), a
            ``LazyRecordings`` that reads and trims each file when accessed: the
            next step of a Pipeline then streams the corpus one recording at a
            time instead of holding every waveform in memory.
        """
        check_is_fitted(self)
        return self._transform(X, paths_checked=False)

    def fit_transform(self, X, y=None):
        """Fit, then trim each recording (file paths are checked once, in ``fit``).

        Parameters
        ----------
        X : list of 1-D arrays, 2-D array, list of paths or LazyRecordings
            Recordings at the sample rate ``sr``.
        y : None
            Ignored.

        Returns
        -------
        Xt : list of 1-D float32 arrays, or LazyRecordings
            As :meth:`transform`.
        """
        return self.fit(X)._transform(X, paths_checked=True)

    def _transform(self, X, paths_checked):
        if isinstance(X, LazyRecordings):
            if X.sr != self.sr:
                raise ValueError(f"The recordings are read at {X.sr} Hz but sr={self.sr}.")
            return LazyRecordings._checked(X.paths, self.sr, _Trim(self, X.func))
        paths = all_paths(X)
        if paths is not None:
            if paths_checked:
                return LazyRecordings._checked(paths, self.sr, _Trim(self))
            return LazyRecordings(paths, self.sr, _Trim(self))
        waves = self._iter_checked(X)
        return collect_outputs([self._trim_one(y, i) for i, y in enumerate(waves)], X)

    def get_intervals(self, X):
        """Kept sample intervals of each recording.

        Parameters
        ----------
        X : list of 1-D arrays, 2-D array or list of paths
            Recordings.

        Returns
        -------
        intervals : list of ndarray of shape (n_intervals, 2)
            ``[start, end)`` samples kept; the whole recording when it is silent.
        """
        out = []
        for y in self._iter_checked(X):
            iv = self._intervals_one(y)
            out.append(np.array([[0, len(y)]]) if iv is None else iv)
        return out

    def durations(self, X):
        """Duration of each recording before and after trimming, in seconds.

        Parameters
        ----------
        X : list of 1-D arrays, 2-D array or list of paths
            Recordings.

        Returns
        -------
        durations : ndarray of shape (n_recordings, 2)
            Columns: before, after (the length ``transform`` gives).
        """
        rows = []
        for i, y in enumerate(self._iter_checked(X)):
            rows.append((len(y) / self.sr, len(self._trim_one(y, i)) / self.sr))
        return np.array(rows)
