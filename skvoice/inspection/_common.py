"""Reaching the network inside an estimator, and restoring it afterwards."""

import contextlib

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..neural_network import check_spectrograms

__all__ = ["resolve_network", "spectrograms_for", "frequencies_for", "device_of"]


def _unwrap(estimator):
    """The inner estimator of an uncertainty meta-estimator (first member of an ensemble)."""
    if hasattr(estimator, "estimator_"):
        return estimator.estimator_
    if hasattr(estimator, "estimators_"):
        return estimator.estimators_[0]
    return estimator


def resolve_network(estimator):
    """The fitted network estimator (e.g. CNNClassifier) inside ``estimator``.

    Accepts the network itself, a Pipeline ending in one, or an uncertainty
    meta-estimator (its inner estimator, or its first member).
    """
    estimator = _unwrap(estimator)
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    if not hasattr(final, "trunk"):
        check_is_fitted(final)
        raise TypeError(
            f"Expected a fitted network estimator (CNNClassifier or a Pipeline ending in one), "
            f"got {type(final).__name__}."
        )
    return final


def spectrograms_for(estimator, X):
    """``X`` as the network sees it: through the pipeline's steps when there are any."""
    estimator = _unwrap(estimator)
    if isinstance(estimator, Pipeline) and len(estimator) > 1:
        X = estimator[:-1].transform(X)
    net = resolve_network(estimator)
    return check_spectrograms(
        X, n_bins=net.n_features_in_, n_channels=net.n_channels_in_, owner=type(net).__name__
    )


def device_of(module):
    """The device of a module's parameters."""
    return next(module.parameters()).device


def frequencies_for(estimator, n_bins):
    """Centre frequency of each input bin when a pipeline step knows it, else indices."""
    estimator = _unwrap(estimator)
    if isinstance(estimator, Pipeline):
        for _, step in reversed(estimator.steps[:-1]):
            freqs = getattr(step, "frequencies_", None)
            if freqs is not None and len(freqs) == n_bins:
                return np.asarray(freqs, dtype=float)
    return np.arange(n_bins, dtype=float)


@contextlib.contextmanager
def preserved_state(module):
    """Restore every parameter and buffer, and the train/eval mode, on exit."""
    state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    mode = module.training
    try:
        yield
    finally:
        module.load_state_dict(state)
        module.train(mode)


def leaf_layers(module):
    """Names of the modules that own parameters directly (conv, bn, linear, ...)."""
    return [
        name
        for name, m in module.named_modules()
        if name and any(True for _ in m.parameters(recurse=False))
    ]


def target_index(net, target):
    """Column of class ``target`` in ``net.classes_``, or a clear error."""
    classes = list(net.classes_)
    if target not in classes:
        raise ValueError(f"target={target!r} is not a class; classes are {classes}.")
    return classes.index(target)
