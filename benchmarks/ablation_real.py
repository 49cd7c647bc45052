"""Ablations of the default pipeline on real speech, protocol v2, with paired differences.

Usage: python benchmarks/ablation_real.py --data DIR [--corpus speechocean762|dspspeech20]
                                          [--seeds 0 1 ...] [--only NAME ...] [--out NAME]

Each setting changes the default pipeline (``SilenceTrimmer``,
``SpectrogramExtractor``, ``CNNClassifier`` with the speakers passed) by the listed
parameters, and is fitted and scored on the same rows of every seed: protocol v2 of
``benchmarks/_real.py`` on speechocean762 (the corpus defaults are chosen on), or
the cross-domain protocol of ``bench_crossdomain.py`` on DSPSpeech-20 (the check
that a choice holds elsewhere; never used to choose). By default the candidates of
the measurement issue run (``CANDIDATES``) over 20 seeds; ``--only`` picks any of
``SETTINGS``. Reports the never-heard EER, minDCF, FAR at 5 % FRR and min Cllr as
means with 95 % bootstrap intervals over seeds, and each setting's paired
difference to the default. A default changes only where the interval excludes 0 on
speechocean762 and DSPSpeech-20 does not get worse. Writes
``benchmarks/results/ablation_v2.md`` (``ablation_v2_dspspeech20.md``), or ``--out``.
"""

import argparse
import warnings

import numpy as np
import soxr
import torch
from _common import markdown_table, mean_ci, paired_difference, write_result
from _real import run
from bench_crossdomain import corpus
from sklearn.pipeline import Pipeline

from skvoice.neural_network import CNNClassifier, SpectrogramCNN
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions")


# Variants that the estimator has no parameter for (yet): built here, for the study.
class _MeanPoolCNN(SpectrogramCNN):
    """Average pooling over time only (no standard deviation)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        width = self.embedding.linear.in_features // 2
        self.embedding.linear = torch.nn.Linear(width, self.embedding.linear.out_features)

    def embed(self, x):
        return self.embedding(self.blocks(x).flatten(1, 2).mean(dim=-1))


class _CosineHeadCNN(SpectrogramCNN):
    """Head = scale x cosine between the embedding and each class's weight vector."""

    scale = 30.0

    def forward(self, x):
        e = torch.nn.functional.normalize(self.dropout(self.embed(x)), dim=1)
        w = torch.nn.functional.normalize(self.head.weight, dim=1)
        return self.scale * e @ w.T


class _AAMSoftmaxLoss(torch.nn.Module):
    """Additive angular margin: the target's logit is s cos(theta + m)."""

    def __init__(self, weight=None, margin=0.2, scale=30.0):
        super().__init__()
        self.margin, self.scale, self.weight = margin, scale, weight

    def forward(self, logits, target):
        cos = (logits / self.scale).clamp(-1 + 1e-7, 1 - 1e-7)
        theta = torch.acos(cos.gather(1, target[:, None]))
        margin = torch.cos(theta + self.margin) * self.scale
        logits = logits.scatter(1, target[:, None], margin)
        return torch.nn.functional.cross_entropy(logits, target, weight=self.weight)


class _SNormClassifier(CNNClassifier):
    _verifier_params = {"score_norm": "s-norm", "center": True}


def _cosine_schedule(epochs):
    from skorch.callbacks import LRScheduler

    return [("lr_schedule", LRScheduler("CosineAnnealingLR", T_max=epochs))]


class _MeanPoolClassifier(CNNClassifier):
    _module_class = _MeanPoolCNN


class _AAMClassifier(CNNClassifier):
    _module_class = _CosineHeadCNN
    _criterion = _AAMSoftmaxLoss


def _augment_waveforms(X, y, speakers, seed, copies=2):
    """Training copies with noise at a random SNR (5-20 dB) and a speed change (+-5 %)."""
    rng = np.random.default_rng(seed)
    Xa, ya, sa = list(X), list(y), list(speakers)
    for _ in range(copies):
        for x, label, s in zip(X, y, speakers):
            rate = rng.uniform(0.95, 1.05)
            z = soxr.resample(x, 16000, 16000 / rate).astype(np.float32)
            snr = rng.uniform(5, 20)
            noise = rng.standard_normal(len(z)).astype(np.float32)
            noise *= np.sqrt(np.mean(z**2) / 10 ** (snr / 10)) / (noise.std() + 1e-12)
            Xa.append(z + noise)
            ya.append(label)
            sa.append(s)
    return Xa, np.array(ya), np.array(sa)


SETTINGS = {
    "default": {},
    "crops of 1 s (64 frames)": {"cnnclassifier__crop_frames": 64},
    "AdamW, weight decay 1e-2": {
        "cnnclassifier__optimizer": "adamw",
        "cnnclassifier__weight_decay": 1e-2,
    },
    "cosine learning-rate schedule": {"cnnclassifier__callbacks": "cosine schedule"},
    "3 conv blocks": {"cnnclassifier__module__n_blocks": 3},
    "80 mel bands": {"spectrogramextractor__n_mels": 80},
    "trunk dropout 0.1": {"cnnclassifier__module__block_dropout": 0.1},
    "60 epochs": {"cnnclassifier__max_epochs": 60},
    "crops of 3 s (192 frames)": {"cnnclassifier__crop_frames": 192},
    "32 filters (2x wider)": {"cnnclassifier__module__n_filters": 32},
    "embedding 256": {"cnnclassifier__module__embedding_dim": 256},
    "augmentation": {"cnnclassifier__augment": True},
    "mel bands up to 4 kHz (telephone band)": {"spectrogramextractor__fmax": 4000.0},
    "dropout 0.5": {"cnnclassifier__module__dropout": 0.5},
    "learning rate 3e-3": {"cnnclassifier__lr": 3e-3},
    "early stopping on 2-3 held-out speakers' EER (up to 60 epochs, patience 8)": {
        "cnnclassifier__early_stopping": True,
        "cnnclassifier__max_epochs": 60,
        "cnnclassifier__patience": 8,
    },
    "5 conv blocks": {"cnnclassifier__module__n_blocks": 5},
    "s-norm of the cosine scores": {"classifier": _SNormClassifier},
    "mean pooling (no standard deviation)": {"classifier": _MeanPoolClassifier},
    "additive angular margin softmax (m=0.2, s=30)": {"classifier": _AAMClassifier},
    "waveform augmentation (noise 5-20 dB SNR, speed +-5 %, 2 copies)": {"augment": True},
}
#: The settings the first ablation (5 seeds) could not separate from the default:
#: the ones this run decides with power.
CANDIDATES = (
    "default",
    "crops of 1 s (64 frames)",
    "AdamW, weight decay 1e-2",
    "cosine learning-rate schedule",
    "3 conv blocks",
    "80 mel bands",
    "trunk dropout 0.1",
)


def pipeline(seed, params):
    params = dict(params)
    cls = params.pop("classifier", CNNClassifier)
    params.pop("augment", None)
    if params.get("cnnclassifier__callbacks") == "cosine schedule":
        params["cnnclassifier__callbacks"] = _cosine_schedule(CNNClassifier().max_epochs)
    # Named steps: the variants' classes must still take cnnclassifier__* parameters.
    pipe = Pipeline(
        [
            ("silencetrimmer", SilenceTrimmer()),
            ("spectrogramextractor", SpectrogramExtractor()),
            ("cnnclassifier", cls(random_state=seed)),
        ]
    )
    return pipe.set_params(**params)


#: The report's columns: (result key, heading, percent?, format).
COLUMNS = (
    ("EER unseen", "EER never heard (%)", True, "{:.1f}"),
    ("minDCF 0.01", "minDCF 0.01", False, "{:.3f}"),
    ("unseen FAR @ 5 % FRR", "FAR never heard @ 5 % FRR (%)", True, "{:.1f}"),
    ("min Cllr", "min Cllr", False, "{:.3f}"),
)


def main(data, seeds, only=None, corpus_name="speechocean762"):
    so, protocol_of, title = corpus(corpus_name, data)
    names = [n for n in SETTINGS if n in (only or CANDIDATES)]
    results = {}
    for seed in seeds:
        p = protocol_of(so, seed)
        for name in names:
            params = SETTINGS[name]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                augment = _augment_waveforms if params.get("augment") else None
                r = run(
                    pipeline(seed, params),
                    so,
                    p,
                    "cnnclassifier__groups",
                    augment=augment,
                    seed=seed,
                )
            results.setdefault(name, []).append(r)
            print(
                f"seed {seed} | {name} | EER never heard {r['EER unseen']:.3f} "
                f"| fit {r['fit s']:.0f} s",
                flush=True,
            )
    rows = []
    for name, rs in results.items():
        cells = [
            mean_ci([(100 if pct else 1) * r[key] for r in rs], fmt)
            for key, _, pct, fmt in COLUMNS
        ]
        if name == "default" or "default" not in results:
            diff = "-"
        else:
            diff = paired_difference(
                [100 * r["EER unseen"] for r in rs],
                [100 * r["EER unseen"] for r in results["default"]],
            )
        rows.append([name, *cells, diff, mean_ci([r["fit s"] for r in rs], "{:.0f}")])
    head = (
        "setting",
        *(heading for _, heading, _, _ in COLUMNS),
        "EER difference to the default (points)",
        "fit s",
    )
    return (
        f"Ablations of the default pipeline (speakers passed), {title}, {len(seeds)} "
        f"seeds ({seeds[0]}-{seeds[-1]}); mean [95 % bootstrap interval over seeds]. "
        "Every setting is fitted on the same rows of each seed as the default; the "
        "difference is the mean of the per-seed differences of the never-heard EER "
        "[95 % bootstrap interval]:\n\n" + markdown_table(head, rows)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument(
        "--corpus", choices=("speechocean762", "dspspeech20"), default="speechocean762"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    parser.add_argument("--only", nargs="+", help="setting names to run (of SETTINGS)")
    parser.add_argument("--out", help="result file name")
    args = parser.parse_args()
    out = args.out or (
        "ablation_v2" + ("" if args.corpus == "speechocean762" else "_" + args.corpus)
    )
    write_result(out, main(args.data, args.seeds, args.only, args.corpus))
