"""MC dropout against deep ensembles: quality, cost and out-of-distribution flags.

Usage: python benchmarks/bench_uncertainty.py [--epochs N]

On one open-set split of noisy make_voices data (test: held-out recordings of the
allowed speakers and impostors never heard in training) prints three tables:

1. the single CNN, MC dropout (10, 30, 100 passes; dropout before the head, and in
   every block) and deep ensembles (3, 5, 10 members, each ensemble trained and
   timed on its own): balanced accuracy, EER, ECE, NLL, Brier, AUROC of each
   uncertainty for detecting misclassified recordings, area under risk-coverage,
   fit and predict time;
2. the cost of MC dropout relative to one deterministic predict_proba;
3. mean uncertainty on in-distribution recordings against unseen impostors, white
   noise, pure tones and music-like chords, with the AUROC of telling each apart from
   in-distribution recordings by epistemic uncertainty.

Prediction times are the median of ``--repeat`` calls after one warm-up. Writes
``benchmarks/results/uncertainty.md``.
"""

import argparse
import time

import numpy as np
from _common import markdown_table, median_time, write_result
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score, brier_score_loss, roc_auc_score

from skvoice.datasets import make_voices
from skvoice.metrics import equal_error_rate
from skvoice.model_selection import OpenSetGroupKFold
from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor
from skvoice.uncertainty import (
    DeepEnsembleClassifier,
    MCDropoutClassifier,
    area_under_risk_coverage,
    expected_calibration_error,
    misclassification_auroc,
    negative_log_likelihood,
    uncertainty_decomposition,
)

SR = 16000


def odd_inputs(rng, n=12, seconds=2.0):
    t = np.arange(int(SR * seconds)) / SR
    noise = [0.3 * rng.standard_normal(t.size) for _ in range(n)]
    tones = [0.5 * np.sin(2 * np.pi * rng.uniform(100, 2000) * t) for _ in range(n)]
    chords = []
    for _ in range(n):
        root = rng.uniform(110, 440)
        chord = sum(
            np.sin(2 * np.pi * root * r * k * t) / k for r in (1, 1.26, 1.5) for k in range(1, 6)
        )
        chords.append(0.2 * chord * np.exp(-t % 0.5 * 3))  # notes restruck every 0.5 s
    return {"white noise": noise, "pure tones": tones, "chords": chords}


def summarise(name, y, member_proba, fit_time, predict_time):
    proba, u = uncertainty_decomposition(member_proba)
    pred = (proba[:, 1] >= 0.5).astype(int)
    row = {
        "model": name,
        "bal. acc.": balanced_accuracy_score(y, pred),
        "EER": equal_error_rate(y, proba[:, 1]),
        "ECE": expected_calibration_error(y, proba),
        "NLL": negative_log_likelihood(y, proba),
        "Brier": brier_score_loss(y, proba[:, 1]),
        "AUROC err (total)": misclassification_auroc(y, pred, u.total),
        "AUROC err (epistemic)": misclassification_auroc(y, pred, u.epistemic),
        "AURC": area_under_risk_coverage(y, pred, u.total),
        "fit s": fit_time,
        "predict s": predict_time,
    }
    return row, u


def table(rows):
    keys = list(rows[0])
    cells = [[f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]) for k in keys] for r in rows]
    return markdown_table(keys, cells)


def main(epochs=20, repeat=5):
    rng = np.random.default_rng(0)
    voices = make_voices(n_speakers=9, n_recordings=12, duration=2.0, snr_db=15, random_state=0)
    trimmer, ext = SilenceTrimmer(), SpectrogramExtractor()
    specs = ext.fit_transform(trimmer.fit_transform(voices.data))
    y, spk = voices.target, voices.speaker
    train, test = next(OpenSetGroupKFold(3).split(specs, y, spk))
    Xtr, Xte = [specs[i] for i in train], [specs[i] for i in test]
    ytr, yte = y[train], y[test]
    unseen = [specs[i] for i in test if y[i] == 0]
    ind = [specs[i] for i in test if y[i] == 1]
    odd = {k: ext.transform(v) for k, v in odd_inputs(rng).items()}
    odd["unseen impostors"] = unseen
    base = CNNClassifier(max_epochs=epochs, backend="posterior", random_state=0)

    rows, unc, cost_rows = [], {}, []
    for label, block in [("head", 0.0), ("every block", 0.1)]:
        net = clone(base).set_params(block_dropout=block)
        t = time.perf_counter()
        net.fit(Xtr, ytr, groups=spk[train])
        fit_time = time.perf_counter() - t
        p = net.predict_proba(Xte)
        one = median_time(lambda net=net: net.predict_proba(Xte), repeat)
        if block == 0.0:
            r, _ = summarise("single CNN", yte, p[None], fit_time, one)
            rows.append(r)
        for passes in (10, 30, 100):
            mc = MCDropoutClassifier(net, n_passes=passes, random_state=0)
            mc.estimator_, mc.classes_ = net, net.classes_  # reuse the trained network
            members = mc.predict_member_proba(Xte)
            pt = median_time(lambda mc=mc: mc.predict_member_proba(Xte), repeat)
            name = f"MC dropout ({label}), {passes} passes"
            r, u = summarise(name, yte, members, fit_time, pt)
            rows.append(r)
            cost_rows.append({"model": name, "predict s": pt, "x one pass": pt / one})
            if passes == 30:
                unc[name] = mc
    for m in (3, 5, 10):
        ens = DeepEnsembleClassifier(base, n_estimators=m, random_state=0)
        t = time.perf_counter()
        ens.fit(Xtr, ytr, groups=spk[train])
        fit_time = time.perf_counter() - t
        members = ens.predict_member_proba(Xte)
        pt = median_time(lambda ens=ens: ens.predict_member_proba(Xte), repeat)
        r, _ = summarise(f"deep ensemble, {m} members", yte, members, fit_time, pt)
        rows.append(r)
        if m == 5:
            unc["deep ensemble, 5 members"] = ens

    body = (
        "Quality on the open-set test split "
        f"({len(yte)} recordings, {int((yte == 0).sum())} of unseen impostors):\n\n"
        + table(rows)
        + "\n\nCost of MC dropout relative to one deterministic pass (median of "
        f"{repeat} calls):\n\n"
        + table(cost_rows)
        + "\n\nOut of distribution: mean epistemic (mean total) uncertainty, and AUROC of "
        "epistemic uncertainty separating each group from allowed speakers' recordings:\n\n"
    )
    out_rows = []
    for name, model in unc.items():
        _, u_in = model.predict_proba(ind, return_uncertainty=True)
        row = {
            "model": name,
            "allowed (in dist.)": f"{u_in.epistemic.mean():.3f} ({u_in.total.mean():.3f})",
        }
        for group, Xg in odd.items():
            _, u = model.predict_proba(Xg, return_uncertainty=True)
            auc = roc_auc_score(
                np.r_[np.zeros(len(ind)), np.ones(len(Xg))], np.r_[u_in.epistemic, u.epistemic]
            )
            row[group] = f"{u.epistemic.mean():.3f} ({u.total.mean():.3f}), AUROC {auc:.2f}"
        out_rows.append(row)
    write_result("uncertainty", body + table(out_rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per prediction")
    args = parser.parse_args()
    main(args.epochs, args.repeat)
