"""Helpers shared by the file-based loaders."""

import os
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from .._warnings import DuplicateRecordingWarning, warn_caller
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


def _content_digest(path):
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.digest()


#: Fields of a loader's Bunch that are not one value per recording.
_NOT_PER_RECORDING = {"duplicates", "skipped", "allowed", "sr", "DESCR"}


def subset_recordings(bunch, keep):
    """Keep only the recordings ``keep`` indexes (or masks), in every per-recording field.

    Every array or list of one value per recording is cut alike; the fields that
    describe the corpus (``_NOT_PER_RECORDING``) are left as they are. Returns
    ``bunch``, changed in place.
    """
    n = len(bunch.filename)
    keep = np.asarray(keep)
    index = np.flatnonzero(keep) if keep.dtype == bool else keep
    for key, value in list(bunch.items()):
        if key in _NOT_PER_RECORDING or isinstance(value, (str, bytes)):
            continue
        if isinstance(value, np.ndarray) and value.ndim >= 1 and len(value) == n:
            bunch[key] = value[index]
        elif isinstance(value, list) and len(value) == n:
            bunch[key] = [value[i] for i in index]
    return bunch


def drop_duplicate_recordings(bunch):
    """``bunch`` without the recordings whose file repeats an earlier file's bytes.

    A corpus that holds copies of a recording (under other names, or other
    speakers' folders) would put the same audio in training and test. Every
    array of one value per recording is cut alike; ``duplicates`` lists
    ``(left out, kept)`` pairs, and a :class:`DuplicateRecordingWarning` says how
    many were left out.
    """
    names = [str(f) for f in bunch.filename]
    seen, keep, duplicates = {}, [], []
    for i, f in enumerate(names):
        digest = _content_digest(f)
        if digest in seen:
            duplicates.append((f, names[seen[digest]]))
        else:
            seen[digest] = i
            keep.append(i)
    bunch["duplicates"] = duplicates
    if not duplicates:
        return bunch
    subset_recordings(bunch, keep)
    first = duplicates[0]
    warn_caller(
        f"{len(duplicates)} of {len(names)} audio files repeat an earlier file's content and were "
        f"left out (e.g. {first[0]!r} is a copy of {first[1]!r}): the same recording "
        "in training and in test would make the test a memory test. The pairs are in "
        "the 'duplicates' field.",
        DuplicateRecordingWarning,
    )
    return bunch
