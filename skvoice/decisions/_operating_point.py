"""Which class is allowed, and where the threshold lies: ``pos_label`` and ``target_far``.

An access-control estimator needs to know which label is the allowed one (never
the order of ``classes_``) and, to run at a chosen false-acceptance rate, a
threshold chosen on impostor scores that are out-of-sample for the speakers who
produce them. The scores of the training speakers are not: the network learnt
them, and their embeddings sit in the cohort. So the threshold and the
calibration come from cross-fitting: the estimator is refitted ``cv`` times,
each time without one fold of the refused speakers (and without a share of every
allowed speaker's recordings), and each held-out recording is scored by the
model that never saw it. Held-out refused speakers are impostors never heard;
held-out allowed recordings are new utterances of enrolled users: the two
situations of deployment.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _num_samples
from tqdm.auto import tqdm

from .._labels import known_allowed_label, resolve_pos_label
from .._random import seed_from
from .._warnings import UnreachableFARWarning, warn_caller
from ..metrics._intervals import rate_interval
from ..metrics._verification import far_cut

__all__ = [
    "OPERATING_POINT_CONSTRAINTS",
    "bounded_far_cut",
    "crossfit_folds",
    "speaker_folds",
    "affine_log_odds",
    "llr_calibration",
    "place_threshold",
    "OperatingPointMixin",
]


def crossfit_folds(allowed, speakers, n_folds, seed):
    """Train/test indices of speaker cross-fitting.

    Every refused speaker falls in one fold, whole; every allowed speaker's
    recordings are spread over the folds. So each test fold holds impostors that
    its model never heard and new recordings of users it enrolled.

    Parameters
    ----------
    allowed : ndarray of bool of shape (n,)
        Whether each recording is of the allowed class.
    speakers : ndarray of shape (n,)
        Speaker of each recording.
    n_folds : int
        Number of folds (at most the number of refused speakers).
    seed : int
        Seed of the assignment.

    Returns
    -------
    folds : list of (train, test) index arrays
    """
    rng = np.random.default_rng(seed)
    names, spk = np.unique(np.asarray(speakers).astype(str), return_inverse=True)
    n_allowed = np.bincount(spk, weights=allowed.astype(float), minlength=len(names))
    n_total = np.bincount(spk, minlength=len(names))
    cls = (n_allowed > 0).astype(int)
    mixed = names[(n_allowed > 0) & (n_allowed < n_total)]
    if mixed.size:
        raise ValueError(
            f"Speaker(s) {mixed.tolist()} have allowed and refused recordings: a speaker "
            "is either allowed or not."
        )
    refused = rng.permutation(np.flatnonzero(cls == 0))
    if len(refused) < n_folds:
        raise ValueError(
            f"Cross-fitting with {n_folds} folds needs at least {n_folds} refused speakers; "
            f"found {len(refused)}."
        )
    fold = np.empty(len(spk), dtype=int)
    speaker_fold = np.empty(len(names), dtype=int)
    speaker_fold[refused] = np.arange(len(refused)) % n_folds
    is_refused_rec = ~allowed
    fold[is_refused_rec] = speaker_fold[spk[is_refused_rec]]
    for k in np.flatnonzero(cls == 1):
        idx = rng.permutation(np.flatnonzero(spk == k))
        fold[idx] = (np.arange(len(idx)) + rng.integers(n_folds)) % n_folds
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(n_folds)]


def speaker_folds(cv, allowed, speakers, random_state):
    """Train/test indices: speaker cross-fitting, or the splitter ``cv`` names.

    An integer (or None: up to 5) gives :func:`crossfit_folds`. A splitter
    gets ``y`` as 1 (allowed) / 0 (refused) and the speakers as ``groups``; an
    iterable of (train, test) pairs is used as given.

    Parameters
    ----------
    cv : int, cross-validation generator, iterable or None
        See the ``cv`` parameter of the estimators.
    allowed : ndarray of bool of shape (n,)
        Whether each recording is of the allowed class.
    speakers : ndarray of shape (n,) or None
        Speaker of each recording (None only for a splitter that needs none).
    random_state : int, RandomState instance or None
        Seeds the assignment of speakers to folds.

    Returns
    -------
    folds : list of (train, test) index arrays
    """
    if cv is None or isinstance(cv, Integral):
        n_refused = len(np.unique(np.asarray(speakers).astype(str)[~allowed]))
        n_folds = cv if cv is not None else min(5, n_refused)
        if n_folds < 2:
            raise ValueError(
                f"Cross-fitting needs at least 2 refused speakers; found {n_refused}."
            )
        return crossfit_folds(allowed, speakers, n_folds, seed_from(random_state))
    if not hasattr(cv, "split"):  # an iterable of (train, test)
        return list(cv)
    groups = None if speakers is None else np.asarray(speakers)
    return list(cv.split(np.zeros(len(allowed)), allowed.astype(int), groups))


def bounded_far_cut(scores, speakers, target_far, confidence, n_bootstraps=1000, seed=0):
    """The lowest cut whose FAR has an upper bound at ``target_far``, by speaker bootstrap.

    Impostor speakers are resampled with replacement ``n_bootstraps`` times (a
    speaker's recordings go together: they are not independent). For each
    candidate cut, the FAR of every resample is the share of its recordings
    scored above the cut; the cut returned is the lowest whose ``confidence``
    quantile of those FARs is at most ``target_far``.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Impostor scores (higher: more likely allowed).
    speakers : array-like of shape (n,)
        Speaker of each score.
    target_far : float in (0, 1)
        Largest tolerated false-acceptance rate.
    confidence : float in (0, 1)
        Level of the upper bound (0.9: the FAR stays at the target in 90 % of
        resamples).
    n_bootstraps : int, default=1000
        Resamples.
    seed : int, default=0
        Seed of the resampling.

    Returns
    -------
    cut : float
        Accept scores strictly above it.
    """
    scores = np.asarray(scores, dtype=np.float64)
    names, spk = np.unique(np.asarray(speakers).astype(str), return_inverse=True)
    cuts = np.unique(scores)  # ascending candidates; accepting > the largest accepts none
    # above[s, j]: recordings of speaker s scored above cuts[j].
    position = np.searchsorted(cuts, scores, side="left")  # scores > cuts[:position]
    counts = np.zeros((len(names), len(cuts) + 1))
    np.add.at(counts, (spk, position), 1.0)
    above = counts[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]
    n_recordings = np.bincount(spk, minlength=len(names)).astype(float)
    rng = np.random.default_rng(seed)
    # How often each speaker is drawn in each resample.
    draws = rng.multinomial(len(names), np.full(len(names), 1 / len(names)), n_bootstraps)
    far = (draws @ above) / (draws @ n_recordings)[:, None]
    bound = np.quantile(far, confidence, axis=0)
    ok = np.flatnonzero(bound <= target_far + 1e-12)
    return float(cuts[ok[0]])


def affine_log_odds(raw, a, b):
    """``a * raw + b``, with ``-inf`` (nobody to compare with) kept as ``-inf``."""
    raw = np.asarray(raw, dtype=np.float64)
    return np.where(np.isneginf(raw), -np.inf, a * np.nan_to_num(raw, neginf=0.0) + b)


def llr_calibration(scores, is_target):
    """Slope and intercept mapping raw scores to log-likelihood ratios (slope > 0).

    A logistic regression of the target (allowed) class on the score, the two
    classes weighted equally: its log-odds are then those of a prior of one half,
    that is log-likelihood ratios (the calibration of speaker-recognition
    toolkits, which Cllr reads), whatever the share of each class among the
    scores. Non-finite scores (nobody enrolled) are left out.
    """
    from sklearn.linear_model import LogisticRegression

    scores, is_target = np.asarray(scores, dtype=float), np.asarray(is_target, dtype=bool)
    finite = np.isfinite(scores)
    z, t = scores[finite], is_target[finite]
    if len(np.unique(t)) < 2:
        raise ValueError("Cross-fitting gave scores of one class only; cannot calibrate.")
    lr = LogisticRegression(C=1e3, class_weight="balanced").fit(z[:, None], t.astype(int))
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    if a <= 0:
        warn_caller(
            "The cross-fitted scores do not rank allowed recordings above refused ones; "
            "the calibrated probabilities are nearly flat. The model does not separate "
            "the speakers it was not trained on.",
            UserWarning,
        )
        a = 1e-3
    return a, b


#: Confidence level of the intervals in ``expected_rates_``.
INTERVAL_LEVEL = 0.9


def place_threshold(
    targets, impostors, who, target_far, far_confidence, seed, target_speakers=None
):
    """Calibration, threshold and expected rates from held-out scores.

    The one path from cross-fitted scores to an operating point, shared by
    :class:`~skvoice.decisions.TargetFARClassifierCV` and the estimators that
    still cross-fit themselves.

    Parameters
    ----------
    targets : ndarray of shape (n_targets,)
        Raw held-out scores of allowed recordings (higher: more likely allowed).
    impostors : ndarray of shape (n_impostors,)
        Raw scores of impostors no model behind them heard (held-out refused
        speakers and the cohort).
    who : ndarray of str of shape (n_impostors,)
        Speaker of each impostor score; cohort speakers are prefixed ``cohort:``.
    target_far : float in (0, 1) or None
        None: calibrate only; the threshold stays at log-odds 0.
    far_confidence : float in (0, 1) or None
        Level of the speaker-bootstrap upper bound of the FAR (see
        :func:`bounded_far_cut`).
    seed : int
        Seed of that bootstrap.
    target_speakers : ndarray of shape (n_targets,) or None, default=None
        Speaker of each allowed score (None: each its own), for the interval
        of the FRR.

    Returns
    -------
    calibration : (float, float)
        Slope and intercept to log-likelihood ratios.
    cut : float
        The threshold on the raw scale: accept raw scores strictly above it
        (``-b / a``, even odds, without ``target_far``).
    threshold : float
        The same on the calibrated scale; accept log-odds strictly above it.
    expected_rates : dict or None
        ``far`` and ``frr`` on the held-out scores (the FAR is the target by
        construction); ``far_predicted``: the FAR of each impostor speaker at a
        cut placed without them, what a new impostor meets; ``far_interval``
        around it and ``frr_interval``, at :data:`INTERVAL_LEVEL` over speakers
        (:func:`~skvoice.metrics.rate_interval`: where the rates will fall on
        new speakers like these); and what they rest on (None without
        ``target_far``).
    """
    calibration = llr_calibration(
        np.r_[targets, impostors], np.r_[np.ones(len(targets)), np.zeros(len(impostors))]
    )
    a, b = calibration
    if target_far is None:
        return calibration, -b / a, 0.0, None
    cut = far_cut(impostors, target_far)
    if far_confidence is not None:
        cut = max(cut, bounded_far_cut(impostors, who, target_far, far_confidence, seed=seed))
    threshold = -np.inf if np.isneginf(cut) else a * cut + b
    accepted = affine_log_odds(impostors, a, b) > threshold
    rejected = affine_log_odds(targets, a, b) <= threshold
    speakers = np.unique(who)
    if target_speakers is None:
        target_speakers = np.arange(len(targets))
    predicted, source = _far_on_left_out_speakers(impostors, who, target_far, far_confidence, seed)
    rates = {
        "far": float(accepted.mean()),
        "frr": float(rejected.mean()),
        "far_predicted": float(predicted.mean()),
        "far_interval": rate_interval(predicted, source, level=INTERVAL_LEVEL),
        "frr_interval": rate_interval(rejected, target_speakers, level=INTERVAL_LEVEL),
        "interval_level": INTERVAL_LEVEL,
        "impostor_recordings": int(len(impostors)),
        "impostor_speakers": int(len(speakers)),
        "cohort_speakers": int(np.char.startswith(speakers, "cohort:").sum()),
        "allowed_recordings": int(len(targets)),
    }
    return calibration, cut, threshold, rates


def _far_on_left_out_speakers(impostors, who, target_far, far_confidence, seed):
    """Each impostor speaker's acceptances at a cut placed without them.

    The FAR at the cut chosen on some speakers is optimistic for those very
    speakers: the cut sits where they stop. Leaving each speaker out in turn
    (with the pseudo-impostors made from their recordings, ``name~k``) and
    placing the cut on the others as the threshold was placed gives, per
    speaker, the acceptances of a voice the choice never saw: what a new
    impostor meets. Returns the acceptance of every impostor recording and the
    source speaker it was grouped by.
    """
    source = np.array([w.split("~", 1)[0] for w in np.asarray(who).astype(str)])
    names = np.unique(source)
    accepted = np.zeros(len(impostors), dtype=bool)
    if len(names) < 2:  # nobody else to place the cut on: assume the worst
        return np.ones(len(impostors), dtype=bool), source
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreachableFARWarning)
        for name in names:
            out = source == name
            cut = far_cut(impostors[~out], target_far)
            if far_confidence is not None:
                bound = bounded_far_cut(
                    impostors[~out], who[~out], target_far, far_confidence, seed=seed
                )
                cut = max(cut, bound)
            accepted[out] = impostors[out] > cut
    return accepted, source


def checked_cohort(cohort, inputs):
    """``cohort`` as ``(X_cohort, speakers)``, the speakers as strings, lengths checked.

    ``inputs`` says what ``X_cohort`` holds, for the message.
    """
    try:
        X_cohort, cohort_speakers = cohort
    except (TypeError, ValueError):
        raise ValueError(
            f"cohort must be a pair (X_cohort, speakers): {inputs} of people who are not "
            "users, and the speaker of each."
        ) from None
    cohort_speakers = np.asarray(cohort_speakers).astype(str)
    n = _num_samples(X_cohort)
    if cohort_speakers.ndim != 1 or len(cohort_speakers) != n:
        raise ValueError(f"cohort holds {n} recordings but {cohort_speakers.size} speaker labels.")
    return X_cohort, cohort_speakers


def subset_fit_params(params, idx, n):
    """``params`` with every length-``n`` array indexed by ``idx``."""
    out = {}
    for key, value in params.items():
        if hasattr(value, "__len__") and not isinstance(value, str) and len(value) == n:
            out[key] = _safe_indexing(value, idx)
        else:
            out[key] = value
    return out


#: The parameters of every estimator that chooses its operating point, one set
#: of constraints for all (``_parameter_constraints``).
OPERATING_POINT_CONSTRAINTS = {
    "pos_label": [Real, str, "boolean", None],
    "target_far": [Interval(Real, 0, 1, closed="neither"), None],
    "cv": ["cv_object"],
    "cohort": [tuple, None],
    "far_confidence": [Interval(Real, 0, 1, closed="neither"), None],
}


class OperatingPointMixin:
    """``pos_label``, ``target_far`` and cross-fitted calibration for a binary estimator.

    Subclasses provide ``_raw_allowed_score(X)`` (higher means more likely
    allowed; any monotone scale) on the input as the estimator's own methods
    pass it, and call :meth:`_fit_operating_point` at the end of ``fit``. The
    folds refit a clone with the cross-fitting switched off
    (``_crossfit_reset``), so the three estimators that hold this mixin share
    one path from the data to the threshold.
    """

    _crossfit_reset = {"target_far": None, "cv": None, "far_confidence": None}

    def _check_binary_labels(self, needed, pos_label=None):
        """Set ``pos_label_``: the allowed label, or None where nothing says which it is.

        ``needed`` when the estimator decides who is enrolled (cosine scoring);
        ``target_far`` and ``cv`` need it too. Then labels other than 0/1,
        False/True or -1/1 without ``pos_label`` are an error. Otherwise such
        labels give ``pos_label_ = None``: a plain classifier whose ``predict``
        returns the most probable label and that nothing turns into accept or
        refuse. ``pos_label`` overrides ``self.pos_label`` (a wrapper and its
        network share one).
        """
        if pos_label is None:
            pos_label = self.pos_label
        if len(self.classes_) != 2:
            if self.target_far is not None or self.cv is not None:
                raise ValueError(
                    f"target_far and cv need two classes (refused, allowed); y has "
                    f"{len(self.classes_)}."
                )
            self.pos_label_ = None
            return
        deciding = needed or self.target_far is not None or self.cv is not None
        if deciding or pos_label is not None:
            self.pos_label_ = resolve_pos_label(self.classes_, pos_label, type(self).__name__)
        else:
            # Never guessed from the order of the labels.
            self.pos_label_ = known_allowed_label(self.classes_)

    @property
    def _pos_index(self):
        return int(np.flatnonzero(self.classes_ == self.pos_label_)[0])

    def _fit_operating_point(self, X, y, speakers, fit_params):
        """Set ``threshold_``, ``calibration_`` and ``crossfit_scores_``.

        Each fold fits :meth:`_crossfit_clone` on its training rows with
        ``fit_params`` (arrays of one value per recording cut to the rows) and
        scores its test rows.
        """
        self.threshold_ = 0.0
        self.calibration_ = None
        if self.far_confidence is not None and self.target_far is None:
            raise ValueError("far_confidence bounds the FAR of target_far: set target_far too.")
        if self.target_far is None and self.cv is None:
            return
        if speakers is None:
            raise ValueError(
                "target_far and cv choose the threshold on speakers held out of training, "
                "so fit needs the speaker of each recording (groups)."
            )
        y = np.asarray(y)
        allowed = y == self.pos_label_
        folds = self._folds(X, allowed, speakers)
        raw = np.full(len(y), np.nan)
        # disable=None: a bar only on a terminal, never escape codes in a log.
        verbose = getattr(self, "verbose", False)
        for train, test in tqdm(folds, desc="Cross-fitting", disable=None if verbose else True):
            model = self._crossfit_clone().fit(
                _safe_indexing(X, train), y[train], **subset_fit_params(fit_params, train, len(y))
            )
            X_test = _safe_indexing(X, test)
            raw[test] = model._raw_allowed_score(X_test)
            # An estimator may learn more from its fold models (a network: the
            # novelty of recordings they did not see).
            if hasattr(self, "_on_crossfit_fold"):
                self._on_crossfit_fold(model, X_test, test)
        if np.isnan(raw).any():
            raise ValueError(
                f"cv={self.cv!r} left {int(np.isnan(raw).sum())} recording(s) out of every "
                "test fold; the operating point needs a held-out score for each: use a "
                "K-fold splitter (e.g. OpenSetGroupKFold)."
            )
        self.crossfit_scores_ = raw
        impostors, who = raw[~allowed], np.asarray(speakers).astype(str)[~allowed]
        if self.cohort is not None:
            # Non-users never heard, scored by the fitted model itself: out of
            # sample by construction, so they join the held-out refused speakers,
            # for the calibration and for the threshold.
            X_cohort, cohort_speakers = self._checked_cohort()
            self.cohort_scores_ = self._raw_allowed_score(self._cohort_input(X_cohort))
            impostors = np.r_[impostors, self.cohort_scores_]
            who = np.r_[who, np.char.add("cohort:", cohort_speakers)]
        self.calibration_, _, threshold, rates = place_threshold(
            raw[allowed],
            impostors,
            who,
            self.target_far,
            self.far_confidence,
            # Drawn only when used: a random_state of None must not move numpy's
            # global generator for nothing.
            0 if self.far_confidence is None else seed_from(getattr(self, "random_state", 0)),
            target_speakers=np.asarray(speakers).astype(str)[allowed],
        )
        if self.target_far is not None:
            self.threshold_, self.expected_rates_ = threshold, rates

    def _checked_cohort(self):
        """``cohort`` as (inputs, speakers of each), their lengths checked."""
        return checked_cohort(self.cohort, "recordings (embeddings for an EnrollmentVerifier)")

    def _cohort_input(self, X_cohort):
        """The cohort as ``_raw_allowed_score`` reads it (validated by subclasses)."""
        return X_cohort

    def _folds(self, X, allowed, speakers):
        """Train/test indices of the cross-fitting (see :func:`speaker_folds`)."""
        return speaker_folds(self.cv, allowed, speakers, getattr(self, "random_state", 0))

    def _crossfit_clone(self):
        """A clone that fits without cross-fitting (for the folds)."""
        return clone(self).set_params(**self._crossfit_reset)

    def _calibrated(self, raw):
        """The cross-fitted calibration applied to raw scores (``-inf`` stays)."""
        return affine_log_odds(raw, *self.calibration_)

    def _log_odds_of_classes1(self, log_odds):
        """Allowed log-odds turned to scikit-learn's ``decision_function``: of ``classes_[1]``."""
        return log_odds if self._pos_index == 1 else -log_odds

    def _binary_log_proba(self, log_odds):
        """``(n, 2)`` log-probabilities in the order of ``classes_``."""
        log_odds = np.asarray(log_odds, dtype=np.float64)
        out = np.empty((len(log_odds), 2))
        pos = self._pos_index
        out[:, pos] = -np.logaddexp(0.0, -log_odds)
        out[:, 1 - pos] = -np.logaddexp(0.0, log_odds)
        return out

    def _decide(self, log_odds):
        """Labels: allowed where the log-odds exceed ``threshold_``."""
        accept = np.asarray(log_odds) > getattr(self, "threshold_", 0.0)
        pos = self._pos_index
        return self.classes_[np.where(accept, pos, 1 - pos)]
