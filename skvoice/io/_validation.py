"""Validation of waveform batches, shared by every estimator."""

import numbers
import os

import numpy as np

from ._audio import load_audio
from ._lazy import LazyRecordings

__all__ = ["check_waveforms", "is_path_like", "all_paths", "as_waveform"]


def is_path_like(obj):
    """Return True if ``obj`` names a file (str or os.PathLike)."""
    return isinstance(obj, (str, os.PathLike))


def all_paths(X):
    """The file paths of ``X`` if it is a LazyRecordings or a list of paths only, else None."""
    if isinstance(X, LazyRecordings):
        return X.paths
    if isinstance(X, (list, tuple)) and len(X) and all(is_path_like(x) for x in X):
        return list(X)
    return None


def as_waveform(x, index, dtype):
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"Recording {index}: expected numeric samples, got dtype {arr.dtype}.")
    if np.iscomplexobj(arr):
        raise ValueError(f"Recording {index}: Complex data not supported.")
    if arr.ndim != 1:
        raise ValueError(
            f"Recording {index}: expected a 1-D waveform, got an array of shape {arr.shape}."
        )
    if arr.size == 0:
        raise ValueError(f"Recording {index}: the waveform is empty.")
    if np.issubdtype(arr.dtype, np.integer):
        # Integer PCM: scale to [-1, 1) by the full range of the type.
        if arr.dtype == np.uint8:
            arr = (arr.astype(np.float32) - 128.0) / 128.0
        else:
            arr = arr.astype(np.float32) / float(-np.iinfo(arr.dtype).min)
    else:
        arr = arr.astype(dtype, copy=True)  # never hand back the caller's buffer
    if not np.all(np.isfinite(arr)):
        bad = "NaN" if np.isnan(arr).any() else "infinite"
        raise ValueError(f"Recording {index}: the waveform contains {bad} values.")
    return arr


def check_waveforms(X, *, dtype=np.float32, min_samples=1, allow_paths=False, sr=None):
    """Validate a batch of recordings and return it as a list of 1-D arrays.

    Parameters
    ----------
    X : list, tuple, 1-D object array or 2-D array
        One recording per item: a list/tuple/object array of 1-D arrays of any
        lengths, or a 2-D array of shape ``(n_recordings, n_samples)``.
        Integer PCM (``int16``, ``int32``, ``uint8``) is scaled to ``[-1, 1)``.
    dtype : numpy dtype, default=np.float32
        Floating point type of the returned waveforms.
    min_samples : int, default=1
        Minimum number of samples of every recording.
    allow_paths : bool, default=False
        If True, items may be paths to audio files; they are read with
        :func:`skvoice.io.load_audio` at the sample rate ``sr``.
    sr : int, default=None
        Sample rate used to read paths.

    Returns
    -------
    waveforms : list of ndarray
        New arrays (the caller's arrays are never modified), one per recording.

    Raises
    ------
    ValueError
        Naming the recording index, for an empty, NaN/inf, non-numeric or
        wrongly shaped recording, or an empty batch.

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.io import check_waveforms
    >>> X = check_waveforms([np.zeros(4, dtype=np.int16), [0.5, -0.5, 0.0]])
    >>> [x.dtype.name for x in X], [len(x) for x in X]
    (['float32', 'float32'], [4, 3])
    """
    return list(
        iter_waveforms(X, dtype=dtype, min_samples=min_samples, allow_paths=allow_paths, sr=sr)
    )


def _as_batch(X):
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError(
            "Sparse input is not supported: pass waveforms as dense arrays (a list of "
            "1-D arrays or a 2-D array)."
        )
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 2:
        X = X.astype(np.float64)  # a table of numbers stored as objects
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim == 2 and X.shape[1] == 0:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is "
                "required: the recordings have no samples."
            )
        if X.ndim == 1:
            raise ValueError(
                "Expected a batch of recordings (a list of 1-D waveforms or a 2-D "
                f"array), got a single 1-D array of shape {X.shape}. Reshape your data: "
                "wrap one recording in a list, [x]."
            )
        if X.ndim != 2:
            raise ValueError(
                "Expected a list of 1-D waveforms or a 2-D array (n_recordings, "
                f"n_samples), got an array of shape {X.shape}."
            )
        return X
    if hasattr(X, "iloc") or hasattr(X, "to_numpy"):  # pandas Series / DataFrame
        X = X.to_numpy()
        return _as_batch(X)
    if isinstance(X, np.ndarray):
        if X.ndim != 1:
            raise ValueError(f"Expected a 1-D object array, got shape {X.shape}.")
        return X
    if isinstance(X, (list, tuple, LazyRecordings)):
        return X
    if hasattr(X, "__array__"):  # other array-likes
        return _as_batch(np.asarray(X))
    if is_path_like(X):
        raise TypeError("Expected a batch of recordings, got a single path; wrap it in a list.")
    raise TypeError(f"Expected a list of 1-D waveforms or a 2-D array, got {type(X).__name__}.")


def check_lazy_rate(X, sr):
    """Refuse a LazyRecordings read at another rate than the step's ``sr``."""
    if isinstance(X, LazyRecordings) and sr is not None and X.sr != sr:
        raise ValueError(
            f"These LazyRecordings are read at {X.sr} Hz but this step works at sr={sr}: "
            f"make them with sr={sr} (the files are then resampled), or set the step's "
            f"sr={X.sr}."
        )


def iter_waveforms(X, *, dtype=np.float32, min_samples=1, allow_paths=False, sr=None):
    """Yield validated waveforms one at a time (see :func:`check_waveforms`).

    Reading lazily keeps only one decoded file in memory when ``X`` holds paths.
    """
    batch = _as_batch(X)
    if len(batch) == 0:
        raise ValueError("Expected at least one recording, got an empty batch.")
    check_lazy_rate(batch, sr)
    paths = batch.paths if isinstance(batch, LazyRecordings) else None
    for i, x in enumerate(batch):
        source = paths[i] if paths is not None else (x if is_path_like(x) else None)
        if is_path_like(x):
            if not allow_paths:
                raise TypeError(f"Recording {i}: got a path {str(x)!r}, expected samples.")

            x = load_audio(x, sr=sr)
        elif isinstance(x, numbers.Number) or x is None:
            raise ValueError(
                f"Recording {i}: expected a 1-D waveform, got {type(x).__name__}. "
                "A 2-D array is read as (n_recordings, n_samples)."
            )
        arr = as_waveform(x, i, dtype)
        if arr.shape[0] < min_samples:
            where = f" ({str(source)!r})" if source is not None else ""
            table = (
                f" (a 2-D array's columns are samples: found array with {arr.shape[0]} feature(s))"
                if isinstance(batch, np.ndarray) and batch.dtype != object
                else ""
            )
            raise ValueError(
                f"Recording {i}{where}: {arr.shape[0]} samples, shorter than one analysis "
                f"hop of {min_samples} samples{table}; too short to decide on."
            )
        yield arr
