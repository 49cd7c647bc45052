"""Feature maps, Grad-CAM and frequency importance."""

from numbers import Integral

import numpy as np
import torch
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._common import (
    device_of,
    frequencies_for,
    preserved_state,
    resolve_network,
    spectrograms_for,
    target_index,
)

__all__ = ["layer_activations", "grad_cam", "frequency_importance"]


def _default_layers(module):
    return [f"blocks.{name}" for name, _ in module.blocks.named_children()]


def _named(module, names):
    found = dict(module.named_modules())
    missing = [n for n in names if n not in found]
    if missing:
        raise ValueError(f"Unknown layer(s) {missing}; layers are {sorted(found)[1:]}.")
    return [found[n] for n in names]


@validate_params(
    {"estimator": "no_validation", "X": ["array-like"], "layers": [list, None]},
    prefer_skip_nested_validation=True,
)
def layer_activations(estimator, X, layers=None):
    """Feature maps of chosen layers for whole recordings.

    The convolutions run over each recording's full spectrogram (they do not care
    about its length), so the maps line up with the input in time.

    Parameters
    ----------
    estimator : fitted CNNClassifier, Pipeline ending in one, or uncertainty estimator
        The network to look into.
    X : list
        Recordings (the pipeline's input when ``estimator`` is a Pipeline).
    layers : list of str, default=None
        Module names (``"blocks.block0"``, ``"blocks.block0.conv"``, ...); default the
        conv blocks.

    Returns
    -------
    activations : dict
        Layer name -> list of arrays ``(n_channels, n_bins', n_frames')``, one per
        recording.
    """
    net = resolve_network(estimator)
    specs = spectrograms_for(estimator, X)
    module = net.trunk
    layers = _default_layers(module) if layers is None else list(layers)
    out = {name: [] for name in layers}
    handles = []
    for name, mod in zip(layers, _named(module, layers)):
        handles.append(
            mod.register_forward_hook(
                lambda m, i, o, name=name: out[name].append(o.detach()[0].cpu().numpy())
            )
        )
    try:
        with preserved_state(module), torch.inference_mode():
            module.eval()
            for s in specs:
                module(s[None].to(device_of(module)))
    finally:
        for h in handles:
            h.remove()
    return out


@validate_params(
    {
        "estimator": "no_validation",
        "X": ["array-like"],
        "layer": [str, None],
        "target": "no_validation",
        "method": [StrOptions({"gradcam", "layercam"})],
    },
    prefer_skip_nested_validation=True,
)
def grad_cam(estimator, X, layer=None, target=1, method="gradcam"):
    """Grad-CAM saliency of each recording, aligned with its spectrogram.

    The gradient of the target's log-odds, as the model scores (the calibrated
    cosine to the enrolled speakers under cosine scoring, else the posterior),
    with respect to a layer's feature maps, averaged over time and frequency,
    weighs the maps; their positive sum,
    interpolated back to the input grid, is the saliency (Selvaraju et al. 2017).

    Parameters
    ----------
    estimator : fitted CNNClassifier, Pipeline ending in one, or uncertainty estimator
        The network.
    X : list
        Recordings.
    layer : str, default=None
        Layer to explain; default the last conv block.
    target : int or label, default=1
        The class explained (a label of ``classes_``; 1 = allowed).
    method : {"gradcam", "layercam"}, default="gradcam"
        ``"gradcam"`` weighs each map by its mean gradient; ``"layercam"`` (Jiang
        et al. 2021) weighs every position by its own positive gradient, which
        keeps the frequency detail that averaging loses and has been found more
        reliable for speaker CNNs.

    Returns
    -------
    maps : list of ndarray of shape (n_bins, n_frames_i)
        Non-negative saliency, the shape of each input spectrogram.
    """
    net = resolve_network(estimator)
    specs = spectrograms_for(estimator, X)
    module = net.trunk
    layer = _default_layers(module)[-1] if layer is None else layer
    (mod,) = _named(module, [layer])
    target_idx = target_index(net, target)
    store = {}
    handle = mod.register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
    maps = []
    try:
        with preserved_state(module):
            module.eval()
            for s in specs:
                x = s[None].to(device_of(module))
                score = net.class_log_odds(x, target_idx).sum()
                act = store["a"]
                (grad,) = torch.autograd.grad(score, act)
                if method == "layercam":
                    weights = torch.relu(grad)
                else:
                    weights = grad.mean(dim=(2, 3), keepdim=True)
                cam = torch.relu((weights * act).sum(dim=1, keepdim=True))
                cam = torch.nn.functional.interpolate(
                    cam, size=x.shape[-2:], mode="bilinear", align_corners=False
                )
                maps.append(cam[0, 0].detach().cpu().numpy())
    finally:
        handle.remove()
    return maps


@validate_params(
    {
        "estimator": "no_validation",
        "X": ["array-like"],
        "groups": ["array-like", None],
        "method": [StrOptions({"gradcam", "layercam", "occlusion"})],
        "target": "no_validation",
        "band_width": [Interval(Integral, 1, None, closed="left")],
        "layer": [str, None],
    },
    prefer_skip_nested_validation=True,
)
def frequency_importance(
    estimator, X, groups=None, method="gradcam", target=1, band_width=1, layer=None
):
    """Mean importance of each frequency bin, per group of recordings.

    Parameters
    ----------
    estimator : fitted CNNClassifier, Pipeline ending in one, or uncertainty estimator
        The network.
    X : list
        Recordings.
    groups : array-like of shape (n_recordings,), default=None
        Group of each recording (e.g. the speaker); one group when None.
    method : {"gradcam", "layercam", "occlusion"}, default="gradcam"
        ``"gradcam"`` / ``"layercam"``: the saliency map of :func:`grad_cam`
        averaged over time. ``"occlusion"``: the drop of the target's log-odds when
        a band of ``band_width`` bins is replaced by the recording's mean value
        (model-agnostic).
    target : int or label, default=1
        The class explained.
    band_width : int, default=1
        Bins occluded together (``"occlusion"``).
    layer : str, default=None
        Layer of the saliency maps. Default: the first conv block for
        ``"gradcam"`` (Grad-CAM averages each map's gradient, so deeper, coarser
        layers blur the frequency axis: measured on a network trained to use one
        band, the last block's Grad-CAM peaked four bins off while the first
        block's peaked on the band) and the last block for ``"layercam"``.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``importance`` (n_groups, n_bins), ``groups`` (their labels),
        ``frequencies`` (Hz when a pipeline step knows them, else bin indices).
    """
    net = resolve_network(estimator)
    specs = spectrograms_for(estimator, X)
    n_bins = specs[0].shape[1]
    if method in ("gradcam", "layercam"):
        if layer is None and method == "gradcam":
            layer = _default_layers(net.trunk)[0]
        maps = grad_cam(estimator, X, layer=layer, target=target, method=method)
        per_rec = np.array([m.mean(axis=1) for m in maps])
    elif method == "occlusion":
        per_rec = _occlusion(net, specs, target, band_width)
    else:
        raise ValueError(f"method must be 'gradcam', 'layercam' or 'occlusion', got {method!r}.")
    groups = np.zeros(len(specs), dtype=int) if groups is None else np.asarray(groups)
    if len(groups) != len(specs):
        raise ValueError(f"groups has {len(groups)} rows but X has {len(specs)}.")
    labels = np.unique(groups)
    importance = np.array([per_rec[groups == g].mean(axis=0) for g in labels])
    return Bunch(
        importance=importance,
        groups=labels,
        frequencies=frequencies_for(estimator, n_bins),
        method=method,
    )


def _occlusion(net, specs, target, band_width):
    target_idx = target_index(net, target)
    module = net.trunk
    n_bins = specs[0].shape[1]
    starts = np.arange(0, n_bins, band_width)
    out = np.zeros((len(specs), n_bins))
    with preserved_state(module), torch.inference_mode():
        module.eval()
        for r, s in enumerate(specs):
            # The unoccluded input and every occluded copy, in one batch.
            batch = s[None].repeat(len(starts) + 1, 1, 1, 1)
            for k, b in enumerate(starts):
                batch[k + 1, :, b : b + band_width, :] = s.mean()
            scores = net.class_log_odds(batch.to(device_of(module)), target_idx).cpu()
            drop = (scores[0] - scores[1:]).numpy()
            out[r] = np.repeat(drop, band_width)[:n_bins]
    return out
