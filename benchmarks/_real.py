"""The public access-control protocol on speechocean762 (train/ speakers only).

Deterministic from a seed:

- from the speakers listed in ``train/``, 20 adults (age >= 18), 10 female and 10
  male; 6 of them allowed, 3 female and 3 male;
- each of the 20 gives 10 utterances to train and 10 other utterances to test;
- the other 105 speakers of ``train/`` (adults and children) are impostors never
  heard in training, with 4 utterances each;
- the 125 speakers of ``test/`` are never used (they are kept for pretraining).
"""

import time

import numpy as np
from _common import SMOKE
from sklearn.utils import Bunch

from skvoice.datasets import load_speechocean762
from skvoice.datasets._base import read_many
from skvoice.metrics import cllr, equal_error_rate, far_at_frr, min_cllr, min_dcf


def load_corpus(data_home):
    """The ``train/`` speakers' recordings, decoded once (about 600 MB)."""
    so = load_speechocean762(data_home, subset="train", return_paths=True)
    so.waves = read_many(so.filename, 16000, n_jobs=2, desc="Decoding train/")
    return so


#: Sizes of the protocol: speakers per gender in training, allowed per gender,
#: training and test utterances of each, test utterances of each unseen speaker.
#: ``make bench-smoke`` shrinks them to fit its tiny corpus (``_smoke.py``).
SIZES = (
    dict(per_gender=2, allowed=1, train=3, test=2, unseen=2)
    if SMOKE
    else dict(per_gender=10, allowed=3, train=10, test=10, unseen=4)
)


def split_rows(rng, speaker, heard, unseen, n):
    """Training and test rows: ``n["train"]`` and ``n["test"]`` of each heard
    speaker's recordings (shuffled), ``n["unseen"]`` of each unseen speaker's."""
    train, test = [], []
    for s in heard:
        rows = rng.permutation(np.flatnonzero(speaker == s))
        train += list(rows[: n["train"]])
        test += list(rows[n["train"] : n["train"] + n["test"]])
    for s in unseen:
        test += list(rng.choice(np.flatnonzero(speaker == s), size=n["unseen"], replace=False))
    return np.array(train), np.array(test)


def protocol(so, seed):
    """Training and test rows of one seed, and who is who."""
    rng = np.random.default_rng(seed)
    n = SIZES
    speakers = np.unique(so.speaker)
    gender = {s: so.gender[so.speaker == s][0] for s in speakers}
    age = {s: so.age[so.speaker == s][0] for s in speakers}
    chosen, allowed = [], []
    for g in ("f", "m"):
        adults = [s for s in speakers if gender[s] == g and age[s] >= 18]
        pick = list(rng.choice(adults, size=n["per_gender"], replace=False))
        chosen += pick
        allowed += pick[: n["allowed"]]
    adult = np.array([age[s] >= 18 for s in so.speaker])
    return assign(rng, so.speaker, chosen, allowed, n, adult)


def assign(rng, speaker, heard, allowed, n, adult):
    """The protocol of one seed once its speakers are chosen: rows, labels, who is who.

    ``heard``: the speakers in training, ``allowed`` among them; every other
    speaker is never heard. ``adult``: per recording (for the adults-only EER).
    """
    unseen = [s for s in np.unique(speaker) if s not in heard]
    train, test = split_rows(rng, speaker, heard, unseen, n)
    kind = np.where(
        np.isin(speaker, allowed),
        "allowed",
        np.where(np.isin(speaker, heard), "seen", "unseen"),
    )
    return Bunch(
        train=train,
        test=test,
        y=np.isin(speaker, allowed).astype(int),
        kind=kind,
        allowed=list(allowed),
        chosen=list(heard),
        unseen=unseen,
        adult=adult,
    )


def scores_of(model, X):
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(X), dtype=float)
    return model.predict_proba(X)[:, 1]


def run(model, so, p, pass_speakers=None, augment=None, seed=0):
    """Fit on the protocol's training rows, score its test rows; metrics and times.

    ``pass_speakers``: the fit parameter name that takes the speakers (e.g.
    ``"cnnclassifier__groups"``), or a list of names, or None. ``augment``:
    ``augment(X, y, speakers, seed)`` -> more training rows, or None.
    """
    Xtr = [so.waves[i] for i in p.train]
    Xte = [so.waves[i] for i in p.test]
    ytr, str_ = p.y[p.train], so.speaker[p.train]
    if augment is not None:
        Xtr, ytr, str_ = augment(Xtr, ytr, str_, seed)
    names = [pass_speakers] if isinstance(pass_speakers, str) else list(pass_speakers or [])
    kw = {name: str_ for name in names}
    t = time.perf_counter()
    model.fit(Xtr, ytr, **kw)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    s = scores_of(model, Xte)
    predict_ms = (time.perf_counter() - t) / len(Xte) * 1e3
    # skvoice's estimators give calibrated log-odds; scikit-learn's SVM a margin.
    last = model[-1] if hasattr(model, "steps") else model
    calibrated = type(last).__module__.startswith("skvoice")
    return metrics(s, p, calibrated) | {"fit s": fit_s, "predict ms": predict_ms}


def metrics(s, p, calibrated=False):
    """The protocol's metrics of test scores ``s``.

    ``calibrated``: ``s`` are calibrated log-odds (skvoice's ``decision_function``),
    read as log-likelihood ratios for Cllr; else Cllr is NaN (n/a).
    """
    y, kind, adult = p.y[p.test], p.kind[p.test], p.adult[p.test]
    vs_unseen = kind != "seen"
    vs_unseen_adult = vs_unseen & ((kind == "allowed") | adult)
    yu, su = y[vs_unseen], s[vs_unseen]
    finite = np.isfinite(su)
    return {
        "EER all": equal_error_rate(y, s),
        "EER unseen": equal_error_rate(yu, su),
        "EER unseen adults": equal_error_rate(y[vs_unseen_adult], s[vs_unseen_adult]),
        "unseen FAR @ 5 % FRR": far_at_frr(yu, su, 0.05),
        "minDCF 0.01": min_dcf(yu, su, p_target=0.01),
        "minDCF 0.05": min_dcf(yu, su, p_target=0.05),
        "Cllr": cllr(yu[finite], su[finite]) if calibrated else np.nan,
        "min Cllr": min_cllr(yu, su),
    }


def trial_list(E, speakers, seed):
    """Metrics of a trial list: all same-speaker pairs of ``E``'s rows, and as many
    different-speaker pairs drawn with ``seed``; cosine of centred unit embeddings.
    """
    E = np.asarray(E, dtype=float)
    E = E - E.mean(axis=0)
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    speakers = np.asarray(speakers)
    same_i, same_j = [], []
    for s in np.unique(speakers):
        rows = np.flatnonzero(speakers == s)
        i, j = np.triu_indices(len(rows), 1)
        same_i.append(rows[i])
        same_j.append(rows[j])
    same_i, same_j = np.concatenate(same_i), np.concatenate(same_j)
    rng = np.random.default_rng(seed)
    n = len(same_i)
    di, dj = rng.integers(0, len(E), 3 * n), rng.integers(0, len(E), 3 * n)
    keep = speakers[di] != speakers[dj]
    di, dj = di[keep][:n], dj[keep][:n]
    i, j = np.r_[same_i, di], np.r_[same_j, dj]
    y = np.r_[np.ones(n, int), np.zeros(len(di), int)]
    scores = np.einsum("nd,nd->n", E[i], E[j])
    return {
        "trials": len(y),
        "target trials": n,
        "EER": equal_error_rate(y, scores),
        "minDCF 0.01": min_dcf(y, scores, p_target=0.01),
        "minDCF 0.05": min_dcf(y, scores, p_target=0.05),
    }
