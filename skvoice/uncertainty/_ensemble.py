"""Deep ensembles: the same network trained from several seeds."""

from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .._random import seed_everything
from ..decisions import OPERATING_POINT_CONSTRAINTS
from ._base import (
    MemberProbaMixin,
    split_final_step,
    with_operating_point_doc,
)
from ._routing import RoutingMixin

__all__ = ["DeepEnsembleClassifier"]


def _fit_member(estimator, X, y, fit_params, indices):
    if indices is not None:
        X = [X[i] for i in indices] if isinstance(X, list) else X[indices]
        y = np.asarray(y)[indices]
        fit_params = {
            k: np.asarray(v)[indices] if hasattr(v, "__len__") else v
            for k, v in fit_params.items()
        }
    return estimator.fit(X, y, **fit_params)


@with_operating_point_doc
class DeepEnsembleClassifier(
    RoutingMixin, MemberProbaMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator
):
    """An ensemble of networks trained from different seeds (Lakshminarayanan 2017).

    Members are clones of ``estimator`` whose ``random_state`` (weights, crops,
    shuffling, dropout) differs; they are trained in parallel with joblib, with a
    progress bar. The spread of their predictions measures epistemic uncertainty.

    Parameters
    ----------
    estimator : estimator, default=None
        Any classifier with ``predict_proba`` (default ``CNNClassifier()``), or a
        Pipeline ending in one.
    n_estimators : int, default=5
        Members.
    bootstrap : bool, default=False
        Train each member on a bootstrap sample of the recordings.
    n_jobs : int, default=None
        Members trained in parallel.
    random_state : int, RandomState instance or None, default=None
        Seeds of the members (and of the bootstrap samples).
    verbose : bool, default=False
        Show a progress bar over the members.
    %(operating_point)s

    Attributes
    ----------
    %(operating_point_attributes)s
    estimators_ : list of estimators
        The fitted members.
    classes_ : ndarray
        Class labels.

    Examples
    --------
    >>> from sklearn.linear_model import SGDClassifier
    >>> from sklearn.datasets import make_classification
    >>> from skvoice.uncertainty import DeepEnsembleClassifier
    >>> X, y = make_classification(random_state=0)
    >>> ens = DeepEnsembleClassifier(SGDClassifier(loss="log_loss"), n_estimators=3,
    ...                              random_state=0).fit(X, y)
    >>> proba, u = ens.predict_proba(X[:2], return_uncertainty=True)
    >>> proba.shape, u.epistemic.shape
    ((2, 2), (2,))
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "bootstrap": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        **OPERATING_POINT_CONSTRAINTS,
    }

    def __init__(
        self,
        estimator=None,
        n_estimators=5,
        bootstrap=False,
        n_jobs=None,
        random_state=None,
        verbose=False,
        pos_label=None,
        target_far=None,
        cv=None,
        cohort=None,
        far_confidence=None,
    ):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.bootstrap = bootstrap
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.pos_label = pos_label
        self.target_far = target_far
        self.cv = cv
        self.cohort = cohort
        self.far_confidence = far_confidence

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Train the members.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Input of the members.
        y : array-like of shape (n_samples,)
            Labels.
        **fit_params : dict
            Passed to every member's ``fit`` (e.g. ``groups``; with metadata
            routing on, those the member requested); arrays are resampled with
            the bootstrap.

        Returns
        -------
        self : object
        """
        from tqdm.auto import tqdm

        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = column_or_1d(y, warn=True)
        base = self._default_estimator()
        given, fit_params = fit_params, self._fit_params_for_estimator(fit_params)
        rng = check_random_state(self.random_state)
        seeds = rng.randint(0, 2**31 - 1, size=self.n_estimators)
        n = len(y)
        samples = [rng.randint(0, n, n) if self.bootstrap else None for _ in seeds]
        members = [seed_everything(clone(base), int(s)) for s in seeds]
        pos_label = [self._shared_pos_label(m) for m in members][0]
        jobs = (delayed(_fit_member)(m, X, y, fit_params, idx) for m, idx in zip(members, samples))
        self.estimators_ = list(
            tqdm(
                Parallel(n_jobs=self.n_jobs, return_as="generator")(jobs),
                total=self.n_estimators,
                desc="Training ensemble",
                disable=None if self.verbose else True,  # None: no bar off a terminal
            )
        )
        self.classes_ = self.estimators_[0].classes_
        if hasattr(self.estimators_[0], "n_features_in_"):
            self.n_features_in_ = self.estimators_[0].n_features_in_
        for m in self.estimators_[1:]:
            if not np.array_equal(m.classes_, self.classes_):
                raise ValueError(
                    "A bootstrap sample missed a class; use more data or bootstrap=False."
                )
        self._finish_fit(X, y, given, pos_label)
        return self

    def predict_member_proba(self, X):
        """Probabilities of every member.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Input of the members.

        Returns
        -------
        proba : ndarray of shape (n_estimators, n_samples, n_classes)
        """
        return self._predict_members(X)[0]

    def _predict_members(self, X, novelty=False):
        """Probabilities of every member and, with ``novelty``, their mean novelty.

        Each member's preprocessing runs once for both.
        """
        check_is_fitted(self)
        probas, scores = [], []
        for member in self.estimators_:
            transform, final = split_final_step(member)
            Xt = transform(X)
            probas.append(final.predict_proba(Xt))
            if novelty and hasattr(final, "novelty_score"):
                scores.append(final.novelty_score(Xt))
        mean = np.mean(scores, axis=0) if scores and len(scores) == len(probas) else None
        return np.stack(probas), mean
