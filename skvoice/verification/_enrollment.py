"""EnrollmentVerifier: accept a recording whose embedding is close to an enrolled user."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

__all__ = ["EnrollmentVerifier"]


def _unit(E):
    return E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)


class EnrollmentVerifier(ClassifierMixin, BaseEstimator):
    """Speaker verification over embeddings: cosine to the enrolled users.

    ``fit`` enrols the allowed class: one centroid per allowed speaker when
    ``speakers`` is given, else every allowed embedding as its own template. A
    recording's score is its best cosine similarity to an enrolled user,
    optionally s-normalised against a cohort of the refused training speakers.
    Probabilities come from a logistic (Platt) calibration of the training scores,
    where each allowed recording is scored against its speaker's centroid without
    itself (leave one out), so the calibration sees honest genuine scores. Users are
    added and removed with :meth:`enroll` and :meth:`unenroll`, without touching
    the embedder.

    Parameters
    ----------
    score_norm : {None, "s-norm"}, default="s-norm"
        Symmetric score normalisation against the cohort (the refused training
        speakers): the mean of the z-normalised score (by the enrolled user's
        cohort statistics) and the t-normalised score (by the test recording's).
    center : bool, default=True
        Subtract the mean training embedding before the cosine (the mean is the
        part all voices share).

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        ``[refused, allowed]`` labels.
    enrolled_ : dict
        Speaker -> unit centroid of their embeddings.
    cohort_ : ndarray of shape (n_cohort, n_features)
        Unit embeddings of the refused training speakers.
    calibrator_ : LogisticRegression
        Maps scores to the probability of being allowed.
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
    >>> ver = EnrollmentVerifier().fit(E, y, speakers=spk)
    >>> sorted(ver.enrolled_), ver.predict(E[[0, 10]]).tolist()
    (['a', 'b'], [1, 0])
    """

    __metadata_request__fit = {"speakers": True}

    def __init__(self, score_norm="s-norm", center=True):
        self.score_norm = score_norm
        self.center = center

    def _prep(self, E):
        E = np.asarray(E, dtype=np.float64)
        if self.center:
            E = E - self.mean_
        return _unit(E)

    def _raw(self, U, centroids):
        return U @ centroids.T  # (n, n_enrolled)

    def _normalise(self, S, U, centroids):
        if self.score_norm is None or len(self.cohort_) < 2:
            return S
        enrolled_vs_cohort = centroids @ self.cohort_.T  # (k, m)
        test_vs_cohort = U @ self.cohort_.T  # (n, m)
        mu_e, sd_e = enrolled_vs_cohort.mean(1), enrolled_vs_cohort.std(1) + 1e-6
        mu_t, sd_t = test_vs_cohort.mean(1), test_vs_cohort.std(1) + 1e-6
        z = (S - mu_e[None, :]) / sd_e[None, :]
        t = (S - mu_t[:, None]) / sd_t[:, None]
        return 0.5 * (z + t)

    def fit(self, E, y, speakers=None):
        """Enrol the allowed speakers and calibrate the scores.

        Parameters
        ----------
        E : array-like of shape (n_recordings, n_features)
            Embeddings (e.g. from :class:`~skvoice.neural_network.SpeakerEmbedder`).
        y : array-like of shape (n_recordings,)
            Two classes; the greater label (1) is the allowed one.
        speakers : array-like of shape (n_recordings,), default=None
            Speaker of each recording: one centroid per allowed speaker and per
            cohort speaker. Without it every recording stands alone.

        Returns
        -------
        self : object
        """
        if self.score_norm not in (None, "s-norm"):
            raise ValueError(f"score_norm must be None or 's-norm', got {self.score_norm!r}.")
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
        if speakers is None:
            speakers = np.arange(len(y)).astype(str)
        speakers = column_or_1d(np.asarray(speakers)).astype(str)
        if len(speakers) != len(y):
            raise ValueError(f"speakers has {len(speakers)} rows but y has {len(y)}.")
        self.mean_ = E.mean(axis=0) if self.center else np.zeros(E.shape[1])
        U = self._prep(E)
        allowed = y == self.classes_[1]
        self.enrolled_ = {}
        for s in np.unique(speakers[allowed]):
            self.enrolled_[str(s)] = _unit(U[speakers == s].mean(0, keepdims=True))[0]
        cohort_spk = np.unique(speakers[~allowed])
        self.cohort_ = np.array(
            [_unit(U[speakers == s].mean(0, keepdims=True))[0] for s in cohort_spk]
        ).reshape(-1, E.shape[1])
        # Honest training scores: allowed recordings against their own centroid
        # computed without them (when their speaker has other recordings).
        scores = self._scores(U)
        names = list(self.enrolled_)
        for i in np.flatnonzero(allowed):
            others = (speakers == speakers[i]) & (np.arange(len(y)) != i)
            if others.any():
                cents = np.array([self.enrolled_[n] for n in names])
                cents[names.index(speakers[i])] = _unit(U[others].mean(0, keepdims=True))[0]
                scores[i] = self._best(U[i : i + 1], cents)[0]
        self.calibrator_ = LogisticRegression(C=1e3).fit(scores[:, None], allowed.astype(int))
        return self

    def _best(self, U, centroids):
        S = self._normalise(self._raw(U, centroids), U, centroids)
        return S.max(axis=1)

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
        return self._scores(self._prep(E))

    def decision_function(self, E):
        """Calibrated log-odds of being allowed: a monotone map of :meth:`score_samples`.

        Positive means allowed, as for every scikit-learn classifier; the ranking
        (hence EER and DET curves) is that of the cosine scores.

        Parameters
        ----------
        E : array-like of shape (n_recordings, n_features)
            Embeddings.

        Returns
        -------
        scores : ndarray of shape (n_recordings,)
        """
        s = self.score_samples(E)
        a, b = self.calibrator_.coef_[0, 0], self.calibrator_.intercept_[0]
        return np.where(np.isfinite(s), a * np.nan_to_num(s, neginf=0.0) + b, -np.inf)

    def predict_proba(self, E):
        """Calibrated probabilities of refused and allowed.

        Parameters
        ----------
        E : array-like of shape (n_recordings, n_features)
            Embeddings.

        Returns
        -------
        proba : ndarray of shape (n_recordings, 2)
        """
        d = self.decision_function(E)
        p1 = 1.0 / (1.0 + np.exp(-np.clip(d, -500, 500)))
        return np.c_[1.0 - p1, p1]

    def predict(self, E):
        """Allowed when the calibrated log-odds are positive.

        Parameters
        ----------
        E : array-like of shape (n_recordings, n_features)
            Embeddings.

        Returns
        -------
        y_pred : ndarray of shape (n_recordings,)
        """
        d = self.decision_function(E)
        return self.classes_[(d > 0).astype(int)]

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
