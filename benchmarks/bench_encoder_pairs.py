"""How well the pretrained encoder tells never-heard speakers apart, trial by trial.

Usage: python benchmarks/bench_encoder_pairs.py --data DIR [--seeds 0 1 ... 19]

On speechocean762's ``train/`` speakers (125, none heard by the shipped encoder),
each seed draws 6 utterances per speaker; every pair of the 750 recordings is a
trial (same speaker or not), scored by the cosine of centred embeddings. Rows: the
pretrained encoder (``SpeakerEmbedder(pretrained=...)``) and standardised MFCC
statistics (``MFCCStatistics``), the classical baseline. Reports the pairwise EER,
the mean over the seeds with its 95 % bootstrap interval. Writes
``benchmarks/results/encoder_pairs.md``.
"""

import argparse

import numpy as np
from _common import SMOKE, markdown_table, mean_ci, write_result
from _real import load_corpus

from skvoice.metrics import equal_error_rate
from skvoice.neural_network import SpeakerEmbedder
from skvoice.preprocessing import MFCCStatistics, SilenceTrimmer, SpectrogramExtractor

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions")


def pairwise_eer(E, speakers):
    E = np.asarray(E, dtype=float)
    E = E - E.mean(axis=0)
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    iu = np.triu_indices(len(E), 1)
    same = (speakers[:, None] == speakers[None, :])[iu].astype(int)
    return equal_error_rate(same, (E @ E.T)[iu])


#: Utterances drawn per speaker (2 on the smoke test's tiny corpus).
PER_SPEAKER = 2 if SMOKE else 6


def main(data, seeds, encoder="speechocean762"):
    so = load_corpus(data)
    speaker = np.asarray(so.speaker)
    trimmed = SilenceTrimmer().fit_transform(so.waves)
    specs = SpectrogramExtractor().fit_transform(trimmed)
    E = SpeakerEmbedder(pretrained=encoder).fit(specs[:1]).transform(specs)
    M = MFCCStatistics().fit_transform(trimmed)
    rows = {"pretrained encoder": [], "MFCC statistics (standardised)": []}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        idx = np.concatenate(
            [
                rng.choice(np.flatnonzero(speaker == s), PER_SPEAKER, replace=False)
                for s in np.unique(speaker)
            ]
        )
        rows["pretrained encoder"].append(pairwise_eer(E[idx], speaker[idx]))
        Ms = M[idx]
        rows["MFCC statistics (standardised)"].append(
            pairwise_eer((Ms - Ms.mean(0)) / Ms.std(0), speaker[idx])
        )
    table = [[k, mean_ci([100 * v for v in vs], "{:.1f}")] for k, vs in rows.items()]
    return (
        f"speechocean762 `train/`: {len(np.unique(speaker))} speakers x {PER_SPEAKER} "
        "utterances, every pair a trial; "
        f"seeds {list(seeds)}, mean [95 % bootstrap interval over seeds].\n\n"
        + markdown_table(("embedding", "pairwise EER (%)"), table)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="extracted speechocean762 folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    args = parser.parse_args()
    write_result("encoder_pairs", main(args.data, args.seeds))
