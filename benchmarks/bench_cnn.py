"""CNNClassifier: training throughput, prediction latency and open-set EER.

Usage: python benchmarks/bench_cnn.py [--device cpu|cuda] [--amp] [--epochs N] [--quick]
                                      [--throughput-only] [--batch-size B]

Prints a table of training throughput (crops per second), prediction time per 3 s
recording (spectrogram to probability) and, on a fixed noisy make_voices
configuration under OpenSetGroupKFold (every test impostor unseen in training), the
EER and FAR at 5 % FRR of the CNN against two classical baselines (F0 + MFCC
statistics into logistic regression and into an RBF SVM), all in the same run.
"""

import argparse
import time

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline, make_union
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


def main(device="cpu", epochs=30, quick=False, amp=False, throughput_only=False, batch_size=32):
    torch.set_num_threads(2 if device == "cpu" else torch.get_num_threads())
    common = {"device": device, "amp": amp, "random_state": 0}
    n_spk, n_rec = (8, 8) if quick else (12, 16)
    voices = make_voices(
        n_speakers=n_spk, n_recordings=n_rec, duration=3.0, snr_db=10, random_state=0
    )
    y, spk = voices.target, voices.speaker
    speech = SilenceTrimmer().fit_transform(voices.data)
    specs = SpectrogramExtractor().fit_transform(speech)
    if not throughput_only:
        open_set_table(specs, speech, y, spk, epochs, common, n_spk, n_rec)
    throughput_table(specs, voices, y, spk, epochs, common, batch_size)


def open_set_table(specs, speech, y, spk, epochs, common, n_spk, n_rec):
    """EER of the CNN and the two baselines under OpenSetGroupKFold(4)."""
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

    print(
        f"Open-set EER: make_voices(n_speakers={n_spk}, n_recordings={n_rec}, "
        f"duration=3, snr_db=10), OpenSetGroupKFold(4), pooled over folds"
    )
    print("| model | EER | FAR @ 5 % FRR | balanced accuracy | fit time (s, 4 folds) |")
    print("|---|---|---|---|---|")
    for name, eer, far, bacc, ft in rows:
        print(f"| {name} | {eer:.3f} | {far:.3f} | {bacc:.3f} | {ft:.1f} |")


def throughput_table(specs, voices, y, spk, epochs, common, batch_size):
    """Training crops per second and prediction time of the default CNN."""
    clf = CNNClassifier(max_epochs=epochs, batch_size=batch_size, **common)
    t = time.perf_counter()
    clf.fit(specs, y, groups=spk)
    train_time = time.perf_counter() - t
    crops_per_s = len(specs) * len(clf.history_) / train_time
    three_s = SpectrogramExtractor(duration=3.0).fit_transform(voices.data[:50])
    clf.predict_proba(list(three_s[:2]))  # warm-up
    t = time.perf_counter()
    clf.predict_proba(list(three_s))
    batch_ms = (time.perf_counter() - t) / len(three_s) * 1e3
    singles = []
    for x in three_s[:20]:
        t = time.perf_counter()
        clf.predict_proba([x])
        singles.append(time.perf_counter() - t)
    print()
    amp = ", bfloat16 autocast" if common["amp"] else ""
    print(f"| measure ({common['device']}{amp}, batch {batch_size}) | value |")
    print("|---|---|")
    print(
        f"| training throughput | {crops_per_s:.0f} crops/s ({len(clf.history_)} epochs, "
        f"{len(specs)} recordings, {train_time:.1f} s) |"
    )
    print(f"| predict, 3 s recording, batch of 50 | {batch_ms:.1f} ms per recording |")
    print(f"| predict, 3 s recording, one call | {np.median(singles) * 1e3:.1f} ms (median) |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="smaller data set")
    parser.add_argument("--amp", action="store_true", help="bfloat16 mixed precision")
    parser.add_argument("--throughput-only", action="store_true", help="skip the EER table")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    main(args.device, args.epochs, args.quick, args.amp, args.throughput_only, args.batch_size)
