"""Helpers shared by the file-based loaders."""

import os
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from ..io import load_audio

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif")


def get_data_home(data_home=None):
    """Folder where skvoice keeps downloaded data, created if missing.

    ``data_home`` if given, else the ``SKVOICE_DATA`` environment variable, else
    ``~/skvoice_data``.

    Examples
    --------
    >>> import tempfile
    >>> from skvoice.datasets import get_data_home
    >>> get_data_home(tempfile.mkdtemp()).is_dir()
    True
    """
    if data_home is None:
        data_home = os.environ.get("SKVOICE_DATA", Path("~") / "skvoice_data")
    path = Path(data_home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def list_audio_files(root):
    """Sorted audio files under ``root`` (recursively), skipping hidden ones.

    Symbolic links to folders are followed (a speaker folder is often a link to
    where the recordings live), each real folder once, so a link cycle ends.
    """
    root = Path(root)
    found, seen = [], set()
    for folder, dirs, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            path = Path(folder) / name
            if (
                not name.startswith(".")
                and path.suffix.lower() in AUDIO_EXTENSIONS
                and path.is_file()
            ):
                found.append(path)
    return sorted(found)


def read_many(paths, sr, n_jobs=None, desc="Reading audio"):
    """Decode ``paths`` in parallel (threads: libsndfile and soxr release the GIL)."""
    from tqdm.auto import tqdm

    paths = list(paths)
    show = len(paths) >= 20
    jobs = (
        delayed(load_audio)(p, sr=sr)
        for p in tqdm(paths, desc=desc, disable=None if show else True)
    )
    return Parallel(n_jobs=n_jobs, prefer="threads")(jobs)


def target_from(speakers, allowed):
    """1 for recordings whose speaker is in ``allowed``, else 0."""
    allowed = [str(a) for a in np.atleast_1d(allowed)] if allowed is not None else []
    return np.isin(np.asarray(speakers, dtype=str), allowed).astype(np.int64)
