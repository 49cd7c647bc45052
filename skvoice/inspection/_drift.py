"""How layers move during training, and how much each one matters at the end."""

from numbers import Integral

import numpy as np
import torch
from sklearn.base import clone
from sklearn.metrics import get_scorer
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..decisions import CosineScorer, unit_rows
from ._common import leaf_layers, preserved_state, resolve_network, spectrograms_for

__all__ = ["layer_drift", "reinitialization_robustness"]


def _history(net):
    hist = getattr(net, "layer_history_", None)
    if not hist:
        raise ValueError(
            "No recorded parameters: fit the network with track_layers=True (or a list of "
            "epochs) first."
        )
    return hist


def _layer_vector(snapshot, layer):
    prefix = layer + "."
    parts = [
        v.flatten().double()
        for k, v in snapshot.items()
        if k.startswith(prefix) and "." not in k[len(prefix) :]
    ]
    return torch.cat(parts)


@validate_params(
    {"estimator": "no_validation"},
    prefer_skip_nested_validation=True,
)
def layer_drift(estimator):
    """Relative distance of every layer from its initialisation, epoch by epoch.

    Parameters
    ----------
    estimator : fitted CNNClassifier (``track_layers=True``), Pipeline or member
        The network.

    Returns
    -------
    drift : :class:`~sklearn.utils.Bunch`
        ``epochs`` (recorded epochs, 0 = initialisation), ``layers`` (names),
        ``from_init`` (n_epochs, n_layers): ``||theta_t - theta_0|| / ||theta_0||``,
        ``from_previous`` (n_epochs, n_layers): ``||theta_t - theta_prev|| /
        ||theta_prev||`` (0 for the first), and ``frame`` (a pandas DataFrame of
        ``from_init`` when pandas is installed).
    """
    net = resolve_network(estimator)
    hist = _history(net)
    epochs = sorted(hist)
    layers = leaf_layers(net.trunk)
    vec = {e: {name: _layer_vector(hist[e], name) for name in layers} for e in epochs}
    from_init = np.zeros((len(epochs), len(layers)))
    from_prev = np.zeros((len(epochs), len(layers)))
    for i, e in enumerate(epochs):
        for j, name in enumerate(layers):
            v0, vt = vec[epochs[0]][name], vec[e][name]
            from_init[i, j] = float(torch.linalg.norm(vt - v0) / torch.linalg.norm(v0))
            if i:
                vp = vec[epochs[i - 1]][name]
                from_prev[i, j] = float(torch.linalg.norm(vt - vp) / torch.linalg.norm(vp))
    result = Bunch(
        epochs=np.array(epochs), layers=layers, from_init=from_init, from_previous=from_prev
    )
    try:
        import pandas as pd

        result.frame = pd.DataFrame(
            from_init, index=pd.Index(epochs, name="epoch"), columns=layers
        )
    except ImportError:
        pass
    return result


@validate_params(
    {
        "estimator": "no_validation",
        "X": ["array-like"],
        "y": ["array-like"],
        "checkpoints": [list, None],
        "mode": [StrOptions({"reinit", "rerandomize"})],
        "scoring": [str, callable, None],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "enroll": [tuple, None],
    },
    prefer_skip_nested_validation=True,
)
def reinitialization_robustness(
    estimator, X, y, checkpoints=None, mode="reinit", scoring=None, random_state=0, enroll=None
):
    """Score after resetting one layer at a time (Zhang, Bengio & Singer 2019).

    For each layer and each recorded epoch, that layer's parameters are set back to
    their value at that epoch (``"reinit"``; epoch 0 is the initialisation) or to a
    fresh random draw (``"rerandomize"``, one row for all epochs), all other layers
    keeping their final values, and the network is scored on ``(X, y)``. Nothing is
    retrained; the network is restored afterwards.

    Parameters
    ----------
    estimator : fitted CNNClassifier (``track_layers=True``), Pipeline or member
        The network.
    X : list
        Recordings (the pipeline's input when ``estimator`` is a Pipeline).
    y : array-like
        Labels.
    checkpoints : list of int, default=None
        Epochs to restore (default: every recorded one).
    mode : {"reinit", "rerandomize"}, default="reinit"
        Restore a recorded value or draw new random weights.
    scoring : str or callable, default=None
        A scikit-learn scorer; default the estimator's accuracy.
    random_state : int, default=0
        Seed of the fresh draws of ``"rerandomize"``.
    enroll : tuple (X_enroll, y_enroll, speakers_enroll), default=None
        Required when the network scores by cosine: a reset layer changes the
        embeddings, so the allowed speakers are enrolled again from these
        recordings (usually the training ones; the pipeline's input) after every
        reset, as the fitted network enrolled them. Ignored under posterior
        scoring.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``scores`` (n_layers, n_checkpoints), ``layers``, ``checkpoints`` and
        ``baseline`` (the fitted network's score).
    """
    net = resolve_network(estimator)
    hist = _history(net) if mode == "reinit" else getattr(net, "layer_history_", {}) or {}
    recorded = sorted(hist)
    if mode == "rerandomize":
        checkpoints = ["random"]
    elif checkpoints is None:
        checkpoints = recorded
    else:
        missing = [c for c in checkpoints if c not in hist]
        if missing:
            raise ValueError(f"Epochs {missing} were not recorded; recorded: {recorded}.")
    scorer_fn = get_scorer(scoring) if scoring is not None else None
    specs = spectrograms_for(estimator, X)  # transform once, score many times
    y = np.asarray(y)

    scorer = net.scorer_
    cosine = scorer.reads == "embedding"
    if cosine:
        if enroll is None:
            raise ValueError(
                "This network scores by cosine to enrolled centroids, which a reset layer "
                "moves: pass enroll=(X_train, y_train, speakers) to enroll them again."
            )
        X_e, y_e, spk_e = enroll
        specs_e = spectrograms_for(estimator, X_e)
        allowed_e = (np.asarray(y_e) == net.pos_label_).astype(int)

    def score():
        if cosine:  # enroll again with the network as it is now
            E = net.embed(specs_e)
            if scorer.unit_input:
                E = unit_rows(E).numpy()
            verifier = clone(scorer.verifier).fit(E, allowed_e, groups=spk_e)
            net.scorer_ = CosineScorer(
                verifier, scorer.pos_index, scorer.calibration, unit_input=scorer.unit_input
            )
        return scorer_fn(net, specs, y) if scorer_fn is not None else net.score(specs, y)

    module = net.trunk
    layers = leaf_layers(module)
    modules = dict(module.named_modules())
    try:
        scores, baseline = _reset_and_score(
            module, layers, modules, hist, checkpoints, mode, random_state, score
        )
    finally:
        net.scorer_ = scorer
    return Bunch(scores=scores, layers=layers, checkpoints=list(checkpoints), baseline=baseline)


def _reset_and_score(module, layers, modules, hist, checkpoints, mode, random_state, score):
    """Scores with each layer reset to each checkpoint in turn (module restored after)."""
    scores = np.zeros((len(layers), len(checkpoints)))
    with preserved_state(module):
        baseline = score()
        for i, name in enumerate(layers):
            params = dict(modules[name].named_parameters(recurse=False))
            final = {k: p.detach().clone() for k, p in params.items()}
            for j, cp in enumerate(checkpoints):
                with torch.no_grad():
                    if mode == "reinit":
                        for k, p in params.items():
                            p.copy_(hist[cp][f"{name}.{k}"])
                    else:
                        # Fresh parameters from the layer's own initialiser; buffers
                        # (batch-norm running statistics) keep their final values.
                        buffers = {
                            k: b.clone() for k, b in modules[name].named_buffers(recurse=False)
                        }
                        with torch.random.fork_rng(devices=[]):
                            torch.manual_seed(random_state + i)
                            modules[name].reset_parameters()
                        for k, b in modules[name].named_buffers(recurse=False):
                            b.copy_(buffers[k])
                scores[i, j] = score()
                with torch.no_grad():
                    for k, p in params.items():
                        p.copy_(final[k])
    return scores, baseline
