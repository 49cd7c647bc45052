"""What every degradation shares: seeding, the optional extra, per-recording draws."""

import contextlib
import importlib
import random
import zlib
from abc import ABCMeta, abstractmethod
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from .._base import WaveformTransformerMixin, collect_outputs

__all__ = ["Degradation", "require_extra", "seeded_globals"]


def require_extra(module):
    """Import ``module`` of the ``augment`` extra, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{module} is needed for this degradation: pip install 'skvoice[augment]'"
        ) from exc


@contextlib.contextmanager
def seeded_globals(rng):
    """Seed Python's and numpy's global generators from ``rng``, then restore them.

    audiomentations and pyroomacoustics draw from the global generators; seeding
    them for the call (and restoring them after) makes a degradation depend on its
    own ``random_state`` only, without changing the caller's random streams.
    """
    seed = int(rng.integers(2**32))
    py_state, np_state = random.getstate(), np.random.get_state()  # noqa: NPY002 (the library's own global state)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)  # noqa: NPY002


class Degradation(WaveformTransformerMixin, BaseEstimator, metaclass=ABCMeta):
    """Base of the degradations: waveforms in, degraded waveforms of the same rate out.

    ``transform`` draws every recording's degradation from ``random_state``: the
    same seed gives the same output, call after call (a fixed test condition).
    :meth:`degrade` applies one fresh draw from a generator the caller holds (a new
    draw each epoch when training). Subclasses implement ``_degrade(y, rng)``.
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def _check_params(self):
        self._validate_params()

    @abstractmethod
    def _degrade(self, y, rng):
        """One draw of the degradation of the float32 waveform ``y``."""

    def degrade(self, y, rng):
        """One draw of the degradation of one waveform.

        Parameters
        ----------
        y : 1-D array
            A waveform at ``sr``.
        rng : numpy.random.Generator
            Where the draw comes from.

        Returns
        -------
        z : 1-D float32 array
        """
        z = self._degrade(np.asarray(y, dtype=np.float32), rng)
        return np.clip(np.nan_to_num(z), -1.0, 1.0).astype(np.float32)

    def transform(self, X):
        """Degrade each recording, with draws fixed by ``random_state``.

        Parameters
        ----------
        X : list of 1-D arrays, 2-D array or list of paths
            Recordings at the sample rate ``sr``.

        Returns
        -------
        Xt : list of 1-D float32 arrays, or ndarray
            The degraded recordings, at ``sr`` (a 2-D array when ``X`` is one and
            the lengths are kept).
        """
        # Each recording's draw is seeded by random_state and the recording's own
        # samples: the same recording is degraded alike in any batch, order or subset.
        base = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        out = []
        for w in self._iter_checked(X):
            w = np.ascontiguousarray(w, dtype=np.float32)
            out.append(self.degrade(w, np.random.default_rng([base, zlib.crc32(w.tobytes())])))
        return collect_outputs(out, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
