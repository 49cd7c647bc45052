"""
Access control with the pretrained encoder: nothing to train
============================================================

skvoice ships speaker encoders trained on real speech (the ``test/`` speakers of
speechocean762); the default, ``"speechocean762-distilled"``, also learnt the
embeddings of GE2E, an encoder trained on thousands of voices.
:func:`~skvoice.verification.make_enrollment_pipeline` puts it
between the usual front-end and an
:class:`~skvoice.verification.EnrollmentVerifier`: allowed users are enrolled from
their recordings, the refused speakers' recordings calibrate the scores, and no
network is trained. A new user is added from three recordings.

The 12 real speakers used here ship with skvoice's tests. They were among the
encoder's training speakers, so this example shows the workflow, not how the
encoder does on new voices: ``benchmarks/bench_pretrained.py`` measures that on
125 speakers it never heard (user guide, "Pretrained speaker encoders").
"""

import os
import time

import matplotlib.pyplot as plt
import numpy as np

import skvoice
from skvoice.datasets import load_speechocean762
from skvoice.verification import make_enrollment_pipeline

root = os.path.join(os.path.dirname(skvoice.__file__), os.pardir, "tests", "data")
data = load_speechocean762(os.path.join(root, "speechocean762"), subset="test")
speakers = np.asarray(data.speaker)
names = sorted(set(speakers))
allowed, newcomer = names[:3], names[3]
print(f"{len(speakers)} recordings of {len(names)} speakers; allowed: {allowed}")

# %%
# Enrol: two recordings of each speaker go to enrolment (the allowed ones become
# centroids, the others calibrate), the other two are tested. The newcomer is
# refused at first.
first = np.concatenate([np.flatnonzero(speakers == s)[:2] for s in names])
test = np.setdiff1d(np.arange(len(speakers)), first)
y = np.isin(speakers, allowed).astype(int)
pipe = make_enrollment_pipeline(score_norm=None)
t = time.perf_counter()
pipe.fit([data.data[i] for i in first], y[first], enrollmentverifier__groups=speakers[first])
print(f"enrolled {sorted(pipe[-1].enrolled_)} in {time.perf_counter() - t:.1f} s")
before = pipe.predict_proba([data.data[i] for i in test])[:, 1]

# %%
# Add the newcomer from three recordings: one embedding each, one new centroid.
embed = pipe[:-1]
own = np.flatnonzero(speakers == newcomer)
t = time.perf_counter()
pipe[-1].enroll(embed.transform([data.data[i] for i in own[:3]]), speaker=newcomer)
print(f"enrolled {newcomer} in {1e3 * (time.perf_counter() - t):.0f} ms")
after = pipe.predict_proba([data.data[i] for i in test])[:, 1]

# %%
# Probability of being allowed for every test recording, before and after.
fig, ax = plt.subplots(figsize=(7, 3.5))
order = np.argsort(speakers[test], kind="stable")
for k, (p, label) in enumerate([(before, "before"), (after, f"after enrolling {newcomer}")]):
    ax.scatter(np.arange(len(test)) + 0.2 * k, p[order], s=14, label=label)
ax.set_xticks(np.arange(len(test)), speakers[test][order], rotation=90, fontsize=6)
ax.axhline(0.5, color="grey", lw=0.5)
ax.set_ylabel("P(allowed)")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
