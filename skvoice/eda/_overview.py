"""The corpus overview figure: the eda Displays side by side.

Apart from the tables (``_corpus``) and the Displays (``_display``), so that the
Displays depend on the tables and nothing depends back.
"""

from numbers import Integral

from sklearn.utils._param_validation import Interval, validate_params

from ..preprocessing import SpectrogramExtractor
from ._display import (
    DurationDisplay,
    F0DistributionDisplay,
    F0TrackDisplay,
    IntensityDisplay,
    SpeakerCountDisplay,
)

__all__ = ["plot_corpus"]


@validate_params(
    {
        "X": "no_validation",
        "groups": ["array-like"],
        "target": ["array-like"],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "examples": [Interval(Integral, 0, None, closed="left"), None],
        "fig": "no_validation",  # a matplotlib Figure (imported lazily)
    },
    prefer_skip_nested_validation=True,
)
def plot_corpus(X, groups, target, sr=16000, examples=None, fig=None):
    """The report's corpus overview in one figure, drawn with the eda Displays.

    Panels: recordings per speaker (allowed in colour), duration before and after
    trimming, mean intensity per frequency (log axis), F0 distribution per speaker,
    the F0 track over the spectrogram of an example recording, and its mel
    spectrogram as the CNN sees it.

    Parameters
    ----------
    X : list of 1-D arrays or paths
        Recordings.
    groups, target : array-like of shape (n_recordings,)
        Speaker and class of each recording.
    sr : int, default=16000
        Sample rate.
    examples : int, default=None
        Index of the recording shown with its F0 (default the first).
    fig : matplotlib Figure, default=None
        Figure to draw in.

    Returns
    -------
    fig : matplotlib Figure
    """
    import matplotlib.pyplot as plt

    fig = fig or plt.figure(figsize=(13, 8), layout="constrained")
    top, bottom = fig.subfigures(2, 1)
    axes = top.subplots(1, 3)
    SpeakerCountDisplay.from_labels(groups, target, ax=axes[0])
    DurationDisplay.from_recordings(X, groups, target, sr, ax=axes[1])
    IntensityDisplay.from_recordings(X, groups, target, sr, ax=axes[2])
    left, middle, right = bottom.subfigures(1, 3)
    F0DistributionDisplay.from_recordings(X, groups, target, sr, ax=left.subplots())
    i = 0 if examples is None else int(examples)
    F0TrackDisplay.from_recordings(X, [i], sr, ax=middle)
    mel = SpectrogramExtractor(sr=sr).fit([X[i]]).transform([X[i]])[0]
    ax = right.subplots()
    ax.imshow(mel, origin="lower", aspect="auto")
    ax.set(title="Mel spectrogram (normalised)", xlabel="frame", ylabel="mel band")
    return fig
