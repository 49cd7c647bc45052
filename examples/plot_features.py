"""
Silence, spectrograms and pitch of synthetic voices
====================================================

Trim the silence of a few recordings, compute their mel and log-frequency
spectrograms and track their pitch with pYIN, then compare the track with the true F0
that :func:`~skvoice.datasets.make_voices` returns.
"""

import matplotlib.pyplot as plt
import numpy as np

from skvoice.datasets import make_voices
from skvoice.preprocessing import F0Extractor, SilenceTrimmer, SpectrogramExtractor

voices = make_voices(n_speakers=4, n_recordings=2, duration=2.0, random_state=0)
y = voices.data[0]

# %%
# Silence: how much of each recording is speech?
trimmer = SilenceTrimmer().fit(voices.data)
durations = trimmer.durations(voices.data)
print("seconds before / after trimming:\n", durations.round(2))

# %%
# Spectrograms on a mel and on a log-frequency axis, and the pitch track.
mel = SpectrogramExtractor(kind="mel").fit([y])
log = SpectrogramExtractor(kind="log", fmin=60).fit([y])
f0 = F0Extractor().fit([y]).transform([y])[0]
times = mel.frame_times(len(f0))

fig, axes = plt.subplots(2, 1, figsize=(8, 6), sharex=True, layout="constrained")
for ax, ext, title in [(axes[0], mel, "mel"), (axes[1], log, "log frequency")]:
    S = ext.transform([y])[0]
    ax.pcolormesh(times, ext.frequencies_, S, shading="auto")
    ax.set(yscale="log", ylabel="Hz", title=f"{title} spectrogram (normalised)")
axes[1].plot(times, f0, color="w", lw=2, label="pYIN F0")
axes[1].plot(times, voices.f0[0], "r--", lw=1, label="true F0")
axes[1].legend(loc="upper right")
axes[1].set_xlabel("time (s)")

# %%
# Gross pitch errors (more than 20 % off) on frames both call voiced.
both = ~np.isnan(f0) & ~np.isnan(voices.f0[0])
print("gross pitch error rate:", np.mean(np.abs(f0[both] / voices.f0[0][both] - 1) > 0.2))
