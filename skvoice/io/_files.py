"""Opening a file that must be a regular file: never block, never read without bound.

A path may name a folder, a named pipe (FIFO), a device such as ``/dev/zero``
or a socket. Opening a FIFO for reading blocks until someone writes to it, and
a device can be read forever, while ``stat`` gives either a size of 0. So the
file is opened without blocking, its kind is checked on the open descriptor
(not on the path, which could change in between), and reads are capped by
what is actually read.
"""

import os
import stat

__all__ = ["open_regular", "read_capped"]

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode):
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path, what="file", error=ValueError):
    """Open ``path`` for binary reading if it is a regular file.

    Parameters
    ----------
    path : str or path-like
        The file.
    what : str, default="file"
        What the file should be, for the messages ("audio file", "model file").
    error : type, default=ValueError
        The exception raised for a FIFO, a device or a socket.

    Returns
    -------
    fh : file object
        Open in binary mode, positioned at the start.

    Raises
    ------
    FileNotFoundError
        No such path.
    IsADirectoryError
        ``path`` is a folder.
    error
        ``path`` is a FIFO, a device or a socket (named in the message).
    """
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode  # never blocks, whatever the path is
    except FileNotFoundError:
        raise FileNotFoundError(f"No such {what}: {path!r}") from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"Expected an {what}, got a folder: {path!r}")
    if not stat.S_ISREG(mode):
        raise error(f"{path!r} is {_kind(mode)}, not a regular {what}.")
    # O_NONBLOCK: had the path been swapped for a FIFO since the stat, opening
    # it still returns at once; the check below then refuses it.
    fh = open(path, "rb", opener=_open_nonblocking)
    try:
        mode = os.fstat(fh.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise error(f"{path!r} is {_kind(mode)}, not a regular {what}.")
        if hasattr(os, "set_blocking"):  # POSIX (and Windows from Python 3.12)
            os.set_blocking(fh.fileno(), True)
        return fh
    except BaseException:
        fh.close()
        raise


def _open_nonblocking(path, flags):
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def read_capped(fh, limit, what):
    """At most ``limit`` bytes of ``fh``; a ``ValueError`` if there are more.

    The cap is on the bytes read, not on a size that ``stat`` or a header
    declares.
    """
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{what} is larger than {limit} bytes.")
    return data
