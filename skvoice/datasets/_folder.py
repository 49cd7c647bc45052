"""A user's own recordings, one folder per speaker or speakers named in files."""

import re
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._base import drop_duplicate_recordings, list_audio_files, read_many, target_from

__all__ = ["load_speaker_folder"]


def load_speaker_folder(path, allowed, pattern=None, sr=16000, n_jobs=None, return_paths=False):
    """Load recordings labelled by speaker from a folder.

    Parameters
    ----------
    path : str or path-like
        Root folder. Without ``pattern``, each sub-folder is a speaker and holds
        that speaker's audio files (searched recursively).
    allowed : sequence of str
        Speakers whose target is 1. Names not found raise ``ValueError``.
    pattern : str or compiled regex, default=None
        Regular expression applied to each file's path relative to ``path``; its
        group ``speaker`` (or its first group) names the speaker. Files that do
        not match are reported in ``skipped``.
    sr : int, default=16000
        Sample rate of the returned waveforms.
    n_jobs : int, default=None
        Files decoded in parallel (threads).
    return_paths : bool, default=False
        Return the file paths in ``data`` instead of decoding them, for corpora
        larger than memory: every skvoice transformer reads paths one at a time
        (see :class:`~skvoice.io.LazyRecordings`).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data``, ``target``, ``speaker``, ``filename``, ``sr``, ``skipped``.

    Examples
    --------
    >>> import os, tempfile, numpy as np, soundfile as sf
    >>> from skvoice.datasets import load_speaker_folder
    >>> root = tempfile.mkdtemp()
    >>> for k, spk in enumerate(("alice", "bob")):
    ...     os.mkdir(os.path.join(root, spk))
    ...     sf.write(os.path.join(root, spk, "a.wav"), np.full(160, 0.1 * (k + 1)), 16000)
    >>> data = load_speaker_folder(root, allowed=["alice"])
    >>> data.speaker.tolist(), data.target.tolist()
    (['alice', 'bob'], [1, 0])
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"Folder not found: {str(root)!r}")
    files, speakers, skipped = [], [], []
    if pattern is None:
        for f in list_audio_files(root):
            rel = f.relative_to(root)
            if len(rel.parts) < 2:
                skipped.append(str(f))  # a file at the top has no speaker folder
                continue
            files.append(f)
            speakers.append(rel.parts[0])
    else:
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        for f in list_audio_files(root):
            m = regex.search(f.relative_to(root).as_posix())
            if m is None:
                skipped.append(str(f))
                continue
            files.append(f)
            speakers.append(m.group("speaker") if "speaker" in regex.groupindex else m.group(1))
    if not files:
        if pattern is None and skipped:
            raise ValueError(
                f"No labelled audio files found under {str(root)!r}: without a pattern, "
                "one folder per speaker is expected (ROOT/<speaker>/<files>), and the "
                f"{len(skipped)} audio file(s) found lie directly under the root. Pass "
                "pattern=, a regular expression whose group 'speaker' names the speaker "
                r"in the file's path (e.g. r'^\d+_(?P<speaker>[a-z]+)_\d+\.wav$' for "
                "DIGIT_SPEAKER_INDEX.wav; --pattern on the command line)."
            )
        raise ValueError(f"No labelled audio files found under {str(root)!r}.")
    allowed = [str(a) for a in np.atleast_1d(allowed)]
    unknown = sorted(set(allowed) - set(speakers))
    if unknown:
        raise ValueError(
            f"Allowed speaker(s) {unknown} have no recordings in {str(root)!r}; the "
            f"speakers found are {sorted(set(speakers))}."
        )
    speakers = np.array(speakers)
    return drop_duplicate_recordings(
        Bunch(
            data=[str(f) for f in files] if return_paths else read_many(files, sr, n_jobs=n_jobs),
            target=target_from(speakers, allowed),
            speaker=speakers,
            filename=np.array([str(f) for f in files]),
            sr=sr,
            skipped=skipped,
            allowed=allowed,
        )
    )
