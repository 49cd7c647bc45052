"""
MC dropout against a deep ensemble
==================================

Two ways to ask a network how sure it is: sample its dropout layers at prediction
(Monte Carlo dropout) or train several copies from different seeds (a deep ensemble).
Both give, per recording, the entropy of the mean prediction (total uncertainty), the
mean entropy of the passes or members (aleatoric) and their difference (epistemic,
the mutual information). Here both look at held-out recordings of the allowed
speakers, at impostors never heard in training and at white noise, and a
risk-coverage curve shows what deferring the least certain decisions buys.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.calibration import CalibrationDisplay

from skvoice.datasets import make_voices
from skvoice.model_selection import OpenSetGroupKFold
from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor
from skvoice.uncertainty import (
    DeepEnsembleClassifier,
    MCDropoutClassifier,
    risk_coverage_curve,
    selective_decision,
)

voices = make_voices(n_speakers=7, n_recordings=10, duration=2.0, snr_db=15, random_state=1)
ext = SpectrogramExtractor()
specs = ext.fit_transform(SilenceTrimmer().fit_transform(voices.data))
y, spk = voices.target, voices.speaker
train, test = next(OpenSetGroupKFold(3).split(specs, y, spk))
Xtr, Xte = [specs[i] for i in train], [specs[i] for i in test]

# MC dropout samples the network's class outputs (its posterior); score the ensemble
# the same way so that the two are compared like for like.
net = CNNClassifier(max_epochs=12, backend="posterior", random_state=0)
mc = MCDropoutClassifier(net, n_passes=30, random_state=0).fit(Xtr, y[train], groups=spk[train])
ens = DeepEnsembleClassifier(net, n_estimators=3, random_state=0).fit(
    Xtr, y[train], groups=spk[train]
)

# %%
# Uncertainty by kind of input.
noise = ext.transform([0.3 * np.random.default_rng(0).standard_normal(32000) for _ in range(8)])
groups = {
    "allowed (held out)": [x for x, t in zip(Xte, y[test]) if t == 1],
    "unseen impostors": [x for x, t in zip(Xte, y[test]) if t == 0],
    "white noise": noise,
}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained", sharey=True)
for ax, (name, model) in zip(axes, [("MC dropout", mc), ("deep ensemble", ens)]):
    values = [
        model.predict_proba(X, return_uncertainty=True)[1].epistemic for X in groups.values()
    ]
    ax.boxplot(values)
    ax.set_xticks(range(1, 4), list(groups), fontsize=8)
    ax.set_title(f"{name}: epistemic uncertainty")

# %%
# Reliability and risk-coverage of the two on the test split.
fig, (ax_cal, ax_rc) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for name, model in [("MC dropout", mc), ("deep ensemble", ens)]:
    proba, u = model.predict_proba(Xte, return_uncertainty=True)
    CalibrationDisplay.from_predictions(y[test], proba[:, 1], n_bins=5, name=name, ax=ax_cal)
    pred = (proba[:, 1] >= 0.5).astype(int)
    coverage, risk = risk_coverage_curve(y[test], pred, u.total)
    ax_rc.plot(coverage, risk, label=name)
ax_rc.set(
    xlabel="coverage (share decided)", ylabel="error rate among decided", title="Risk-coverage"
)
ax_rc.legend()

# %%
# Acting on it: decide on the 80 % most certain recordings, defer the rest to a
# second factor.
proba, u = ens.predict_proba(Xte, return_uncertainty=True)
decision = selective_decision(proba, u.total, coverage=0.8)
decided = decision >= 0
print("deferred:", int((decision == -1).sum()), "of", len(decision))
print("error rate on the decided ones:", np.mean(decision[decided] != y[test][decided]))
