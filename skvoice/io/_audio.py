"""Reading audio files."""

import os

import numpy as np

from ._files import open_regular

__all__ = ["decode_audio", "load_audio", "resample", "AudioReadError"]


class AudioReadError(ValueError, OSError):
    """An audio file exists but cannot be decoded (corrupt, truncated, unknown format)."""


def resample(y, orig_sr, target_sr):
    """Resample a 1-D or 2-D (channels last) signal with soxr's high-quality filter.

    Parameters
    ----------
    y : ndarray
        Signal, shape ``(n_samples,)`` or ``(n_samples, n_channels)``.
    orig_sr, target_sr : int
        Sample rates in Hz.

    Returns
    -------
    ndarray
        Resampled signal, float32.

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.io import resample
    >>> resample(np.zeros(8000, dtype=np.float32), 8000, 16000).shape
    (16000,)
    """
    import soxr

    y = np.asarray(y, dtype=np.float32)
    if orig_sr == target_sr:
        return y
    return np.asarray(soxr.resample(y, orig_sr, target_sr, quality="HQ"), dtype=np.float32)


def _libsndfile_reason(exc):
    """What libsndfile said, without the Python file object it was given."""
    import re

    reason = getattr(exc, "error_string", None) or str(exc)
    reason = re.sub(r"Error opening <[^>]*>: ?", "", reason).strip()
    return reason or type(exc).__name__


def load_audio(path, sr=16000, mono=True, *, dtype=np.float32):
    """Read an audio file (WAV, FLAC, OGG, ...) as floating point samples.

    Parameters
    ----------
    path : str or path-like
        File to read; any format libsndfile knows.
    sr : int or None, default=16000
        Target sample rate. The file is resampled with soxr (high quality) when its
        rate differs. ``None`` keeps the file's rate.
    mono : bool, default=True
        Average the channels into one.
    dtype : numpy dtype, default=np.float32
        Type of the returned samples.

    Returns
    -------
    y : ndarray
        Samples in ``[-1, 1]``: shape ``(n_samples,)`` when mono, else
        ``(n_channels, n_samples)`` (time last, as librosa).
    sr : int
        Only when ``sr=None``: the file's sample rate, returned as ``(y, sr)``.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    IsADirectoryError
        When ``path`` is a folder.
    AudioReadError
        When the path is not a regular file (a named pipe, a device such as
        ``/dev/zero``, a socket: named in the message, and never read), or the
        file cannot be decoded, holds no samples, or holds NaN or infinite
        samples (a ``ValueError`` naming the path).

    Examples
    --------
    >>> import numpy as np, soundfile as sf, tempfile, os
    >>> from skvoice.io import load_audio
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> sf.write(path, np.zeros(8000, dtype=np.int16), 8000)
    >>> y = load_audio(path, sr=16000)
    >>> y.shape, y.dtype.name
    ((16000,), 'float32')
    """

    path = os.fspath(path)
    _check_sr(sr)
    # A FIFO, a device or a folder is named as such, and never blocks a read.
    with open_regular(path, "audio file", AudioReadError) as fh:
        return _decode(fh, repr(path), sr, mono, dtype)


def _check_sr(sr):
    if sr is not None and (not isinstance(sr, (int, np.integer)) or sr <= 0):
        raise ValueError(f"sr must be a positive integer or None, got {sr!r}.")


def _decode(fh, name, sr, mono, dtype):
    """Samples of the audio in the open binary file ``fh`` (named ``name`` in errors)."""
    import soundfile as sf

    try:
        data, file_sr = sf.read(fh, dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile raises several types for bad files
        raise AudioReadError(f"Cannot read audio file {name}: {_libsndfile_reason(exc)}") from exc
    if data.shape[0] == 0:
        raise AudioReadError(f"Audio file {name} holds no samples.")
    if not np.all(np.isfinite(data)):
        # Float files can hold NaN or inf; clipping would hide a broken recording.
        bad = "NaN" if np.isnan(data).any() else "infinite"
        raise AudioReadError(f"Audio file {name} holds {bad} samples.")
    if mono:
        data = data.mean(axis=1)
    if sr is not None and sr != file_sr:
        data = resample(data, file_sr, sr)
    y = np.clip(data, -1.0, 1.0).astype(dtype, copy=False)
    if not mono:
        y = np.ascontiguousarray(y.T)
    if sr is None:
        return y, int(file_sr)
    return y


def decode_audio(data, sr=16000, mono=True, *, dtype=np.float32):
    """Decode audio held in memory (the bytes of a WAV, FLAC, OGG, ... file).

    What :func:`load_audio` does for a file, for bytes that arrived another way
    (a request's body, a database): the same checks and the same resampling.

    Parameters
    ----------
    data : bytes
        The content of an audio file.
    sr : int or None, default=16000
        Target sample rate (soxr); None keeps the audio's rate.
    mono : bool, default=True
        Average the channels into one.
    dtype : numpy dtype, default=np.float32
        Type of the returned samples.

    Returns
    -------
    y : ndarray
        As :func:`load_audio` returns it.
    sr : int
        Only when ``sr=None``: the audio's sample rate.

    Examples
    --------
    >>> import io, numpy as np, soundfile as sf
    >>> from skvoice.io import decode_audio
    >>> buf = io.BytesIO()
    >>> sf.write(buf, np.zeros(8000, dtype=np.int16), 8000, format="WAV")
    >>> decode_audio(buf.getvalue(), sr=16000).shape
    (16000,)
    """
    import io

    _check_sr(sr)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}.")
    if not len(data):
        raise AudioReadError("The audio is empty: no bytes.")
    return _decode(io.BytesIO(bytes(data)), "(bytes)", sr, mono, dtype)
