"""
Enrolling a new user without retraining
=======================================

A binary network learns "these voices against those" and must be retrained whenever
the list of allowed users changes. Speaker-verification toolkits instead embed every
recording with a network trained to tell speakers apart, and compare embeddings by
cosine similarity. :class:`~skvoice.neural_network.SpeakerEmbedder` and
:class:`~skvoice.verification.EnrollmentVerifier` do this inside a scikit-learn
pipeline; a new user is added with ``enroll`` from a few recordings.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import DetCurveDisplay

from skvoice.datasets import make_voices
from skvoice.metrics import equal_error_rate
from skvoice.neural_network import CNNClassifier, SpeakerEmbedder
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor
from skvoice.verification import EnrollmentVerifier

voices = make_voices(n_speakers=8, n_recordings=10, duration=2.0, snr_db=15, random_state=2)
specs = SpectrogramExtractor().fit_transform(SilenceTrimmer().fit_transform(voices.data))
y, spk = voices.target, voices.speaker
names = sorted(set(spk))
newcomer, impostors = names[-1], names[-3:-1]
print("allowed:", voices.allowed, "| newcomer:", newcomer, "| unseen impostors:", impostors)

# %%
# Train the embedder on every speaker but the newcomer and two impostors; enrol the
# allowed speakers.
held_out = np.isin(spk, [newcomer, *impostors])
train = np.flatnonzero(~held_out)
emb = SpeakerEmbedder(CNNClassifier(max_epochs=15, random_state=0))
emb.fit([specs[i] for i in train], groups=spk[train])
E = emb.transform(specs)
ver = EnrollmentVerifier().fit(E[train], y[train], groups=spk[train])

# %%
# The newcomer is refused until enrolled from five recordings; then accepted.
new_idx = np.flatnonzero(spk == newcomer)
print("newcomer accepted before enrolment:", ver.predict(E[new_idx[5:]]).mean())
t = time.perf_counter()
ver.enroll(E[new_idx[:5]], speaker=newcomer)
print(f"enrolment took {1e3 * (time.perf_counter() - t):.2f} ms")
print("newcomer accepted after enrolment:", ver.predict(E[new_idx[5:]]).mean())

# %%
# Scores of the newcomer's other recordings and of unseen impostors.
test = np.r_[new_idx[5:], np.flatnonzero(np.isin(spk, impostors))]
y_test = (spk[test] == newcomer).astype(int)
scores = ver.decision_function(E[test])
print("EER newcomer vs unseen impostors:", equal_error_rate(y_test, scores))
fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
DetCurveDisplay.from_predictions(y_test, scores, name="enrolled newcomer", ax=ax)
