"""
A chosen false-acceptance rate over any scorer, and two systems fused
=====================================================================

:class:`~skvoice.decisions.TargetFARClassifierCV` puts the decision layer of
skvoice over a classifier it never saw: here MFCC statistics and an SVM, and
the same features with a logistic regression. It refits clones on
speaker-disjoint folds, so that each refused speaker is scored by a model that
never heard them, calibrates those scores to log-likelihood ratios and places
the threshold where 10 % of the held-out impostors get in. What it promises
(``expected_rates_``) comes with intervals over speakers, and the FAR of each
impostor speaker at a cut placed without them.

:class:`~skvoice.decisions.ScoreFusionClassifier` then fuses the two systems
on their held-out scores, under the same meta-estimator.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skvoice.datasets import make_voices
from skvoice.decisions import ScoreFusionClassifier, TargetFARClassifierCV
from skvoice.metrics import equal_error_rate
from skvoice.preprocessing import MFCCStatistics, SilenceTrimmer

# %%
# Noisy synthetic voices: 16 speakers, a quarter of them allowed. Speakers
# 12-15 are never heard in training: the impostors of the test.
voices = make_voices(n_speakers=16, n_recordings=8, duration=1.5, snr_db=5, random_state=0)
speakers = np.asarray(voices.speaker)
names = np.unique(speakers)
never_heard = np.isin(speakers, names[12:])
allowed = voices.target == 1
test = never_heard | (allowed & (np.arange(len(speakers)) % 8 >= 5))
train = ~test & ~never_heard
features = make_pipeline(SilenceTrimmer(sr=voices.sr), MFCCStatistics(sr=voices.sr))
F = features.fit_transform(voices.data)

svm = make_pipeline(StandardScaler(), SVC(class_weight="balanced"))
logistic = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced"))

# %%
# One system under the decision layer.
clf = TargetFARClassifierCV(svm, target_far=0.1).fit(
    F[train], voices.target[train], groups=speakers[train]
)
rates = clf.expected_rates_
print(f"held-out FAR {rates['far']:.2f} (the target, by construction)")
print(
    f"FAR a new impostor meets: {rates['far_predicted']:.2f}, "
    f"90 % interval {rates['far_interval'][0]:.2f}-{rates['far_interval'][1]:.2f} "
    f"(from {rates['impostor_speakers']} refused speakers)"
)
accept = clf.predict(F[test]) == 1
y_test = voices.target[test]
print(f"realised: FAR {accept[y_test == 0].mean():.2f}, FRR {(~accept[y_test == 1]).mean():.2f}")

# %%
# Two systems fused on held-out speakers, under the same layer.
fused = TargetFARClassifierCV(
    ScoreFusionClassifier([("svm", svm), ("logistic", logistic)]), target_far=0.1
).fit(F[train], voices.target[train], groups=speakers[train])
members = {
    name: TargetFARClassifierCV(est, target_far=0.1).fit(
        F[train], voices.target[train], groups=speakers[train]
    )
    for name, est in [("svm", svm), ("logistic", logistic)]
}
eers = {
    name: equal_error_rate(y_test, m.decision_function(F[test])) for name, m in members.items()
}
eers["fusion"] = equal_error_rate(y_test, fused.decision_function(F[test]))
print({k: round(v, 3) for k, v in eers.items()})

# %%
# The held-out scores behind the threshold: allowed recordings against the
# refused speakers', on the calibrated scale.
a, b = clf.calibration_
llr = a * clf.crossfit_scores_ + b
fig, ax = plt.subplots(figsize=(6, 3))
y_train = voices.target[train]
ax.hist(llr[y_train == 0], bins=20, alpha=0.6, label="refused (held out)")
ax.hist(llr[y_train == 1], bins=20, alpha=0.6, label="allowed (held out)")
ax.axvline(clf.threshold_, color="k", linestyle="--", label="threshold (10 % FAR)")
ax.set_xlabel("log-likelihood ratio")
ax.legend(loc="upper left", fontsize="small")
fig.tight_layout()
plt.show()
