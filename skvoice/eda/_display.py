"""Displays of the corpus analysis (matplotlib, imported lazily).

Each Display follows scikit-learn's pattern (see ``skvoice._plotting``): the
constructor takes computed data, ``from_recordings`` (or ``from_labels``)
computes it, ``plot(*, ax=None, name=None, **kwargs)`` draws it and stores
``figure_`` and ``ax_`` (or ``axes_``).
"""

import numpy as np

from .._plotting import Display, GridDisplay
from ..preprocessing import F0Extractor, SpectrogramExtractor
from ._corpus import duration_table, f0_table, mean_intensity_per_frequency, recordings_per_speaker

__all__ = [
    "SpeakerCountDisplay",
    "DurationDisplay",
    "IntensityDisplay",
    "F0TrackDisplay",
    "F0DistributionDisplay",
    "ClassSpectrogramDisplay",
]

ALLOWED_COLOUR, REFUSED_COLOUR = "tab:green", "tab:gray"


def _column(table, name):
    return np.asarray(table[name])


def _readable_speaker_ticks(ax):
    """Speaker names on the x-axis that do not overlap: upright, smaller, thinned.

    The names are turned upright and, past 30 speakers, only every k-th is
    written (the bars or boxes keep their place).
    """
    labels = ax.get_xticklabels()
    n = len(labels)
    step = max(1, int(np.ceil(n / 30)))
    for k, label in enumerate(labels):
        label.set_rotation(90)
        label.set_fontsize(8 if n <= 15 else 6)
        label.set_visible(k % step == 0)


def _speaker_order(groups, allowed_speakers):
    """Allowed speakers first, then refused ones, each sorted."""
    names = np.unique(groups)
    allowed = np.isin(names, list(allowed_speakers))
    order = np.concatenate([names[allowed], names[~allowed]])
    return order, np.isin(order, list(allowed_speakers))


def _allowed_speakers(groups, target):
    groups, target = np.asarray(groups), np.asarray(target)
    return set(np.unique(groups[target == 1]))


class SpeakerCountDisplay(Display):
    """Recordings per speaker as bars, allowed speakers in colour.

    Parameters
    ----------
    table : DataFrame or dict of arrays
        Output of :func:`~skvoice.eda.recordings_per_speaker`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skvoice.eda import SpeakerCountDisplay
    >>> disp = SpeakerCountDisplay.from_labels(["a", "a", "b"], [1, 1, 0])
    >>> [int(p.get_height()) for p in disp.ax_.patches]
    [2, 1]
    """

    def __init__(self, table):
        self.table = table

    @classmethod
    def from_labels(cls, groups, target, ax=None):
        """Count the recordings and plot them.

        Parameters
        ----------
        groups, target : array-like of shape (n_recordings,)
            Speaker and class (1 allowed, 0 refused) of each recording.
        ax : matplotlib Axes, default=None
            Axes to draw on.

        Returns
        -------
        display : SpeakerCountDisplay
        """
        return cls(recordings_per_speaker(groups, target)).plot(ax=ax)

    _figsize = (6, 3)

    def _draw(self, ax, **kwargs):
        allowed = _column(self.table, "allowed").astype(bool)
        # Allowed speakers first, as in every other panel of the corpus figure.
        order = np.argsort(~allowed, kind="stable")
        colours = np.where(allowed, ALLOWED_COLOUR, REFUSED_COLOUR)[order]
        names = [str(s) for s in np.asarray(_column(self.table, "speaker"))[order]]
        counts = np.asarray(_column(self.table, "recordings"))[order]
        ax.bar(names, counts, **{"color": colours, **kwargs})
        ax.set(ylabel="recordings")
        _readable_speaker_ticks(ax)
        return "Recordings per speaker (green: allowed)"


class _SpeakerDisplay(Display):
    """Data per speaker, with the allowed speakers set apart."""

    def __init__(self, table, allowed_speakers=()):
        self.table = table
        self.allowed_speakers = allowed_speakers


class DurationDisplay(_SpeakerDisplay):
    """Duration per speaker before and after silence trimming, boxes side by side.

    Parameters
    ----------
    table : DataFrame or dict of arrays
        Output of :func:`~skvoice.eda.duration_table`.
    allowed_speakers : set, default=()
        Speakers whose label is drawn in the allowed colour.
    """

    @classmethod
    def from_recordings(cls, X, groups, target=None, sr=16000, trimmer=None, ax=None):
        """Measure the durations and plot them.

        Parameters
        ----------
        X : list of 1-D arrays or paths
            Recordings.
        groups : array-like of shape (n_recordings,)
            Speaker of each recording.
        target : array-like of shape (n_recordings,), default=None
            Class of each recording, to colour the allowed speakers.
        sr : int, default=16000
            Sample rate.
        trimmer : SilenceTrimmer, default=None
            The trimmer (default ``SilenceTrimmer(sr=sr)``).
        ax : matplotlib Axes, default=None
            Axes to draw on.

        Returns
        -------
        display : DurationDisplay
        """
        allowed = () if target is None else _allowed_speakers(groups, target)
        return cls(duration_table(X, groups, sr, trimmer), allowed).plot(ax=ax)

    _figsize = (7, 3)

    def _draw(self, ax, **kwargs):
        # Grey boxes (before trimming) and blue boxes (after) per speaker.
        groups = _column(self.table, "speaker")
        names, allowed = _speaker_order(groups, self.allowed_speakers)
        pos = np.arange(len(names))
        for shift, col, colour in ((-0.2, "before", "#bbbbbb"), (0.2, "after", "#4c72b0")):
            values = _column(self.table, col)
            ax.boxplot(
                [values[groups == n] for n in names],
                positions=pos + shift,
                **{
                    "widths": 0.35,
                    "patch_artist": True,
                    "boxprops": {"facecolor": colour},
                    "medianprops": {"color": "k"},
                    **kwargs,
                },
            )
        ax.set_xticks(pos, [str(n) for n in names])
        _readable_speaker_ticks(ax)
        for label, ok in zip(ax.get_xticklabels(), allowed):
            label.set_color(ALLOWED_COLOUR if ok else "k")
        ax.set(ylabel="s")
        return "Duration before (grey) and after (blue) trimming"


class IntensityDisplay(Display):
    """Mean level per frequency band, one line per speaker, log-frequency axis.

    Parameters
    ----------
    result : Bunch
        Output of :func:`~skvoice.eda.mean_intensity_per_frequency`.
    allowed_speakers : set, default=()
        Speakers drawn with solid lines; the others are dashed.
    """

    def __init__(self, result, allowed_speakers=()):
        self.result = result
        self.allowed_speakers = allowed_speakers

    @classmethod
    def from_recordings(
        cls, X, groups, target=None, sr=16000, n_bins=64, voiced_only=False, ax=None
    ):
        """Average the log-frequency spectrum per speaker and plot it.

        Parameters
        ----------
        X : list of 1-D arrays or paths
            Recordings.
        groups : array-like of shape (n_recordings,)
            Speaker of each recording.
        target : array-like of shape (n_recordings,), default=None
            Class of each recording (allowed speakers get solid lines).
        sr : int, default=16000
            Sample rate.
        n_bins : int, default=64
            Log-frequency bands.
        voiced_only : bool, default=False
            Average only the frames pYIN calls voiced.
        ax : matplotlib Axes, default=None
            Axes to draw on.

        Returns
        -------
        display : IntensityDisplay
        """
        allowed = () if target is None else _allowed_speakers(groups, target)
        res = mean_intensity_per_frequency(X, groups, sr, n_bins, voiced_only)
        return cls(res, allowed).plot(ax=ax)

    _figsize = (6, 3.5)

    def _draw(self, ax, **kwargs):
        # One curve per speaker: solid for the allowed ones, dashed for the others.
        r = self.result
        self.lines_ = []
        for name, row in zip(r.speakers, r.intensity):
            style = "-" if name in self.allowed_speakers else "--"
            (line,) = ax.plot(r.frequencies, row, style, label=str(name), **kwargs)
            self.lines_.append(line)
        ax.set(xscale="log", xlabel="Hz", ylabel="dB")
        # Outside the data; past 12 speakers one entry per line style, not per speaker.
        if len(self.lines_) <= 12:
            ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        else:
            from matplotlib.lines import Line2D

            styles = [Line2D([], [], color="k", ls="-"), Line2D([], [], color="k", ls="--")]
            ax.legend(
                styles,
                ["allowed", "refused"],
                fontsize=7,
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
            )
        return "Mean intensity per band"


class F0TrackDisplay(GridDisplay):
    """The pYIN F0 track over the log-frequency spectrogram of chosen recordings.

    Parameters
    ----------
    spectrograms : list of ndarray of shape (n_bins, n_frames)
        Log-frequency spectrograms (dB).
    tracks : list of ndarray of shape (n_frames,)
        F0 in Hz, NaN where unvoiced.
    frequencies : ndarray of shape (n_bins,)
        Band centres in Hz.
    hop_seconds : float
        Time between frames.
    labels : list of str, default=None
        Panel titles.
    """

    def __init__(self, spectrograms, tracks, frequencies, hop_seconds, labels=None):
        self.spectrograms = spectrograms
        self.tracks = tracks
        self.frequencies = frequencies
        self.hop_seconds = hop_seconds
        self.labels = labels

    @classmethod
    def from_recordings(cls, X, indices=(0,), sr=16000, fmin=65.0, fmax=500.0, ax=None):
        """Compute the spectrograms and F0 tracks of ``X[indices]`` and plot them.

        Parameters
        ----------
        X : list of 1-D arrays or paths
            Recordings.
        indices : sequence of int, default=(0,)
            Recordings shown, one panel each.
        sr : int, default=16000
            Sample rate.
        fmin, fmax : float, default=65.0, 500.0
            pYIN search range.
        ax : matplotlib Figure or SubFigure, default=None
            Where the panels are drawn (a new figure when None).

        Returns
        -------
        display : F0TrackDisplay
        """
        chosen = [X[i] for i in indices]
        f0 = F0Extractor(sr=sr, fmin=fmin, fmax=fmax).fit(chosen)
        ext = SpectrogramExtractor(
            sr=sr, kind="log", fmin=50.0, normalize=None, hop_length=f0.hop_length
        ).fit(chosen)
        specs = ext.transform(chosen)
        tracks = f0.transform(chosen)
        labels = [f"recording {i}" for i in indices]
        return cls(specs, tracks, ext.frequencies_, f0.hop_length / sr, labels).plot(ax=ax)

    def _figure_size(self):
        return (7, 2.6 * len(self.spectrograms))

    def _grid(self):
        return len(self.spectrograms), 1

    def _draw(self, axes, fig, **kwargs):
        # One panel per recording: the spectrogram with the F0 track in white.
        labels = self.labels or [""] * len(self.spectrograms)
        for ax, S, f0, label in zip(axes[:, 0], self.spectrograms, self.tracks, labels):
            # The F0 extractor and spectrogram share their hop; lengths may differ by a frame.
            m = min(S.shape[1], len(f0))
            t = np.arange(S.shape[1]) * self.hop_seconds
            ax.pcolormesh(t, self.frequencies, S, **{"shading": "auto", **kwargs})
            ax.plot(t[:m], f0[:m], color="w", lw=2)
            ax.set(yscale="log", xlabel="s", ylabel="Hz", title=f"F0 over spectrogram, {label}")


class F0DistributionDisplay(_SpeakerDisplay):
    """Distribution of voiced-frame F0 per speaker (box plots, log axis).

    Parameters
    ----------
    table : DataFrame or dict of arrays
        Output of :func:`~skvoice.eda.f0_table`.
    allowed_speakers : set, default=()
        Speakers whose boxes are drawn in the allowed colour.
    """

    @classmethod
    def from_recordings(cls, X, groups, target=None, sr=16000, fmin=65.0, fmax=500.0, ax=None):
        """Track F0 in every recording and plot its distribution per speaker.

        Parameters
        ----------
        X : list of 1-D arrays or paths
            Recordings.
        groups : array-like of shape (n_recordings,)
            Speaker of each recording.
        target : array-like of shape (n_recordings,), default=None
            Class of each recording, to colour the allowed speakers.
        sr : int, default=16000
            Sample rate.
        fmin, fmax : float, default=65.0, 500.0
            pYIN search range.
        ax : matplotlib Axes, default=None
            Axes to draw on.

        Returns
        -------
        display : F0DistributionDisplay
        """
        allowed = () if target is None else _allowed_speakers(groups, target)
        return cls(f0_table(X, groups, sr, fmin, fmax), allowed).plot(ax=ax)

    _figsize = (6, 3)

    def _draw(self, ax, **kwargs):
        groups, f0 = _column(self.table, "speaker"), _column(self.table, "f0")
        names, allowed = _speaker_order(groups, self.allowed_speakers)
        data = [f0[groups == n] for n in names]
        boxes = ax.boxplot(data, **{"patch_artist": True, "medianprops": {"color": "k"}, **kwargs})
        for box, ok in zip(boxes["boxes"], allowed):
            box.set_facecolor(ALLOWED_COLOUR if ok else REFUSED_COLOUR)
        ax.set_xticks(np.arange(1, len(names) + 1), [str(n) for n in names])
        _readable_speaker_ticks(ax)
        ax.set(yscale="log", ylabel="Hz")
        return "F0 per speaker (green: allowed)"


class ClassSpectrogramDisplay(GridDisplay):
    """Example mel and linear spectrograms of each class, side by side.

    Parameters
    ----------
    spectrograms : dict
        ``{class label: {"mel": [S, ...], "linear": [S, ...]}}``, dB spectrograms.
    frequencies : dict
        ``{"mel": Hz, "linear": Hz}`` band centres.
    hop_seconds : float
        Time between frames.
    class_names : dict, default=None
        Title per class label (default ``{1: "allowed", 0: "refused"}``).
    """

    def __init__(self, spectrograms, frequencies, hop_seconds, class_names=None, speakers=None):
        self.spectrograms = spectrograms
        self.frequencies = frequencies
        self.hop_seconds = hop_seconds
        self.class_names = class_names
        self.speakers = speakers

    @classmethod
    def from_recordings(
        cls, X, target, sr=16000, n_examples=1, random_state=None, ax=None, groups=None
    ):
        """Pick ``n_examples`` recordings of each class and plot both spectrograms.

        Parameters
        ----------
        X : list of 1-D arrays or paths
            Recordings.
        target : array-like of shape (n_recordings,)
            Class of each recording.
        sr : int, default=16000
            Sample rate.
        n_examples : int, default=1
            Recordings per class.
        random_state : int, RandomState instance or None, default=None
            Draws the examples; None takes the first of each class.
        ax : matplotlib Figure or SubFigure, default=None
            Where the panels are drawn (a new figure when None).
        groups : array-like of shape (n_recordings,), default=None
            Speaker of each recording, named in each example's title.

        Returns
        -------
        display : ClassSpectrogramDisplay
        """
        from sklearn.utils import check_random_state

        target = np.asarray(target)
        common = {"sr": sr, "normalize": None, "fmax": min(8000.0, sr / 2)}
        extractors = {
            "mel": SpectrogramExtractor(kind="mel", **common),
            "linear": SpectrogramExtractor(kind="linear", **common),
        }
        specs, freqs, names = {}, {}, {}
        rng = None if random_state is None else check_random_state(random_state)
        for label in np.unique(target):
            idx = np.flatnonzero(target == label)
            if rng is None:
                idx = idx[:n_examples]
            else:
                idx = rng.choice(idx, size=min(n_examples, len(idx)), replace=False)
            chosen = [X[i] for i in idx]
            if groups is not None:
                names[label.item()] = [str(np.asarray(groups)[i]) for i in idx]
            specs[label.item()] = {}
            for kind, ext in extractors.items():
                ext.fit(chosen)
                specs[label.item()][kind] = ext.transform(chosen)
                freqs[kind] = ext.frequencies_
        hop = extractors["mel"].hop_length / sr
        return cls(specs, freqs, hop, speakers=names or None).plot(ax=ax)

    def _rows(self):
        return [
            (label, k, by_kind)
            for label, by_kind in self.spectrograms.items()
            for k in range(len(by_kind["mel"]))
        ]

    def _figure_size(self):
        return (10, 2.4 * len(self._rows()))

    def _grid(self):
        return len(self._rows()), 2

    def _draw(self, axes, fig, **kwargs):
        # One row per class and example; mel on the left, linear on the right.
        names = self.class_names or {1: "allowed", 0: "refused"}
        for r, (label, k, by_kind) in enumerate(self._rows()):
            for c, kind in enumerate(("mel", "linear")):
                S = by_kind[kind][k]
                t = np.arange(S.shape[1]) * self.hop_seconds
                mesh = axes[r, c].pcolormesh(
                    t, self.frequencies[kind], S, **{"shading": "auto", **kwargs}
                )
                fig.colorbar(mesh, ax=axes[r, c], label="dB")
                who = ""
                if self.speakers and label in self.speakers:
                    who = f" ({self.speakers[label][k]})"
                title = f"{names.get(label, label)}{who}: {kind} spectrogram"
                axes[r, c].set(xlabel="s", ylabel="Hz", title=title)
