"""The public access-control benchmark on real speech (speechocean762), protocol v2.

Usage: python benchmarks/bench_real.py --data DIR [--seeds 0 1 ... 19] [--quick]
                                       [--rows NAME ...]

``DIR`` holds the extracted corpus (``fetch_speechocean762`` downloads it). The
protocol is in ``benchmarks/_real.py``: 20 adult speakers of ``train/`` (6 allowed)
with 10 training and 10 test utterances each, and 4 utterances of each of the other
105 speakers of ``train/`` as impostors never heard. Every row is a pipeline from the
waveform, fitted and scored on the same rows of each seed, 20 seeds by default.
Reports, as means with 95 % bootstrap intervals over seeds: the never-heard EER,
minDCF at p_target 0.01 and 0.05, the never-heard FAR at 5 % FRR, Cllr (calibrated
rows) and min Cllr, and the fit time; the paired per-seed differences of the rows
the docs compare; and trial lists of the never-heard speakers for the rows with an
embedding. Writes ``benchmarks/results/real_v2.md`` (``real_v2_quick.md`` with
``--quick``: seeds 0 and 1).
"""

import argparse
import warnings

import numpy as np
import torch
from _common import SMOKE, markdown_table, mean_ci, paired_difference, write_result
from _real import load_corpus, protocol, run, trial_list
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skvoice.neural_network import CNNClassifier, SpeakerEmbedder
from skvoice.preprocessing import MFCCStatistics, SilenceTrimmer, SpectrogramExtractor
from skvoice.verification import EnrollmentVerifier, make_enrollment_pipeline

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions")


def rows(seed):
    """(name, model, fit parameter that takes the speakers)."""
    mfcc = [SilenceTrimmer(), MFCCStatistics(), StandardScaler()]
    spec = [SilenceTrimmer(), SpectrogramExtractor()]
    return [
        (
            "MFCC statistics + logistic regression",
            make_pipeline(*mfcc, LogisticRegression(class_weight="balanced", max_iter=5000)),
            None,
        ),
        ("MFCC statistics + RBF SVM", make_pipeline(*mfcc, SVC(class_weight="balanced")), None),
        (
            "MFCC statistics, cosine to allowed centroids",
            make_pipeline(*mfcc, EnrollmentVerifier()),
            "enrollmentverifier__groups",
        ),
        (
            "skvoice default, no speakers (binary)",
            make_pipeline(*spec, CNNClassifier(random_state=seed)),
            None,
        ),
        (
            "skvoice default, speakers passed",
            make_pipeline(*spec, CNNClassifier(random_state=seed)),
            "cnnclassifier__groups",
        ),
        (
            "SpeakerEmbedder + EnrollmentVerifier",
            make_pipeline(*spec, SpeakerEmbedder(random_state=seed), EnrollmentVerifier()),
            ["speakerembedder__groups", "enrollmentverifier__groups"],
        ),
        (
            "pretrained encoder (speechocean762) + enrolment",
            make_enrollment_pipeline("speechocean762"),
            "enrollmentverifier__groups",
        ),
        (
            "CNN fine-tuned from the encoder, trunk frozen for 10 epochs",
            make_pipeline(
                *spec,
                CNNClassifier(pretrained="speechocean762", freeze_epochs=10, random_state=seed),
            ),
            "cnnclassifier__groups",
        ),
    ]


#: Protocol v2's columns: the costs of the toolkits on the never-heard trials.
V2_COLUMNS = (
    "EER unseen",
    "minDCF 0.01",
    "minDCF 0.05",
    "unseen FAR @ 5 % FRR",
    "Cllr",
    "min Cllr",
)
#: The embedding of a fitted row, for its trial list (rows that have one).
EMBEDDINGS = {
    "skvoice default, speakers passed": lambda m, X: m[-1].embed(m[:-1].transform(X)),
    "pretrained encoder (speechocean762) + enrolment": lambda m, X: m[:-1].transform(X),
}
#: The pairs of rows the docs compare: paired differences of the never-heard EER.
PAIRS = (
    ("skvoice default, speakers passed", "MFCC statistics + RBF SVM"),
    ("skvoice default, speakers passed", "skvoice default, no speakers (binary)"),
    ("pretrained encoder (speechocean762) + enrolment", "skvoice default, speakers passed"),
    ("SpeakerEmbedder + EnrollmentVerifier", "skvoice default, speakers passed"),
    (
        "CNN fine-tuned from the encoder, trunk frozen for 10 epochs",
        "skvoice default, speakers passed",
    ),
)
#: Utterances of each never-heard speaker in the trial lists.
TRIAL_UTTERANCES = 2 if SMOKE else 10


def trial_rows(so, p):
    """Rows of the never-heard speakers' first utterances, for the trial lists."""
    return np.concatenate(
        [np.flatnonzero(so.speaker == s)[:TRIAL_UTTERANCES] for s in sorted(p.unseen)]
    )


def main(data, seeds, only=None):
    so = load_corpus(data)
    results, trials = {}, {}
    for seed in seeds:
        p = protocol(so, seed)
        for name, model, speakers in rows(seed):
            if only and not any(o.lower() in name.lower() for o in only):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                r = run(model, so, p, speakers)
                if name in EMBEDDINGS:
                    idx = trial_rows(so, p)
                    E = EMBEDDINGS[name](model, [so.waves[i] for i in idx])
                    trials.setdefault(name, []).append(trial_list(E, so.speaker[idx], seed))
            results.setdefault(name, []).append(r)
            print(
                f"seed {seed} | {name} | EER unseen {r['EER unseen']:.3f} | "
                f"fit {r['fit s']:.0f} s",
                flush=True,
            )
    return report_v2(results, trials, seeds)


def report_v2(
    results,
    trials,
    seeds,
    title="speechocean762 access-control protocol v2",
    trial_utterances=TRIAL_UTTERANCES,
    pairs=PAIRS,
):
    """Protocol v2: means with 95 % bootstrap intervals over seeds, paired differences."""
    table = []
    for name, rs in results.items():
        cells = [
            mean_ci([(100 if "EER" in c or "FAR" in c else 1) * r[c] for r in rs], fmt)
            for c, fmt in zip(
                V2_COLUMNS, ("{:.1f}", "{:.3f}", "{:.3f}", "{:.1f}", "{:.3f}", "{:.3f}")
            )
        ]
        cells += [mean_ci([r["fit s"] for r in rs], "{:.0f}")]
        table.append([name, *cells])
    head = (
        "model",
        "EER never heard (%)",
        "minDCF 0.01",
        "minDCF 0.05",
        "FAR never heard @ 5 % FRR (%)",
        "Cllr",
        "min Cllr",
        "fit s",
    )
    pairs = [
        [
            f"{a} - {b}",
            paired_difference(
                [100 * r["EER unseen"] for r in results[a]],
                [100 * r["EER unseen"] for r in results[b]],
            ),
        ]
        for a, b in pairs
        if a in results and b in results
    ]
    trial_table = [
        [
            name,
            f"{ts[0]['trials']:,} ({ts[0]['target trials']:,} target)",
            mean_ci([100 * t["EER"] for t in ts], "{:.2f}"),
            mean_ci([t["minDCF 0.01"] for t in ts]),
            mean_ci([t["minDCF 0.05"] for t in ts]),
        ]
        for name, ts in trials.items()
    ]
    n = len(seeds)
    return (
        f"{title}, {n} seeds ({seeds[0]}-{seeds[-1]}); "
        "mean [95 % bootstrap interval over seeds]. Trials of allowed speakers' and "
        "never-heard impostors' test recordings; Cllr reads skvoice's calibrated "
        "log-odds as log-likelihood ratios (n/a: scores that are not calibrated); fit on "
        f"200 recordings, {torch.get_num_threads()} torch thread(s):\n\n"
        + markdown_table(head, table)
        + "\n\nPaired differences of the never-heard EER (percentage points), mean of the "
        "per-seed differences [95 % bootstrap interval]:\n\n"
        + markdown_table(("rows", "difference"), pairs)
        + f"\n\nTrial lists of the never-heard speakers ({trial_utterances} utterances "
        "each): every same-speaker pair and as many different-speaker pairs, cosine of "
        "the centred embeddings:\n\n"
        + markdown_table(
            ("embedding", "trials", "EER (%)", "minDCF 0.01", "minDCF 0.05"), trial_table
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="extracted speechocean762 folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    parser.add_argument("--quick", action="store_true", help="seeds 0 and 1")
    parser.add_argument("--rows", nargs="+", help="only rows whose name contains one of these")
    parser.add_argument("--out", help="result file name (default real_v2)")
    # The only protocol now; the flag stays so that the stamped commands rerun.
    parser.add_argument("--v2", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    seeds = [0, 1] if args.quick else args.seeds
    body = main(args.data, seeds, args.rows)
    write_result(args.out or "real_v2" + ("_quick" if args.quick else ""), body)
