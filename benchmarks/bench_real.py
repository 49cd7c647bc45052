"""The public access-control benchmark on real speech (speechocean762).

Usage: python benchmarks/bench_real.py --data DIR [--seeds 0 1 2 3 4] [--quick]
                                       [--rows NAME ...]

``DIR`` holds the extracted corpus (``fetch_speechocean762`` downloads it). The
protocol is in ``benchmarks/_real.py``: 20 adult speakers of ``train/`` (6 allowed)
with 10 training and 10 test utterances each, and 4 utterances of each of the other
105 speakers of ``train/`` as impostors never heard. Every row is a pipeline from the
waveform, fitted and scored on the same rows of each seed. Reports mean +- sd over
the seeds of: EER over all test trials; EER of allowed against never-heard
impostors, all and adults only; the never-heard acceptance at 5 % false rejection;
fit time (200 recordings) and prediction time per recording. Also one table per
seed of the EER over all trials. Writes ``benchmarks/results/real.md``
(``real_quick.md`` with ``--quick``: seeds 0 and 1).
"""

import argparse
import warnings

from _common import markdown_table, mean_sd, write_result
from _real import load_corpus, protocol, run
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skvoice.neural_network import CNNClassifier, SpeakerEmbedder
from skvoice.preprocessing import MFCCStatistics, SilenceTrimmer, SpectrogramExtractor
from skvoice.verification import EnrollmentVerifier


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
            "enrollmentverifier__speakers",
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
            ["speakerembedder__speakers", "enrollmentverifier__speakers"],
        ),
    ]


COLUMNS = ("EER all", "EER unseen", "EER unseen adults", "unseen FAR @ 5 % FRR")


def main(data, seeds, only=None):
    so = load_corpus(data)
    results = {}
    for seed in seeds:
        p = protocol(so, seed)
        for name, model, speakers in rows(seed):
            if only and not any(o.lower() in name.lower() for o in only):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                r = run(model, so, p, speakers)
            results.setdefault(name, []).append(r)
            print(
                f"seed {seed} | {name} | EER all {r['EER all']:.3f} | fit {r['fit s']:.0f} s",
                flush=True,
            )
    table = []
    for name, rs in results.items():
        cells = [mean_sd([100 * r[c] for r in rs], "{:.1f}") for c in COLUMNS]
        cells += [mean_sd([r["fit s"] for r in rs], "{:.0f}")]
        cells += [mean_sd([r["predict ms"] for r in rs], "{:.1f}")]
        table.append([name, *cells])
    head = ("model", *(f"{c} (%)" for c in COLUMNS), "fit s", "predict ms / rec.")
    per_seed = [[name] + [f"{100 * r['EER all']:.1f}" for r in rs] for name, rs in results.items()]
    body = (
        f"speechocean762 access-control protocol, seeds {list(seeds)}, mean +- sd "
        "(percentages; fit on 200 recordings, 2 CPU threads):\n\n"
        + markdown_table(head, table)
        + "\n\nEER over all test trials (%), per seed:\n\n"
        + markdown_table(("model", *(f"seed {s}" for s in seeds)), per_seed)
    )
    return body


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="extracted speechocean762 folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--quick", action="store_true", help="seeds 0 and 1")
    parser.add_argument("--rows", nargs="+", help="only rows whose name contains one of these")
    args = parser.parse_args()
    seeds = [0, 1] if args.quick else args.seeds
    body = main(args.data, seeds, args.rows)
    write_result("real_quick" if args.quick else "real", body)
