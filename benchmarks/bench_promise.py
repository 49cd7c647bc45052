"""Does the printed promise hold? Promised against realised FAR and FRR, with their intervals.

Usage: python benchmarks/bench_promise.py --data DIR [--corpus speechocean762|dspspeech20]
                                          [--seeds 0 ... 19] [--refused 3 5 14] [--cache DIR]

On speechocean762 protocol v2 (``benchmarks/_real.py``: 6 allowed speakers, 10
training recordings each) or DSPSpeech-20's protocol (the veto), per seed,
encoder and number of refused training speakers (drawn from the seed's refused
speakers): :class:`~skvoice.decisions.TargetFARClassifierCV` over
:class:`~skvoice.decisions.EnrollmentVerifier` at a 5 % FAR target sets its
threshold on held-out scores and promises ``expected_rates_``: the FAR and FRR
there and their 90 % intervals over speakers. The promise is then checked on
the test rows: the realised FAR on never-heard impostors, the realised FRR on
new recordings of the allowed users. Variants: decided by the model fitted on
everything (``ensemble=False``), by the fold models' mean (``ensemble=True``),
the former with ``far_confidence=0.9``, and with pseudo-impostors: every
held-out refused recording played at 0.9 and 1.1 times its speed
(:class:`~skvoice.augment.SpeedPerturbation`), each a new impostor voice
(``impostor_augmentation``), with and without ``far_confidence=0.9``.

Reports, per encoder, number of refused speakers and variant: the realised FAR
(mean [95 % bootstrap interval over seeds], the seeds within 1.5x the target,
the largest), the share of seeds whose realised FAR lies inside the promised
interval and the interval's median width, and the same for the FRR. Writes
``benchmarks/results/promise.md`` (or ``promise_dspspeech20.md``).
"""

import argparse
import time
import warnings

import numpy as np
from _common import SMOKE, markdown_table, mean_ci, write_result
from bench_crossdomain import corpus
from bench_robust import features
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skvoice.augment import SpeedPerturbation
from skvoice.decisions import EnrollmentVerifier, TargetFARClassifierCV

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions", "skvoice/augment/")

TARGET = 0.05
ENCODERS = ("ge2e", "speechocean762-distilled")
SPEEDS = (0.9, 1.1)
VARIANTS = {
    "final model": {"ensemble": False},
    "fold ensemble": {"ensemble": True},
    "final model, far_confidence 0.9": {"ensemble": False, "far_confidence": 0.9},
    "final model, speed pseudo-impostors": {"ensemble": False, "pseudo": True},
    "final model, speed pseudo-impostors, far_confidence 0.9": {
        "ensemble": False,
        "pseudo": True,
        "far_confidence": 0.9,
    },
}


def _clean(X, width):
    """The as-recorded block of the stacked embeddings (what the verifier reads)."""
    return X[:, :width]


def _speed(X, width, block):
    """The stacked embeddings with the as-recorded block replaced by a speed version's:
    the embedding of the perturbed recording, as SpeedPerturbation then the encoder
    would give it (computed once for every recording, not per fold)."""
    out = X.copy()
    out[:, :width] = X[:, block * width : (block + 1) * width]
    return out


def estimator_and_params(width, params):
    params = dict(params)
    verifier = make_pipeline(
        FunctionTransformer(_clean, kw_args={"width": width}), EnrollmentVerifier()
    )
    if params.pop("pseudo", False):
        params["impostor_augmentation"] = [
            FunctionTransformer(_speed, kw_args={"width": width, "block": b})
            for b in range(1, 1 + len(SPEEDS))
        ]
    return verifier, params


def one_seed(so, p, feats, n_refused_list, seed):
    spk = np.asarray(so.speaker)
    rng = np.random.default_rng(1000 + seed)
    train_spk = spk[p.train]
    refused = np.array(sorted(set(train_spk[p.y[p.train] == 0])))
    order = rng.permutation(refused)
    test_kind = p.kind[p.test]
    never_heard = test_kind == "unseen"
    allowed_test = test_kind == "allowed"
    out = {}
    for n_refused in n_refused_list:
        keep = (p.y[p.train] == 1) | np.isin(train_spk, order[:n_refused])
        rows = p.train[keep]
        for enc in ENCODERS:
            E_tr, E_te = feats[enc][rows], feats[enc][p.test]
            width = E_tr.shape[1] // (1 + len(SPEEDS))
            for variant, params in VARIANTS.items():
                estimator, params = estimator_and_params(width, params)
                meta = TargetFARClassifierCV(
                    estimator, target_far=TARGET, random_state=seed, **params
                )
                meta.fit(E_tr, p.y[rows], groups=spk[rows])
                accept = meta.predict(E_te) == 1
                r = meta.expected_rates_
                out[(enc, n_refused, variant)] = {
                    "far": float(accept[never_heard].mean()),
                    "frr": float((~accept[allowed_test]).mean()),
                    "far_interval": r["far_interval"],
                    "frr_interval": r["frr_interval"],
                    "promised_frr": r["frr"],
                    "predicted_far": r["far_predicted"],
                }
    return out


def _inside(value, interval):
    return interval[0] <= value <= interval[1]


def main(data, corpus_name, seeds, n_refused_list, cache=None):
    t0 = time.perf_counter()
    so, protocol, title = corpus(corpus_name, data)
    protocols = [protocol(so, seed) for seed in seeds]
    used = np.unique(np.concatenate([np.r_[p.train, p.test] for p in protocols]))
    waves = [np.asarray(so.waves[i], dtype=np.float32) for i in used]
    versions = {"clean": waves}
    for factor in SPEEDS:
        versions[f"speed {factor}"] = SpeedPerturbation(factor=factor).fit_transform(waves)
    small = features(versions, list(ENCODERS), cache, f"{corpus_name}-{len(used)}")
    feats = {}
    for enc in ENCODERS:
        F = np.hstack([small[v][enc] for v in versions])
        feats[enc] = np.full((len(so.speaker), F.shape[1]), np.nan)
        feats[enc][used] = F
    n_refused_list = [
        n
        for n in n_refused_list
        if all(n <= len(set(p.chosen)) - len(p.allowed) for p in protocols)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        runs = [
            one_seed(so, p, feats, n_refused_list, seed)
            for p, seed in zip(protocols, seeds, strict=True)
        ]
    rows = []
    for enc in ENCODERS:
        for n_refused in n_refused_list:
            for variant in VARIANTS:
                rs = [r[(enc, n_refused, variant)] for r in runs]
                far = np.array([x["far"] for x in rs])
                frr = np.array([x["frr"] for x in rs])
                far_w = [x["far_interval"][1] - x["far_interval"][0] for x in rs]
                frr_w = [x["frr_interval"][1] - x["frr_interval"][0] for x in rs]
                rows.append(
                    [
                        enc,
                        n_refused,
                        variant,
                        mean_ci([100 * x["predicted_far"] for x in rs], "{:.1f}"),
                        mean_ci(100 * far, "{:.1f}"),
                        f"{int(np.sum(far <= 1.5 * TARGET))}/{len(rs)}",
                        f"{100 * far.max():.1f}",
                        f"{np.mean([_inside(x['far'], x['far_interval']) for x in rs]):.0%}",
                        f"{100 * np.median(far_w):.1f}",
                        mean_ci([100 * x["promised_frr"] for x in rs], "{:.1f}"),
                        mean_ci(100 * frr, "{:.1f}"),
                        f"{np.mean([_inside(x['frr'], x['frr_interval']) for x in rs]):.0%}",
                        f"{100 * np.median(frr_w):.1f}",
                    ]
                )
    header = (
        "encoder",
        "refused speakers",
        "decided by",
        "predicted FAR (%)",
        "realised FAR (%)",
        "seeds <= 1.5x",
        "largest FAR (%)",
        "FAR in its interval",
        "FAR interval width (%)",
        "promised FRR (%)",
        "realised FRR (%)",
        "FRR in its interval",
        "FRR interval width (%)",
    )
    minutes = (time.perf_counter() - t0) / 60
    return (
        f"{title}, {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}); mean [95 % bootstrap interval "
        f"over seeds]. Enrolment under `TargetFARClassifierCV(target_far={TARGET})`; the "
        "intervals are `expected_rates_`'s, at 90 %; realised rates on the test rows "
        "(never-heard impostors; new recordings of the allowed users), "
        "`bench_promise.py`'s docstring.\n\n"
        + markdown_table(header, rows)
        + f"\n\nRun time: {minutes:.0f} min on this machine ({len(used)} recordings)."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the corpus folder")
    parser.add_argument(
        "--corpus", default="speechocean762", choices=["speechocean762", "dspspeech20"]
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    parser.add_argument("--refused", type=int, nargs="+", default=[3, 5, 14])
    parser.add_argument("--cache", default=None, help="folder to keep the embeddings in")
    args = parser.parse_args()
    seeds = [0, 1] if SMOKE else args.seeds
    body = main(args.data, args.corpus, seeds, [2] if SMOKE else args.refused, args.cache)
    default = "promise" if args.corpus == "speechocean762" else f"promise_{args.corpus}"
    write_result(default, body)
