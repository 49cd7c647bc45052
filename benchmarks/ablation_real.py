"""Ablations of the default pipeline on the real-speech protocol (speechocean762).

Usage: python benchmarks/ablation_real.py --data DIR [--seeds 0 1 2 3 4]
                                          [--only NAME ...] [--out NAME]

Each setting changes the default pipeline (``SilenceTrimmer``,
``SpectrogramExtractor``, ``CNNClassifier`` with the speakers passed) by the listed
parameters, and is fitted and scored on the protocol of ``benchmarks/_real.py`` for
every seed. Reports mean +- sd of the EER over all test trials and against
never-heard impostors, and the fit time. The settings are the speech-practice
choices the defaults were taken from; the table in the docs is this script's
output. Writes ``benchmarks/results/ablation_real.md`` (or ``--out``).
"""

import argparse
import warnings

from _common import markdown_table, mean_sd, write_result
from _real import load_corpus, protocol, run
from sklearn.pipeline import make_pipeline

from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor

SETTINGS = {
    "default": {},
    "60 epochs": {"cnnclassifier__max_epochs": 60},
    "crops of 1 s (64 frames)": {"cnnclassifier__crop_frames": 64},
    "crops of 3 s (192 frames)": {"cnnclassifier__crop_frames": 192},
    "32 filters (2x wider)": {"cnnclassifier__n_filters": 32},
    "embedding 256": {"cnnclassifier__embedding_dim": 256},
    "augmentation": {"cnnclassifier__augment": True},
    "80 mel bands": {"spectrogramextractor__n_mels": 80},
    "mel bands up to 4 kHz (telephone band)": {"spectrogramextractor__fmax": 4000.0},
    "dropout 0.5": {"cnnclassifier__dropout": 0.5},
    "learning rate 3e-3": {"cnnclassifier__lr": 3e-3},
    "AdamW, weight decay 1e-2": {
        "cnnclassifier__optimizer": "adamw",
        "cnnclassifier__weight_decay": 1e-2,
    },
}


def pipeline(seed, params):
    pipe = make_pipeline(
        SilenceTrimmer(), SpectrogramExtractor(), CNNClassifier(random_state=seed)
    )
    return pipe.set_params(**params)


def main(data, seeds, only=None):
    so = load_corpus(data)
    results = {}
    for name, params in SETTINGS.items():
        if only and name not in only:
            continue
        for seed in seeds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                r = run(pipeline(seed, params), so, protocol(so, seed), "cnnclassifier__groups")
            results.setdefault(name, []).append(r)
            print(
                f"{name} | seed {seed} | EER all {r['EER all']:.3f} | fit {r['fit s']:.0f} s",
                flush=True,
            )
    rows = [
        [
            name,
            mean_sd([100 * r["EER all"] for r in rs], "{:.1f}"),
            mean_sd([100 * r["EER unseen"] for r in rs], "{:.1f}"),
            " / ".join(f"{100 * r['EER all']:.1f}" for r in rs),
            mean_sd([r["fit s"] for r in rs], "{:.0f}"),
        ]
        for name, rs in results.items()
    ]
    head = ("setting", "EER all (%)", "EER unseen (%)", "EER all per seed (%)", "fit s")
    return (
        f"Ablations of the default pipeline, speakers passed; speechocean762 protocol, "
        f"seeds {list(seeds)}, mean +- sd:\n\n" + markdown_table(head, rows)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--only", nargs="+", help="setting names to run")
    parser.add_argument("--out", default="ablation_real")
    args = parser.parse_args()
    write_result(args.out, main(args.data, args.seeds, args.only))
