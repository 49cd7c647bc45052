"""Audio input and validation of waveform batches."""

from ._audio import AudioReadError, decode_audio, load_audio, resample
from ._lazy import LazyRecordings
from ._validation import check_waveforms, iter_waveforms

__all__ = [
    "AudioReadError",
    "LazyRecordings",
    "check_waveforms",
    "decode_audio",
    "iter_waveforms",
    "load_audio",
    "resample",
]
