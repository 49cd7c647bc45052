"""Shared machinery of the skorch-trained spectrogram networks."""

import contextlib
import os
import warnings

import numpy as np
import torch

from .._groups import speaker_columns
from .._progress import progress
from .._random import seed_from
from ._data import CropDataset, check_spectrograms, sliding_windows

__all__ = [
    "torch_threads",
    "seed_from",
    "resolve_device",
    "SpectrogramNetMixin",
    "ModuleParamsMixin",
    "MODULE_PREFIX",
]

MODULE_PREFIX = "module__"


def autocast(device, enabled):
    """bfloat16 autocast on ``device`` when ``enabled``; a no-op context otherwise.

    bfloat16 keeps float32's range, so no gradient scaler is needed.
    """
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=str(device).split(":")[0], dtype=torch.bfloat16)


def window_embeddings(module, windows):
    """The trunk's embedding of each window (what cosine scoring reads)."""
    return module.embed(windows)


def window_outputs(module, windows):
    """The log-probabilities of the network's outputs for each window (posterior scoring)."""
    return torch.log_softmax(module(windows), dim=-1)


@contextlib.contextmanager
def torch_threads():
    """Limit torch's intra-op threads to ``OMP_NUM_THREADS`` when it is set lower.

    joblib's workers set ``OMP_NUM_THREADS`` to their share of the cores; torch
    reads it only at import, so a worker that imported torch earlier would
    oversubscribe 2 jobs on 2 cores.
    """
    before = torch.get_num_threads()
    want = os.environ.get("OMP_NUM_THREADS")
    try:
        if want and want.isdigit() and 0 < int(want) < before:
            torch.set_num_threads(int(want))
        yield
    finally:
        torch.set_num_threads(before)


def resolve_device(device):
    if device in (None, "cpu"):
        return "cpu"
    if str(device).startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} was asked for but CUDA is not available.")
        return str(device)
    raise ValueError(f"device must be 'cpu' or 'cuda[:n]', got {device!r}.")


class ModuleParamsMixin:
    """The torch module's arguments as one ``module__*`` parameter group, as skorch does.

    ``module__n_filters=8`` sets the module's ``n_filters``; the arguments not
    given keep the module's defaults (its constructor's), so the estimator
    mirrors none of them. ``get_params`` lists those set, so ``repr`` and
    ``clone`` keep them, and ``set_params`` and searches reach them
    (``{"cnnclassifier__module__n_filters": [8, 16]}``). The arguments the data
    decide (``_data_args``) are not parameters.
    """

    _data_args = ("n_bins", "n_classes", "n_channels")

    @classmethod
    def _module_defaults(cls):
        import inspect

        sig = inspect.signature(cls._module_class.__init__)
        skip = ("self", *cls._data_args)
        return {k: p.default for k, p in sig.parameters.items() if k not in skip}

    def _store_module_kwargs(self, kwargs):
        """``__init__``'s ``**kwargs``, stored as given and checked by ``fit``.

        They are kept in one private dict (not as attributes), so that
        ``__init__`` sets no attribute beyond its signature's parameters and
        raises nothing, as scikit-learn requires.
        """
        self._module_kwargs = dict(kwargs)

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(getattr(self, "_module_kwargs", {}))
        return params

    def set_params(self, **params):
        own = set(self._get_param_names())
        # module__* (and any other name that is neither a parameter nor nested:
        # kept, and refused by fit, as __init__ does).
        mine = [
            k for k in params if k.startswith(MODULE_PREFIX) or (k not in own and "__" not in k)
        ]
        for key in mine:
            self._module_kwargs[key] = params.pop(key)
        return super().set_params(**params) if params else self

    def _module_params(self):
        """The module's arguments: its defaults updated with the ``module__*`` parameters."""
        args = self._module_defaults()
        for key, value in getattr(self, "_module_kwargs", {}).items():
            name = key[len(MODULE_PREFIX) :] if key.startswith(MODULE_PREFIX) else key
            if name == key and name in args:
                # An architecture argument without its group's prefix: a mistake
                # that must not train the default architecture silently.
                raise TypeError(
                    f"{type(self).__name__} got {key}=, which is not a parameter: the "
                    f"architecture is set as {MODULE_PREFIX}{key}= (e.g. "
                    f"{MODULE_PREFIX}n_filters=8)."
                )
            if name not in args:
                raise ValueError(
                    f"{type(self).__name__} got the unknown parameter {key!r}; the "
                    f"architecture's are module__<argument> for the arguments of "
                    f"{self._module_class.__name__}: {sorted(args)}."
                )
            args[name] = value
        return args


class SpectrogramNetMixin:
    """Input checks, crops and sliding-window inference shared by the networks.

    The public interface other packages use (inspection, uncertainty, the
    embedder, persistence): :attr:`trunk`, :meth:`embed`,
    :meth:`window_log_proba` and :meth:`map_windows`.
    """

    @property
    def trunk(self):
        """The fitted torch module, with named blocks.

        A ``SpectrogramCNN``: ``blocks.block0`` ... (each ``conv``, ``bn``),
        ``embedding``, ``dropout``, ``head``; ``embed(x)`` gives the embedding.
        """
        self._check_fitted()
        return self._inference_module()

    def map_windows(self, X, fn):
        """Per recording, the mean over its sliding windows of ``fn(trunk, windows)``.

        The windows are those of prediction (``crop_frames`` wide, half
        overlapping); each recording's windows form one batch, so a recording's
        result never depends on the others. The network runs in evaluation mode
        without gradients (``fn`` may switch dropout on, as MC dropout does).

        Parameters
        ----------
        X : list of ndarray or ndarray
            Spectrograms as in ``fit``.
        fn : callable
            ``fn(trunk, windows)`` with ``windows`` of shape ``(n_windows,
            n_channels, n_bins, crop_frames)`` on the network's device; returns
            a tensor whose first axis is the windows.

        Returns
        -------
        mean : ndarray of shape (n_recordings, ...)
            float64.
        """
        self._check_fitted()
        specs = self._check_X(X, reset=False)
        return self._mean_over_windows(specs, fn).double().numpy()

    def embed(self, X):
        """Speaker embedding of each recording: its windows' mean embedding.

        The layer before the head, averaged over the sliding windows; not
        length-normalised (:class:`SpeakerEmbedder` normalises it).

        Parameters
        ----------
        X : list of ndarray or ndarray
            Spectrograms as in ``fit``.

        Returns
        -------
        E : ndarray of shape (n_recordings, embedding_dim)
        """
        return self.map_windows(X, window_embeddings)

    def window_log_proba(self, X):
        """Log-probabilities of the network's outputs, averaged over each recording's windows.

        The outputs are the training speakers with the speaker objective
        (``speakers_``), else the classes; the windows' mean log-probability is
        renormalised. The scorer turns them into class probabilities.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Spectrograms as in ``fit``.

        Returns
        -------
        log_proba : ndarray of shape (n_recordings, n_outputs)
        """
        mean = self.map_windows(X, window_outputs)
        return mean - np.logaddexp.reduce(mean, axis=1, keepdims=True)

    def _check_fitted(self):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)

    def _check_X(self, X, reset):
        if reset:
            specs = check_spectrograms(X)
            self.n_features_in_ = int(specs[0].shape[1])
            self.n_channels_in_ = int(specs[0].shape[0])
            return specs
        return check_spectrograms(
            X,
            n_bins=getattr(self, "n_features_in_", None),
            n_channels=self.n_channels_in_,
            owner=type(self).__name__,
        )

    def _inference_module(self):
        return self.net_.module_

    def _window_hop(self):
        return max(1, self.crop_frames // 2)

    def _forward_windows(self, specs, fn):
        """Apply ``fn`` to the sliding windows of each recording; outputs and owners.

        One recording's windows form one batch: a recording's result then never
        depends on which other recordings are predicted with it.
        """
        hop = self._window_hop()
        outs, owners = [], []
        for i, spec in enumerate(progress(specs, len(specs), "Network")):
            windows, _ = sliding_windows([spec], self.crop_frames, hop)
            outs.append(fn(windows.to(self.device_)).float().cpu())
            owners.append(torch.full((windows.shape[0],), i, dtype=torch.long))
        return torch.cat(outs), torch.cat(owners)

    def _mean_over_windows(self, specs, fn):
        """Per recording, the mean over its windows of ``fn(module, windows)``.

        The network runs in evaluation mode, without gradients, with torch's
        threads capped and under ``amp``'s autocast.
        """

        module = self._inference_module()
        module.eval()
        amp = autocast(self.device_, getattr(self, "amp", False))
        with torch_threads(), torch.inference_mode(), amp:
            out, owner = self._forward_windows(specs, lambda w: fn(module, w))
        return self._mean_by_owner(out, owner, len(specs))

    @staticmethod
    def _mean_by_owner(values, owner, n):
        sums = torch.zeros((n,) + values.shape[1:], dtype=values.dtype, device=values.device)
        owner = owner.to(values.device)
        sums.index_add_(0, owner, values)
        counts = torch.bincount(owner, minlength=n).to(values.dtype)
        return sums / counts.reshape((-1,) + (1,) * (values.dim() - 1))

    def _validation_split(self, y_enc, groups, seed):
        """Training and validation indices of the binary objective.

        Speakers are kept apart when ``groups`` is given. (The speaker objective
        holds out whole speakers too; see ``CNNClassifier._speaker_datasets``.)
        """
        from sklearn.model_selection import GroupShuffleSplit, StratifiedShuffleSplit

        dummy = np.zeros(len(y_enc))
        if groups is not None:
            groups, _ = speaker_columns(groups, len(y_enc))
            if len(np.unique(groups)) < 2:
                raise ValueError("early_stopping needs at least 2 speakers in groups.")
            splitter = GroupShuffleSplit(1, test_size=self.validation_fraction, random_state=seed)
            return next(splitter.split(dummy, y_enc, groups))
        warnings.warn(
            "early_stopping without groups splits recordings, not speakers: the "
            "validation loss is optimistic. Pass groups=speakers to fit.",
            UserWarning,
            stacklevel=4,
        )
        splitter = StratifiedShuffleSplit(1, test_size=self.validation_fraction, random_state=seed)
        return next(splitter.split(dummy, y_enc))

    def _make_datasets(self, specs, y_enc, groups, seed):
        """Training and (with early stopping) validation crop datasets."""
        valid = None
        train_idx = np.arange(len(specs))
        if self.early_stopping:
            train_idx, valid_idx = self._validation_split(y_enc, groups, seed)
            valid = CropDataset(
                [specs[i] for i in valid_idx], y_enc[valid_idx], self.crop_frames, train=False
            )
        return self._training_crops(specs, train_idx, y_enc[train_idx], seed), valid

    def _training_crops(self, specs, idx, targets, seed):
        """The random-crop training dataset of recordings ``idx`` with ``targets``."""
        return CropDataset(
            [specs[i] for i in idx],
            targets,
            self.crop_frames,
            train=True,
            augment=self.augment,
            seed=seed,
        )

    def _mean_embedding(self, specs):
        """Per recording, the mean over its windows of the network's embedding."""
        return self._mean_over_windows(specs, window_embeddings)
