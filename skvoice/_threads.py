"""How many threads torch and the BLAS use: a default that is safe on a busy machine."""

import contextlib
import os

__all__ = ["default_threads", "limit_threads"]


def default_threads():
    """The cores this process may use, less one (at least one).

    torch's pools default to every core; when another process holds one of
    them, the pool's threads wait on each other, and work slows several times
    instead of by the share taken (``benchmarks/results/threads.md``). One core
    left free keeps a busy machine at the speed of an idle one a core smaller.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


@contextlib.contextmanager
def limit_threads(n=None):
    """Limit torch, BLAS and OpenMP pools to ``n`` threads inside the block.

    Parameters
    ----------
    n : int or None, default=None
        Threads; None: :func:`default_threads`.

    Examples
    --------
    >>> import torch
    >>> from skvoice import limit_threads
    >>> with limit_threads(1):
    ...     torch.get_num_threads()
    1
    """
    import torch
    from threadpoolctl import threadpool_limits

    n = default_threads() if n is None else int(n)
    if n < 1:
        raise ValueError(f"threads must be at least 1, got {n}.")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(before)
