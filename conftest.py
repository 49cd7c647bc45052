"""Loaded before any test or doctest module (so before numba is imported)."""

import os
import tempfile

# numba's on-disk cache (librosa's and ours) is not safe against two processes
# compiling the same function at once: give each pytest-xdist worker its own.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    os.environ.setdefault(
        "NUMBA_CACHE_DIR", os.path.join(tempfile.gettempdir(), f"skvoice-numba-{_worker}")
    )
