"""Persisted state: what an estimator gives to a model file and takes back from one.

Every estimator that :func:`skvoice.save_model` can write owns its state, as
skops has each type own its state: two methods,

- ``_get_fitted_state()`` -> ``(record, tensors)``: its fitted attributes as
  JSON-ready values, and any torch tensors (a network's weights) by name;
- ``_set_fitted_state(record, tensors)``: the reverse on an estimator built from
  its parameters. The record comes from a file nobody vouches for, so every
  value is checked here, before it is used, and a bad one raises
  :class:`StateError` (the loader adds the file's name).

The helpers below are the checks and conversions they share.
"""

import json
import math
import os
from numbers import Integral, Real

import numpy as np

__all__ = ["StateError", "require", "is_int", "is_vector", "is_matrix", "label_list", "jsonable"]


class StateError(ValueError):
    """A persisted state record is invalid (wrong type, range or consistency)."""


def require(cond, why):
    """Raise :class:`StateError` with ``why`` unless ``cond``."""
    if not cond:
        raise StateError(why)


def is_int(v, lo, hi):
    return isinstance(v, Integral) and not isinstance(v, bool) and lo <= v <= hi


def is_vector(v, n):
    """A list of ``n`` finite numbers."""
    return (
        isinstance(v, list)
        and len(v) == n
        and all(isinstance(x, Real) and not isinstance(x, bool) and math.isfinite(x) for x in v)
    )


def is_matrix(v, n_cols, max_rows):
    """A list of at most ``max_rows`` rows of ``n_cols`` finite numbers."""
    return isinstance(v, list) and len(v) <= max_rows and all(is_vector(r, n_cols) for r in v)


def label_list(v):
    """Two or more distinct class labels (strings or numbers)."""
    return (
        isinstance(v, list)
        and len(v) >= 2
        and all(isinstance(x, (str, Real)) for x in v)
        and len({json.dumps(x) for x in v}) == len(v)
    )


def jsonable(value):
    """numpy values and paths as plain JSON values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, tuple):
        return [jsonable(v) for v in value]
    return value
