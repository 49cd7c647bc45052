"""One way to write a file so that readers never see it half-written."""

import contextlib
import os
import tempfile

__all__ = ["atomic_write"]


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file next to ``path``; move it onto ``path`` on success.

    On any exception (Ctrl-C included) the temporary file is removed and
    ``path`` is left as it was. The temporary file lives in the destination
    folder, so the final rename is atomic on one file system.

    Parameters
    ----------
    path : str or path-like
        Destination.
    mode : {"wb", "w"}, default="wb"
        Mode of the temporary file.

    Yields
    ------
    fh : file object
        The open temporary file.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".part")
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
