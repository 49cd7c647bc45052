"""Access decisions at a chosen false-acceptance rate, on real speech (speechocean762).

Usage: python benchmarks/bench_operating_point.py --data DIR [--seeds 0 1 ... 19]
                                                  [--cv 5] [--quick]

On the public protocol of ``benchmarks/_real.py`` (20 training speakers, 6 allowed;
105 speakers never heard as impostors), for each seed the default pipeline
(trim, log-mel, ``CNNClassifier`` with the speakers) is fitted once with
``target_far`` set, which refits it on ``--cv`` speaker folds. The thresholds for
1 %, 5 % and 10 % all come from the same cross-fitted scores
(``crossfit_scores_``, ``calibration_``), exactly as ``fit`` sets ``threshold_``.
For each target it reports the false-acceptance rate realised on the test
recordings of impostors never heard, and on the refused training speakers' new
recordings, and the false-rejection rate of the allowed speakers' test recordings:

- "cross-fitted": the library's ``target_far`` threshold;
- "training scores": the threshold a user gets by applying the same FAR rule to
  the fitted model's scores of its own refused training recordings (what
  ``threshold_at_far`` on training data, or a FixedThresholdClassifier tuned there,
  gives);
- the default decision (calibrated log-odds > 0) once, without a target.

Calibration: the expected calibration error (10 bins) over the allowed and
never-heard test trials, and the mean probability given to never-heard impostors,
for the calibration fitted on training scores (before) and the cross-fitted one
(after). Writes ``benchmarks/results/operating_point.md``.
"""

import argparse
import time
import warnings

import numpy as np
import torch
from _common import markdown_table, mean_ci, write_result
from _real import load_corpus, protocol
from sklearn.pipeline import make_pipeline

from skvoice.metrics._verification import far_cut
from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor
from skvoice.uncertainty import expected_calibration_error

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions", "skvoice/uncertainty/")

TARGETS = (0.01, 0.05, 0.10)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


def one_seed(so, seed, cv):
    p = protocol(so, seed)
    Xtr = [so.waves[i] for i in p.train]
    Xte = [so.waves[i] for i in p.test]
    ytr, spk = p.y[p.train], so.speaker[p.train]
    pipe = make_pipeline(
        SilenceTrimmer(),
        SpectrogramExtractor(),
        CNNClassifier(target_far=0.05, cv=cv, random_state=seed),
    )
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pipe.fit(Xtr, ytr, cnnclassifier__groups=spk)
    fit_s = time.perf_counter() - t
    net = pipe[-1]
    specs_te = net._check_X(pipe[:-1].transform(Xte), reset=False)
    specs_tr = net._check_X(pipe[:-1].transform(Xtr), reset=False)
    raw_te = net._raw_allowed_score(specs_te)
    raw_tr = net._raw_allowed_score(specs_tr)
    a, b = net.calibration_
    kind = p.kind[p.test]
    unseen, seen, allowed = kind == "unseen", kind == "seen", kind == "allowed"
    out = {"fit s": fit_s}
    for target in TARGETS:
        # Cross-fitted: the rule of fit (threshold_ for target_far=target).
        cut = far_cut(net.crossfit_scores_[ytr == 0], target)
        accept = raw_te > cut
        out[("cross-fitted", target)] = (
            accept[unseen].mean(),
            accept[seen].mean(),
            1 - accept[allowed].mean(),
        )
        # On the fitted model's own training impostors.
        cut = far_cut(raw_tr[ytr == 0], target)
        accept = raw_te > cut
        out[("training scores", target)] = (
            accept[unseen].mean(),
            accept[seen].mean(),
            1 - accept[allowed].mean(),
        )
    # Default decision, before (training-score calibration) and after.
    # The cosine scores' calibration without cross-fitting: the verifier's own,
    # fitted on the training speakers' (leave-one-out) scores.
    cal = net.verifier_.calibrator_
    before = float(cal.coef_[0, 0]) * raw_te + float(cal.intercept_[0])
    after = a * raw_te + b
    for name, z in (("before", before), ("after", after)):
        accept = z > 0
        out[("default", name)] = (
            accept[unseen].mean(),
            accept[seen].mean(),
            1 - accept[allowed].mean(),
        )
        trials = allowed | unseen
        prob = _sigmoid(z)
        out[("ece", name)] = expected_calibration_error(p.y[p.test][trials], prob[trials])
        out[("p unseen", name)] = prob[unseen].mean()
    # The library's own threshold_ must match the cross-fitted rule at 5 %.
    decided = net.predict(specs_te) == 1
    expected = raw_te > far_cut(net.crossfit_scores_[ytr == 0], 0.05)
    assert np.array_equal(decided, expected), "threshold_ differs from the cross-fitted rule"
    return out


def main(data, seeds, cv):
    so = load_corpus(data)
    runs = []
    for seed in seeds:
        r = one_seed(so, seed, cv)
        runs.append(r)
        print(
            f"seed {seed} | fit {r['fit s']:.0f} s | 5 %: cross-fitted unseen FAR "
            f"{r[('cross-fitted', 0.05)][0]:.3f}, training-score unseen FAR "
            f"{r[('training scores', 0.05)][0]:.3f}",
            flush=True,
        )

    def cell(key, i):
        return mean_ci([100 * r[key][i] for r in runs], "{:.1f}")

    rows = []
    for target in TARGETS:
        for how in ("cross-fitted", "training scores"):
            key = (how, target)
            rows.append([f"{100 * target:g} %", how, cell(key, 0), cell(key, 1), cell(key, 2)])
    for name in ("before", "after"):
        label = "training-score calibration" if name == "before" else "cross-fitted calibration"
        rows.append(
            ["none (log-odds > 0)", label, *(cell(("default", name), i) for i in range(3))]
        )
    head = (
        "target FAR",
        "threshold from",
        "FAR never heard (%)",
        "FAR refused, seen (%)",
        "FRR allowed (%)",
    )
    cal = [
        [
            "training scores (before)" if n == "before" else "cross-fitted (after)",
            mean_ci([r[("ece", n)] for r in runs], "{:.3f}"),
            mean_ci([r[("p unseen", n)] for r in runs], "{:.3f}"),
        ]
        for n in ("before", "after")
    ]
    body = (
        f"speechocean762 access-control protocol, {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}), "
        "mean [95 % bootstrap interval over seeds]; default "
        f"CNNClassifier with speakers, {cv}-fold speaker cross-fitting (fit with the folds: "
        f"{mean_ci([r['fit s'] for r in runs], '{:.0f}')} s on "
        f"{torch.get_num_threads()} torch thread(s)):\n\n"
        + markdown_table(head, rows)
        + "\n\nCalibration on the test trials of allowed speakers and never-heard impostors:\n\n"
        + markdown_table(
            ("calibration", "ECE (10 bins)", "mean P(allowed) of never-heard impostors"), cal
        )
    )
    return body


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="extracted speechocean762 folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    parser.add_argument("--cv", type=int, default=5, help="speaker folds of the cross-fitting")
    parser.add_argument("--quick", action="store_true", help="seed 0 only")
    args = parser.parse_args()
    seeds = [0] if args.quick else args.seeds
    write_result(
        "operating_point_quick" if args.quick else "operating_point",
        main(args.data, seeds, args.cv),
    )
