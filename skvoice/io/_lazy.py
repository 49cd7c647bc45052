"""A sequence of recordings read from files on access."""

import os
from collections.abc import Sequence

import numpy as np

from ._audio import AudioReadError, load_audio
from ._files import open_regular

__all__ = ["LazyRecordings", "check_paths"]


class LazyRecordings(Sequence):
    """Recordings read from their files only when accessed, one at a time.

    Indexing reads the file with :func:`~skvoice.io.load_audio` at ``sr`` and
    passes the samples through ``func``; nothing is cached, so iterating over a
    corpus keeps one decoded recording in memory at a time. A slice or an array
    of indices gives another ``LazyRecordings``. Every skvoice transformer accepts
    it where it accepts a list of waveforms; :class:`~skvoice.preprocessing.SilenceTrimmer`
    returns one when given paths, so that a Pipeline over file paths never holds
    all the waveforms at once.

    The files are checked from their headers when the sequence is made (a
    missing or unreadable file raises then, naming its index), so the steps that
    receive it need not check them again.

    Parameters
    ----------
    paths : sequence of str or path-like
        Audio files.
    sr : int, default=16000
        Sample rate the files are read at (resampled when they differ).
    func : callable, default=None
        ``func(y, index)`` applied to each decoded waveform (must be picklable
        to use the sequence with joblib or Pipeline caching).

    Examples
    --------
    >>> import numpy as np, soundfile as sf, tempfile, os
    >>> from skvoice.io import LazyRecordings
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{k}.wav") for k in range(3)]
    >>> for k, p in enumerate(paths):
    ...     sf.write(p, np.full(1600 * (k + 1), 0.1, dtype=np.float32), 16000)
    >>> rec = LazyRecordings(paths)
    >>> len(rec), [len(y) for y in rec], len(rec[1:])
    (3, [1600, 3200, 4800], 2)
    """

    def __init__(self, paths, sr=16000, func=None):
        self.paths = [os.fspath(p) for p in paths]
        self.sr = sr
        self.func = func
        check_paths(self.paths)

    @classmethod
    def _checked(cls, paths, sr, func):
        """A sequence over paths already checked (no header read)."""
        self = cls.__new__(cls)
        self.paths, self.sr, self.func = list(paths), sr, func
        return self

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._checked(self.paths[index], self.sr, self.func)
        if isinstance(index, (list, np.ndarray)):
            idx = np.asarray(index)
            if idx.dtype == bool:
                idx = np.flatnonzero(idx)
            return self._checked([self.paths[i] for i in idx], self.sr, self.func)

        y = load_audio(self.paths[index], sr=self.sr)
        return y if self.func is None else self.func(y, int(index) % len(self))

    def __repr__(self):
        step = "" if self.func is None else f", func={self.func!r}"
        return f"LazyRecordings(<{len(self)} files>, sr={self.sr}{step})"


def check_paths(paths):
    """Check that every path is a readable audio file, from its header only.

    Raises ``FileNotFoundError`` or :class:`~skvoice.io.AudioReadError` naming
    the recording index and path. Reading headers costs milliseconds where
    decoding a whole corpus would cost minutes.
    """
    import soundfile as sf

    for i, p in enumerate(paths):
        p = os.fspath(p)
        try:
            fh = open_regular(p, "audio file", AudioReadError)
        except OSError as exc:  # no such file, a folder, a FIFO, a device
            raise type(exc)(f"Recording {i}: {exc}") from None
        with fh:
            try:
                info = sf.info(fh)
            except Exception as exc:
                raise AudioReadError(
                    f"Recording {i}: cannot read audio file {p!r}: {exc}"
                ) from exc
        if info.frames == 0:
            raise AudioReadError(f"Recording {i}: audio file {p!r} holds no samples.")
