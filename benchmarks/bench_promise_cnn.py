"""The CNN's promise: its threshold and FRR decided by the final model or by the fold models.

Usage: python benchmarks/bench_promise_cnn.py --data DIR [--corpus speechocean762|dspspeech20]
                                              [--seeds 0 ... 9] [--refused 3 14] [--epochs 30]

The network ``skvoice train`` builds (``CNNClassifier`` with its defaults, on the
seed's speakers; speechocean762 protocol v2, or DSPSpeech-20 as the veto) under
:class:`~skvoice.decisions.TargetFARClassifierCV` at a 5 % target, with 3 or 14
refused training speakers. The threshold and the calibration come from the fold
models' held-out scores; the decisions on the test rows are made either by the
network refitted on everything (``ensemble=False``, what ``CNNClassifier(
target_far=...)`` and ``skvoice train`` do) or by the mean of the fold models
(``ensemble=True``), from one set of fits (the same folds). Reports the promised
FRR and its interval, the realised FRR on new recordings of the allowed users,
the realised FAR on never-heard impostors. Writes
``benchmarks/results/promise_cnn.md`` (or ``promise_cnn_dspspeech20.md``).
"""

import argparse
import time
import warnings

import numpy as np
from _common import SMOKE, markdown_table, mean_ci, write_result
from bench_crossdomain import corpus
from sklearn.base import clone

from skvoice.decisions import TargetFARClassifierCV
from skvoice.decisions._operating_point import affine_log_odds
from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions")

TARGET = 0.05


def one_seed(so, p, specs, n_refused_list, seed, epochs):
    spk = np.asarray(so.speaker)
    rng = np.random.default_rng(1000 + seed)
    train_spk = spk[p.train]
    order = rng.permutation(np.array(sorted(set(train_spk[p.y[p.train] == 0]))))
    kind = p.kind[p.test]
    X_test = [specs[i] for i in p.test]
    out = {}
    for n_refused in n_refused_list:
        rows = p.train[(p.y[p.train] == 1) | np.isin(train_spk, order[:n_refused])]
        X, y, groups = [specs[i] for i in rows], p.y[rows], spk[rows]
        net = CNNClassifier(max_epochs=epochs, random_state=seed)
        meta = TargetFARClassifierCV(
            net, target_far=TARGET, ensemble=True, cv=min(5, n_refused), random_state=seed
        ).fit(X, y, groups=groups)
        final = clone(net).fit(X, y, groups=groups)
        a, b = meta.calibration_
        llr = {
            "fold ensemble": meta.decision_function(X_test),
            "final model": affine_log_odds(final.score_samples(X_test), a, b),
        }
        for variant, score in llr.items():
            accept = score > meta.threshold_
            r = meta.expected_rates_
            out[(n_refused, variant)] = {
                "far": float(accept[kind == "unseen"].mean()),
                "frr": float((~accept[kind == "allowed"]).mean()),
                "promised_frr": r["frr"],
                "frr_interval": r["frr_interval"],
            }
    return out


def main(data, corpus_name, seeds, n_refused_list, epochs):
    t0 = time.perf_counter()
    so, protocol, title = corpus(corpus_name, data)
    protocols = [protocol(so, seed) for seed in seeds]
    used = np.unique(np.concatenate([np.r_[p.train, p.test] for p in protocols]))
    front = [SilenceTrimmer(), SpectrogramExtractor()]
    waves = [np.asarray(so.waves[i], dtype=np.float32) for i in used]
    computed = front[1].fit_transform(front[0].fit_transform(waves))
    specs = dict(zip(used.tolist(), computed, strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        runs = [
            one_seed(so, p, specs, n_refused_list, seed, epochs)
            for p, seed in zip(protocols, seeds, strict=True)
        ]
    rows = []
    for n_refused in n_refused_list:
        for variant in ("final model", "fold ensemble"):
            rs = [r[(n_refused, variant)] for r in runs]
            frr = np.array([x["frr"] for x in rs])
            inside = np.mean([lo <= x["frr"] <= hi for x in rs for lo, hi in [x["frr_interval"]]])
            rows.append(
                [
                    n_refused,
                    variant,
                    mean_ci([100 * x["promised_frr"] for x in rs], "{:.1f}"),
                    mean_ci(100 * frr, "{:.1f}"),
                    f"{inside:.0%}",
                    mean_ci([100 * x["far"] for x in rs], "{:.1f}"),
                ]
            )
    header = (
        "refused speakers",
        "decided by",
        "promised FRR (%)",
        "realised FRR (%)",
        "FRR in its interval",
        "realised FAR (%)",
    )
    minutes = (time.perf_counter() - t0) / 60
    return (
        f"{title}, {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}); mean [95 % bootstrap interval "
        f"over seeds]. The default CNN ({epochs} epochs) under "
        f"`TargetFARClassifierCV(target_far={TARGET})`, `bench_promise_cnn.py`'s "
        "docstring.\n\n"
        + markdown_table(header, rows)
        + f"\n\nRun time: {minutes:.0f} min on this machine."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the corpus folder")
    parser.add_argument(
        "--corpus", default="speechocean762", choices=["speechocean762", "dspspeech20"]
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--refused", type=int, nargs="+", default=[3, 14])
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    seeds = [0] if SMOKE else args.seeds
    refused = [2] if SMOKE else args.refused
    body = main(args.data, args.corpus, seeds, refused, 1 if SMOKE else args.epochs)
    name = "promise_cnn" if args.corpus == "speechocean762" else f"promise_cnn_{args.corpus}"
    write_result(name, body)
