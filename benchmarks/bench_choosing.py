"""Which path to take: enrolment with each encoder or MFCC + SVM, by kind of audio and data.

Usage: python benchmarks/bench_choosing.py --data DIR [--seeds 0 1 ... 19] [--quick]
                                           [--cnn-seeds N]

On speechocean762 protocol v2 (``benchmarks/_real.py``), every recording passed
through one of four kinds of audio:

- "wide-band": as recorded (16 kHz read speech);
- "telephone": band-pass 300-3400 Hz (4th-order Butterworth), resampled to 8 kHz,
  given to the pipelines at 8 kHz;
- "2 s" and "1 s": the centre 2 s or 1 s of every recording (after the edges'
  silence is trimmed), for enrolment and test alike.

Rows: enrolment with each installed encoder (``make_enrollment_pipeline``; the
embeddings are computed once per recording and kind of audio, then every seed
fits its ``EnrollmentVerifier`` on its rows) and MFCC statistics + RBF SVM trained
on the seed's speakers. With ``--cnn-seeds N``, also the CNN trained on the seed's
speakers and the CNN fine-tuned from the shipped encoder (trunk frozen for 10
epochs), on the first N seeds: a fit per path, kind of audio and seed. Reports the
EER against never-heard impostors.

Then what the data must hold, on wide-band audio, for each encoder:

- the refused speakers in training (2, 5 or all 14 of the protocol): the FAR
  realised on never-heard impostors at a 5 % target (``target_far``, speaker
  cross-fitting), the seeds within 1.5 times the target, and the FRR;
- the enrolment recordings of each allowed speaker (1, 3 or all 10): the EER.

Means with 95 % bootstrap intervals over seeds. Writes
``benchmarks/results/choosing.md``.
"""

import argparse
import warnings

import numpy as np
from _common import SMOKE, markdown_table, mean_ci, write_result
from _real import load_corpus, protocol, run
from bench_pretrained import with_few_enrolment_recordings
from scipy.signal import butter, sosfiltfilt
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils import Bunch

from skvoice.decisions import EnrollmentVerifier
from skvoice.io import resample
from skvoice.metrics import equal_error_rate
from skvoice.neural_network import CNNClassifier, available_encoders
from skvoice.preprocessing import MFCCStatistics, Resampler, SilenceTrimmer, SpectrogramExtractor
from skvoice.verification import make_enrollment_pipeline

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions")

KINDS = ("wide-band", "telephone", "2 s", "1 s")
REFUSED = (2, 5, None)
ENROL = (1, 3, None)


def audio(waves, kind):
    """The recordings as ``kind`` of audio, and their sample rate."""
    if kind == "wide-band":
        return waves, 16000
    if kind == "telephone":
        sos = butter(4, [300, 3400], btype="bandpass", fs=16000, output="sos")
        return [resample(sosfiltfilt(sos, w).astype(np.float32), 16000, 8000) for w in waves], 8000
    seconds = float(kind.split()[0])
    n = int(seconds * 16000)
    trimmed = SilenceTrimmer().fit_transform(waves)
    out = []
    for w in trimmed:
        start = max(0, (len(w) - n) // 2)
        out.append(w[start : start + n])
    return out, 16000


def features(waves, encoders):
    """Per kind of audio: each encoder's embeddings and the MFCC statistics, of every recording."""
    out = {}
    for kind in KINDS:
        X, sr = audio(waves, kind)
        feats = {
            enc: make_enrollment_pipeline(enc, sr=sr)[:-1].fit(X[:1]).transform(X)
            for enc in encoders
        }
        trimmed = SilenceTrimmer(sr=sr).fit_transform(X)
        feats["MFCC"] = MFCCStatistics(sr=sr).fit_transform(trimmed)
        out[kind] = feats
        print(f"{kind}: features of {len(X)} recordings", flush=True)
    return out


def unseen_eer(p, s):
    test_kind = p.kind[p.test]
    keep = test_kind != "seen"
    return equal_error_rate(p.y[p.test][keep], s[keep])


def one_seed(so, feats, encoders, seed):
    p = protocol(so, seed)
    spk = np.asarray(so.speaker)
    out = {}
    for kind in KINDS:
        for enc in encoders:
            E = feats[kind][enc]
            ver = EnrollmentVerifier().fit(E[p.train], p.y[p.train], groups=spk[p.train])
            out[(kind, enc)] = unseen_eer(p, ver.decision_function(E[p.test]))
        M = feats[kind]["MFCC"]
        svm = make_pipeline(StandardScaler(), SVC(class_weight="balanced"))
        svm.fit(M[p.train], p.y[p.train])
        out[(kind, "MFCC statistics + RBF SVM")] = unseen_eer(p, svm.decision_function(M[p.test]))
    unseen = p.kind[p.test] == "unseen"
    allowed = p.kind[p.test] == "allowed"
    refused_heard = sorted(set(spk[p.train][p.y[p.train] == 0]))
    order = list(np.random.default_rng(30_000 + seed).permutation(refused_heard))
    for enc in encoders:
        E = feats["wide-band"][enc]
        for n in REFUSED:
            keep_spk = set(order if n is None else order[:n]) | set(p.allowed)
            rows = np.array([i for i in p.train if spk[i] in keep_spk])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                ver = EnrollmentVerifier(target_far=0.05).fit(E[rows], p.y[rows], groups=spk[rows])
            accept = ver.predict(E[p.test]) == 1
            out[("refused", enc, n)] = (accept[unseen].mean(), 1 - accept[allowed].mean())
        for n in ENROL:
            q = p if n is None else with_few_enrolment_recordings(p, so.speaker, n)
            ver = EnrollmentVerifier().fit(E[q.train], q.y[q.train], groups=spk[q.train])
            out[("enrol", enc, n)] = unseen_eer(p, ver.decision_function(E[p.test]))
    out["refused total"] = len(order)
    return out


#: The CNN paths of the choosing page: trained on the user's speakers, and
#: fine-tuned from the shipped encoder (trunk frozen for 10 epochs).
CNN_PATHS = (
    ("CNN trained on the user's speakers", {}),
    (
        "CNN fine-tuned from the shipped encoder",
        dict(pretrained="speechocean762", freeze_epochs=10),
    ),
)


def cnn_rows(so, seeds):
    """EER never heard of the CNN paths, by kind of audio, on ``seeds`` (each a fit per path)."""
    out = {}
    for kind in KINDS:
        X, sr = audio(so.waves, kind)
        kind_so = Bunch(waves=X, speaker=so.speaker)
        for seed in seeds:
            p = protocol(so, seed)
            for name, kw in CNN_PATHS:
                # The encoder's front-end at 16 kHz: telephone audio is resampled up.
                front = [Resampler(sr=sr, target_sr=16000)] if sr != 16000 else []
                model = make_pipeline(
                    *front,
                    SilenceTrimmer(),
                    SpectrogramExtractor(),
                    CNNClassifier(random_state=seed, **kw),
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    r = run(model, kind_so, p, "cnnclassifier__groups")
                out.setdefault((kind, name), []).append(r["EER unseen"])
                print(
                    f"{kind} | seed {seed} | {name} | EER unseen {r['EER unseen']:.3f}", flush=True
                )
    return out


def main(data, seeds, cnn_seeds=0):
    so = load_corpus(data)
    encoders = available_encoders()
    cnn = cnn_rows(so, seeds[:cnn_seeds]) if cnn_seeds else {}
    feats = features(so.waves, encoders)
    runs = [one_seed(so, feats, encoders, seed) for seed in seeds]
    rows_names = [*(f"{e} + enrolment" for e in encoders), "MFCC statistics + RBF SVM"]
    keys = [*encoders, "MFCC statistics + RBF SVM"]
    table = [
        [name, *(mean_ci([100 * r[(kind, key)] for r in runs], "{:.1f}") for kind in KINDS)]
        for name, key in zip(rows_names, keys)
    ]
    n_refused = runs[0]["refused total"]
    refused_rows = []
    for enc in encoders:
        for n in REFUSED:
            far = [100 * r[("refused", enc, n)][0] for r in runs]
            refused_rows.append(
                [
                    enc,
                    n or f"all {n_refused}",
                    mean_ci(far, "{:.1f}"),
                    f"{sum(f <= 7.5 + 1e-9 for f in far)} of {len(runs)}",
                    f"{max(far):.1f}",
                    mean_ci([100 * r[("refused", enc, n)][1] for r in runs], "{:.1f}"),
                ]
            )
    enrol_rows = [
        [enc, n or "all 10", mean_ci([100 * r[("enrol", enc, n)] for r in runs], "{:.1f}")]
        for enc in encoders
        for n in ENROL
    ]
    cnn_table = ""
    if cnn:
        rows = [
            [name, *(mean_ci([100 * v for v in cnn[(kind, name)]], "{:.1f}") for kind in KINDS)]
            for name, _ in CNN_PATHS
        ]
        cnn_table = (
            f"\n\nThe CNN paths, trained on the seed's speakers, on the first {cnn_seeds} seeds "
            f"(a fit per path, kind and seed; the rows above on the same {cnn_seeds} seeds are "
            "in the first table's means):\n\n" + markdown_table(("path", *KINDS), rows)
        )
    return (
        f"speechocean762 protocol v2, {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}); mean "
        "[95 % bootstrap interval over seeds]. EER (%) against never-heard impostors, by "
        "kind of audio:\n\n"
        + markdown_table(("path", *KINDS), table)
        + cnn_table
        + "\n\nRefused speakers in training (wide-band): the FAR realised on never-heard "
        "impostors at a 5 % target, and the allowed speakers' FRR:\n\n"
        + markdown_table(
            (
                "encoder",
                "refused speakers",
                "FAR never heard (%)",
                "seeds with FAR <= 7.5 %",
                "worst seed (%)",
                "FRR (%)",
            ),
            refused_rows,
        )
        + "\n\nEnrolment recordings per allowed speaker (wide-band), EER (%) against "
        "never-heard impostors:\n\n"
        + markdown_table(("encoder", "recordings", "EER (%)"), enrol_rows)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="extracted speechocean762 folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    parser.add_argument("--quick", action="store_true", help="seeds 0 and 1")
    parser.add_argument(
        "--cnn-seeds", type=int, default=0, help="also fit the CNN paths on the first N seeds"
    )
    args = parser.parse_args()
    seeds = [0, 1] if args.quick or SMOKE else args.seeds
    body = main(args.data, seeds, args.cnn_seeds)
    write_result("choosing" + ("_quick" if args.quick else ""), body)
