"""The check across domains: the access-control protocol on DSPSpeech-20 (isolated words).

Usage: python benchmarks/bench_crossdomain.py --data DIR [--seeds 0 1 ...] [--quick]
                                              [--all-rows]

``DIR`` is a clone of ``github.com/zhongyuchen/DSPSpeech-20`` (read by
``skvoice.datasets.load_dspspeech20``, exact copies dropped). The corpus is
never used to choose a default: it checks that a choice made on speechocean762
holds on other voices, other words, other microphones and 2 s isolated words.

The protocol, deterministic from a seed, in the spirit of speechocean762's: 20 of
the 34 speakers are heard in training, 6 of them allowed, with 10 training and
10 test utterances each (random words); the other 14 speakers are impostors never
heard, with 4 test utterances each. The rows: MFCC statistics + RBF SVM, the
default CNN with the speakers passed, and the shipped encoder's enrolment
(``--all-rows``: every row of ``bench_real.py``). The
report is protocol v2's (``bench_real.py``): means with 95 % bootstrap
intervals over 20 seeds by default, paired differences, and trial lists of the
never-heard speakers. Writes ``benchmarks/results/crossdomain.md``.
"""

import argparse
import warnings

import numpy as np
from _common import SMOKE, write_result
from _real import assign, load_corpus, run, trial_list
from _real import protocol as speechocean_protocol
from bench_real import EMBEDDINGS, report_v2, rows
from sklearn.utils import Bunch

from skvoice.datasets import load_dspspeech20
from skvoice.io import load_audio

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions")

#: Speakers heard in training, allowed among them, utterances of each, and the
#: test utterances of each never-heard speaker (smaller for make bench-smoke).
SIZES = (
    dict(heard=4, allowed=2, train=3, test=2, unseen=2)
    if SMOKE
    else dict(heard=20, allowed=6, train=10, test=10, unseen=4)
)
ROWS = (
    "MFCC statistics + RBF SVM",
    "skvoice default, speakers passed",
    "pretrained encoder (speechocean762) + enrolment",
)


class _Decoded:
    """The corpus's recordings, decoded when first asked for (a seed uses ~450 of 13k)."""

    def __init__(self, paths):
        self.paths, self.cache = paths, {}

    def __getitem__(self, i):
        if i not in self.cache:
            self.cache[i] = load_audio(self.paths[i], sr=16000)
        return self.cache[i]


def protocol(ds, seed):
    """Training and test rows of one seed, and who is who (as ``_real.protocol``)."""
    n = SIZES
    rng = np.random.default_rng(seed)
    speakers = np.unique(ds.speaker)
    heard = list(rng.choice(speakers, size=n["heard"], replace=False))
    # The corpus gives no ages: every recording counts as an adult's.
    return assign(rng, ds.speaker, heard, heard[: n["allowed"]], n, np.ones(len(ds.speaker), bool))


def corpus(name, data):
    """A corpus and its protocol: ``(recordings, protocol(corpus, seed), title)``.

    ``name``: "speechocean762" (protocol v2 of ``_real.py``, the corpus defaults
    are chosen on) or "dspspeech20" (this script's protocol, the check).
    """
    if name == "speechocean762":
        return load_corpus(data), speechocean_protocol, "speechocean762 protocol v2"
    ds = load_dspspeech20(data, return_paths=True)
    so = Bunch(waves=_Decoded(ds.data), speaker=ds.speaker)
    return so, lambda so, seed: protocol(ds, seed), "DSPSpeech-20 cross-domain protocol"


def main(data, seeds, only=ROWS):
    ds = load_dspspeech20(data, return_paths=True)
    so = Bunch(waves=_Decoded(ds.data), speaker=ds.speaker)
    results, trials = {}, {}
    trial_utterances = 2 if SMOKE else 10
    for seed in seeds:
        p = protocol(ds, seed)
        idx = np.concatenate(
            [np.flatnonzero(ds.speaker == s)[:trial_utterances] for s in sorted(p.unseen)]
        )
        for name, model, speakers in rows(seed):
            if name not in only:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                r = run(model, so, p, speakers)
                if name in EMBEDDINGS:
                    E = EMBEDDINGS[name](model, [so.waves[i] for i in idx])
                    trials.setdefault(name, []).append(trial_list(E, ds.speaker[idx], seed))
            results.setdefault(name, []).append(r)
            print(f"seed {seed} | {name} | EER unseen {r['EER unseen']:.3f}", flush=True)
    title = (
        f"DSPSpeech-20 (isolated words, {len(ds.data)} recordings of "
        f"{len(np.unique(ds.speaker))} speakers after dropping {ds.n_duplicates} exact "
        "copies), cross-domain protocol"
    )
    return report_v2(results, trials, seeds, title=title, trial_utterances=trial_utterances)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a clone of DSPSpeech-20")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    parser.add_argument("--quick", action="store_true", help="seeds 0 and 1")
    parser.add_argument(
        "--all-rows", action="store_true", help="every row of bench_real.py, not only ROWS"
    )
    args = parser.parse_args()
    seeds = [0, 1] if args.quick else args.seeds
    only = [name for name, _, _ in rows(0)] if args.all_rows else ROWS
    write_result("crossdomain" + ("_quick" if args.quick else ""), main(args.data, seeds, only))
