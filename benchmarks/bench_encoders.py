"""Every installed speaker encoder side by side: enrolment, nothing trained.

Usage: python benchmarks/bench_encoders.py --data-so762 DIR --data-dsp20 DIR
                                           [--seeds 0 1 ... 19] [--quick]
                                           [--encoders NAME_OR_PT ...] [--out NAME]

Rows, each a pipeline from the waveform fitted and scored on the same rows of
each seed: every encoder of ``available_encoders()`` through
``make_enrollment_pipeline`` (the shipped ``speechocean762``; ``ge2e`` with
``pip install "skvoice[ge2e]"``), the same with every allowed speaker enrolled
from 3 recordings only, and MFCC statistics + RBF SVM trained on the user's
speakers, the classical baseline. Two protocols:

- speechocean762 protocol v2 (``benchmarks/_real.py``: 20 ``train/`` speakers
  heard, 6 allowed, 105 never heard), the corpus defaults are chosen on;
- DSPSpeech-20 (``bench_crossdomain.py``: isolated words, other microphones),
  the check that a choice holds elsewhere.

Reports protocol v2's table (means with 95 % bootstrap intervals over seeds),
the paired differences of the never-heard EER, and trial lists of the never-heard
speakers (EER, minDCF); then each encoder's cost: parameters, weights' size, the
time to embed one 3 s recording from the waveform on 2 CPU threads. Writes
``benchmarks/results/encoders.md``.

``--encoders`` compares other encoders, e.g. one just written by
``tools/pretrain_encoder.py`` (its ``encoder.pt``, named by its folder in the
tables) against the shipped ones, before it is shipped; ``--out`` names the
result file then.
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
from _common import median_time, threads, write_result
from _real import run, trial_list
from bench_crossdomain import corpus
from bench_pretrained import with_few_enrolment_recordings
from bench_real import TRIAL_UTTERANCES, report_v2
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skvoice.neural_network import available_encoders, encoder_card
from skvoice.neural_network._pretrained import _locate
from skvoice.preprocessing import MFCCStatistics, SilenceTrimmer
from skvoice.verification import make_enrollment_pipeline

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions")

BASELINE = "MFCC statistics + RBF SVM"
ENROL = "enrollmentverifier__groups"


def label(encoder):
    """A table's name for an encoder: its own name, or the folder of a ``.pt`` file."""
    path = Path(encoder)
    return path.parent.name if path.suffix == ".pt" else encoder


def rows(encoders):
    """(name, model, fit parameter that takes the speakers, enrolment recordings)."""
    out = [
        (
            BASELINE,
            make_pipeline(
                SilenceTrimmer(), MFCCStatistics(), StandardScaler(), SVC(class_weight="balanced")
            ),
            None,
            None,
        )
    ]
    for enc in encoders:
        name = label(enc)
        out.append((f"{name} + enrolment", make_enrollment_pipeline(enc), ENROL, None))
        out.append(
            (f"{name} + enrolment from 3 recordings", make_enrollment_pipeline(enc), ENROL, 3)
        )
    return out


def pairs(encoders):
    """The comparisons the docs read: each encoder against the baseline, and each other."""
    encoders = [label(e) for e in encoders]
    out = [(f"{e} + enrolment", BASELINE) for e in encoders]
    out += [
        (f"{a} + enrolment", f"{b} + enrolment")
        for i, a in enumerate(encoders)
        for b in encoders[i + 1 :]
    ]
    return tuple(out)


def evaluate(name, data, seeds, encoders):
    so, protocol, title = corpus(name, data)
    results, trials = {}, {}
    for seed in seeds:
        p = protocol(so, seed)
        idx = np.concatenate(
            [np.flatnonzero(so.speaker == s)[:TRIAL_UTTERANCES] for s in sorted(p.unseen)]
        )
        for row, model, speakers, n_enrol in rows(encoders):
            q = p if n_enrol is None else with_few_enrolment_recordings(p, so.speaker, n_enrol)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                r = run(model, so, q, speakers)
            results.setdefault(row, []).append(r)
            if speakers == ENROL and n_enrol is None:
                E = model[:-1].transform([so.waves[i] for i in idx])
                trials.setdefault(row, []).append(trial_list(E, so.speaker[idx], seed))
            print(f"{name} | seed {seed} | {row} | EER unseen {r['EER unseen']:.3f}", flush=True)
    return report_v2(results, trials, seeds, title=title, pairs=pairs(encoders))


def costs(encoders):
    """Parameters, weights' size and time to embed one 3 s recording from the waveform."""
    y = np.random.default_rng(0).standard_normal(3 * 16000).astype(np.float32) * 0.1
    lines = []
    for enc in encoders:
        front = make_enrollment_pipeline(enc)[:-1].fit([y])
        module = front[-1].network_.module_
        n = sum(p.numel() for k, p in module.named_parameters() if not k.startswith("head."))
        card = encoder_card(enc)
        # GE2E's card names the installed file; a shipped encoder's lies beside its card.
        weights = card.get("weights") or _locate(enc)[0]
        size = Path(weights).stat().st_size / 1e6
        with threads(2):
            ms = 1e3 * median_time(lambda f=front: f.transform([y]), 30)
        lines.append(f"| {label(enc)} | {n:,} | {size:.1f} | {ms:.1f} |")
    head = "| encoder | parameters | weights (MB) | ms per 3 s recording, from the waveform |"
    return "\n".join([head, "|---|---|---|---|", *lines])


def main(so762, dsp20, seeds, encoders=None):
    encoders = encoders or available_encoders()
    parts = [
        f"Encoders: {', '.join(map(label, encoders))}. Cost (median of 30, 2 CPU threads):\n\n"
        + costs(encoders)
    ]
    parts.append(evaluate("speechocean762", so762, seeds, encoders))
    if dsp20:
        parts.append(evaluate("dspspeech20", dsp20, seeds, encoders))
    return "\n\n".join(parts)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-so762", required=True, help="extracted speechocean762 folder")
    parser.add_argument("--data-dsp20", help="a clone of DSPSpeech-20")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    parser.add_argument("--quick", action="store_true", help="seeds 0 and 1")
    parser.add_argument(
        "--encoders",
        nargs="+",
        help="encoder names or .pt files (default: every installed encoder)",
    )
    parser.add_argument("--out", default="encoders", help="result file's name")
    args = parser.parse_args()
    seeds = [0, 1] if args.quick else args.seeds
    body = main(args.data_so762, args.data_dsp20, seeds, args.encoders)
    write_result(args.out + ("_quick" if args.quick else ""), body)
