"""Will it hold on the phone? Enrolment and MFCC + SVM under channels, noise, rooms, short tests.

Usage: python benchmarks/bench_robust.py --data DIR [--corpus speechocean762|dspspeech20]
                                         [--seeds 0 ... 19] [--quick] [--encoders ...]

On speechocean762 protocol v2 (``benchmarks/_real.py``) or, as the veto,
DSPSpeech-20's protocol (``bench_crossdomain.py``), every recording is passed
through each condition with ``skvoice.augment`` (seeded: the same degraded
corpus for every seed and row):

- "wide-band": as recorded;
- "telephone" and "gsm": 300-3400 Hz, 8 kHz, G.711 mu-law or GSM 6.10, enrolment
  and test both through the channel, given to the pipelines at 16 kHz;
- "mismatch": enrolment wide-band, test through the mu-law telephone channel;
- "2 s" and "1 s": the test recordings cut to their centre 2 s or 1 s of speech
  (silence trimmed first);
- "noise 10 dB" and "noise 0 dB": pink noise added to the test recordings;
- "room 0.3 s" and "room 0.8 s": test recordings reverberated (pyroomacoustics
  rooms of that RT60, the talker 0.5-2 m from the microphone).

Rows: each encoder's enrolment (``EnrollmentVerifier``) with no back end, with
in-domain whitening (``backend="whiten"``) and with LDA (``backend="lda"``),
learnt from the seed's training speakers; and MFCC statistics + RBF SVM trained
on them. Embeddings are computed once per recording and condition; each seed
fits its verifiers on its rows. Reports the EER against never-heard impostors:
means with 95 % bootstrap intervals over seeds, and the back ends' paired
differences to no back end. Writes ``benchmarks/results/robust.md`` (or
``robust_dspspeech20.md``).
"""

import argparse
import hashlib
import time
import warnings
from pathlib import Path

import numpy as np
from _common import SMOKE, markdown_table, mean_ci, paired_difference, write_result
from bench_crossdomain import corpus
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skvoice.augment import AddNoise, Crop, Reverberate, TelephoneChannel
from skvoice.decisions import EnrollmentVerifier
from skvoice.metrics import equal_error_rate
from skvoice.neural_network import available_encoders
from skvoice.preprocessing import MFCCStatistics, SilenceTrimmer
from skvoice.verification import make_enrollment_pipeline

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions", "skvoice/augment/")

SR = 16000
#: Condition -> (version of the enrolment side, version of the test side).
CONDITIONS = {
    "wide-band": ("clean", "clean"),
    "telephone": ("ulaw", "ulaw"),
    "gsm": ("gsm", "gsm"),
    "mismatch": ("clean", "ulaw"),
    "2 s": ("clean", "2 s"),
    "1 s": ("clean", "1 s"),
    "noise 10 dB": ("clean", "noise 10"),
    "noise 0 dB": ("clean", "noise 0"),
    "room 0.3 s": ("clean", "room 0.3"),
    "room 0.8 s": ("clean", "room 0.8"),
}
BACKENDS = (None, "whiten", "lda")


def versions(waves, needed):
    """Every recording in each version the conditions need (seeded, made once)."""
    trimmed = None
    if {"1 s", "2 s"} & set(needed):
        trimmed = SilenceTrimmer(sr=SR).fit_transform(waves)
    makers = {
        "clean": lambda: waves,
        "ulaw": lambda: TelephoneChannel(codec="ulaw").fit_transform(waves),
        "gsm": lambda: TelephoneChannel(codec="gsm").fit_transform(waves),
        "2 s": lambda: Crop(duration=2.0).fit_transform(trimmed),
        "1 s": lambda: Crop(duration=1.0).fit_transform(trimmed),
        "noise 10": lambda: AddNoise(snr_db=10.0, random_state=0).fit_transform(waves),
        "noise 0": lambda: AddNoise(snr_db=0.0, random_state=0).fit_transform(waves),
        "room 0.3": lambda: Reverberate(rt60=0.3, random_state=0).fit_transform(waves),
        "room 0.8": lambda: Reverberate(rt60=0.8, random_state=0).fit_transform(waves),
    }
    out = {}
    for name, make in makers.items():
        if name not in needed:
            continue
        t = time.perf_counter()
        out[name] = make()
        print(f"version {name}: {time.perf_counter() - t:.1f} s", flush=True)
    return out


def _label(encoder):
    """A file name for an encoder: its name, or a .pt file's name and SHA-256 prefix."""
    if not str(encoder).endswith(".pt"):
        return str(encoder)
    digest = hashlib.sha256(Path(encoder).read_bytes()).hexdigest()[:12]
    return f"{Path(encoder).parent.name}-{digest}"


def features(versions_, encoders, cache=None, corpus_name=""):
    """Per version: each encoder's embeddings and the MFCC statistics of every recording.

    With ``cache`` (a folder), embeddings are kept as ``.npy`` files named by corpus,
    version and encoder, and read back by later runs (another encoder's rows).
    """
    out = {}
    for name, X in versions_.items():
        t = time.perf_counter()
        feats = {}
        for enc in [*encoders, "MFCC"]:
            path = None
            if cache is not None:
                label = "MFCC" if enc == "MFCC" else _label(enc)
                path = Path(cache) / f"{corpus_name}-{name}-{label}.npy".replace(" ", "_")
                if path.exists():
                    feats[enc] = np.load(path)
                    continue
            if enc == "MFCC":
                trimmed = SilenceTrimmer(sr=SR).fit_transform(X)
                feats[enc] = MFCCStatistics(sr=SR).fit_transform(trimmed)
            else:
                feats[enc] = make_enrollment_pipeline(enc, sr=SR)[:-1].fit(X[:1]).transform(X)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, feats[enc])
        out[name] = feats
        print(f"features of {name}: {time.perf_counter() - t:.0f} s", flush=True)
    return out


def one_seed(so, p, feats, encoders, conditions):
    spk = np.asarray(so.speaker)
    unseen = p.kind[p.test] != "seen"
    y_test = p.y[p.test][unseen]
    out = {}
    for cond in conditions:
        enrol_v, test_v = CONDITIONS[cond]
        for enc in encoders:
            E_tr, E_te = feats[enrol_v][enc][p.train], feats[test_v][enc][p.test][unseen]
            for backend in BACKENDS:
                ver = EnrollmentVerifier(backend=backend)
                ver.fit(E_tr, p.y[p.train], groups=spk[p.train])
                out[(cond, enc, backend)] = equal_error_rate(y_test, ver.decision_function(E_te))
        svm = make_pipeline(StandardScaler(), SVC(class_weight="balanced"))
        svm.fit(feats[enrol_v]["MFCC"][p.train], p.y[p.train])
        s = svm.decision_function(feats[test_v]["MFCC"][p.test][unseen])
        out[(cond, "MFCC", None)] = equal_error_rate(y_test, s)
    return out


def row_name(enc, backend):
    if enc == "MFCC":
        return "MFCC statistics + RBF SVM"
    return f"{enc} + enrolment" + (f", back end {backend}" if backend else "")


def main(data, corpus_name, seeds, encoders, cache=None, conditions=tuple(CONDITIONS)):
    t0 = time.perf_counter()
    so, protocol, title = corpus(corpus_name, data)
    protocols = [protocol(so, seed) for seed in seeds]
    # Only the recordings some seed uses are read, degraded and embedded.
    used = np.unique(np.concatenate([np.r_[p.train, p.test] for p in protocols]))
    waves = [np.asarray(so.waves[i], dtype=np.float32) for i in used]
    needed = {v for c in conditions for v in CONDITIONS[c]}
    small = features(versions(waves, needed), encoders, cache, f"{corpus_name}-{len(used)}")
    feats = {}
    for version, by_enc in small.items():
        feats[version] = {}
        for enc, F in by_enc.items():
            full = np.full((len(so.speaker), F.shape[1]), np.nan)
            full[used] = F
            feats[version][enc] = full
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        runs = [one_seed(so, p, feats, encoders, conditions) for p in protocols]
    keys = [(enc, b) for enc in encoders for b in BACKENDS] + [("MFCC", None)]
    conds = list(conditions)
    table = [
        [
            row_name(enc, b),
            *(mean_ci([100 * r[(c, enc, b)] for r in runs], "{:.1f}") for c in conds),
        ]
        for enc, b in keys
    ]
    diffs = [
        [
            row_name(enc, b),
            *(
                paired_difference(
                    [100 * r[(c, enc, b)] for r in runs], [100 * r[(c, enc, None)] for r in runs]
                )
                for c in conds
            ),
        ]
        for enc in encoders
        for b in BACKENDS
        if b is not None
    ]
    best = {c: min(keys, key=lambda k: np.mean([r[(c, *k)] for r in runs])) for c in conds}
    best_rows = [
        [c, row_name(*best[c]), mean_ci([100 * r[(c, *best[c])] for r in runs], "{:.1f}")]
        for c in conds
    ]
    minutes = (time.perf_counter() - t0) / 60
    return (
        f"{title}, {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}); mean [95 % bootstrap interval "
        "over seeds]. EER (%) against never-heard impostors, enrolment and test as "
        "the conditions say (`bench_robust.py`'s docstring):\n\n"
        + markdown_table(("path", *conds), table)
        + "\n\nThe back ends against none, paired over seeds (EER points; negative: the back "
        "end is lower):\n\n"
        + markdown_table(("path", *conds), diffs)
        + "\n\nThe lowest mean EER (%) per condition:\n\n"
        + markdown_table(("condition", "path", "EER (%)"), best_rows)
        + f"\n\nRun time: {minutes:.0f} min on this machine (degrading, embedding and "
        f"{len(seeds)} seeds of fits; {len(used)} recordings used by the seeds)."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the corpus folder")
    parser.add_argument(
        "--corpus", default="speechocean762", choices=["speechocean762", "dspspeech20"]
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    parser.add_argument("--quick", action="store_true", help="seeds 0 and 1")
    parser.add_argument(
        "--encoders",
        nargs="+",
        default=None,
        help="encoder names or .pt files (default: installed)",
    )
    parser.add_argument("--out", default=None, help="result name (default robust[_CORPUS])")
    parser.add_argument("--cache", default=None, help="folder to keep the embeddings in")
    parser.add_argument(
        "--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS)
    )
    args = parser.parse_args()
    seeds = [0, 1] if args.quick or SMOKE else args.seeds
    encoders = args.encoders or available_encoders()
    if SMOKE:
        encoders = encoders[:1]  # the code paths, not the numbers
    body = main(args.data, args.corpus, seeds, encoders, args.cache, args.conditions)
    default = "robust" if args.corpus == "speechocean762" else f"robust_{args.corpus}"
    write_result(args.out or default, body)
