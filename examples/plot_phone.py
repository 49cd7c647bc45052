"""
Will my model hold on the phone?
================================

A model enrolled from clean recordings meets other audio once deployed: a phone
line (300-3400 Hz, 8 kHz, a speech codec), a one-second command, a noisy kitchen, an
echoing hall. :func:`skvoice.augment.stress_test` passes held-out recordings through
each of these conditions with :mod:`skvoice.augment` and reports the EER of the
model's scores and the false-acceptance and false-rejection rates of its own
decisions, so that a user knows before deploying. ``skvoice evaluate MODEL DATA
--channel telephone,short,noisy,reverberant`` prints the same table for a saved
model.
"""

import matplotlib.pyplot as plt
import numpy as np

from skvoice.augment import stress_test
from skvoice.datasets import load_demo_voices
from skvoice.verification import make_enrollment_pipeline

# Real speech that no shipped encoder heard: 24 speakers, 6 allowed. The first 4
# utterances of each speaker enrol or calibrate; the last 4 are the test.
data = load_demo_voices()
first = np.concatenate([np.flatnonzero(data.speaker == s)[:4] for s in np.unique(data.speaker)])
test = np.setdiff1d(np.arange(len(data.speaker)), first)
pipe = make_enrollment_pipeline("speechocean762-distilled", target_far=0.05)
pipe.fit(
    [data.data[i] for i in first],
    data.target[first],
    enrollmentverifier__groups=data.speaker[first],
)

# %%
# The same test recordings under each condition; enrolment and threshold stay as
# fitted on clean speech (the mismatch of a deployment).
rows = stress_test(
    pipe,
    [data.data[i] for i in test],
    data.target[test],
    conditions=["telephone", "gsm", "short", "noisy", "reverberant"],
)
for r in rows:
    print(f"{r.condition:<12} {r.what:<36} EER {r.eer:.3f}  FAR {r.far:.3f}  FRR {r.frr:.3f}")

# %%
# Where it breaks: the EER, and the rates of the decisions at the threshold set for
# a 5 % false-acceptance rate on clean speech.
fig, ax = plt.subplots(figsize=(7, 3.5))
x = np.arange(len(rows))
for k, (key, label) in enumerate([("eer", "EER"), ("far", "FAR"), ("frr", "FRR")]):
    ax.bar(x + (k - 1) * 0.27, [r[key] for r in rows], width=0.27, label=label)
ax.set_xticks(x, [r.condition for r in rows], rotation=20)
ax.set_ylabel("rate")
ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
ax.set_title("One draw of 24 voices; benchmarks/results/robust.md has 20")
fig.tight_layout()
plt.show()
