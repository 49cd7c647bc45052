"""Where the threshold of a target FAR comes from: refused speakers, cross-fitting, a cohort.

Usage: python benchmarks/bench_cohort.py --data DIR [--corpus speechocean762|dspspeech20]
                                         [--seeds 0 1 ...] [--encoder NAME]

The enrolment path (the pretrained encoder and ``EnrollmentVerifier``): the
embeddings are computed once per seed, so every threshold method is fitted on the
same vectors. On protocol v2 (speechocean762; or the cross-domain protocol of
DSPSpeech-20 with ``--corpus dspspeech20``) the never-heard speakers are split in
two, by seed: half give the cohort (recordings outside the test rows), the other
half stay the test impostors, so no test impostor is in the cohort. For each
target FAR (1 %, 5 %, 10 %), the FAR realised on the test impostors and the FRR of
the allowed speakers' test recordings, per method:

- "refused speakers, training scores": the verifier fitted without cross-fitting,
  its threshold placed on its own training refused speakers' scores (what
  ``threshold_at_far`` on training data gives);
- "cross-fitted": ``target_far`` (speaker cross-fitting of the refused speakers);
- "cross-fitted + cohort": ``target_far`` with ``cohort=``;
- "cross-fitted + cohort, bound 0.9": with ``far_confidence=0.9`` too;
- for an encoder with a shipped cohort (``default_cohort``: speechocean762's
  ``test/`` speakers, never in the protocols' rows), "cross-fitted + shipped
  cohort" with 25 and 50 of its speakers (drawn per seed) and all of them.

Also the EER and minDCF of the scores with no normalisation, s-norm and AS-norm
(top 20 and top 10: no cohort here reaches the default 100) over the refused
speakers and the cohort, with paired differences to no normalisation; and Cllr
and min Cllr of the calibration
(log-likelihood ratios from the cross-fitted scores, with and without the cohort,
against a plain logistic regression at the training prior).
Means with 95 % bootstrap intervals over seeds, and the seeds whose realised FAR
stays within 1.5 times the target. Writes ``benchmarks/results/cohort.md``
(``cohort_dspspeech20.md``; ``_ge2e`` added for ``--encoder ge2e``).
"""

import argparse
import time
import warnings

import numpy as np
from _common import SMOKE, markdown_table, mean_ci, paired_difference, write_result
from bench_crossdomain import corpus
from sklearn.linear_model import LogisticRegression

from skvoice.metrics import cllr, equal_error_rate, min_cllr, min_dcf, threshold_at_far
from skvoice.neural_network import default_cohort
from skvoice.verification import EnrollmentVerifier, make_enrollment_pipeline

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "decisions")

TARGETS = (0.01, 0.05, 0.10)
METHODS = (
    "refused speakers, training scores",
    "cross-fitted",
    "cross-fitted + cohort",
    "cross-fitted + cohort, bound 0.9",
)
NORMS = (
    ("none", None, None),
    ("s-norm", "s-norm", None),
    # No cohort here holds 100 speakers, so the default top (100) is s-norm itself:
    # the adaptive rows take fewer.
    ("AS-norm, top 20", "as-norm", 20),
    ("AS-norm, top 10", "as-norm", 10),
)
#: Sizes of the shipped cohort tried (speakers drawn from it per seed; all of it last).
SHIPPED_SIZES = (25, 50, None)


def shipped_methods(encoder):
    """The rows of the cohort that ships for ``encoder`` (none when it has none)."""
    if default_cohort(encoder) is None:
        return ()
    n = len(np.unique(default_cohort(encoder)[1]))
    return tuple(f"cross-fitted + shipped cohort ({size or n} speakers)" for size in SHIPPED_SIZES)


def shipped_cohort(encoder, size, seed):
    """``size`` speakers of the shipped cohort (all when None), drawn with ``seed``."""
    E, spk = default_cohort(encoder)
    if size is None:
        return E, spk
    chosen = np.random.default_rng(20_000 + seed).choice(np.unique(spk), size, replace=False)
    keep = np.isin(spk, chosen)
    return E[keep], spk[keep]


#: The calibrations whose Cllr is reported (target 5 %): LLR without and with the cohort.
CALIBRATIONS = (
    ("log-likelihood ratio, cross-fitted", False),
    ("log-likelihood ratio, cross-fitted + cohort", True),
)
#: Recordings of each cohort speaker (outside the test rows).
COHORT_PER_SPEAKER = 2 if SMOKE else 6


def split_unseen(so, p, seed):
    """Cohort rows (half the never-heard speakers) and the test rows that stay."""
    rng = np.random.default_rng(10_000 + seed)
    unseen = np.array(sorted(p.unseen))
    cohort_speakers = set(rng.permutation(unseen)[: len(unseen) // 2].tolist())
    in_test = np.zeros(len(so.speaker), bool)
    in_test[p.test] = True
    cohort = []
    for s in sorted(cohort_speakers):
        rows = np.flatnonzero((so.speaker == s) & ~in_test)
        cohort += list(rng.permutation(rows)[:COHORT_PER_SPEAKER])
    test = np.array([i for i in p.test if so.speaker[i] not in cohort_speakers])
    return np.array(cohort), test


def one_seed(so, protocol_of, seed, encoder):
    p = protocol_of(so, seed)
    cohort_rows, test = split_unseen(so, p, seed)
    front = make_enrollment_pipeline(encoder)[:-1]

    def embed(rows):
        return front.fit([so.waves[rows[0]]]).transform([so.waves[i] for i in rows])

    E_tr, E_te, E_co = embed(p.train), embed(test), embed(cohort_rows)
    y_tr, spk_tr = p.y[p.train], so.speaker[p.train]
    kind = p.kind[test]
    allowed, unseen = kind == "allowed", kind == "unseen"
    cohort = (E_co, so.speaker[cohort_rows])
    out = {"cohort speakers": len(np.unique(cohort[1])), "test impostors": int(unseen.sum())}
    shipped = dict(zip(shipped_methods(encoder), SHIPPED_SIZES))
    for target in TARGETS:
        for method in METHODS + tuple(shipped):
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                if method == METHODS[0]:
                    ver = EnrollmentVerifier().fit(E_tr, y_tr, groups=spk_tr)
                    cut = threshold_at_far(y_tr, ver.decision_function(E_tr), target)
                    accept = ver.decision_function(E_te) >= cut
                else:
                    kw = {"target_far": target}
                    if method in shipped:
                        kw["cohort"] = shipped_cohort(encoder, shipped[method], seed)
                    elif "cohort" in method:
                        kw["cohort"] = cohort
                    if "bound" in method:
                        kw["far_confidence"] = 0.9
                    ver = EnrollmentVerifier(**kw).fit(E_tr, y_tr, groups=spk_tr)
                    accept = ver.predict(E_te) == 1
            out[(method, target)] = (
                accept[unseen].mean(),
                1 - accept[allowed].mean(),
                time.perf_counter() - t,
            )
    trials = allowed | unseen
    y_te = p.y[test][trials]
    for name, kw in CALIBRATIONS:
        ver = EnrollmentVerifier(target_far=0.05, **({"cohort": cohort} if kw else {}))
        ver.fit(E_tr, y_tr, groups=spk_tr)
        llr = ver.decision_function(E_te)[trials]
        out[("cllr", name)] = (cllr(y_te, llr), min_cllr(y_te, llr))
        if not kw:
            # What the calibration was before it gave likelihood ratios: a plain
            # logistic regression on the same cross-fitted scores (the training prior).
            lr = LogisticRegression(C=1e3).fit(ver.crossfit_scores_[:, None], y_tr == 1)
            log_odds = lr.decision_function(ver.score_samples(E_te)[trials][:, None])
            out[("cllr", "training prior")] = (cllr(y_te, log_odds), min_cllr(y_te, log_odds))
    for name, norm, top in NORMS:
        ver = EnrollmentVerifier(score_norm=norm, norm_top_n=top or 100, cohort=cohort)
        ver.fit(E_tr, y_tr, groups=spk_tr)
        s = ver.decision_function(E_te)[trials]
        out[("norm", name)] = (
            equal_error_rate(p.y[test][trials], s),
            min_dcf(p.y[test][trials], s, p_target=0.01),
        )
    return out


def main(data, seeds, encoder, corpus_name):
    so, protocol_of, title = corpus(corpus_name, data)
    runs = []
    for seed in seeds:
        runs.append(one_seed(so, protocol_of, seed, encoder))
        r = runs[-1]
        print(
            f"seed {seed} | 5 %: "
            + ", ".join(f"{m} {100 * r[(m, 0.05)][0]:.1f}" for m in METHODS),
            flush=True,
        )
    rows = []
    for target in TARGETS:
        for method in METHODS + shipped_methods(encoder):
            far = [100 * r[(method, target)][0] for r in runs]
            within = sum(f <= 150 * target + 1e-9 for f in far)
            rows.append(
                [
                    f"{100 * target:g} %",
                    method,
                    mean_ci(far, "{:.1f}"),
                    f"{within} of {len(runs)}",
                    f"{max(far):.1f}",
                    mean_ci([100 * r[(method, target)][1] for r in runs], "{:.1f}"),
                    mean_ci([1e3 * r[(method, target)][2] for r in runs], "{:.0f}"),
                ]
            )
    head = (
        "target FAR",
        "threshold from",
        "FAR never heard (%)",
        "seeds with FAR <= 1.5 x target",
        "worst seed FAR (%)",
        "FRR allowed (%)",
        "fit ms",
    )
    norms = [
        [
            name,
            mean_ci([100 * r[("norm", name)][0] for r in runs], "{:.2f}"),
            mean_ci([r[("norm", name)][1] for r in runs], "{:.3f}"),
            "-"
            if name == "none"
            else paired_difference(
                [100 * r[("norm", name)][0] for r in runs],
                [100 * r[("norm", "none")][0] for r in runs],
                "{:.2f}",
            ),
        ]
        for name, _, _ in NORMS
    ]
    calibrations = [
        [
            name,
            mean_ci([r[("cllr", name)][0] for r in runs], "{:.3f}"),
            mean_ci([r[("cllr", name)][1] for r in runs], "{:.3f}"),
            "-"
            if name == "training prior"
            else paired_difference(
                [r[("cllr", name)][0] for r in runs],
                [r[("cllr", "training prior")][0] for r in runs],
                "{:.3f}",
            ),
        ]
        for name in ("training prior", *(n for n, _ in CALIBRATIONS))
    ]
    n_cohort = mean_ci([r["cohort speakers"] for r in runs], "{:.0f}")
    n_test = mean_ci([r["test impostors"] for r in runs], "{:.0f}")
    return (
        f"Thresholds of the enrolment path (encoder `{encoder}`), {title}, {len(seeds)} "
        f"seeds ({seeds[0]}-{seeds[-1]}); mean [95 % bootstrap interval over seeds]. The "
        f"never-heard speakers are split per seed: {n_cohort} give the cohort "
        f"({COHORT_PER_SPEAKER} recordings each, none in the test rows), the others "
        f"stay test impostors ({n_test} test recordings):\n\n"
        + markdown_table(head, rows)
        + "\n\nScore normalisation over the refused training speakers and the cohort "
        "(allowed and never-heard test trials; difference to none in EER points, "
        "paired over seeds; the cohort holds the refused and the cohort speakers):\n\n"
        + markdown_table(("normalisation", "EER (%)", "minDCF 0.01", "EER difference"), norms)
        + "\n\nCalibration of the cross-fitted scores (target 5 %), read as log-likelihood "
        "ratios on the allowed and never-heard test trials: Cllr (lower is better; 1 is "
        "an uninformative system), min Cllr (the best any monotone calibration of these "
        "scores reaches), and the paired difference of Cllr to the calibration at the "
        "training prior (a plain logistic regression, before likelihood ratios):\n\n"
        + markdown_table(("calibration", "Cllr", "min Cllr", "Cllr difference"), calibrations)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument(
        "--corpus", choices=("speechocean762", "dspspeech20"), default="speechocean762"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    parser.add_argument("--encoder", default="speechocean762")
    args = parser.parse_args()
    out = "cohort" + ("" if args.corpus == "speechocean762" else "_" + args.corpus)
    out += "" if args.encoder == "speechocean762" else "_" + args.encoder
    write_result(out, main(args.data, args.seeds, args.encoder, args.corpus))
