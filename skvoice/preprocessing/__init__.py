"""Feature transformers: silence removal, spectrograms, F0, channel stacking."""

from ._f0 import F0Extractor
from ._level import LevelNormalizer
from ._mfcc import MFCCStatistics
from ._resample import Resampler
from ._silence import SilenceTrimmer, frame_rms_db
from ._spectrogram import SpectrogramExtractor, filterbank
from ._union import ChannelUnion

__all__ = [
    "ChannelUnion",
    "F0Extractor",
    "LevelNormalizer",
    "MFCCStatistics",
    "Resampler",
    "SilenceTrimmer",
    "SpectrogramExtractor",
    "filterbank",
    "frame_rms_db",
]
