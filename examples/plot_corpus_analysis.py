"""
Corpus analysis: speakers, silence, spectra and pitch
=====================================================

The report's exploratory analysis on synthetic voices, one Display per question.
Each Display computes its data (also available as a tidy table from the function of
the same topic) and draws it; allowed speakers are drawn in green.
"""

import matplotlib.pyplot as plt

from skvoice.datasets import make_voices
from skvoice.eda import (
    ClassSpectrogramDisplay,
    DurationDisplay,
    F0DistributionDisplay,
    F0TrackDisplay,
    IntensityDisplay,
    SpeakerCountDisplay,
    duration_table,
)

voices = make_voices(n_speakers=6, n_recordings=4, duration=2.0, random_state=0)
X, speakers, target, sr = voices.data, voices.speaker, voices.target, voices.sr

# %%
# How many recordings per speaker, and how much of each is speech?
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5), layout="constrained")
SpeakerCountDisplay.from_labels(speakers, target, ax=axes[0])
DurationDisplay.from_recordings(X, speakers, target, sr, ax=axes[1])
print(duration_table(X, speakers, sr).groupby("speaker").mean().round(2))

# %%
# Where each voice puts its energy, on all frames and on voiced frames only.
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5), layout="constrained", sharey=True)
IntensityDisplay.from_recordings(X, speakers, target, sr, ax=axes[0])
IntensityDisplay.from_recordings(X, speakers, target, sr, voiced_only=True, ax=axes[1])
axes[1].set_title("Mean intensity per band, voiced frames")

# %%
# Pitch: the pYIN track over two recordings, and its distribution per speaker.
F0TrackDisplay.from_recordings(X, [0, 5], sr)
F0DistributionDisplay.from_recordings(X, speakers, target, sr)

# %%
# What the classifier sees: example mel and linear spectrograms of each class.
ClassSpectrogramDisplay.from_recordings(X, target, sr, random_state=0)
plt.show()
