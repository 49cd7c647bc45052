"""Monte Carlo dropout: sample the dropout layers, keep batch norm in eval mode."""

import zlib

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..neural_network._base import seed_from
from ._base import MemberProbaMixin

__all__ = ["MCDropoutClassifier", "sample_with_dropout", "split_final_step"]

_DROPOUT = (
    torch.nn.Dropout,
    torch.nn.Dropout1d,
    torch.nn.Dropout2d,
    torch.nn.Dropout3d,
    torch.nn.AlphaDropout,
    torch.nn.FeatureAlphaDropout,
)


def _active_dropouts(module):
    return [m for m in module.modules() if isinstance(m, _DROPOUT) and m.p > 0]


def sample_with_dropout(module, x, n_passes):
    """``n_passes`` forward passes of ``module`` with its dropout layers sampled.

    The part of the network before the first active dropout layer runs once: a
    forward pre-hook on the dropout layers repeats the input of the first one
    that fires ``n_passes`` times along the batch axis, so the rest of the
    network sees ``n_passes`` copies and draws an independent mask for each. Any
    architecture works whose layers after that point treat batch items
    independently (true in eval mode: batch norm uses its running statistics);
    if one does not (a skip connection around the dropout), the passes are run
    one by one instead. Only dropout layers are switched to training mode.

    Parameters
    ----------
    module : torch.nn.Module
        The network; left in the mode it was in.
    x : Tensor of shape (B, ...)
        Input batch.
    n_passes : int
        Number of stochastic passes.

    Returns
    -------
    out : Tensor of shape (n_passes, B, ...)

    Examples
    --------
    >>> import torch
    >>> from skvoice.uncertainty import sample_with_dropout
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5),
    ...                           torch.nn.Linear(8, 2)).eval()
    >>> sample_with_dropout(net, torch.ones(3, 4), n_passes=10).shape
    torch.Size([10, 3, 2])
    """
    dropouts = _active_dropouts(module)
    batch = x.shape[0]
    if not dropouts:
        out = module(x)
        return out.unsqueeze(0).expand(n_passes, *out.shape)
    modes = [d.training for d in dropouts]
    fired = []

    def repeat_input(mod, args):
        if fired:
            return None
        fired.append(mod)
        (inp,) = args
        return (inp.repeat(n_passes, *([1] * (inp.dim() - 1))),)

    handles = [d.register_forward_pre_hook(repeat_input) for d in dropouts]
    try:
        for d in dropouts:
            d.train()
        try:
            out = module(x)
            return out.reshape(n_passes, batch, *out.shape[1:])
        except RuntimeError:
            for h in handles:
                h.remove()
            handles = []
            return torch.stack([module(x) for _ in range(n_passes)])
    finally:
        for h in handles:
            h.remove()
        for d, mode in zip(dropouts, modes):
            d.train(mode)


def split_final_step(estimator):
    """``(transform, final)``: a Pipeline's preprocessing and its last step."""
    if isinstance(estimator, Pipeline):
        head = estimator[:-1]
        return (lambda X: head.transform(X) if len(head) else X), estimator[-1]
    return (lambda X: X), estimator


def _check_network(final, name):
    if not hasattr(final, "_class_log_proba"):
        raise TypeError(
            f"{name} needs a network estimator such as CNNClassifier (or a Pipeline "
            f"ending in one); got {type(final).__name__}."
        )


class MCDropoutClassifier(MemberProbaMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Monte Carlo dropout around a network classifier.

    ``fit`` trains the inner estimator; prediction samples its dropout layers
    ``n_passes`` times (batch normalisation stays in evaluation mode) and averages
    the probabilities. The part of the network before the first dropout layer is
    computed once per window (see :func:`sample_with_dropout`), so with dropout
    before the head 30 passes cost little more than one.

    Parameters
    ----------
    estimator : estimator, default=None
        A :class:`~skvoice.neural_network.CNNClassifier` (or a Pipeline ending in
        one); default ``CNNClassifier()``.
    n_passes : int, default=30
        Stochastic forward passes.
    random_state : int, RandomState instance or None, default=None
        Seed of the dropout masks at prediction.

    Attributes
    ----------
    estimator_ : estimator
        The fitted inner estimator.
    classes_ : ndarray
        Class labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.neural_network import CNNClassifier
    >>> from skvoice.uncertainty import MCDropoutClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.standard_normal((8, 20)).astype(np.float32) + k for k in (0, 1) * 6]
    >>> y = [0, 1] * 6
    >>> mc = MCDropoutClassifier(CNNClassifier(n_filters=4, n_blocks=1, crop_frames=8,
    ...                                        max_epochs=2, random_state=0),
    ...                          n_passes=5, random_state=0).fit(X, y)
    >>> proba, u = mc.predict_proba(X[:2], return_uncertainty=True)
    >>> proba.shape, sorted(u)
    ((2, 2), ['aleatoric', 'epistemic', 'std', 'total'])
    """

    def __init__(self, estimator=None, n_passes=30, random_state=None):
        self.estimator = estimator
        self.n_passes = n_passes
        self.random_state = random_state

    def fit(self, X, y, **fit_params):
        """Fit the inner estimator.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Input of the inner estimator.
        y : array-like of shape (n_samples,)
            Labels.
        **fit_params : dict
            Passed to the inner estimator's ``fit`` (e.g. ``groups``).

        Returns
        -------
        self : object
        """
        from ..neural_network import CNNClassifier

        if not isinstance(self.n_passes, (int, np.integer)) or self.n_passes < 1:
            raise ValueError(f"n_passes must be a positive integer, got {self.n_passes!r}.")
        base = CNNClassifier() if self.estimator is None else self.estimator
        _check_network(split_final_step(base)[1], type(self).__name__)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        self.estimator_ = clone(base).fit(X, y, **fit_params)
        self.classes_ = self.estimator_.classes_
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        return self

    def predict_member_proba(self, X):
        """Probabilities of every pass.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Input of the inner estimator.

        Returns
        -------
        proba : ndarray of shape (n_passes, n_samples, n_classes)
        """
        check_is_fitted(self)
        transform, final = split_final_step(self.estimator_)
        n = self.n_passes

        seed = seed_from(self.random_state)

        def forward(module, windows):
            # The masks of a recording depend on the seed and on the recording
            # only: the same recording gets the same draws in any batch or order.
            key = zlib.crc32(windows.detach().cpu().numpy().tobytes())
            torch.manual_seed((seed + key) % (2**63 - 1))
            logits = sample_with_dropout(module, windows, n)  # (P, W, K)
            return torch.log_softmax(logits, dim=-1).transpose(0, 1)  # (W, P, K)

        with torch.random.fork_rng(devices=[]):
            logp = final._class_log_proba(transform(X), forward)  # (n, P, C)
        return np.exp(logp).transpose(1, 0, 2)
