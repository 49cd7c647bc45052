"""Base class of the transformers that take a batch of waveforms."""

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._progress import progress
from ._state import require
from .io._lazy import LazyRecordings, check_paths
from .io._validation import all_paths, check_lazy_rate, iter_waveforms


def _is_rectangular_nested(X):
    """True for nested lists/tuples of numbers with rows of one length."""
    rows = list(X)
    return (
        len(rows) > 0
        and all(isinstance(r, (list, tuple)) for r in rows)
        and len({len(r) for r in rows}) == 1
    )


def collect_outputs(outputs, X):
    """Return per-recording ``outputs`` in the container the input came in.

    A list (or tuple, or object array) of recordings gives a list; a 2-D array of
    equal-length recordings gives an ndarray: stacked when the outputs share one
    shape, else a 1-D object array (ragged), so that ``Xt.shape[0]`` is the number
    of recordings either way. Nested Python lists of numbers, all of one length,
    are a 2-D array-like, as everywhere in scikit-learn, and give an ndarray too.
    """
    # A 2-D array-like written as lists is treated as the array below.
    table = isinstance(X, (list, tuple)) and _is_rectangular_nested(X)
    if not table and (
        isinstance(X, (list, tuple, LazyRecordings))
        or (isinstance(X, np.ndarray) and X.dtype == object)
    ):
        return outputs
    if all(o.shape == outputs[0].shape for o in outputs):
        return np.stack(outputs)
    out = np.empty(len(outputs), dtype=object)
    out[:] = outputs
    return out


class WaveformTransformerMixin(TransformerMixin):
    """Common plumbing: validation in ``fit``, per-recording ``transform``.

    Subclasses implement ``_transform_one(y)`` and may override ``_fit``. Input is
    a list of 1-D waveforms, a 2-D array (equal lengths) or a list of paths.
    """

    @property
    def _min_samples(self):
        """The shortest recording accepted: one hop, so at least one frame of its own.

        Frames are centred and padded, so a 1-sample recording would still give a
        frame (of padding) and a confident score; one hop of samples is the least
        that is analysed at all.
        """
        hop = getattr(self, "hop_length", None)
        return int(hop) if isinstance(hop, (int, np.integer)) and hop > 0 else 1

    def _validate_params_and_input(self, X):
        """Check the parameters and every recording, keeping none of them.

        Files are checked from their headers (decoding a corpus just to validate
        it would double the cost of ``fit_transform``), and a LazyRecordings not
        at all (its files were checked when it was made); samples are checked
        when ``transform`` reads them, with errors naming the recording.
        """
        if hasattr(self, "_check_params"):
            self._check_params()
        if isinstance(X, LazyRecordings):
            check_lazy_rate(X, self.sr)
            return
        paths = all_paths(X)
        if paths is not None:
            check_paths(paths)
            return
        for _ in iter_waveforms(X, min_samples=self._min_samples, allow_paths=True, sr=self.sr):
            pass

    def fit(self, X, y=None):
        """Validate the parameters and the input; nothing is learnt from the data.

        Parameters
        ----------
        X : list of 1-D arrays, 2-D array or list of paths
            Recordings at the sample rate ``sr``.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate_params_and_input(X)
        self._fit()
        self.fitted_ = True
        return self

    def _fit(self):
        pass

    def _get_fitted_state(self):
        """Nothing is learnt from the data: the parameters are the whole state."""
        return {}, {}

    def _set_fitted_state(self, record, tensors):
        """Fitted from the parameters alone, as ``fit`` does (see ``skvoice._state``)."""

        require(record == {} and not tensors, f"{type(self).__name__} holds no fitted state")
        if hasattr(self, "_check_params"):
            self._check_params()
        self._fit()
        self.fitted_ = True

    def _iter_checked(self, X):
        check_is_fitted(self)
        return iter_waveforms(X, min_samples=self._min_samples, allow_paths=True, sr=self.sr)

    def _map(self, X, func):
        """Apply ``func`` to every recording, in parallel when ``n_jobs`` asks."""
        waves = self._iter_checked(X)
        n_jobs = getattr(self, "n_jobs", None)
        if n_jobs in (None, 1):
            total = len(X) if hasattr(X, "__len__") else None
            return [func(w) for w in progress(waves, total, type(self).__name__)]
        return Parallel(n_jobs=n_jobs)(delayed(func)(w) for w in waves)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = []
        tags.requires_fit = True
        return tags
