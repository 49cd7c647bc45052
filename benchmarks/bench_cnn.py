"""CNNClassifier: training throughput, prediction latency and open-set EER.

Usage: python benchmarks/bench_cnn.py [--device cpu|cuda] [--amp] [--epochs N] [--quick]
                                      [--throughput-only] [--batch-size B] [--seeds 0 1 2]

Prints a table of training throughput (crops per second), prediction time per 3 s
recording (spectrogram to probability) and, on a fixed noisy make_voices
configuration under OpenSetGroupKFold (every test impostor unseen in training), the
EER and FAR at 5 % FRR of the CNN against two classical baselines (F0 + MFCC
statistics into logistic regression and into an RBF SVM), all in the same run, as
mean +- sd over ``--seeds`` (each seed draws its own corpus and trains its own
models). Prediction time is that of the whole pipeline a user calls: silence
trimming, spectrogram and network, from the waveform. Writes
``benchmarks/results/cnn.md`` (``cnn_quick.md`` with ``--quick``).
"""

import argparse
import time

import numpy as np
import torch
from _common import markdown_table, mean_sd, median_time, write_result
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import Pipeline, make_pipeline, make_union
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skvoice.datasets import make_voices
from skvoice.metrics import equal_error_rate, far_at_frr
from skvoice.model_selection import OpenSetGroupKFold
from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import (
    F0Extractor,
    MFCCStatistics,
    SilenceTrimmer,
    SpectrogramExtractor,
)

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions")


def open_set_scores(make_model, X, y, groups, cv, pass_groups):
    """Pooled decision scores over the folds, and the fit time."""
    ys, scores, preds = [], [], []
    fit_time = 0.0
    for train, test in cv.split(X, y, groups):
        pick = (lambda idx: [X[i] for i in idx]) if isinstance(X, list) else (lambda i: X[i])
        model = make_model()
        t = time.perf_counter()
        kw = {"groups": groups[train]} if pass_groups else {}
        model.fit(pick(train), y[train], **kw)
        fit_time += time.perf_counter() - t
        ys.append(y[test])
        scores.append(model.decision_function(pick(test)))
        preds.append(model.predict(pick(test)))
    return np.concatenate(ys), np.concatenate(scores), np.concatenate(preds), fit_time


def main(
    device="cpu",
    epochs=30,
    quick=False,
    amp=False,
    throughput_only=False,
    batch_size=32,
    seeds=(0, 1, 2),
):
    torch.set_num_threads(2 if device == "cpu" else torch.get_num_threads())
    n_spk, n_rec = (8, 8) if quick else (12, 16)
    body = ""
    per_seed = []
    for seed in seeds if not throughput_only else ():
        voices = make_voices(
            n_speakers=n_spk, n_recordings=n_rec, duration=3.0, snr_db=10, random_state=seed
        )
        speech = SilenceTrimmer().fit_transform(voices.data)
        specs = SpectrogramExtractor().fit_transform(speech)
        common = {"device": device, "amp": amp, "random_state": seed}
        per_seed.append(
            open_set_rows(specs, speech, voices.target, voices.speaker, epochs, common)
        )
        print(f"seed {seed} done", flush=True)
    if per_seed:
        rows = []
        for k, (name, *_) in enumerate(per_seed[0]):
            cols = list(zip(*[seed_rows[k][1:] for seed_rows in per_seed]))
            rows.append([name] + [mean_sd(c) for c in cols[:3]] + [mean_sd(cols[3], "{:.1f}")])
        body += (
            f"Open-set EER: make_voices(n_speakers={n_spk}, n_recordings={n_rec}, duration=3, "
            f"snr_db=10), OpenSetGroupKFold(4), pooled over folds; mean +- sd over seeds "
            f"{list(seeds)}:\n\n"
            + markdown_table(
                ("model", "EER", "FAR @ 5 % FRR", "balanced accuracy", "fit s (4 folds)"), rows
            )
            + "\n\n"
        )
    voices = make_voices(
        n_speakers=n_spk, n_recordings=n_rec, duration=3.0, snr_db=10, random_state=0
    )
    common = {"device": device, "amp": amp, "random_state": 0}
    body += throughput_table(voices, epochs, common, batch_size)
    write_result("cnn_quick" if quick else "cnn", body)


def open_set_rows(specs, speech, y, spk, epochs, common):
    """EER of the CNN and the two baselines under OpenSetGroupKFold(4), one seed."""
    stats = make_union(F0Extractor(output="stats"), MFCCStatistics()).fit_transform(speech)
    cv = OpenSetGroupKFold(4)

    rows = []
    models = [
        (
            "F0+MFCC stats, logistic regression",
            stats,
            False,
            lambda: make_pipeline(
                StandardScaler(), LogisticRegression(max_iter=5000, class_weight="balanced")
            ),
        ),
        (
            "F0+MFCC stats, RBF SVM",
            stats,
            False,
            lambda: make_pipeline(StandardScaler(), SVC(class_weight="balanced")),
        ),
        (
            "CNNClassifier (speaker objective, cosine scoring: the default)",
            specs,
            True,
            lambda: CNNClassifier(max_epochs=epochs, **common),
        ),
        (
            "CNNClassifier (speaker objective, posterior scoring)",
            specs,
            True,
            lambda: CNNClassifier(max_epochs=epochs, backend="posterior", **common),
        ),
        (
            "CNNClassifier (binary objective)",
            specs,
            True,
            lambda: CNNClassifier(max_epochs=epochs, objective="binary", **common),
        ),
    ]
    for name, X, groups_to_fit, make_model in models:
        yt, s, p, fit_time = open_set_scores(make_model, X, y, spk, cv, groups_to_fit)
        rows.append(
            (
                name,
                equal_error_rate(yt, s),
                far_at_frr(yt, s, 0.05),
                balanced_accuracy_score(yt, p),
                fit_time,
            )
        )

    return rows


def throughput_table(voices, epochs, common, batch_size):
    """Training crops per second and prediction time of the default pipeline."""
    y, spk = voices.target, voices.speaker
    front = make_pipeline(SilenceTrimmer(), SpectrogramExtractor())
    specs = front.fit_transform(voices.data)
    clf = CNNClassifier(max_epochs=epochs, batch_size=batch_size, **common)
    t = time.perf_counter()
    clf.fit(specs, y, groups=spk)
    train_time = time.perf_counter() - t
    crops_per_s = len(specs) * len(clf.history_) / train_time
    # As a user calls it: waveform in, probability out (trim, spectrogram, network).
    pipe = Pipeline([*front.steps, ("cnnclassifier", clf)])
    waves = [np.resize(w, 3 * 16000) for w in voices.data[:50]]
    batch_ms = median_time(lambda: pipe.predict_proba(waves), 3) / len(waves) * 1e3
    one_ms = median_time(lambda: pipe.predict_proba(waves[:1]), 20) * 1e3
    amp = ", bfloat16 autocast" if common["amp"] else ""
    rows = [
        (
            "training throughput",
            f"{crops_per_s:.0f} crops/s ({len(clf.history_)} epochs, "
            f"{len(specs)} recordings, {train_time:.1f} s)",
        ),
        (
            "predict, 3 s waveform, batch of 50 (trim + spectrogram + CNN)",
            f"{batch_ms:.1f} ms per recording",
        ),
        (
            "predict, 3 s waveform, one call (trim + spectrogram + CNN)",
            f"{one_ms:.1f} ms (median of 20)",
        ),
    ]
    return markdown_table(
        (f"measure ({common['device']}{amp}, batch {batch_size})", "value"), rows
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="smaller data set")
    parser.add_argument("--amp", action="store_true", help="bfloat16 mixed precision")
    parser.add_argument("--throughput-only", action="store_true", help="skip the EER table")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    main(
        args.device,
        args.epochs,
        args.quick,
        args.amp,
        args.throughput_only,
        args.batch_size,
        tuple(args.seeds),
    )
