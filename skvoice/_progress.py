"""Progress bars that the command line turns on: off by default in the library."""

import contextlib
import contextvars

__all__ = ["show_progress", "progress"]

_ENABLED = contextvars.ContextVar("skvoice_progress", default=False)


@contextlib.contextmanager
def show_progress(enabled=True):
    """Within this block, long per-recording loops show a tqdm bar (on stderr)."""
    token = _ENABLED.set(bool(enabled))
    try:
        yield
    finally:
        _ENABLED.reset(token)


def progress(iterable, total=None, desc=None):
    """``iterable`` wrapped in a tqdm bar when :func:`show_progress` is on."""
    if not _ENABLED.get():
        return iterable
    from tqdm.auto import tqdm

    # disable=None: no bar when standard error is not a terminal (no escape codes in logs).
    return tqdm(iterable, total=total, desc=desc, leave=False, disable=None)
