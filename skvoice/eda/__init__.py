"""Exploratory analysis of a speech corpus, as tidy data and Displays."""

from ._corpus import (
    duration_table,
    f0_table,
    mean_intensity_per_frequency,
    recordings_per_speaker,
)
from ._display import (
    ClassSpectrogramDisplay,
    DurationDisplay,
    F0DistributionDisplay,
    F0TrackDisplay,
    IntensityDisplay,
    SpeakerCountDisplay,
)
from ._overview import plot_corpus

__all__ = [
    "ClassSpectrogramDisplay",
    "DurationDisplay",
    "F0DistributionDisplay",
    "F0TrackDisplay",
    "IntensityDisplay",
    "SpeakerCountDisplay",
    "duration_table",
    "f0_table",
    "mean_intensity_per_frequency",
    "plot_corpus",
    "recordings_per_speaker",
]
