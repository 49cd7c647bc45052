"""The pretrained speaker encoder on real speech and on synthetic voices.

Usage: python benchmarks/bench_pretrained.py --data DIR [--seeds 0 1 ... 19]
                                             [--encoder NAME_OR_PT] [--quick]

On the real-speech protocol of ``benchmarks/_real.py`` (speechocean762 ``train/``
speakers, which the shipped encoder never heard: it was trained on ``test/``), and
on ``make_voices`` with the same layout (20 speakers of whom 6 allowed, 10 training
and 10 test recordings each, 10 more speakers as never-heard impostors), every
row is a pipeline from the waveform, fitted and scored on the same rows of each
seed:

- the pretrained encoder and enrolment, nothing trained (``make_enrollment_pipeline``),
  with s-norm and without score normalisation (the pipeline's default);
- the same, with the allowed speakers enrolled from 3 recordings each;
- ``CNNClassifier`` trained from scratch with the speakers passed (the default);
- ``CNNClassifier(pretrained=...)`` fine-tuned, and fine-tuned with the trunk frozen
  for its first 10 epochs.

Reports the mean over the seeds, with its 95 % bootstrap interval, of the EER over
all test trials, the EER against
never-heard impostors (all, adults only), the never-heard acceptance at 5 % false
rejection, fit time and prediction time per recording. Writes
``benchmarks/results/pretrained.md`` (``pretrained_quick.md`` with ``--quick``).
"""

import argparse
import warnings

import numpy as np
import torch
from _common import markdown_table, mean_ci, median_time, threads, write_result
from _real import load_corpus, protocol, run
from sklearn.pipeline import make_pipeline
from sklearn.utils import Bunch

from skvoice.datasets import make_voices
from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor
from skvoice.verification import make_enrollment_pipeline

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions")

COLUMNS = ("EER all", "EER unseen", "EER unseen adults", "unseen FAR @ 5 % FRR")
ENROL = "enrollmentverifier__groups"


def with_few_enrolment_recordings(p, speaker, n):
    """The protocol with each allowed speaker's training rows cut to ``n``."""
    keep = [
        i
        for s in p.chosen
        for i in p.train[speaker[p.train] == s][: n if s in p.allowed else None]
    ]
    return Bunch(**{**p, "train": np.array(keep)})


def rows(seed, encoder):
    """(name, model, fit parameter that takes the speakers, enrolment recordings)."""
    spec = [SilenceTrimmer(), SpectrogramExtractor()]
    return [
        (
            "pretrained encoder + enrolment (s-norm)",
            make_enrollment_pipeline(encoder, score_norm="s-norm"),
            ENROL,
            None,
        ),
        (
            "pretrained encoder + enrolment, no score normalisation",
            make_enrollment_pipeline(encoder, score_norm=None),
            ENROL,
            None,
        ),
        (
            "pretrained encoder + enrolment from 3 recordings (s-norm)",
            make_enrollment_pipeline(encoder, score_norm="s-norm"),
            ENROL,
            3,
        ),
        (
            "pretrained encoder + enrolment from 3 recordings, no score normalisation",
            make_enrollment_pipeline(encoder, score_norm=None),
            ENROL,
            3,
        ),
        (
            "CNNClassifier from scratch, speakers passed",
            make_pipeline(*spec, CNNClassifier(random_state=seed)),
            "cnnclassifier__groups",
            None,
        ),
        (
            "CNNClassifier fine-tuned from the encoder",
            make_pipeline(*spec, CNNClassifier(pretrained=encoder, random_state=seed)),
            "cnnclassifier__groups",
            None,
        ),
        (
            "CNNClassifier fine-tuned, trunk frozen for 10 epochs",
            make_pipeline(
                *spec, CNNClassifier(pretrained=encoder, freeze_epochs=10, random_state=seed)
            ),
            "cnnclassifier__groups",
            None,
        ),
    ]


def synthetic_corpus(seed):
    """make_voices in the layout of the real protocol (every speaker an adult)."""
    v = make_voices(n_speakers=30, n_recordings=20, duration=3.0, snr_db=20, random_state=seed)
    speaker = np.asarray(v.speaker).astype(str)
    speakers = np.unique(speaker)
    rng = np.random.default_rng(seed)
    chosen = list(rng.choice(speakers, size=20, replace=False))
    allowed = chosen[:6]
    train, test = [], []
    for s in chosen:
        r = rng.permutation(np.flatnonzero(speaker == s))
        train += list(r[:10])
        test += list(r[10:20])
    unseen = [s for s in speakers if s not in chosen]
    for s in unseen:
        test += list(np.flatnonzero(speaker == s)[:4])
    so = Bunch(waves=list(v.data), speaker=speaker)
    kind = np.where(
        np.isin(speaker, allowed), "allowed", np.where(np.isin(speaker, chosen), "seen", "unseen")
    )
    p = Bunch(
        train=np.array(train),
        test=np.array(test),
        y=np.isin(speaker, allowed).astype(int),
        kind=kind,
        allowed=allowed,
        chosen=chosen,
        unseen=unseen,
        adult=np.ones(len(speaker), dtype=bool),
    )
    return so, p


def evaluate(corpora, seeds, encoder, encoder_only=False):
    """{row name: [metrics per seed]} over ``corpora(seed) -> (so, p)``."""
    results = {}
    for seed in seeds:
        so, p = corpora(seed)
        for name, model, speakers, n_enrol in rows(seed, encoder):
            if encoder_only and not name.startswith("pretrained encoder"):
                continue
            q = p if n_enrol is None else with_few_enrolment_recordings(p, so.speaker, n_enrol)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                r = run(model, so, q, speakers)
            results.setdefault(name, []).append(r)
            print(
                f"seed {seed} | {name} | EER all {r['EER all']:.3f} | "
                f"EER unseen {r['EER unseen']:.3f} | fit {r['fit s']:.0f} s",
                flush=True,
            )
    return results


def table(results):
    body = []
    for name, rs in results.items():
        cells = [mean_ci([100 * r[c] for r in rs], "{:.1f}") for c in COLUMNS]
        cells += [mean_ci([r["fit s"] for r in rs], "{:.1f}")]
        cells += [mean_ci([r["predict ms"] for r in rs], "{:.1f}")]
        body.append([name, *cells])
    head = ("model", *(f"{c} (%)" for c in COLUMNS), "fit s", "predict ms / rec.")
    return markdown_table(head, body)


def real_speech_of_encoder(data, seeds, encoder):
    """The enrolment rows on real speech only (what tools/pretrain_encoder.py ends with)."""
    so = load_corpus(data)
    return table(evaluate(lambda seed: (so, protocol(so, seed)), seeds, encoder, True))


def encoder_costs(encoder):
    """Size of the weights and the time to embed one 3 s recording, at 2 threads."""
    from pathlib import Path

    from skvoice.neural_network import SpeakerEmbedder
    from skvoice.neural_network._pretrained import _locate

    weights = _locate(encoder)[0]
    y = np.random.default_rng(0).standard_normal(3 * 16000).astype(np.float32) * 0.1
    front = make_pipeline(SilenceTrimmer(), SpectrogramExtractor())
    spec = front.fit_transform([y])
    emb = SpeakerEmbedder(pretrained=encoder).fit(spec)
    with threads(2):
        embed_ms = 1e3 * median_time(lambda: emb.transform(spec), 50)
        total_ms = 1e3 * median_time(lambda: emb.transform(front.transform([y])), 50)
    module = emb.network_.module_
    n_params = sum(p.numel() for n, p in module.named_parameters() if not n.startswith("head."))
    size_mb = Path(weights).stat().st_size / 1e6
    return (
        f"Encoder: {n_params:,} parameters, weights file {size_mb:.2f} MB; "
        f"one 3 s recording: {embed_ms:.1f} ms to embed its spectrogram, {total_ms:.1f} ms "
        "from the waveform (trimming, spectrogram, embedding); median of 50, 2 CPU threads."
    )


def main(data, seeds, encoder):
    costs = encoder_costs(encoder)
    so = load_corpus(data)
    real = evaluate(lambda seed: (so, protocol(so, seed)), seeds, encoder)
    synthetic = evaluate(synthetic_corpus, seeds, encoder)
    return (
        f"Encoder: `{encoder}`. {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}), mean [95 % "
        "bootstrap interval over seeds], percentages; "
        f"{torch.get_num_threads()} torch thread(s).\n\n" + costs + "\n\n"
        "speechocean762 `train/` speakers (never heard by the encoder), the real-speech "
        "protocol:\n\n"
        + table(real)
        + "\n\n`make_voices` (synthetic), the same layout (20 speakers, 6 allowed, "
        "10 never heard):\n\n" + table(synthetic)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="extracted speechocean762 folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    parser.add_argument("--encoder", default="speechocean762", help="shipped name or .pt file")
    parser.add_argument("--quick", action="store_true", help="seeds 0 and 1")
    args = parser.parse_args()
    seeds = [0, 1] if args.quick else args.seeds
    body = main(args.data, seeds, args.encoder)
    write_result("pretrained_quick" if args.quick else "pretrained", body)
