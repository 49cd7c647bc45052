"""Exploratory analysis of a corpus: tidy tables and their plots."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import HasMethods, Interval, validate_params

from ..io import check_waveforms
from ..preprocessing import F0Extractor, SilenceTrimmer, SpectrogramExtractor, frame_rms_db

__all__ = [
    "recordings_per_speaker",
    "duration_table",
    "mean_intensity_per_frequency",
    "f0_table",
]


def _frame(columns):
    """A pandas DataFrame when pandas is installed, else a dict of arrays."""
    try:
        import pandas as pd
    except ImportError:
        return {k: np.asarray(v) for k, v in columns.items()}
    return pd.DataFrame(columns)


@validate_params(
    {"groups": ["array-like"], "target": ["array-like"]}, prefer_skip_nested_validation=True
)
def recordings_per_speaker(groups, target):
    """Number of recordings of each speaker and whether the speaker is allowed.

    Parameters
    ----------
    groups : array-like of shape (n_recordings,)
        Speaker of each recording.
    target : array-like of shape (n_recordings,)
        1 allowed, 0 refused.

    Returns
    -------
    table : DataFrame (or dict of arrays without pandas)
        Columns ``speaker``, ``allowed``, ``recordings``.

    Examples
    --------
    >>> from skvoice.eda import recordings_per_speaker
    >>> t = recordings_per_speaker(["a", "a", "b"], [1, 1, 0])
    >>> t["recordings"].tolist()
    [2, 1]
    """
    groups, target = np.asarray(groups), np.asarray(target)
    names, counts = np.unique(groups, return_counts=True)
    allowed = [bool(target[groups == n].max()) for n in names]
    return _frame({"speaker": names, "allowed": allowed, "recordings": counts})


@validate_params(
    {
        "X": "no_validation",  # recordings, checked one by one when read
        "groups": ["array-like"],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "trimmer": [HasMethods(["fit", "transform"]), None],
    },
    prefer_skip_nested_validation=True,
)
def duration_table(X, groups, sr=16000, trimmer=None):
    """Duration of every recording before and after silence trimming.

    Parameters
    ----------
    X : list of 1-D arrays or paths
        Recordings.
    groups : array-like of shape (n_recordings,)
        Speaker of each recording.
    sr : int, default=16000
        Sample rate.
    trimmer : SilenceTrimmer, default=None
        The trimmer (default ``SilenceTrimmer(sr=sr)``).

    Returns
    -------
    table : DataFrame (or dict of arrays)
        Columns ``speaker``, ``before``, ``after`` (seconds).
    """
    trimmer = SilenceTrimmer(sr=sr) if trimmer is None else trimmer
    d = trimmer.fit(X).durations(X)
    return _frame({"speaker": np.asarray(groups), "before": d[:, 0], "after": d[:, 1]})


@validate_params(
    {
        "X": "no_validation",
        "groups": ["array-like"],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "voiced_only": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def mean_intensity_per_frequency(X, groups, sr=16000, n_bins=64, voiced_only=False):
    """Mean level (dB) of each log-spaced frequency band, per speaker.

    Parameters
    ----------
    X : list of 1-D arrays or paths
        Recordings.
    groups : array-like of shape (n_recordings,)
        Speaker of each recording.
    sr : int, default=16000
        Sample rate.
    n_bins : int, default=64
        Log-frequency bands (50 Hz to Nyquist).
    voiced_only : bool, default=False
        Average only the frames pYIN calls voiced.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``speakers``, ``frequencies`` (Hz) and ``intensity`` (n_speakers, n_bins).
    """
    ext = SpectrogramExtractor(sr=sr, kind="log", n_mels=n_bins, normalize=None).fit(X)
    specs = ext.transform(X)
    if voiced_only:
        f0 = F0Extractor(sr=sr, hop_length=ext.hop_length).fit(X).transform(X)
        specs = [s[:, ~np.isnan(f)] if (~np.isnan(f)).any() else s for s, f in zip(specs, f0)]
    groups = np.asarray(groups)
    names = np.unique(groups)
    per_rec = np.array([s.mean(axis=1) for s in specs])
    intensity = np.array([per_rec[groups == n].mean(axis=0) for n in names])
    return Bunch(speakers=names, frequencies=ext.frequencies_, intensity=intensity)


@validate_params(
    {
        "X": "no_validation",
        "groups": ["array-like"],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="neither")],
        "fmax": [Interval(Real, 0, None, closed="neither")],
        "top_db": [Interval(Real, 0, None, closed="neither"), None],
    },
    prefer_skip_nested_validation=True,
)
def f0_table(X, groups, sr=16000, fmin=65.0, fmax=500.0, top_db=30.0):
    """Every voiced frame's F0, in long format.

    Only frames within ``top_db`` of the recording's loudest frame count: pYIN
    calls some frames of background noise voiced, at the floor of its search
    range (60-75 Hz with the default ``fmin``), which drew a row of false low
    outliers under every speaker's F0 distribution.

    Parameters
    ----------
    X : list of 1-D arrays or paths
        Recordings.
    groups : array-like of shape (n_recordings,)
        Speaker of each recording.
    sr : int, default=16000
        Sample rate.
    fmin, fmax : float
        pYIN search range.
    top_db : float or None, default=30.0
        Frames more than this below the recording's loudest frame are left out
        (None keeps every frame pYIN calls voiced).

    Returns
    -------
    table : DataFrame (or dict of arrays)
        Columns ``speaker``, ``recording``, ``time`` (s), ``f0`` (Hz).
    """

    waves = check_waveforms(X, allow_paths=True, sr=sr)
    ext = F0Extractor(sr=sr, fmin=fmin, fmax=fmax).fit(waves)
    rows = {"speaker": [], "recording": [], "time": [], "f0": []}
    for i, (y, f0, s) in enumerate(zip(waves, ext.transform(waves), np.asarray(groups))):
        v = ~np.isnan(f0)
        if top_db is not None:
            level = frame_rms_db(
                y, frame_length=ext.frame_length, hop_length=ext.hop_length, ref="max"
            )
            n = min(len(level), len(v))
            v[:n] &= level[:n] > -top_db
        t = np.flatnonzero(v) * ext.hop_length / sr
        rows["speaker"] += [s] * int(v.sum())
        rows["recording"] += [i] * int(v.sum())
        rows["time"] += t.tolist()
        rows["f0"] += f0[v].tolist()
    return _frame(rows)
