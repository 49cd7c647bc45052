"""speechocean762 (Zhang et al. 2021): 250 real speakers, the development corpus."""

import hashlib
import urllib.request
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._base import get_data_home, read_many, target_from
from ._download import fetch_archive, file_digest, unpack

__all__ = ["load_speechocean762", "fetch_speechocean762"]

SPEECHOCEAN762_URL = "https://www.openslr.org/resources/101/speechocean762.tar.gz"
# SHA-256 over the corpus's 5,000 listed audio files (see ``_audio_digest``),
# computed on the copy the corpus authors publish on GitHub
# (jimbozhang/speechocean762). It checks the unpacked audio whatever the archive's
# compression or timestamps.
SPEECHOCEAN762_AUDIO_SHA256 = "9f63963f69073fb48810aa7f86ed8604727cc6c1898592e9a49c99461f0da6a6"

_SUBSETS = ("train", "test")

_DESCR = """\
speechocean762
--------------

5,000 English utterances read by 250 Mandarin L1 speakers (children and adults,
about half female), 16 kHz mono, 1.6-20 s (median 3.6 s); 125 speakers in
``train/`` and 125 in ``test/``. Released for pronunciation scoring; here its
speakers serve speaker verification and access control.

J. Zhang, Z. Zhang, Y. Wang, Z. Yan, Q. Song, Y. Huang, K. Li, D. Povey and
Y. Wang, "speechocean762: An Open-Source Non-native English Speech Corpus For
Pronunciation Assessment", Interspeech 2021. OpenSLR resource 101, licence
CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).
"""


def _read_kaldi_map(path):
    """A Kaldi two-column file (``key value...``) as a dict of strings."""
    out = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            key, *value = line.split(maxsplit=1)
            out[key] = value[0] if value else ""
    return out


def _is_root(path):
    return any((path / s / "wav.scp").is_file() for s in _SUBSETS)


def _find_root(path):
    """The folder that holds ``train/`` and/or ``test/`` (an archive nests one level)."""
    path = Path(path)
    candidates = [path, path / "speechocean762"]
    candidates += sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    for candidate in candidates:
        if _is_root(candidate):
            return candidate
    raise FileNotFoundError(
        f"No speechocean762 corpus under {str(path)!r}: expected train/wav.scp or "
        "test/wav.scp (use fetch_speechocean762 to download it)."
    )


def load_speechocean762(
    data_home=None,
    *,
    subset="train",
    allowed=None,
    sr=16000,
    n_jobs=None,
    return_paths=False,
):
    """Load the speechocean762 corpus from its extracted folder.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The extracted corpus (the folder with ``WAVE/``, ``train/`` and
        ``test/``), or a folder holding it as ``speechocean762/``. Default: the
        copy :func:`fetch_speechocean762` keeps in :func:`get_data_home`.
    subset : {"train", "test", "all"}, default="train"
        The corpus's speaker lists to read (disjoint: 125 speakers each).
    allowed : sequence of str, default=None
        Speakers whose target is 1 (speaker ids as in the corpus, e.g. ``"0001"``);
        none by default.
    sr : int, default=16000
        Sample rate of the returned waveforms (resampled with soxr if needed).
    n_jobs : int, default=None
        Files decoded in parallel (threads).
    return_paths : bool, default=False
        Return the file paths in ``data`` instead of decoding them.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (waveforms or paths), ``target``, ``speaker``, ``gender``
        (``"f"``/``"m"``), ``age`` (years), ``text`` (the prompt read),
        ``utterance`` (the corpus id), ``subset``, ``filename`` (also as
        ``filenames``), ``sr`` and ``DESCR``. Rows are sorted by utterance id.

    Examples
    --------
    >>> from skvoice.datasets import load_speechocean762
    >>> so = load_speechocean762(subset="train", return_paths=True)  # doctest: +SKIP
    >>> len(so.data), len(set(so.speaker))  # doctest: +SKIP
    (2500, 125)
    """
    if subset not in (*_SUBSETS, "all"):
        raise ValueError(f"subset must be 'train', 'test' or 'all', got {subset!r}.")
    if data_home is None:
        data_home = get_data_home() / "speechocean762"
    if not Path(data_home).is_dir():
        raise FileNotFoundError(f"speechocean762 folder not found: {str(data_home)!r}")
    root = _find_root(data_home)
    rows = []
    for name in _SUBSETS if subset == "all" else (subset,):
        d = root / name
        if not (d / "wav.scp").is_file():
            raise FileNotFoundError(f"{str(root)!r} has no {name}/wav.scp (subset={subset!r}).")
        wav, spk = _read_kaldi_map(d / "wav.scp"), _read_kaldi_map(d / "utt2spk")
        gender, age = _read_kaldi_map(d / "spk2gender"), _read_kaldi_map(d / "spk2age")
        text = _read_kaldi_map(d / "text") if (d / "text").is_file() else {}
        for utt in sorted(wav):
            s = spk[utt]
            meta = (gender.get(s, ""), int(age.get(s, -1)), text.get(utt, ""))
            rows.append((utt, s, *meta, name, root / wav[utt]))
    if not rows:
        raise ValueError(f"No utterances listed under {str(root)!r} for subset={subset!r}.")
    missing = [str(r[-1]) for r in rows if not r[-1].is_file()]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} audio file(s) listed in wav.scp are missing, e.g. {missing[0]!r}."
        )
    utt, speaker, gender, age, text, sub, files = (list(c) for c in zip(*rows))
    filenames = np.array([str(f) for f in files])
    speaker = np.array(speaker)
    return Bunch(
        data=list(filenames)
        if return_paths
        else read_many(files, sr, n_jobs=n_jobs, desc="Reading speechocean762"),
        target=target_from(speaker, allowed),
        speaker=speaker,
        gender=np.array(gender),
        age=np.array(age),
        text=np.array(text),
        utterance=np.array(utt),
        subset=np.array(sub),
        filename=filenames,
        filenames=filenames,
        sr=sr,
        allowed=[] if allowed is None else [str(a) for a in allowed],
        DESCR=_DESCR,
    )


def _audio_digest(root):
    """SHA-256 over the audio files that ``wav.scp`` lists: relative path and content."""
    root = Path(root)
    lists = [root / s / "wav.scp" for s in _SUBSETS if (root / s / "wav.scp").is_file()]
    listed = sorted({v for scp in lists for v in _read_kaldi_map(scp).values()})
    h = hashlib.sha256()
    for rel in listed:
        h.update(f"{rel}\0{file_digest(root / rel, 'sha256')}\n".encode())
    return h.hexdigest(), len(listed)


def fetch_speechocean762(
    data_home=None,
    download_if_missing=True,
    *,
    subset="train",
    allowed=None,
    sr=16000,
    n_jobs=None,
    return_paths=False,
    url=SPEECHOCEAN762_URL,
    checksum=None,
    audio_sha256=SPEECHOCEAN762_AUDIO_SHA256,
    opener=None,
):
    """Download (once), verify and load the speechocean762 corpus.

    The OpenSLR archive (about 520 MB) is downloaded into ``data_home``, checked,
    and unpacked to ``data_home/speechocean762``; later calls load that copy.
    Two checks: the archive against ``checksum`` when one is given, and always
    (unless ``audio_sha256=None``) the unpacked audio against a digest of the
    corpus's 5,000 listed files, so a corrupted or altered copy is never used.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Where to keep the corpus; default ``SKVOICE_DATA`` or ``~/skvoice_data``.
    download_if_missing : bool, default=True
        If False, raise ``OSError`` instead of downloading.
    subset : {"train", "test", "all"}, default="train"
        As in :func:`load_speechocean762`.
    allowed : sequence of str, default=None
        As in :func:`load_speechocean762`.
    sr : int, default=16000
        As in :func:`load_speechocean762`.
    n_jobs : int, default=None
        As in :func:`load_speechocean762`.
    return_paths : bool, default=False
        As in :func:`load_speechocean762`.
    url : str, default=SPEECHOCEAN762_URL
        Archive URL (OpenSLR resource 101). ``file://`` URLs work too.
    checksum : str, default=None
        Expected ``"algorithm:hexdigest"`` of the archive (e.g. ``"md5:..."``).
    audio_sha256 : str or None, default=SPEECHOCEAN762_AUDIO_SHA256
        Expected digest of the unpacked audio (see the module's
        ``_audio_digest``); None skips the check (for a corpus of your own
        in the same layout).
    opener : callable, default=None
        ``opener(url)`` returning a file-like response; default
        :func:`urllib.request.urlopen`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        As :func:`load_speechocean762`.

    Examples
    --------
    >>> from skvoice.datasets import fetch_speechocean762
    >>> so = fetch_speechocean762(subset="train", return_paths=True)  # doctest: +SKIP
    """
    opener = opener or urllib.request.urlopen
    home = get_data_home(data_home)
    target = home / "speechocean762"
    done = target / ".complete"
    if not done.exists():
        if not download_if_missing:
            raise OSError(f"speechocean762 is not in {str(home)!r} and download_if_missing=False.")
        archive = home / "speechocean762.tar.gz"
        fetch_archive(url, archive, checksum, opener)

        def verify(root):
            if audio_sha256 is None:
                return
            digest, n = _audio_digest(root)
            if digest != audio_sha256:
                raise OSError(
                    f"The audio unpacked from {url} does not match the published corpus "
                    f"({n} files, sha256 {digest}, expected {audio_sha256}); the archive "
                    "was kept, the unpacked copy removed."
                )

        unpack(archive, target, root_of=_find_root, verify=verify)
    return load_speechocean762(
        target, subset=subset, allowed=allowed, sr=sr, n_jobs=n_jobs, return_paths=return_paths
    )
