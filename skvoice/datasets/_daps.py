"""The DAPS corpus (Mysore 2015): layout, loader and download."""

import json
import re
import urllib.request
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._base import get_data_home, list_audio_files, read_many, target_from
from ._download import fetch_archive, unpack

__all__ = ["DAPS_ALLOWED_SPEAKERS", "load_daps", "fetch_daps"]

DAPS_ALLOWED_SPEAKERS = ("f1", "f7", "f8", "m3", "m6", "m8")
DAPS_RECORD_URL = "https://zenodo.org/api/records/4660670"
DAPS_ARCHIVE_NAME = "daps.tar.gz"

_NAME = re.compile(r"^(?P<speaker>[fm]\d+)_(?P<script>script\d+)_(?P<version>[A-Za-z0-9_]+)$")

_DESCR = """\
DAPS (Device and Produced Speech) data set
------------------------------------------

Twenty speakers (f1-f10, m1-m10) each read five scripts; every recording exists
in a clean studio version, a produced version and versions re-recorded on
consumer devices (iPhone, iPad) in several rooms. Here the allowed speakers of
the access-control task are {allowed}.

G. J. Mysore, "Can we automatically transform speech recorded on common consumer
devices in real-world environments into professional production quality
speech?", IEEE Signal Processing Letters 22(8), 2015. Zenodo record 4660670.
"""


def is_daps_file(name):
    """Whether a file name (without extension) follows DAPS's speaker_script_version."""
    return _NAME.match(name) is not None


def _find_root(path):
    """The folder that holds the version folders (the archive nests one level)."""
    path = Path(path)
    subs = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
    if any(_NAME.match(f.stem) for p in subs for f in p.iterdir()):
        return path
    return _find_root(subs[0]) if len(subs) == 1 else path


def load_daps(
    path,
    versions=("clean",),
    allowed=DAPS_ALLOWED_SPEAKERS,
    sr=16000,
    n_jobs=None,
    return_paths=False,
):
    """Load the DAPS corpus from its extracted folder.

    Parameters
    ----------
    path : str or path-like
        The extracted corpus: a folder with one sub-folder per version
        (``clean/``, ``cleanraw/``, ``produced/``, ``iphone_livingroom1/``, ...),
        each holding files such as ``f1_script1_clean.wav``.
    versions : sequence of str or "all", default=("clean",)
        Versions (folder names) to read; ``"all"`` reads every version found.
    allowed : sequence of str, default=DAPS_ALLOWED_SPEAKERS
        Speakers whose target is 1.
    sr : int, default=16000
        Sample rate of the returned waveforms (resampled with soxr).
    n_jobs : int, default=None
        Files decoded in parallel (threads).
    return_paths : bool, default=False
        Return the file paths in ``data`` instead of decoding them, for corpora
        larger than memory: every skvoice transformer reads paths one at a time
        (see :class:`~skvoice.io.LazyRecordings`).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (waveforms), ``target``, ``speaker``, ``script``, ``version``,
        ``filename``, ``sr``, ``skipped`` (files whose name does not follow the
        corpus naming, also reported in a warning) and ``DESCR``.

    Examples
    --------
    >>> import os, tempfile, numpy as np, soundfile as sf
    >>> from skvoice.datasets import load_daps
    >>> root = tempfile.mkdtemp(); os.mkdir(os.path.join(root, "clean"))
    >>> sf.write(os.path.join(root, "clean", "f1_script1_clean.wav"), np.zeros(160), 16000)
    >>> daps = load_daps(root)
    >>> daps.speaker.tolist(), daps.target.tolist(), daps.script.tolist()
    (['f1'], [1], ['script1'])
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"DAPS folder not found: {str(path)!r}")
    root = _find_root(path)
    found = sorted(
        p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))
    )
    if isinstance(versions, str):
        versions = found if versions == "all" else (versions,)
    missing = [v for v in versions if v not in found]
    if missing:
        raise ValueError(f"Version(s) {missing} not found in {str(root)!r}; available: {found}.")
    files, meta, skipped = [], [], []
    for version in versions:
        for f in list_audio_files(root / version):
            m = _NAME.match(f.stem)
            if m is None:
                skipped.append(str(f))
                continue
            files.append(f)
            meta.append((m["speaker"], m["script"], version))
    if skipped:
        warnings.warn(
            f"{len(skipped)} file(s) do not follow the DAPS naming "
            f"(speaker_scriptN_version.wav) and were not loaded, e.g. {skipped[0]!r}; "
            "see the 'skipped' field.",
            UserWarning,
            stacklevel=2,
        )
    if not files:
        raise ValueError(f"No DAPS recordings found under {str(root)!r} for {list(versions)}.")
    speaker, script, version = (np.array(col) for col in zip(*meta))
    return Bunch(
        data=[str(f) for f in files]
        if return_paths
        else read_many(files, sr, n_jobs=n_jobs, desc="Reading DAPS"),
        target=target_from(speaker, allowed),
        speaker=speaker,
        script=script,
        version=version,
        filename=np.array([str(f) for f in files]),
        sr=sr,
        skipped=skipped,
        allowed=list(allowed),
        DESCR=_DESCR.format(allowed=", ".join(allowed)),
    )


def _archive_info(record_url, opener):
    """URL and checksum (``algo:hex``) of the archive, from the Zenodo record."""
    with opener(record_url) as resp:
        record = json.loads(resp.read().decode("utf-8"))
    for entry in record.get("files", []):
        if entry.get("key") == DAPS_ARCHIVE_NAME:
            links = entry.get("links", {})
            return links.get("self") or links.get("download"), entry.get("checksum")
    raise OSError(f"{DAPS_ARCHIVE_NAME} is not listed in the record {record_url}.")


def fetch_daps(
    data_home=None,
    download_if_missing=True,
    *,
    versions=("clean",),
    allowed=DAPS_ALLOWED_SPEAKERS,
    sr=16000,
    n_jobs=None,
    url=None,
    checksum=None,
    opener=None,
):
    """Download (once) and load the DAPS corpus.

    The archive (about 14 GB) is downloaded into ``data_home``, its checksum
    verified, and extracted; later calls load the extracted copy.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Where to keep the corpus; default ``SKVOICE_DATA`` or ``~/skvoice_data``.
    download_if_missing : bool, default=True
        If False, raise ``OSError`` instead of downloading.
    versions, allowed, sr, n_jobs
        As in :func:`load_daps`.
    url : str, default=None
        Archive URL. Default: the link listed in Zenodo record 4660670.
    checksum : str, default=None
        Expected ``"algorithm:hexdigest"`` (e.g. ``"md5:..."``). Default: the
        checksum Zenodo lists for the archive; always verified when known.
    opener : callable, default=None
        ``opener(url)`` returning a file-like response; default
        :func:`urllib.request.urlopen`. Also reads ``file://`` URLs.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        As :func:`load_daps`.

    Examples
    --------
    >>> from skvoice.datasets import fetch_daps
    >>> daps = fetch_daps(versions=("clean",))  # doctest: +SKIP
    """
    opener = opener or urllib.request.urlopen
    home = get_data_home(data_home)
    target = home / "daps"
    done = target / ".complete"
    if not done.exists():
        if not download_if_missing:
            raise OSError(f"DAPS is not in {str(home)!r} and download_if_missing=False.")
        if url is None:
            url, listed = _archive_info(DAPS_RECORD_URL, opener)
            checksum = checksum or listed
        fetch_archive(url, home / DAPS_ARCHIVE_NAME, checksum, opener)
        unpack(home / DAPS_ARCHIVE_NAME, target)
    return load_daps(target, versions=versions, allowed=allowed, sr=sr, n_jobs=n_jobs)
