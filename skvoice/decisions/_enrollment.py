"""EnrollmentVerifier: accept a recording whose embedding is close to an enrolled user."""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .._state import is_int, is_vector, jsonable, label_list, require
from ._docs import CROSSFIT_PARAMS_DOC, fill_doc
from ._operating_point import OPERATING_POINT_CONSTRAINTS, OperatingPointMixin
from ._scoring import CosineScorer, best_cosine, centred_unit, unit_rows

__all__ = ["EnrollmentVerifier"]


def _unit(E):
    return unit_rows(E).numpy()


def backend_projection(E0, speakers, method, shrinkage):
    """The in-domain back end's projection from centred embeddings and their speakers.

    "whiten": the inverse square root of the within-speaker covariance, shrunk
    towards its mean variance (WCCN). "lda": that whitening followed by the
    between-speaker directions, largest first (at most one fewer than the
    speakers). Every column is a direction of the embedding space.
    """
    names, index = np.unique(speakers, return_inverse=True)
    counts = np.bincount(index)
    if (counts >= 2).sum() == 0:
        raise ValueError(
            f"backend={method!r} learns what varies within a speaker: it needs groups "
            "(the speakers) with at least two recordings of some speaker."
        )
    d = E0.shape[1]
    means = np.zeros((len(names), d))
    np.add.at(means, index, E0)
    means /= counts[:, None]
    dev = E0 - means[index]
    within = dev.T @ dev / max(1, len(E0) - len(names))
    within = (1 - shrinkage) * within + shrinkage * np.trace(within) / d * np.eye(d)
    values, vectors = np.linalg.eigh(within)
    whiten = vectors @ np.diag(1.0 / np.sqrt(np.maximum(values, 1e-12))) @ vectors.T
    if method == "whiten":
        return whiten
    centred = (means - np.average(means, axis=0, weights=counts)) @ whiten
    between = (centred * counts[:, None]).T @ centred / counts.sum()
    values, vectors = np.linalg.eigh(between)
    keep = max(1, min(len(names) - 1, d))
    return whiten @ vectors[:, ::-1][:, :keep]


@fill_doc(crossfit_params=CROSSFIT_PARAMS_DOC)
class EnrollmentVerifier(OperatingPointMixin, ClassifierMixin, BaseEstimator):
    """Speaker verification over embeddings: cosine to the enrolled users.

    ``fit`` enrols the allowed class: one centroid per allowed speaker when
    ``groups`` (the speakers) is given, else every allowed embedding as its own template. A
    recording's score is its best cosine similarity to an enrolled user,
    optionally s-normalised against a cohort of the refused training speakers.
    Probabilities come from a logistic (Platt) calibration of the training scores,
    where each allowed recording is scored without itself (leave one out): against
    its speaker's centroid of the other recordings, or, without ``groups``,
    against every other template. The refused training speakers are in the cohort, so
    their scores are easier than an unseen impostor's: with ``target_far`` or
    ``cv`` the calibration and the threshold come from speaker cross-fitting
    instead (see :ref:`operating_point`). Users are added and removed with
    :meth:`enroll` and :meth:`unenroll`, without touching the embedder.

    Parameters
    ----------
    score_norm : {None, "s-norm", "as-norm"}, default=None
        Symmetric score normalisation against the cohort (the refused training
        speakers, and the speakers of ``cohort``): the mean of the z-normalised
        score (by the enrolled user's cohort statistics) and the t-normalised
        score (by the test recording's). "as-norm" (adaptive s-norm) takes each
        side's statistics over its ``norm_top_n`` closest cohort speakers only.
        Off by default: on speechocean762 (protocol v2, 20 seeds,
        ``benchmarks/bench_cohort.py``) s-norm was within noise of no
        normalisation with the shipped encoder and raised GE2E's equal error
        rate by about a point (see :ref:`operating_point`); the cohort is a few dozen
        speakers, not the thousands score normalisation is meant for. With
        ``norm_top_n`` at least the cohort's size, "as-norm" equals "s-norm".
    norm_top_n : int, default=100
        Cohort speakers per side of "as-norm".
    center : bool, default=True
        Subtract the mean training embedding before the cosine (the mean is the
        part all voices share): in-domain centring, from the user's own recordings.
    backend : {None, "whiten", "lda"}, default=None
        An in-domain back end learnt from the training recordings' speakers
        (``groups``), as x-vector systems adapt to a new channel without training
        the network: "whiten" divides out the within-speaker covariance (WCCN:
        what varies between recordings of one voice, the channel among it),
        "lda" then keeps the directions that separate the speakers most (at most
        one fewer than the speakers). The covariance is shrunk towards its mean
        variance by ``backend_shrinkage``, as the few speakers of a deployment
        cannot estimate it alone. Needs ``groups`` with two recordings or more
        of some speakers.
    backend_shrinkage : float in [0, 1], default=0.5
        Weight of the isotropic part of the within-speaker covariance.
    pos_label : int, float, bool, str or None, default=None
        The allowed label. None: 1 (labels 0/1, False/True or -1/1); other
        labels without it are an error, so the order of the labels never
        decides who is enrolled.
    target_far : float in (0, 1) or None, default=None
        False-acceptance rate to operate at: ``predict`` accepts a recording when
        its calibrated log-odds exceed ``threshold_``, chosen so that at most this
        share of the cross-fitted impostor scores (refused speakers scored by
        models that never saw them) is accepted. Needs ``groups``.
    %(crossfit_params)s

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two labels, sorted.
    pos_label_ : object
        The allowed label.
    threshold_ : float
        ``predict`` accepts when the log-odds of the allowed label exceed it: 0
        without ``target_far``.
    calibration_ : tuple of (float, float) or None
        Slope and intercept of the cross-fitted calibration to log-likelihood
        ratios (None without cross-fitting: ``calibrator_`` is used).
    crossfit_scores_ : ndarray of shape (n_recordings,)
        With cross-fitting: each training recording's score by the model that
        did not see it.
    enrolled_ : dict
        Speaker -> unit centroid of their embeddings.
    cohort_ : ndarray of shape (n_cohort, n_features)
        Unit centroids of the refused training speakers and of the speakers of
        ``cohort``: the score normalisation's cohort (a ``cohort`` given to
        ``fit`` serves ``score_norm`` too; without ``score_norm`` its speakers
        are not kept).
    cohort_speakers_ : ndarray of str of shape (n_cohort,)
        Their names (each recording's index as a string without ``groups``;
        ``"cohort:<name>"`` for those of ``cohort``).
    cohort_scores_ : ndarray of shape (n_cohort_recordings,)
        With ``cohort`` and ``target_far``: the cohort recordings' scores.
    expected_rates_ : dict
        With ``target_far``: the FAR and FRR at ``threshold_`` on the scores it
        was chosen on (the cross-fitted recordings and the cohort), with their
        numbers of recordings and impostor speakers: what to expect, not a
        measurement on new speakers.
    calibrator_ : LogisticRegression
        Maps scores to the probability of being allowed.
    scorer_ : CosineScorer
        The scoring of this enrolment (``skvoice/decisions/_scoring.py``),
        the same code that scores a ``CNNClassifier`` with ``backend="cosine"``.
    projection_ : ndarray of shape (n_features, n_components) or None
        The back end's projection, applied after centring (None without one).
    n_features_in_ : int
        Embedding dimension.

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.verification import EnrollmentVerifier
    >>> rng = np.random.default_rng(0)
    >>> centres = rng.standard_normal((4, 8))
    >>> E = np.repeat(centres, 5, axis=0) + 0.1 * rng.standard_normal((20, 8))
    >>> spk = np.repeat(["a", "b", "c", "d"], 5)
    >>> y = np.isin(spk, ["a", "b"]).astype(int)
    >>> ver = EnrollmentVerifier().fit(E, y, groups=spk)
    >>> sorted(ver.enrolled_), ver.predict(E[[0, 10]]).tolist()
    (['a', 'b'], [1, 0])
    """

    __metadata_request__fit = {"groups": True}

    _parameter_constraints = {
        "score_norm": [StrOptions({"s-norm", "as-norm"}), None],
        "norm_top_n": [Interval(Integral, 1, None, closed="left")],
        "center": ["boolean"],
        "backend": [StrOptions({"whiten", "lda"}), None],
        "backend_shrinkage": [Interval(Real, 0, 1, closed="both")],
        **OPERATING_POINT_CONSTRAINTS,
    }

    def __init__(
        self,
        score_norm=None,
        norm_top_n=100,
        center=True,
        backend=None,
        backend_shrinkage=0.5,
        pos_label=None,
        target_far=None,
        cv=None,
        cohort=None,
        far_confidence=None,
    ):
        self.score_norm = score_norm
        self.norm_top_n = norm_top_n
        self.center = center
        self.backend = backend
        self.backend_shrinkage = backend_shrinkage
        self.pos_label = pos_label
        self.target_far = target_far
        self.cv = cv
        self.cohort = cohort
        self.far_confidence = far_confidence

    def _prep(self, E):
        return centred_unit(
            E, self.mean_ if self.center else None, getattr(self, "projection_", None)
        ).numpy()

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, E, y, groups=None):
        """Enrol the allowed speakers and calibrate the scores.

        Parameters
        ----------
        E : array-like of shape (n_recordings, n_features)
            Embeddings (e.g. from :class:`~skvoice.neural_network.SpeakerEmbedder`).
        y : array-like of shape (n_recordings,)
            Two classes; ``pos_label`` (default 1) is the allowed one.
        groups : array-like of shape (n_recordings,), default=None
            Speaker of each recording (scikit-learn's name for the grouping of
            samples): one centroid per allowed speaker and per
            cohort speaker. Without it every recording stands alone: each allowed
            recording is a template, and the calibration scores each against the
            other templates (at least two allowed recordings are needed).

        Returns
        -------
        self : object
        """
        E, y = validate_data(self, E, y, reset=True, dtype=np.float64)
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y")
        self.classes_ = np.unique(y)
        if len(self.classes_) == 1:
            raise ValueError(
                f"y has only one class ({self.classes_[0]!r}): EnrollmentVerifier needs "
                "refused and allowed recordings."
            )
        if y_type != "binary":
            raise ValueError(
                "Only binary classification is supported (refused, allowed). The type of "
                f"the target is {y_type}."
            )
        self._check_binary_labels(needed=True)
        given = speakers = groups
        if speakers is None:
            speakers = np.arange(len(y)).astype(str)
        speakers = column_or_1d(np.asarray(speakers)).astype(str)
        if len(speakers) != len(y):
            raise ValueError(f"groups has {len(speakers)} rows but y has {len(y)}.")
        self.mean_ = E.mean(axis=0) if self.center else np.zeros(E.shape[1])
        self.projection_ = None
        if self.backend is not None:
            self.projection_ = backend_projection(
                E - self.mean_, speakers, self.backend, self.backend_shrinkage
            )
        U = self._prep(E)
        allowed = y == self.pos_label_
        self.enrolled_ = {}
        for s in np.unique(speakers[allowed]):
            self.enrolled_[str(s)] = _unit(U[speakers == s].mean(0, keepdims=True))[0]
        cohort_spk = np.unique(speakers[~allowed])
        cohort = [_unit(U[speakers == s].mean(0, keepdims=True))[0] for s in cohort_spk]
        if self.cohort is not None and self.score_norm is not None:
            # The non-users of ``cohort`` normalise scores too (their centroids);
            # without normalisation they would only weigh on a saved model.
            E_cohort, spk_cohort = self._checked_cohort()
            U_cohort = self._prep(validate_data(self, E_cohort, reset=False, dtype=np.float64))
            names = np.unique(spk_cohort)
            cohort += [_unit(U_cohort[spk_cohort == s].mean(0, keepdims=True))[0] for s in names]
            cohort_spk = np.r_[cohort_spk, np.char.add("cohort:", names)]
        self.cohort_speakers_ = cohort_spk
        self.cohort_ = np.array(cohort).reshape(-1, U.shape[1])
        # Honest training scores, leave one out: each allowed recording against
        # its speaker's centroid computed without it (when the speaker has other
        # recordings), or, without speakers, against every template but its own.
        # Scored against itself it would get 1.0, and the calibration would then
        # refuse nearly every new recording of an allowed user.
        scores = self._scores(U)
        names = list(self.enrolled_)
        cents_all = np.array([self.enrolled_[n] for n in names])
        if given is None and allowed.sum() < 2:
            raise ValueError(
                "EnrollmentVerifier without groups (the speakers) makes every allowed "
                "recording its own template and calibrates each against the others: it "
                "needs at least two allowed recordings. Pass groups= (one centroid per "
                "allowed speaker)."
            )
        for i in np.flatnonzero(allowed):
            k = names.index(speakers[i])
            if given is None:
                scores[i] = self._best(U[i : i + 1], np.delete(cents_all, k, axis=0))[0]
                continue
            others = (speakers == speakers[i]) & (np.arange(len(y)) != i)
            if others.any():
                cents = cents_all.copy()
                cents[k] = _unit(U[others].mean(0, keepdims=True))[0]
                scores[i] = self._best(U[i : i + 1], cents)[0]
        self.calibrator_ = LogisticRegression(C=1e3).fit(scores[:, None], allowed.astype(int))
        self._fit_operating_point(
            E,
            y,
            None if given is None else speakers,
            {"groups": speakers},
        )
        return self

    def _best(self, U, centroids):
        # The scoring of skvoice.decisions._scoring, shared with CNNClassifier.
        return best_cosine(
            torch.from_numpy(U),
            torch.from_numpy(centroids),
            torch.from_numpy(self.cohort_),
            self.score_norm,
            self.norm_top_n,
        ).numpy()

    def _scores(self, U):
        if not self.enrolled_:
            return np.full(len(U), -np.inf)
        return self._best(U, np.array(list(self.enrolled_.values())))

    def score_samples(self, E):
        """Best (s-normalised) cosine similarity to an enrolled user.

        Parameters
        ----------
        E : array-like of shape (n_recordings, n_features)
            Embeddings.

        Returns
        -------
        scores : ndarray of shape (n_recordings,)
            Higher means more likely allowed; ``-inf`` when nobody is enrolled.
        """
        check_is_fitted(self)
        E = validate_data(self, E, reset=False, dtype=np.float64)
        return self.scorer_.score(E).numpy()

    @property
    def scorer_(self):
        """The :class:`CosineScorer` of this enrolment (what ``CNNClassifier`` uses too)."""
        check_is_fitted(self)
        return CosineScorer(self, self._pos_index, getattr(self, "calibration_", None))

    def decision_function(self, E):
        """Calibrated log-odds of ``classes_[1]``: a monotone map of :meth:`score_samples`.

        As for every scikit-learn classifier, positive means ``classes_[1]``
        (the allowed label with 0/1 labels; negate it when ``pos_label`` is
        ``classes_[0]``). The ranking (hence EER and DET curves) is that of the
        cosine scores.

        Parameters
        ----------
        E : array-like of shape (n_recordings, n_features)
            Embeddings.

        Returns
        -------
        scores : ndarray of shape (n_recordings,)
        """
        return self._log_odds_of_classes1(self._allowed_log_odds(E))

    def _raw_allowed_score(self, E):
        return self.score_samples(E)

    def _allowed_log_odds(self, E):
        check_is_fitted(self)
        E = validate_data(self, E, reset=False, dtype=np.float64)
        return self.scorer_.allowed_log_odds(E).numpy()

    def predict_proba(self, E, return_uncertainty=False):
        """Calibrated probabilities of the two labels.

        Parameters
        ----------
        E : array-like of shape (n_recordings, n_features)
            Embeddings.
        return_uncertainty : bool, default=False
            Accepted so that a pipeline ending here answers the call the
            uncertainty wrappers take; True is an error that says what gives an
            uncertainty (an enrolment has no sampled outputs).

        Returns
        -------
        proba : ndarray of shape (n_recordings, 2)
            Columns follow ``classes_``.
        """
        if return_uncertainty:
            raise ValueError(
                "An enrolment gives no uncertainty: its encoder is deterministic and "
                "nothing in it is sampled. MCDropoutClassifier or DeepEnsembleClassifier "
                "around a CNNClassifier give one (predict_proba(X, return_uncertainty=True)); "
                "for how close a voice lies to the enrolled users, read score_samples."
            )
        return np.exp(self._binary_log_proba(self._allowed_log_odds(E)))

    def predict(self, E):
        """Allowed when the calibrated log-odds exceed ``threshold_``.

        Parameters
        ----------
        E : array-like of shape (n_recordings, n_features)
            Embeddings.

        Returns
        -------
        y_pred : ndarray of shape (n_recordings,)
        """
        return self._decide(self._allowed_log_odds(E))

    def enroll(self, E_new, speaker):
        """Add (or replace) an allowed user from a few of their embeddings.

        Parameters
        ----------
        E_new : array-like of shape (n_recordings, n_features)
            Embeddings of the new user's recordings.
        speaker : str
            Name of the user.

        Returns
        -------
        self : object
        """
        check_is_fitted(self)
        E_new = validate_data(self, E_new, reset=False, dtype=np.float64)
        self.enrolled_[str(speaker)] = _unit(self._prep(E_new).mean(0, keepdims=True))[0]
        return self

    def unenroll(self, speaker):
        """Remove an allowed user.

        Parameters
        ----------
        speaker : str
            Name of the user.

        Returns
        -------
        self : object
        """
        check_is_fitted(self)
        if str(speaker) not in self.enrolled_:
            raise KeyError(f"{speaker!r} is not enrolled; enrolled: {sorted(self.enrolled_)}.")
        del self.enrolled_[str(speaker)]
        return self

    def _get_fitted_state(self):
        """The enrolment and calibration as JSON values (see ``skvoice._state``)."""

        check_is_fitted(self)
        record = {
            "classes_": jsonable(self.classes_),
            "n_features_in_": int(self.n_features_in_),
            "mean_": jsonable(self.mean_),
            "enrolled_": {k: jsonable(v) for k, v in self.enrolled_.items()},
            "cohort_": jsonable(self.cohort_),
            "cohort_speakers_": jsonable(self.cohort_speakers_),
            "calibration": [
                float(self.calibrator_.coef_[0, 0]),
                float(self.calibrator_.intercept_[0]),
            ],
            "pos_label_": jsonable(self.pos_label_),
            "threshold_": float(self.threshold_),
            "calibration_": jsonable(self.calibration_),
        }
        if self.projection_ is None:
            record["projection_shape"] = None
            return record, {}
        record["projection_shape"] = list(np.shape(self.projection_))
        return record, {"projection_": torch.from_numpy(np.asarray(self.projection_))}

    def _declared_tensors(self, record):
        """``{name: (shape, dtype)}`` of the back end's projection the record declares."""
        shape = record.get("projection_shape") if isinstance(record, dict) else None
        if shape is None:
            return {}
        require(
            isinstance(shape, list)
            and len(shape) == 2
            and all(is_int(n, 1, 100_000) for n in shape),
            "bad verifier projection_shape",
        )
        return {"projection_": (tuple(shape), torch.float64)}

    def _set_fitted_state(self, record, tensors):
        self._validate_params()
        require(isinstance(record, dict), "bad verifier record")
        require(set(tensors) <= {"projection_"}, "bad verifier tensors")
        classes = record.get("classes_")
        require(label_list(classes) and len(classes) == 2, "verifier classes_ must be two labels")
        dim = record.get("n_features_in_")
        require(is_int(dim, 1, 100_000), "bad verifier n_features_in_")
        require(is_vector(record.get("mean_"), dim), "bad verifier mean_")
        projection = tensors.get("projection_")
        require(
            (projection is None) == (record.get("projection_shape") is None)
            and (
                projection is None
                or (
                    list(projection.shape) == record["projection_shape"]
                    and projection.shape[0] == dim
                    and bool(torch.isfinite(projection).all())
                )
            ),
            "bad verifier projection_",
        )
        out_dim = dim if projection is None else int(projection.shape[1])
        enrolled = record.get("enrolled_")
        require(
            isinstance(enrolled, dict) and all(is_vector(v, out_dim) for v in enrolled.values()),
            "bad enrolled_",
        )
        cohort = record.get("cohort_")
        require(
            isinstance(cohort, list) and all(is_vector(v, out_dim) for v in cohort), "bad cohort_"
        )
        names = record.get("cohort_speakers_")
        require(
            isinstance(names, list)
            and len(names) == len(cohort)
            and all(isinstance(n, str) for n in names),
            "bad cohort_speakers_",
        )
        require(is_vector(record.get("calibration"), 2), "bad verifier calibration")
        pos = record.get("pos_label_")
        require(pos in classes, "verifier pos_label_ is not one of its classes")
        thr = record.get("threshold_")
        require(isinstance(thr, Real) and not math.isnan(thr), "bad verifier threshold_")
        cal = record.get("calibration_")
        require(cal is None or is_vector(cal, 2), "bad verifier calibration_")
        self.classes_ = np.asarray(classes)
        self.pos_label_ = self.classes_[classes.index(pos)]
        self.threshold_ = float(thr)
        self.calibration_ = None if cal is None else (float(cal[0]), float(cal[1]))
        self.n_features_in_ = dim
        self.mean_ = np.asarray(record["mean_"], dtype=np.float64)
        self.projection_ = None if projection is None else projection.double().numpy()
        self.enrolled_ = {str(k): np.asarray(v, dtype=np.float64) for k, v in enrolled.items()}
        self.cohort_ = np.asarray(cohort, dtype=np.float64).reshape(-1, out_dim)
        self.cohort_speakers_ = np.asarray(names, dtype=str)
        a, b = record["calibration"]
        self.calibrator_ = LogisticRegression()
        self.calibrator_.coef_ = np.array([[a]])
        self.calibrator_.intercept_ = np.array([b])
        self.calibrator_.classes_ = np.array([0, 1])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
