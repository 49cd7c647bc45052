"""
Access control with a CNN on spectrograms
=========================================

The heart of skvoice: a pipeline from waveforms to the probability that the speaker
is allowed, tuned with ``GridSearchCV`` over speaker folds, scored with the metrics of
access control (equal error rate, false acceptance at 5 % false rejection) on
impostors never heard in training, against two classical baselines.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import DetCurveDisplay, balanced_accuracy_score
from sklearn.model_selection import (
    FixedThresholdClassifier,
    GridSearchCV,
    GroupKFold,
    cross_val_predict,
)
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skvoice.datasets import make_voices
from skvoice.metrics import eer_scorer, equal_error_rate, far_at_frr
from skvoice.model_selection import OpenSetGroupKFold
from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import (
    F0Extractor,
    MFCCStatistics,
    SilenceTrimmer,
    SpectrogramExtractor,
)

# %%
# Noisy synthetic voices: 8 speakers, a third of them allowed.
voices = make_voices(n_speakers=8, n_recordings=10, duration=2.0, snr_db=10, random_state=0)
X, y, speakers = voices.data, voices.target, voices.speaker
print("allowed speakers:", voices.allowed)

pipe = make_pipeline(
    SilenceTrimmer(),
    SpectrogramExtractor(),
    CNNClassifier(max_epochs=15, random_state=0),
)

# %%
# Tune the learning rate with open-set folds: every test fold holds recordings of
# every allowed speaker and one or more impostors never heard in training. The
# speakers go to the splitter (``groups``) and to the network
# (``cnnclassifier__groups``), which then learns to tell the training speakers apart.
open_set = OpenSetGroupKFold(3)
search = GridSearchCV(pipe, {"cnnclassifier__lr": [1e-3, 3e-3]}, cv=open_set, scoring=eer_scorer)
search.fit(X, y, groups=speakers, cnnclassifier__groups=speakers)
print("best:", search.best_params_, "EER", -search.best_score_)

# %%
# GroupKFold by speaker answers another question: every test speaker is unseen,
# so the allowed speakers of a test fold were never enrolled and cannot be
# recognised. The scores it gives are not access-control scores.
closed = GridSearchCV(
    pipe,
    {"cnnclassifier__lr": [search.best_params_["cnnclassifier__lr"]]},
    cv=GroupKFold(3),
    scoring="roc_auc",
)
closed.fit(X, y, groups=speakers, cnnclassifier__groups=speakers)
print("GroupKFold ROC AUC (unseen allowed speakers):", closed.best_score_)

# %%
# Out-of-fold scores of the pipeline and of two baselines on F0 and MFCC
# statistics, all under the same open-set folds. The learning rate is tuned inside
# each outer fold (a nested search), so the CNN's test recordings never took part
# in choosing its settings, just as the untuned baselines'.
best = search.best_estimator_
nested = GridSearchCV(
    pipe, {"cnnclassifier__lr": [1e-3, 3e-3]}, cv=OpenSetGroupKFold(2), scoring=eer_scorer
)
cnn_scores = cross_val_predict(
    nested,
    X,
    y,
    groups=speakers,
    cv=open_set,
    method="predict_proba",
    params={"groups": speakers, "cnnclassifier__groups": speakers},
)[:, 1]
stats = make_pipeline(SilenceTrimmer(), make_union(F0Extractor(output="stats"), MFCCStatistics()))
baselines = {
    "logistic regression": make_pipeline(
        stats, StandardScaler(), LogisticRegression(class_weight="balanced")
    ),
    "RBF SVM": make_pipeline(stats, StandardScaler(), SVC(class_weight="balanced")),
}
scores = {"CNN": cnn_scores}
for name, model in baselines.items():
    scores[name] = cross_val_predict(
        model, X, y, groups=speakers, cv=open_set, method="decision_function"
    )
thresholds = {"CNN": 0.5, "logistic regression": 0.0, "RBF SVM": 0.0}
for name, s in scores.items():
    bacc = balanced_accuracy_score(y, s >= thresholds[name])
    print(
        f"{name:>20}: EER {equal_error_rate(y, s):.3f}  FAR@5%FRR {far_at_frr(y, s):.3f}"
        f"  balanced accuracy {bacc:.3f}"
    )

# %%
# DET curves (false rejection against false acceptance, on a normal-deviate scale)
# and the learning curves of the tuned network.
fig, (ax_det, ax_lc) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for name, s in scores.items():
    DetCurveDisplay.from_predictions(y, s, name=name, ax=ax_det)
ax_det.set_title("Open-set DET curves")
history = best[-1].history_
ax_lc.plot(history[:, "train_loss"], label="training loss")
ax_lc.plot(history[:, "train_acc"], label="training accuracy (speakers)")
ax_lc.set(xlabel="epoch", title="Learning curves of the tuned CNN")
ax_lc.legend()

# %%
# Operating at a target false-acceptance rate: choose the threshold on held-out
# scores, then apply it to the fitted pipeline with scikit-learn's
# FixedThresholdClassifier (``TunedThresholdClassifierCV`` can choose it by
# cross-validation instead).
target_far = 0.05
# ``predict`` accepts a score >= threshold. To accept at most k = floor(5 % of n)
# impostors, put the threshold just above the (k+1)-th highest impostor score.
impostor = np.sort(cnn_scores[y == 0])[::-1]
k = int(np.floor(target_far * len(impostor)))
threshold = float(np.nextafter(impostor[k], np.inf))
realised = np.mean(impostor >= threshold)
gate = FixedThresholdClassifier(
    FrozenEstimator(best), threshold=threshold, response_method="predict_proba"
).fit(X, y)
print("decisions on three recordings:", gate.predict(X[:3]))
print(
    f"threshold {threshold:.3f}: FAR {realised:.1%} on the held-out impostor scores it was "
    f"chosen on (target {target_far:.0%}); expect more on new impostors"
)
