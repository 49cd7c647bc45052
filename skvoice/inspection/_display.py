"""Displays of the inspection results (matplotlib, imported lazily)."""

import numpy as np

from .._plotting import Display, GridDisplay
from ._activations import frequency_importance, grad_cam, layer_activations
from ._common import frequencies_for, resolve_network, spectrograms_for
from ._drift import layer_drift, reinitialization_robustness

__all__ = [
    "FeatureMapDisplay",
    "KernelDisplay",
    "GradCAMDisplay",
    "FrequencyImportanceDisplay",
    "LayerDriftDisplay",
    "ReinitializationDisplay",
]


class FeatureMapDisplay(GridDisplay):
    """A recording's spectrogram beside chosen feature maps of chosen layers.

    Parameters
    ----------
    spectrogram : ndarray of shape (n_bins, n_frames)
        The input (first channel).
    maps : dict
        Layer name -> array ``(n_channels, n_bins', n_frames')``.
    channels : sequence of int
        Channels shown per layer.
    """

    def __init__(self, spectrogram, maps, channels=(0, 1, 2, 3)):
        self.spectrogram = spectrogram
        self.maps = maps
        self.channels = channels

    @classmethod
    def from_estimator(cls, estimator, X, index=0, layers=None, channels=(0, 1, 2, 3), ax=None):
        """Compute the maps of recording ``index`` of ``X`` and plot them.

        Parameters
        ----------
        estimator : fitted network, Pipeline ending in one, or uncertainty estimator
            The network.
        X : list
            Recordings.
        index : int, default=0
            Recording shown.
        layers : list of str, default=None
            Layers (default: the conv blocks).
        channels : sequence of int, default=(0, 1, 2, 3)
            Channels shown per layer.
        ax : matplotlib Figure or SubFigure, default=None
            Where the grid is drawn (a new figure when None).

        Returns
        -------
        display : FeatureMapDisplay
        """
        X1 = [X[index]]
        acts = layer_activations(estimator, X1, layers)
        spec = spectrograms_for(estimator, X1)[0][0].numpy()
        return cls(spec, {k: v[0] for k, v in acts.items()}, channels).plot(ax=ax)

    def _figure_size(self):
        return (2.5 * len(self.channels), 1.8 * (1 + len(self.maps)))

    def _grid(self):
        return 1 + len(self.maps), len(self.channels)

    def _draw(self, axes, fig, **kwargs):
        # A grid: the input, then one row per layer.
        for ax in axes.ravel():
            ax.set_axis_off()
        style = {"origin": "lower", "aspect": "auto", **kwargs}
        axes[0, 0].imshow(self.spectrogram, **style)
        axes[0, 0].set_title("input")
        for r, (name, maps) in enumerate(self.maps.items(), start=1):
            for c, ch in enumerate(self.channels):
                if ch < maps.shape[0]:
                    axes[r, c].imshow(maps[ch], **style)
                    axes[r, c].set_title(f"{name} ch {ch}", fontsize=8)


class KernelDisplay(GridDisplay):
    """The kernels of the first convolution, one small image each.

    Parameters
    ----------
    kernels : ndarray of shape (n_filters, n_channels, k, k)
        Weights.
    """

    def __init__(self, kernels):
        self.kernels = kernels

    @classmethod
    def from_estimator(cls, estimator, ax=None):
        """Read the first convolution's kernels.

        Parameters
        ----------
        estimator : fitted network, Pipeline ending in one, or uncertainty estimator
            The network.
        ax : matplotlib Figure or SubFigure, default=None
            Where the grid is drawn (a new figure when None).

        Returns
        -------
        display : KernelDisplay
        """
        import torch

        module = resolve_network(estimator).trunk
        conv = next(m for m in module.modules() if isinstance(m, torch.nn.Conv2d))
        return cls(conv.weight.detach().cpu().numpy()).plot(ax=ax)

    def _side(self):
        return int(np.ceil(np.sqrt(self.kernels.shape[0])))

    def _figure_size(self):
        return (self._side(), self._side())

    def _grid(self):
        return self._side(), self._side()

    def _draw(self, axes, fig, **kwargs):
        # One kernel per panel (first input channel), on a shared symmetric scale.
        lim = np.abs(self.kernels).max()
        style = {"cmap": "RdBu_r", "vmin": -lim, "vmax": lim, **kwargs}
        for i, ax in enumerate(axes.ravel()):
            ax.set_axis_off()
            if i < self.kernels.shape[0]:
                ax.imshow(self.kernels[i, 0], **style)


class GradCAMDisplay(Display):
    """Grad-CAM saliency over a recording's spectrogram.

    Parameters
    ----------
    spectrogram, saliency : ndarray of shape (n_bins, n_frames)
        Input and its saliency map.
    frequencies : ndarray of shape (n_bins,), default=None
        Bin frequencies for the axis.
    """

    def __init__(self, spectrogram, saliency, frequencies=None):
        self.spectrogram = spectrogram
        self.saliency = saliency
        self.frequencies = frequencies

    @classmethod
    def from_estimator(cls, estimator, X, index=0, layer=None, target=1, ax=None):
        """Compute the saliency of recording ``index`` and plot it.

        Parameters
        ----------
        estimator : fitted network, Pipeline ending in one, or uncertainty estimator
            The network.
        X : list
            Recordings.
        index : int, default=0
            Recording shown.
        layer : str, default=None
            Layer explained (default: the last conv block).
        target : label, default=1
            Class explained.
        ax : matplotlib Axes, default=None
            Axes to draw on.

        Returns
        -------
        display : GradCAMDisplay
        """

        X1 = [X[index]]
        sal = grad_cam(estimator, X1, layer=layer, target=target)[0]
        spec = spectrograms_for(estimator, X1)[0][0].numpy()
        return cls(spec, sal, frequencies_for(estimator, spec.shape[0])).plot(ax=ax)

    _figsize = (7, 3)

    def _draw(self, ax, **kwargs):
        # The spectrogram in grey, the saliency as a translucent overlay.
        ax.imshow(self.spectrogram, origin="lower", aspect="auto", cmap="gray")
        style = {"origin": "lower", "aspect": "auto", "cmap": "jet", "alpha": 0.4, **kwargs}
        ax.imshow(self.saliency, **style)
        ax.set(xlabel="frame", ylabel="bin")
        return "Grad-CAM"


class FrequencyImportanceDisplay(Display):
    """Importance per frequency, one line per group, on a log-frequency axis.

    Parameters
    ----------
    importance : ndarray of shape (n_groups, n_bins)
        Importance values.
    frequencies : ndarray of shape (n_bins,)
        Bin frequencies.
    groups : sequence
        Group labels.
    """

    def __init__(self, importance, frequencies, groups):
        self.importance = importance
        self.frequencies = frequencies
        self.groups = groups

    @classmethod
    def from_estimator(cls, estimator, X, groups=None, method="gradcam", target=1, ax=None):
        """Compute :func:`frequency_importance` and plot it.

        Parameters
        ----------
        estimator : fitted network, Pipeline ending in one, or uncertainty estimator
            The network.
        X : list
            Recordings.
        groups : array-like, default=None
            Group of each recording.
        method : {"gradcam", "occlusion"}, default="gradcam"
            How importance is measured.
        target : label, default=1
            Class explained.
        ax : matplotlib Axes, default=None
            Axes to draw on.

        Returns
        -------
        display : FrequencyImportanceDisplay
        """
        r = frequency_importance(estimator, X, groups=groups, method=method, target=target)
        return cls(r.importance, r.frequencies, r.groups).plot(ax=ax)

    def _draw(self, ax, **kwargs):
        for g, row in zip(self.groups, self.importance):
            ax.plot(self.frequencies, row, label=str(g), **kwargs)
        if np.all(self.frequencies > 0):
            ax.set_xscale("log")
        ax.set(xlabel="frequency (Hz)", ylabel="importance")
        ax.legend(fontsize=7, ncol=2)
        return "Importance per frequency"


class LayerDriftDisplay(Display):
    """Relative distance of each layer from its initialisation over the epochs.

    Parameters
    ----------
    drift : Bunch
        The result of :func:`layer_drift`.
    """

    def __init__(self, drift):
        self.drift = drift

    @classmethod
    def from_estimator(cls, estimator, ax=None):
        """Compute :func:`layer_drift` and plot it.

        Parameters
        ----------
        estimator : fitted network (``track_layers=True``), Pipeline or member
            The network.
        ax : matplotlib Axes, default=None
            Axes to draw on.

        Returns
        -------
        display : LayerDriftDisplay
        """
        return cls(layer_drift(estimator)).plot(ax=ax)

    def _draw(self, ax, **kwargs):
        import matplotlib.pyplot as plt

        # 20 colours, then line styles: no two layers share a colour and a style.
        colours, styles = plt.get_cmap("tab20").colors, ("-", "--", ":", "-.")
        for j, name in enumerate(self.drift.layers):
            style = {"color": colours[j % 20], "linestyle": styles[(j // 20) % 4], **kwargs}
            ax.plot(self.drift.epochs, self.drift.from_init[:, j], label=name, **style)
        ax.set(xlabel="epoch", ylabel="||θ_t − θ_0|| / ||θ_0||")
        ax.legend(fontsize=6, ncol=2)
        return "Layer drift from initialisation"


class ReinitializationDisplay(Display):
    """Heat map of the score after resetting one layer (rows) to an epoch (columns).

    Parameters
    ----------
    result : Bunch
        The result of :func:`reinitialization_robustness`.
    """

    def __init__(self, result):
        self.result = result

    @classmethod
    def from_estimator(
        cls, estimator, X, y, checkpoints=None, mode="reinit", scoring=None, ax=None, enroll=None
    ):
        """Compute :func:`reinitialization_robustness` and plot it.

        Parameters
        ----------
        estimator : fitted network (``track_layers=True``), Pipeline or member
            The network.
        X : list
            Recordings.
        y : array-like
            Labels.
        checkpoints : list of int, default=None
            Epochs restored.
        mode : {"reinit", "rerandomize"}, default="reinit"
            What a layer is reset to.
        scoring : str, default=None
            Scorer (default accuracy).
        ax : matplotlib Axes, default=None
            Axes to draw on.
        enroll : tuple (X_enroll, y_enroll, speakers_enroll), default=None
            Under cosine scoring, the recordings the allowed speakers are enrolled
            again from after every reset (see :func:`reinitialization_robustness`).

        Returns
        -------
        display : ReinitializationDisplay
        """
        r = reinitialization_robustness(
            estimator, X, y, checkpoints=checkpoints, mode=mode, scoring=scoring, enroll=enroll
        )
        return cls(r).plot(ax=ax)

    def _figure_size(self):
        r = self.result
        return (1 + 0.6 * len(r.checkpoints), 0.4 * len(r.layers) + 1)

    def _draw(self, ax, **kwargs):
        # Layers x checkpoints heat map.
        r = self.result
        im = ax.imshow(r.scores, **{"cmap": "viridis", "aspect": "auto", **kwargs})
        ax.set_yticks(range(len(r.layers)), r.layers, fontsize=7)
        ax.set_xticks(range(len(r.checkpoints)), [str(c) for c in r.checkpoints], fontsize=7)
        ax.set(xlabel="epoch restored")
        ax.figure.colorbar(im, ax=ax)
        return f"score (fitted: {r.baseline:.3f})"
