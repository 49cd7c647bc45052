"""Enrolment without retraining: embedding verifier against the binary CNN.

Usage: python benchmarks/bench_enrolment.py [--epochs N]

1. Under OpenSetGroupKFold(4) on noisy make_voices data (every test impostor unseen
   in training): pooled EER and FAR at 5 % FRR of CNNClassifier(objective="binary"),
   CNNClassifier with the speaker objective, and SpeakerEmbedder + EnrollmentVerifier.
2. A new allowed user: enrolled from 5 recordings into a verifier whose embedder never
   heard them, against retraining embedder and verifier from scratch with that user
   allowed; EER on the same test recordings, and the time enrolment takes.

Writes ``benchmarks/results/enrolment.md``.
"""

import argparse
import time

import numpy as np
from _common import write_result

from skvoice.datasets import make_voices
from skvoice.metrics import equal_error_rate, far_at_frr
from skvoice.model_selection import OpenSetGroupKFold
from skvoice.neural_network import CNNClassifier, SpeakerEmbedder
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor
from skvoice.verification import EnrollmentVerifier

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions")


def pick(X, idx):
    return [X[i] for i in idx]


def main(epochs=30):
    voices = make_voices(n_speakers=12, n_recordings=16, duration=3.0, snr_db=10, random_state=0)
    y, spk = voices.target, voices.speaker
    specs = SpectrogramExtractor().fit_transform(SilenceTrimmer().fit_transform(voices.data))
    net = CNNClassifier(max_epochs=epochs, random_state=0)
    results = {
        "CNNClassifier, binary objective": [],
        "CNNClassifier, speaker objective": [],
        "SpeakerEmbedder + EnrollmentVerifier": [],
    }
    ys = []
    fit_times = {k: 0.0 for k in results}
    for train, test in OpenSetGroupKFold(4).split(specs, y, spk):
        ys.append(y[test])
        Xtr, Xte = pick(specs, train), pick(specs, test)
        t = time.perf_counter()
        binary = net.set_params(objective="binary").fit(Xtr, y[train])
        fit_times["CNNClassifier, binary objective"] += time.perf_counter() - t
        results["CNNClassifier, binary objective"].append(binary.decision_function(Xte))
        t = time.perf_counter()
        emb = SpeakerEmbedder(net).fit(Xtr, groups=spk[train])
        ver = EnrollmentVerifier().fit(emb.transform(Xtr), y[train], groups=spk[train])
        fit_times["SpeakerEmbedder + EnrollmentVerifier"] += time.perf_counter() - t
        results["SpeakerEmbedder + EnrollmentVerifier"].append(
            ver.decision_function(emb.transform(Xte))
        )
        # The speaker-objective classifier is the embedder's network plus the
        # posterior sum: no second training needed.
        spk_clf = CNNClassifier(max_epochs=epochs, random_state=0)
        t = time.perf_counter()
        spk_clf.fit(Xtr, y[train], groups=spk[train])
        fit_times["CNNClassifier, speaker objective"] += time.perf_counter() - t
        results["CNNClassifier, speaker objective"].append(spk_clf.decision_function(Xte))
    y_all = np.concatenate(ys)
    lines = [
        "Open set, make_voices(n_speakers=12, n_recordings=16, snr_db=10), "
        "OpenSetGroupKFold(4), pooled:",
        "",
        "| model | EER | FAR @ 5 % FRR | fit time (s, 4 folds) |",
        "|---|---|---|---|",
    ]
    for name, parts in results.items():
        s = np.concatenate(parts)
        lines.append(
            f"| {name} | {equal_error_rate(y_all, s):.3f} | {far_at_frr(y_all, s):.3f} | "
            f"{fit_times[name]:.0f} |"
        )

    # A new allowed user: one refused speaker becomes allowed.
    allowed = sorted(set(spk[y == 1]))
    refused = sorted(set(spk[y == 0]))
    new, unseen = refused[0], refused[1:4]
    new_idx = np.flatnonzero(spk == new)
    enrol_idx, new_test = new_idx[:5], new_idx[5:]
    rng = np.random.default_rng(0)
    allowed_test = np.concatenate([rng.permutation(np.flatnonzero(spk == a))[:4] for a in allowed])
    test = np.concatenate([new_test, allowed_test, np.flatnonzero(np.isin(spk, unseen))])
    y_test = np.isin(spk[test], allowed + [new]).astype(int)
    base_train = np.setdiff1d(np.arange(len(y)), np.r_[test, enrol_idx])

    emb = SpeakerEmbedder(net).fit(pick(specs, base_train), groups=spk[base_train])
    E_base = emb.transform(pick(specs, base_train))
    ver = EnrollmentVerifier().fit(E_base, y[base_train], groups=spk[base_train])
    t = time.perf_counter()
    ver.enroll(emb.transform(pick(specs, enrol_idx)), speaker=new)
    enrol_time = time.perf_counter() - t
    eer_enrol = equal_error_rate(y_test, ver.decision_function(emb.transform(pick(specs, test))))

    retrain = np.r_[base_train, enrol_idx]
    y_re = np.isin(spk[retrain], allowed + [new]).astype(int)
    emb2 = SpeakerEmbedder(net).fit(pick(specs, retrain), groups=spk[retrain])
    ver2 = EnrollmentVerifier().fit(
        emb2.transform(pick(specs, retrain)), y_re, groups=spk[retrain]
    )
    eer_retrain = equal_error_rate(
        y_test, ver2.decision_function(emb2.transform(pick(specs, test)))
    )
    lines += [
        "",
        f"New allowed user {new} ({len(new_test)} test recordings; impostors {unseen} "
        "unseen); one timed enrolment:",
        "",
        "| route | EER | time |",
        "|---|---|---|",
        f"| enrol 5 recordings, no retraining | {eer_enrol:.3f} | {enrol_time:.3f} s "
        "(embed 5 recordings + enroll) |",
        f"| retrain embedder and verifier | {eer_retrain:.3f} | - |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    write_result("enrolment", main(parser.parse_args().epochs))
