"""DSPSpeech-20: isolated words (Mandarin and English) of 34 speakers, a corpus for checks.

speechocean762 is read English sentences from Mandarin speakers; DSPSpeech-20 is
short isolated words at another place and with other microphones. skvoice uses
it only to check that a choice made on speechocean762 holds elsewhere, never to
tune one.
"""

import os
import re
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

from ._base import read_many, target_from
from ._download import file_digest

__all__ = ["load_dspspeech20", "DSPSPEECH20_WORDS"]

#: The 20 words, by label (the ``-LL-`` of a file name).
DSPSPEECH20_WORDS = (
    "数字",
    "语音",
    "语言",
    "识别",
    "中国",
    "总工",
    "北京",
    "背景",
    "上海",
    "商行",
    "复旦",
    "饭店",
    "Speech",
    "Speaker",
    "Signal",
    "Process",
    "Print",
    "Open",
    "Close",
    "Project",
)

_NAME = re.compile(r"^(?P<speaker>\d+)-(?P<word>\d{2})-(?P<repetition>\d{2})\.wav$", re.I)

_DESCR = """\
DSPSpeech-20
------------

Isolated words, 20 of them (12 Mandarin, 8 English: see
``DSPSPEECH20_WORDS``), each said 20 times by each of 34 speakers; 16 kHz, 16-bit
mono WAV, about 2 s a file. Files are
``speech_data/{speaker}/{speaker}-{word}-{repetition}.wav``.

Source: https://github.com/zhongyuchen/DSPSpeech-20 (Zhongyu Chen and the
contributors of the Fudan University digital signal processing course);
licence: MIT. The corpus holds files whose content is byte for byte that of
another file; the loader keeps the first of each (by path) and says how many it
dropped (``n_duplicates``).
"""


def _find_root(data_home):
    """The folder holding the speakers' folders (``speech_data`` or the one given)."""
    root = Path(data_home).expanduser()
    if (root / "speech_data").is_dir():
        return root / "speech_data"
    return root


@validate_params(
    {
        "data_home": [str, os.PathLike],
        "allowed": ["array-like", None],
        "words": ["array-like", None],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "return_paths": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_dspspeech20(
    data_home, *, allowed=None, words=None, sr=16000, n_jobs=None, return_paths=False
):
    """Load DSPSpeech-20 from a local copy (a clone of its repository).

    Parameters
    ----------
    data_home : str or path-like
        The repository's folder (holding ``speech_data/``), or ``speech_data``
        itself.
    allowed : sequence of str, default=None
        Speakers whose target is 1 (names not in the corpus raise
        ``ValueError``); None: every target is 0.
    words : sequence of int, default=None
        Word labels to keep (0-19, see :data:`DSPSPEECH20_WORDS`); None: all.
    sr : int, default=16000
        Sample rate of the returned waveforms (the files are at 16 kHz).
    n_jobs : int, default=None
        Files decoded in parallel (threads).
    return_paths : bool, default=False
        Return the file paths in ``data`` instead of decoding them.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (waveforms or paths), ``target``, ``speaker``, ``word`` (label),
        ``repetition``, ``filename``, ``sr``, ``n_duplicates`` (files dropped as
        exact copies of another), ``duplicates`` (``(dropped, kept)`` pairs of
        paths), ``allowed`` and ``DESCR``. Rows are sorted by path.

    Examples
    --------
    >>> from skvoice.datasets import load_dspspeech20
    >>> ds = load_dspspeech20("DSPSpeech-20", return_paths=True)  # doctest: +SKIP
    >>> len(set(ds.speaker)), ds.n_duplicates  # doctest: +SKIP
    (34, ...)
    """
    root = _find_root(data_home)
    if not root.is_dir():
        raise FileNotFoundError(f"DSPSpeech-20 folder not found: {str(data_home)!r}")
    rows = []
    for path in sorted(root.glob("*/*")):
        match = _NAME.match(path.name)
        if match and path.is_file() and match["speaker"] == path.parent.name:
            rows.append((path, match["speaker"], int(match["word"]), int(match["repetition"])))
    if not rows:
        raise ValueError(f"No DSPSpeech-20 files (speaker/speaker-WW-RR.wav) under {str(root)!r}.")
    if words is not None:
        keep = {int(w) for w in words}
        bad = sorted(keep - set(range(len(DSPSPEECH20_WORDS))))
        if bad:
            raise ValueError(f"words must be labels 0-19, got {bad}.")
        rows = [r for r in rows if r[2] in keep]
    kept, seen, duplicates = [], {}, []
    for row in rows:
        digest = file_digest(row[0], "sha256")
        if digest in seen:
            duplicates.append((str(row[0]), str(seen[digest])))
            continue
        seen[digest] = row[0]
        kept.append(row)
    files, speaker, word, repetition = (list(c) for c in zip(*kept))
    speaker = np.array(speaker)
    if allowed is not None:
        missing = sorted(set(map(str, allowed)) - set(speaker))
        if missing:
            raise ValueError(f"Allowed speakers {missing} are not in the corpus.")
    filenames = np.array([str(f) for f in files])
    return Bunch(
        data=list(filenames)
        if return_paths
        else read_many(files, sr, n_jobs=n_jobs, desc="Reading DSPSpeech-20"),
        target=target_from(speaker, allowed),
        speaker=speaker,
        word=np.array(word),
        repetition=np.array(repetition),
        filename=filenames,
        sr=sr,
        n_duplicates=len(duplicates),
        duplicates=duplicates,
        allowed=[] if allowed is None else [str(a) for a in allowed],
        DESCR=_DESCR,
    )
