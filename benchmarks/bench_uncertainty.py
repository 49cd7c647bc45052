"""Which uncertainty flags voices never heard? MC dropout, ensembles and novelty, on real speech.

Usage: python benchmarks/bench_uncertainty.py --data DIR [--seeds 0 1 2 3 4] [--quick]

On the public protocol of ``benchmarks/_real.py`` (speechocean762: 20 training
speakers, 6 allowed; test recordings of those 20 and of 105 speakers never heard),
for each seed the default pipeline (trim, log-mel, ``CNNClassifier`` with the
speakers) is fitted, and every signal is computed on the test recordings:

- MC dropout of the default network (``MCDropoutClassifier`` with its default
  ``dropout="auto"``: the network trains no dropout on its cosine path, so the 30
  passes switch the trunk's channel dropout on at 0.1): total and epistemic
  uncertainty (also with ``--cheap``: it needs no other training);
- MC dropout of a network trained with trunk dropout (``module__block_dropout=0.1``,
  30 passes: sampled embeddings, each scored by cosine as the model decides):
  total, aleatoric, epistemic uncertainty and the std of the allowed probability;
- a deep ensemble of 5 default networks: total, epistemic, std, and the spread of
  the members' decision scores (their disagreement in the embedding's scoring);
- novelty of the default network (``CNNClassifier.novelty_score``): Mahalanobis
  and cosine distance to the nearest training speaker, and the energy score of
  the speaker logits;
- the entropy of the default network's own calibrated probability (one plain
  prediction: how close the decision is to the threshold).

``--cheap`` computes only the default network's signals (entropy, its MC
dropout and novelty; no other training) and writes ``uncertainty_cheap.md``: the
default network is seeded, so its rows equal those of the full run.

For each signal: the ROC AUC of telling never-heard impostors from the allowed
speakers' test recordings, and from the refused training speakers' test
recordings (higher signal = never heard); its mean on 20 recordings of no voice
(white and pink noise at -40 to -10 dBFS) over its mean on the allowed speakers'
test recordings (above 1: noise looks less certain, or more novel, than a user);
the never-heard impostors' acceptance
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
import torch
from _common import markdown_table, mean_sd, write_result
from _real import load_corpus, protocol
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor
from skvoice.uncertainty import DeepEnsembleClassifier, MCDropoutClassifier

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions", "skvoice/uncertainty/")


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def noise_clips(seed, n=20, seconds=3.0, sr=16000):
    """Recordings of no voice at all: white and pink noise at -40 to -10 dBFS."""
    rng = np.random.default_rng(10_000 + seed)
    clips = []
    for k in range(n):
        x = rng.standard_normal(int(seconds * sr))
        if k % 2:  # pink: 1/f power
            spec = np.fft.rfft(x)
            spec[1:] /= np.sqrt(np.arange(1, len(spec)))
            x = np.fft.irfft(spec, len(x))
        level = 10 ** (rng.uniform(-40, -10) / 20)
        clips.append((level * x / np.sqrt(np.mean(x**2))).astype(np.float32))
    return clips


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
        specs_noise = front.transform(noise_clips(seed))
        net = CNNClassifier(random_state=seed).fit(specs_tr, ytr, groups=spk)
    proba, plain_s = timed(lambda: net.predict_proba(specs_te))
    accepted = net.predict(specs_te) == 1
    signals, cost, noise = {}, {}, {}

    def measure(fn, prefix=""):
        """``fn(specs) -> {name: per-recording signal}`` on the test and noise recordings."""
        out, t = timed(lambda: fn(specs_te))
        for k, v in out.items():
            signals[prefix + k], cost[prefix + k], noise[prefix + k] = v, t, None
        for k, v in fn(specs_noise).items():
            noise[prefix + k] = v

    def entropy(S):
        pr = net.predict_proba(S)
        p1, p0 = np.clip(pr[:, 1], 1e-300, 1.0), np.clip(pr[:, 0], 1e-300, 1.0)
        return {
            "plain prediction: entropy of the probability": -(p1 * np.log(p1) + p0 * np.log(p0))
        }

    measure(entropy)
    # MC dropout on the default network: no dropout on its cosine path, so the
    # passes switch the trunk's channel dropout on at 0.1 (dropout="auto").
    mc = MCDropoutClassifier(net, n_passes=30, random_state=seed)
    mc.estimator_, mc.classes_ = net, net.classes_
    measure(
        lambda S: _unc(mc.predict_proba(S, return_uncertainty=True)[1], ("total", "epistemic")),
        "MC dropout, default network, trunk dropout 0.1 at prediction (30): ",
    )
    if not cheap:
        _expensive(specs_tr, ytr, spk, seed, measure)
    for method in ("mahalanobis", "cosine", "energy"):
        measure(lambda S, m=method: {f"novelty: {m}": net.novelty_score(S, method=m)})
    return _score(signals, cost, noise, p, accepted, plain_s)


def _unc(u, keys):
    return {k: u[k] for k in keys}


def _expensive(specs_tr, ytr, spk, seed, measure):
    """MC dropout of a network trained with trunk dropout, and the deep ensemble's signals."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        trunk = CNNClassifier(module__block_dropout=0.1, random_state=seed).fit(
            specs_tr, ytr, groups=spk
        )
        ens = DeepEnsembleClassifier(CNNClassifier(), n_estimators=5, random_state=seed)
        ens.fit(specs_tr, ytr, groups=spk)
    mc = MCDropoutClassifier(trunk, n_passes=30, random_state=seed)
    mc.estimator_, mc.classes_ = trunk, trunk.classes_
    measure(
        lambda S: _unc(
            mc.predict_proba(S, return_uncertainty=True)[1],
            ("total", "aleatoric", "epistemic", "std"),
        ),
        "MC dropout, trained with trunk dropout 0.1 (30): ",
    )
    measure(
        lambda S: _unc(
            ens.predict_proba(S, return_uncertainty=True)[1], ("total", "epistemic", "std")
        ),
        "ensemble (5): ",
    )
    measure(
        lambda S: {
            "ensemble (5): spread of members' scores": np.std(
                [m.decision_function(S) for m in ens.estimators_], axis=0
            )
        }
    )


def _score(signals, cost, noise, p, accepted, plain_s):
    """AUROCs, noise against speech, FAR with and without deferral, and relative cost."""
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
            # A ratio of means says something only for a non-negative signal (the
            # energy score is negative: n/a).
            "noise ratio": (
                np.mean(noise[name]) / np.mean(s[allowed])
                if min(np.min(noise[name]), np.min(s)) >= 0 and np.mean(s[allowed]) > 0
                else np.nan
            ),
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
            values = [scale * r[name][key] for r in runs]
            return "n/a" if np.isnan(values).any() else mean_sd(values, fmt)

        rows.append(
            [
                name,
                cell("vs allowed"),
                cell("vs seen"),
                cell("noise ratio", "{:.2f}"),
                cell("FAR", "{:.1f}", 100),
                cell("FAR deferred", "{:.1f}", 100),
                cell("cost", "{:.1f}"),
            ]
        )
    head = (
        "signal",
        "AUROC never heard vs allowed",
        "AUROC never heard vs refused, seen",
        "mean on noise / on allowed",
        "FAR never heard (%)",
        "FAR, 10 % deferred (%)",
        "time / plain predict",
    )
    return (
        f"speechocean762 access-control protocol, seeds {list(seeds)}, mean +- sd; decisions "
        "of the default CNN with speakers (calibrated log-odds > 0); "
        f"{torch.get_num_threads()} torch thread(s):\n\n" + markdown_table(head, rows)
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
