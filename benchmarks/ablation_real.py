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

import numpy as np
import soxr
import torch
from _common import markdown_table, mean_sd, write_result
from _real import load_corpus, protocol, run
from sklearn.pipeline import Pipeline

from skvoice.neural_network import CNNClassifier, SpectrogramCNN
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor


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
    "60 epochs": {"cnnclassifier__max_epochs": 60},
    "crops of 1 s (64 frames)": {"cnnclassifier__crop_frames": 64},
    "crops of 3 s (192 frames)": {"cnnclassifier__crop_frames": 192},
    "32 filters (2x wider)": {"cnnclassifier__module__n_filters": 32},
    "embedding 256": {"cnnclassifier__module__embedding_dim": 256},
    "augmentation": {"cnnclassifier__augment": True},
    "80 mel bands": {"spectrogramextractor__n_mels": 80},
    "mel bands up to 4 kHz (telephone band)": {"spectrogramextractor__fmax": 4000.0},
    "dropout 0.5": {"cnnclassifier__module__dropout": 0.5},
    "learning rate 3e-3": {"cnnclassifier__lr": 3e-3},
    "AdamW, weight decay 1e-2": {
        "cnnclassifier__optimizer": "adamw",
        "cnnclassifier__weight_decay": 1e-2,
    },
    "early stopping on 2-3 held-out speakers' EER (up to 60 epochs, patience 8)": {
        "cnnclassifier__early_stopping": True,
        "cnnclassifier__max_epochs": 60,
        "cnnclassifier__patience": 8,
    },
    "3 conv blocks": {"cnnclassifier__module__n_blocks": 3},
    "5 conv blocks": {"cnnclassifier__module__n_blocks": 5},
    "cosine learning-rate schedule": {"cnnclassifier__callbacks": "cosine schedule"},
    "s-norm of the cosine scores": {"classifier": _SNormClassifier},
    "mean pooling (no standard deviation)": {"classifier": _MeanPoolClassifier},
    "additive angular margin softmax (m=0.2, s=30)": {"classifier": _AAMClassifier},
    "waveform augmentation (noise 5-20 dB SNR, speed +-5 %, 2 copies)": {"augment": True},
}


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


def main(data, seeds, only=None):
    so = load_corpus(data)
    results = {}
    for name, params in SETTINGS.items():
        if only and name not in only:
            continue
        for seed in seeds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                p = protocol(so, seed)
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
