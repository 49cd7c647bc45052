"""Which uncertainty flags voices never heard? MC dropout, ensembles and novelty, on real speech.

Usage: python benchmarks/bench_uncertainty.py --data DIR [--seeds 0 1 2 3 4] [--quick]

On the public protocol of ``benchmarks/_real.py`` (speechocean762: 20 training
speakers, 6 allowed; test recordings of those 20 and of 105 speakers never heard),
for each seed the default pipeline (trim, log-mel, ``CNNClassifier`` with the
speakers) is fitted, and every signal is computed on the test recordings:

- MC dropout in the trunk (a network with ``module__block_dropout=0.1``, 30 passes of
  ``MCDropoutClassifier``: sampled embeddings, each scored by cosine as the model
  decides): total, aleatoric, epistemic uncertainty and the std of the allowed
  probability. (The default network's only dropout is before the head, which its
  cosine decision does not use: MC dropout gives it no spread at all.)
- a deep ensemble of 5 default networks: total, epistemic, std, and the spread of
  the members' decision scores (their disagreement in the embedding's scoring);
- novelty of the default network (``CNNClassifier.novelty_score``): Mahalanobis
  and cosine distance to the nearest training speaker, and the energy score of
  the speaker logits;
- the entropy of the default network's own calibrated probability (one plain
  prediction: how close the decision is to the threshold).

``--cheap`` computes only the default network's signals (novelty and entropy;
no MC dropout, no ensemble) and writes ``uncertainty_cheap.md``: the default
network is seeded, so its rows equal those of the full run.

For each signal: the ROC AUC of telling never-heard impostors from the allowed
speakers' test recordings, and from the refused training speakers' test
recordings (higher signal = never heard); the never-heard impostors' acceptance
(FAR) when the 10 % most uncertain test recordings are deferred (a deferred
impostor is not accepted), against the FAR without deferral, both with the
default network's decisions; and the time of computing the signal on the test
recordings relative to one plain ``predict_proba`` of the default network
(training time not counted: the ensemble trains 5 networks, the trunk-dropout
rows one more). Mean +- sd over the seeds. Writes ``benchmarks/results/uncertainty.md``.
"""

import argparse
import time
import warnings

import numpy as np
from _common import markdown_table, mean_sd, write_result
from _real import load_corpus, protocol
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor
from skvoice.uncertainty import DeepEnsembleClassifier, MCDropoutClassifier


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def one_seed(so, seed, cheap=False):
    p = protocol(so, seed)
    Xtr = [so.waves[i] for i in p.train]
    Xte = [so.waves[i] for i in p.test]
    ytr, spk = p.y[p.train], so.speaker[p.train]
    front = make_pipeline(SilenceTrimmer(), SpectrogramExtractor())
    specs_tr = front.fit_transform(Xtr)
    specs_te = front.transform(Xte)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        net = CNNClassifier(random_state=seed).fit(specs_tr, ytr, groups=spk)
    proba, plain_s = timed(lambda: net.predict_proba(specs_te))
    accepted = net.predict(specs_te) == 1
    signals, cost = {}, {}
    p1, p0 = np.clip(proba[:, 1], 1e-300, 1.0), np.clip(proba[:, 0], 1e-300, 1.0)
    name = "plain prediction: entropy of the probability"
    signals[name], cost[name] = -(p1 * np.log(p1) + p0 * np.log(p0)), plain_s
    if not cheap:
        _expensive(net, specs_tr, ytr, spk, specs_te, seed, signals, cost)
    for method in ("mahalanobis", "cosine", "energy"):
        name = f"novelty: {method}"
        signals[name], cost[name] = timed(lambda m=method: net.novelty_score(specs_te, method=m))
    return _score(signals, cost, p, accepted, plain_s)


def _expensive(net, specs_tr, ytr, spk, specs_te, seed, signals, cost):
    """MC dropout (head and trunk) and the deep ensemble's signals."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        trunk = CNNClassifier(module__block_dropout=0.1, random_state=seed).fit(
            specs_tr, ytr, groups=spk
        )
        ens = DeepEnsembleClassifier(CNNClassifier(), n_estimators=5, random_state=seed)
        ens.fit(specs_tr, ytr, groups=spk)
    mc = MCDropoutClassifier(trunk, n_passes=30, random_state=seed)
    mc.estimator_, mc.classes_ = trunk, trunk.classes_
    (_, u), t = timed(lambda: mc.predict_proba(specs_te, return_uncertainty=True))
    for k in ("total", "aleatoric", "epistemic", "std"):
        signals[f"MC dropout, trunk (30): {k}"], cost[f"MC dropout, trunk (30): {k}"] = u[k], t
    (_, u), t = timed(lambda: ens.predict_proba(specs_te, return_uncertainty=True))
    for k in ("total", "epistemic", "std"):
        signals[f"ensemble (5): {k}"], cost[f"ensemble (5): {k}"] = u[k], t
    name = "ensemble (5): spread of members' scores"
    signals[name], cost[name] = timed(
        lambda: np.std([m.decision_function(specs_te) for m in ens.estimators_], axis=0)
    )


def _score(signals, cost, p, accepted, plain_s):
    """AUROCs, FAR with and without deferral, and relative cost of every signal."""
    kind = p.kind[p.test]
    unseen, allowed, seen = kind == "unseen", kind == "allowed", kind == "seen"
    far = accepted[unseen].mean()
    out = {}
    for name, s in signals.items():
        s = np.asarray(s, dtype=float)
        deferred = np.zeros(len(s), bool)
        deferred[np.argsort(-s, kind="stable")[: int(0.1 * len(s))]] = True
        out[name] = {
            "vs allowed": roc_auc_score(unseen[unseen | allowed], s[unseen | allowed]),
            "vs seen": roc_auc_score(unseen[unseen | seen], s[unseen | seen]),
            "FAR": far,
            "FAR deferred": (accepted & ~deferred)[unseen].mean(),
            "cost": cost[name] / plain_s,
        }
    return out


def main(data, seeds, cheap=False):
    so = load_corpus(data)
    runs = []
    for seed in seeds:
        r = one_seed(so, seed, cheap)
        runs.append(r)
        best = max(r, key=lambda k: r[k]["vs allowed"])
        print(f"seed {seed} | best vs allowed: {best} {r[best]['vs allowed']:.3f}", flush=True)
    rows = []
    for name in runs[0]:

        def cell(key, fmt="{:.3f}", scale=1.0, name=name):
            return mean_sd([scale * r[name][key] for r in runs], fmt)

        rows.append(
            [
                name,
                cell("vs allowed"),
                cell("vs seen"),
                cell("FAR", "{:.1f}", 100),
                cell("FAR deferred", "{:.1f}", 100),
                cell("cost", "{:.1f}"),
            ]
        )
    head = (
        "signal",
        "AUROC never heard vs allowed",
        "AUROC never heard vs refused, seen",
        "FAR never heard (%)",
        "FAR, 10 % deferred (%)",
        "time / plain predict",
    )
    return (
        f"speechocean762 access-control protocol, seeds {list(seeds)}, mean +- sd; decisions "
        "of the default CNN with speakers (calibrated log-odds > 0); 2 CPU threads:\n\n"
        + markdown_table(head, rows)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="extracted speechocean762 folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--quick", action="store_true", help="seed 0 only")
    parser.add_argument("--cheap", action="store_true", help="the default network's signals")
    args = parser.parse_args()
    seeds = [0] if args.quick else args.seeds
    name = "uncertainty" + ("_cheap" if args.cheap else "") + ("_quick" if args.quick else "")
    write_result(name, main(args.data, seeds, args.cheap))
