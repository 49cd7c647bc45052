"""Stacking aligned time-frequency images as channels."""

from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import TransformerMixin, clone
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import check_is_fitted

from .._state import require

__all__ = ["ChannelUnion"]


def _fit_one(transformer, X, y):
    return clone(transformer).fit(X, y)


class ChannelUnion(TransformerMixin, _BaseComposition):
    """Stack the aligned 2-D outputs of several transformers as channels.

    Like :class:`~sklearn.pipeline.FeatureUnion`, but each recording's images
    (one per transformer, each ``(n_bins, n_frames)``) are stacked into
    ``(n_channels, n_bins, n_frames)``, e.g. a spectrogram and the harmonic image
    of :class:`F0Extractor` as two CNN input channels. A transformer whose
    output is already 3-D contributes all its channels.

    Parameters
    ----------
    transformer_list : list of (str, transformer)
        Named transformers applied to the same input.
    n_jobs : int, default=None
        Transformers fitted and applied in parallel.

    Attributes
    ----------
    transformers_ : list of (str, transformer)
        The fitted transformers.

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.preprocessing import ChannelUnion, F0Extractor, SpectrogramExtractor
    >>> union = ChannelUnion([("spec", SpectrogramExtractor()),
    ...                       ("f0", F0Extractor(output="harmonics"))])
    >>> X = [np.random.default_rng(0).standard_normal(8000)]
    >>> union.fit_transform(X)[0].shape
    (2, 64, 32)
    """

    _required_parameters = ["transformer_list"]

    _parameter_constraints = {
        "transformer_list": [list, tuple],
        "n_jobs": [Integral, None],
    }

    def __init__(self, transformer_list, n_jobs=None):
        self.transformer_list = transformer_list
        self.n_jobs = n_jobs

    def get_params(self, deep=True):
        return self._get_params("transformer_list", deep=deep)

    def set_params(self, **params):
        self._set_params("transformer_list", **params)
        return self

    def _validate(self):
        self._validate_params()
        if not isinstance(self.transformer_list, (list, tuple)) or not self.transformer_list:
            raise ValueError("transformer_list must be a non-empty list of (name, transformer).")
        names = [name for name, _ in self.transformer_list]
        self._validate_names(names)
        for name, t in self.transformer_list:
            if not hasattr(t, "transform"):
                raise TypeError(f"Transformer {name!r} has no transform method.")

    def fit(self, X, y=None):
        """Fit every transformer on ``X``.

        Parameters
        ----------
        X : list of 1-D arrays, 2-D array or list of paths
            Recordings.
        y : array-like, default=None
            Passed on to the transformers.

        Returns
        -------
        self : object
        """
        self._validate()
        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_one)(t, X, y) for _, t in self.transformer_list
        )
        self.transformers_ = [(name, t) for (name, _), t in zip(self.transformer_list, fitted)]
        return self

    def transform(self, X):
        """Stack the transformers' outputs per recording.

        Parameters
        ----------
        X : list of 1-D arrays, 2-D array or list of paths
            Recordings.

        Returns
        -------
        Xt : list of ndarray of shape (n_channels, n_bins, n_frames_i), or ndarray
            A 4-D array when every transformer returns an array.
        """
        check_is_fitted(self)
        outs = Parallel(n_jobs=self.n_jobs)(delayed(t.transform)(X) for _, t in self.transformers_)
        names = [name for name, _ in self.transformers_]
        n = len(outs[0])
        for name, out in zip(names, outs):
            if len(out) != n:
                raise ValueError(f"Transformer {name!r} returned {len(out)} rows, expected {n}.")
        stacked = []
        for i in range(n):
            parts = []
            for name, out in zip(names, outs):
                img = np.asarray(out[i])
                if img.ndim == 2:
                    img = img[None]
                if img.ndim != 3:
                    raise ValueError(
                        f"Transformer {name!r}, recording {i}: expected a 2-D or 3-D image, "
                        f"got shape {img.shape}."
                    )
                if parts and img.shape[1:] != parts[0].shape[1:]:
                    raise ValueError(
                        f"Recording {i}: transformer {name!r} gives (n_bins, n_frames) = "
                        f"{img.shape[1:]}, but {names[0]!r} gives {parts[0].shape[1:]}; align "
                        "sr, n_fft, hop_length, kind and n_mels."
                    )
                parts.append(img.astype(np.float32, copy=False))
            stacked.append(np.concatenate(parts, axis=0))
        if all(isinstance(out, np.ndarray) for out in outs):
            return np.stack(stacked)
        return stacked

    def _get_fitted_state(self):
        """Each fitted transformer's own state, in order (see ``skvoice._state``)."""
        check_is_fitted(self)
        records, tensors = [], {}
        for name, t in self.transformers_:
            record, own = t._get_fitted_state()
            records.append(record)
            tensors.update({f"{name}.{k}": v for k, v in own.items()})
        return {"transformers_": records}, tensors

    def _set_fitted_state(self, record, tensors):

        self._validate()
        records = record.get("transformers_") if isinstance(record, dict) else None
        require(
            isinstance(records, list) and len(records) == len(self.transformer_list),
            "ChannelUnion needs one state per transformer",
        )
        fitted = []
        for (name, t), rec in zip(self.transformer_list, records):
            own = {k[len(name) + 1 :]: v for k, v in tensors.items() if k.startswith(f"{name}.")}
            step = clone(t)
            step._set_fitted_state(rec, own)
            fitted.append((name, step))
        self.transformers_ = fitted

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.transformer_tags.preserves_dtype = []
        return tags
