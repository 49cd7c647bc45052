"""Monte Carlo dropout: sampled dropout masks from a local generator, shared state untouched."""

import copy
import zlib
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .._random import seed_everything, seed_from
from ..decisions import OPERATING_POINT_CONSTRAINTS
from ._base import (
    MemberProbaMixin,
    split_final_step,
    with_operating_point_doc,
)
from ._routing import RoutingMixin

__all__ = ["MCDropoutClassifier", "sample_with_dropout"]

# Dropout layers and the shape of their mask: one value per element, or one per
# channel (the ``DropoutNd`` layers zero whole feature maps).
_ELEMENTWISE = (torch.nn.Dropout,)
_CHANNELWISE = (torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Dropout3d)
_UNSUPPORTED = (torch.nn.AlphaDropout, torch.nn.FeatureAlphaDropout)
_DROPOUT = _ELEMENTWISE + _CHANNELWISE + _UNSUPPORTED


def _active_dropouts(module):
    found = [
        m for m in module.modules() if isinstance(m, _ELEMENTWISE + _CHANNELWISE + _UNSUPPORTED)
    ]
    bad = [type(m).__name__ for m in found if isinstance(m, _UNSUPPORTED) and m.p > 0]
    if bad:
        raise TypeError(f"Monte Carlo dropout does not sample {sorted(set(bad))} layers.")
    return [m for m in found if m.p > 0]


class _SampledDropout(torch.nn.Module):
    """Stand-in for a dropout layer: masks drawn from a given generator.

    With ``repeat`` set, the first stand-in to run repeats its input ``n_passes``
    times along the batch axis, so that everything before it runs once.
    """

    def __init__(self, p, channelwise, generator, state):
        super().__init__()
        self.p = p
        self.channelwise = channelwise
        self.generator = generator
        self.state = state

    def forward(self, x):
        if self.state["repeat"] and not self.state["fired"]:
            self.state["fired"] = True
            x = x.repeat(self.state["n_passes"], *([1] * (x.dim() - 1)))
        shape = x.shape[:2] + (1,) * (x.dim() - 2) if self.channelwise else x.shape
        keep = torch.empty(shape, dtype=x.dtype, device=x.device)
        keep.bernoulli_(1.0 - self.p, generator=self.generator)
        return x * keep / (1.0 - self.p)


def _replaced(module, replace):
    """A structural copy of ``module`` with every submodule ``m`` for which
    ``replace(m)`` is not None replaced by it.

    Only the containers on the way to a replaced layer are copied; every other
    layer (and every parameter and buffer) is shared, read-only. The caller's
    module is never modified, so predictions may run in other threads meanwhile.
    """
    new = replace(module)
    if new is not None:
        return new
    children = dict(module.named_children())
    replaced = {k: _replaced(m, replace) for k, m in children.items()}
    if all(replaced[k] is children[k] for k in children):
        return module
    shallow = copy.copy(module)
    shallow._modules = dict(module._modules)
    shallow._modules.update(replaced)
    return shallow


def _with_sampled_dropout(module, generator, state):
    """A structural copy of ``module`` whose dropout layers are sampled stand-ins."""

    def sampled(m):
        if isinstance(m, _ELEMENTWISE + _CHANNELWISE) and m.p > 0:
            return _SampledDropout(m.p, isinstance(m, _CHANNELWISE), generator, state)
        return None

    return _replaced(module, sampled)


@validate_params(
    {
        "module": [torch.nn.Module],
        "x": [torch.Tensor],
        "n_passes": [Interval(Integral, 1, None, closed="left")],
        "generator": [torch.Generator, None],
    },
    prefer_skip_nested_validation=True,
)
def sample_with_dropout(module, x, n_passes, *, generator=None):
    """``n_passes`` forward passes of ``module`` with its dropout layers sampled.

    The dropout layers are replaced, in a private structural copy of ``module``,
    by layers that draw their masks from ``generator``: the module passed in is
    not modified (neither its mode nor its hooks) and torch's global random
    state is not used, so concurrent calls, and plain predictions running at the
    same time, are safe. Every other layer runs in the mode the module is in
    (evaluation mode: batch norm uses its running statistics).

    The part of the network before the first dropout layer runs once: that layer
    repeats its input ``n_passes`` times along the batch axis, so the rest of the
    network sees ``n_passes`` copies, each with its own masks. This needs the
    layers after that point to treat batch items independently; where they do not
    (a skip connection around the dropout), the passes are run one by one.

    Parameters
    ----------
    module : torch.nn.Module
        The network (usually in evaluation mode). It is not modified.
    x : Tensor of shape (B, ...)
        Input batch.
    n_passes : int
        Number of stochastic passes.
    generator : torch.Generator, default=None
        Source of the masks, on the device of ``x``. Default: a generator seeded
        from torch's global one (one draw), so that ``torch.manual_seed`` still
        makes the result reproducible.

    Returns
    -------
    out : Tensor of shape (n_passes, B, ...)
        The module's output for every pass.

    Examples
    --------
    >>> import torch
    >>> from skvoice.uncertainty import sample_with_dropout
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5),
    ...                           torch.nn.Linear(8, 2)).eval()
    >>> gen = torch.Generator().manual_seed(0)
    >>> sample_with_dropout(net, torch.ones(3, 4), n_passes=10, generator=gen).shape
    torch.Size([10, 3, 2])
    """
    if not isinstance(n_passes, (int, np.integer)) or n_passes < 1:
        raise ValueError(f"n_passes must be a positive integer, got {n_passes!r}.")
    batch = x.shape[0]
    if not _active_dropouts(module):
        out = module(x)
        return out.unsqueeze(0).expand(n_passes, *out.shape)
    if generator is None:
        seed = int(torch.randint(0, 2**62, (1,)).item())
        generator = torch.Generator(device=x.device).manual_seed(seed)
    state = {"repeat": True, "fired": False, "n_passes": int(n_passes)}
    sampled = _with_sampled_dropout(module, generator, state)
    rng_state = generator.get_state()
    try:
        out = sampled(x)
        return out.reshape(n_passes, batch, *out.shape[1:])
    except RuntimeError:
        # Something after the first dropout mixes its input with an earlier
        # tensor (a skip connection): run the passes one by one, same masks'
        # generator restarted so the result does not depend on the failed try.
        generator.set_state(rng_state)
        state["repeat"] = False
        return torch.stack([sampled(x) for _ in range(n_passes)])


#: The rate at which MC dropout switches on the trunk's channel dropout (after
#: every conv block, where ``module__block_dropout`` trains it) when the path to
#: the decision holds no dropout: the default network under cosine scoring.
TRUNK_DROPOUT = 0.1


def _with_block_dropout(module, rate):
    """A structural copy of ``module`` whose conv blocks end in ``Dropout2d(rate)``."""

    def switched(m):
        # A conv block of the trunk (SpectrogramCNN's ConvBlock): a conv layer
        # and its channel dropout (an Identity when trained without).
        if hasattr(m, "conv") and isinstance(
            getattr(m, "dropout", None), (torch.nn.Identity, torch.nn.Dropout2d)
        ):
            drop = m.dropout  # an Identity, or the trained Dropout2d
            return _replaced(m, lambda c: torch.nn.Dropout2d(rate) if c is drop else None)
        return None

    return _replaced(module, switched)


class _Embedding(torch.nn.Module):
    """The layers that make a network's embedding (``blocks``, ``embedding``), as a module.

    Its dropout layers are the trunk's only: the dropout before the head does not
    touch the embedding, so under cosine scoring it is not sampled.
    """

    def __init__(self, network):
        super().__init__()
        self.blocks = network.blocks
        self.embedding = network.embedding
        self.pool = network.pool

    def forward(self, x):
        return self.embedding(self.pool(self.blocks(x)))


def _check_network(final, name):
    if not (hasattr(final, "map_windows") and hasattr(final, "class_log_odds")):
        raise TypeError(
            f"{name} needs a network estimator such as CNNClassifier (or a Pipeline "
            f"ending in one); got {type(final).__name__}."
        )


def sampled_path(final, dropout):
    """The module MC dropout samples for a fitted network, and what it samples.

    The path to the decision: the embedding under cosine scoring, the whole
    network under posterior scoring. With ``dropout="auto"`` its dropout layers
    are sampled at their trained rates, and where none is active the trunk's
    channel dropout is switched on at :data:`TRUNK_DROPOUT`; a float switches it
    on at that rate (the other layers keep theirs).

    Returns
    -------
    module : torch.nn.Module
        A structural copy when dropout is switched on (the network is untouched).
    rates : dict
        ``{layer name: rate}`` of every dropout layer that is sampled.
    """
    trunk = final.trunk
    path = _Embedding(trunk) if final.scorer_.reads == "embedding" else trunk
    if dropout == "auto" and _active_dropouts(path):
        module = path
    else:
        module = _with_block_dropout(path, TRUNK_DROPOUT if dropout == "auto" else dropout)
    rates = {
        name: float(m.p)
        for name, m in module.named_modules()
        if isinstance(m, _ELEMENTWISE + _CHANNELWISE) and m.p > 0
    }
    if not rates:
        raise ValueError(
            f"MC dropout would sample nothing: the path to {type(final).__name__}'s decision "
            "holds no dropout layer and no conv block to switch one on. Train the network "
            "with dropout on that path (module__block_dropout > 0), or use "
            "DeepEnsembleClassifier."
        )
    return module, rates


@with_operating_point_doc
class MCDropoutClassifier(
    RoutingMixin, MemberProbaMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator
):
    """Monte Carlo dropout around a network classifier.

    ``fit`` trains the inner estimator; prediction samples dropout on the path
    to the network's decision ``n_passes`` times (batch normalisation stays in
    evaluation mode), scores every draw with the network's own scorer, and
    averages the probabilities. That path is the embedding under cosine
    scoring (the default with speakers: dropout inside the trunk, after the
    conv blocks), the whole network under posterior scoring (the dropout
    before the head too).

    The default network trains no dropout inside its trunk
    (``module__block_dropout=0``), so, with ``dropout="auto"``, the passes
    switch the trunk's channel dropout on at 0.1 (:data:`TRUNK_DROPOUT`): the
    spread then measures how stable the decision is when a tenth of every
    block's channels drop, a perturbation rather than the posterior
    approximation of a network trained with that dropout (train with
    ``module__block_dropout`` for the latter; it is then sampled at its trained
    rate). ``sampled_dropout_`` says what is sampled. The part of the network
    before the first sampled layer is computed once per window (see
    :func:`sample_with_dropout`).

    Parameters
    ----------
    estimator : estimator, default=None
        A :class:`~skvoice.neural_network.CNNClassifier` (or a Pipeline ending in
        one); default ``CNNClassifier()``.
    n_passes : int, default=30
        Stochastic forward passes.
    random_state : int, RandomState instance or None, default=None
        Seed of the dropout masks at prediction and, when not None, of the
        inner estimator's training: every ``random_state`` inside ``estimator``
        is set from it (as scikit-learn's ensembles do), so that one seed fixes
        the whole model. With None, the inner estimator keeps its own seeds.
    dropout : "auto" or float in (0, 1), default="auto"
        What the passes sample. "auto": the dropout layers on the decision's
        path at their trained rates, or, where none is active, the trunk's
        channel dropout switched on at 0.1. A float: the trunk's channel
        dropout at that rate, whatever it was trained with. A network with no
        dropout on that path and no conv block to switch one on is an error.
    %(operating_point)s

    Attributes
    ----------
    %(operating_point_attributes)s
    sampled_dropout_ : dict
        ``{layer name: rate}`` of the dropout layers the passes sample.
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
    >>> net = CNNClassifier(module__n_filters=4, module__n_blocks=1, crop_frames=8,
    ...                     max_epochs=2, random_state=0)
    >>> mc = MCDropoutClassifier(net, n_passes=5, random_state=0).fit(X, y)
    >>> proba, u = mc.predict_proba(X[:2], return_uncertainty=True)
    >>> proba.shape, sorted(u)
    ((2, 2), ['aleatoric', 'epistemic', 'novelty', 'std', 'total'])
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "n_passes": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "dropout": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="neither")],
        **OPERATING_POINT_CONSTRAINTS,
    }

    def __init__(
        self,
        estimator=None,
        n_passes=30,
        random_state=None,
        dropout="auto",
        pos_label=None,
        target_far=None,
        cv=None,
        cohort=None,
        far_confidence=None,
    ):
        self.estimator = estimator
        self.n_passes = n_passes
        self.random_state = random_state
        self.dropout = dropout
        self.pos_label = pos_label
        self.target_far = target_far
        self.cv = cv
        self.cohort = cohort
        self.far_confidence = far_confidence

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Fit the inner estimator.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Input of the inner estimator.
        y : array-like of shape (n_samples,)
            Labels.
        **fit_params : dict
            Passed to the inner estimator's ``fit`` (e.g. ``groups``); with
            metadata routing on, those the inner estimator requested.

        Returns
        -------
        self : object
        """
        base = self._default_estimator()
        _check_network(split_final_step(base)[1], type(self).__name__)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = column_or_1d(y, warn=True)
        inner = clone(base)
        pos_label = self._shared_pos_label(inner)
        if self.random_state is not None:
            seed_everything(inner, seed_from(self.random_state))
        self.estimator_ = inner.fit(X, y, **self._fit_params_for_estimator(fit_params))
        self.classes_ = self.estimator_.classes_
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        final = split_final_step(self.estimator_)[1]
        self.sampled_dropout_ = sampled_path(final, self.dropout)[1]  # or a clear error
        self._finish_fit(X, y, fit_params, pos_label)
        return self

    @classmethod
    def from_fitted(cls, estimator, **params):
        """MC dropout around a network already fitted, without fitting it again.

        What a saved model needs at decision time: its network is loaded, not
        trained, and its uncertainty is sampled from it. No operating point of
        the wrapper's own: the network's decides.

        Parameters
        ----------
        estimator : CNNClassifier or Pipeline ending in one
            Fitted.
        **params
            The wrapper's other parameters (``n_passes``, ``dropout``,
            ``random_state``, ...).

        Returns
        -------
        mc : MCDropoutClassifier
            Ready for ``predict_proba(X, return_uncertainty=True)``.

        Examples
        --------
        >>> import numpy as np
        >>> from skvoice.neural_network import CNNClassifier
        >>> from skvoice.uncertainty import MCDropoutClassifier
        >>> rng = np.random.default_rng(0)
        >>> X = [rng.standard_normal((8, 16)).astype(np.float32) + k for k in (0, 1) * 4]
        >>> net = CNNClassifier(module__n_filters=4, module__n_blocks=1, crop_frames=8,
        ...                     max_epochs=1, random_state=0).fit(X, [0, 1] * 4)
        >>> mc = MCDropoutClassifier.from_fitted(net, n_passes=3, random_state=0)
        >>> mc.predict_proba(X[:2], return_uncertainty=True)[0].shape
        (2, 2)
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(estimator)
        mc = cls(estimator, **params)
        final = split_final_step(estimator)[1]
        _check_network(final, cls.__name__)
        mc.estimator_ = estimator
        mc.classes_ = estimator.classes_
        if hasattr(estimator, "n_features_in_"):
            mc.n_features_in_ = estimator.n_features_in_
        mc.sampled_dropout_ = sampled_path(final, mc.dropout)[1]
        mc.pos_label_ = getattr(final, "pos_label_", None)
        mc.threshold_, mc.calibration_ = 0.0, None
        return mc

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
        return self._predict_members(X)[0]

    def _predict_members(self, X, novelty=False):
        """Probabilities of every pass and, with ``novelty``, the network's novelty.

        The inner Pipeline's preprocessing runs once for both.
        """
        check_is_fitted(self)
        transform, final = split_final_step(self.estimator_)
        n = self.n_passes
        Xt = transform(X)

        seed = seed_from(self.random_state)

        # The network's scorer reads embeddings (cosine) or outputs (posterior):
        # sample that path, then score every draw with the same scorer.
        cosine = final.scorer_.reads == "embedding"
        path, _ = sampled_path(final, self.dropout)

        def forward(module, windows):
            # The masks of a recording depend on the seed and on the recording
            # only: the same recording gets the same draws in any batch, order or
            # thread. The generator is local: no global state is touched.
            key = zlib.crc32(windows.detach().cpu().numpy().tobytes())
            gen = torch.Generator(device=windows.device).manual_seed((seed + key) % (2**63 - 1))
            out = sample_with_dropout(path, windows, n, generator=gen)  # (P, W, ...)
            if cosine:  # sampled embeddings
                return out.transpose(0, 1)
            return torch.log_softmax(out, dim=-1).transpose(0, 1)  # (W, P, K)

        draws = final.map_windows(Xt, forward)  # (n, P, D) or (n, P, K)
        logp = final.scorer_.class_log_proba(draws).numpy()  # (n, P, C)
        scores = final.novelty_score(Xt) if novelty and hasattr(final, "novelty_score") else None
        return np.exp(logp).transpose(1, 0, 2), scores
