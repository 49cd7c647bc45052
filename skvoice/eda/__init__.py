"""Exploratory analysis of a speech corpus, as tidy data and plots."""

from ._corpus import (
    duration_table,
    f0_table,
    mean_intensity_per_frequency,
    plot_corpus,
    recordings_per_speaker,
)

__all__ = [
    "duration_table",
    "f0_table",
    "mean_intensity_per_frequency",
    "plot_corpus",
    "recordings_per_speaker",
]
