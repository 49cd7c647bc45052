"""ScoreFusionClassifier: several systems' scores into one, learnt on held-out speakers.

Score-level fusion as speaker recognition does it (a logistic regression over
the members' scores), shaped like scikit-learn's
:class:`~sklearn.ensemble.StackingClassifier`. It exists beside it because the
stacking of scikit-learn 1.9 cannot hold speakers apart: its ``cv`` receives no
``groups`` (its router does not add the splitter) and, with routing on, it
passes every ``fit`` parameter to its final estimator. Stacked on folds that mix
a speaker's recordings, the fusion weights would be learnt on scores of
impostors the members already heard.
"""

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from ._operating_point import OPERATING_POINT_CONSTRAINTS
from ._target_far import TargetFARClassifierCV

__all__ = ["ScoreFusionClassifier"]


class ScoreFusionClassifier(MetaEstimatorMixin, ClassifierMixin, TransformerMixin, BaseEstimator):
    """Fuse the scores of several systems with a model learnt on held-out speakers.

    Each member is fitted on all the recordings; its held-out scores come from
    clones refitted on speaker-disjoint folds (refused speakers held out whole,
    as :class:`TargetFARClassifierCV` does). The final estimator, a logistic
    regression by default (linear fusion with the classes weighted equally, as
    in speaker recognition), learns from those held-out scores; new recordings
    are scored by the members fitted on everything. Wrap it in
    :class:`TargetFARClassifierCV` to place a threshold at a target FAR.

    Read more in the :ref:`decisions guide <fusion>`.

    Parameters
    ----------
    estimators : list of (str, estimator)
        The systems to fuse, each a binary classifier or pipeline on the same
        input (waveforms for the pipelines skvoice builds). Their scores are
        read as :class:`TargetFARClassifierCV` reads them.
    final_estimator : estimator or None, default=None
        Learns from the members' held-out scores, one column per member.
        None: ``LogisticRegression(class_weight="balanced")``.
    pos_label : int, float, bool, str or None, default=None
        The allowed label (see :class:`TargetFARClassifierCV`).
    cv : int, cross-validation generator, iterable or None, default=None
        The folds of the held-out scores (see :class:`TargetFARClassifierCV`).
    random_state : int, RandomState instance or None, default=0
        Seeds the assignment of speakers to folds.

    Attributes
    ----------
    members_ : list of TargetFARClassifierCV
        One per member, fitted without a threshold: ``estimator_`` is the
        member fitted on all the recordings and ``crossfit_scores_`` its
        held-out scores.
    named_members_ : dict
        The fitted members (``estimator_``) by name.
    final_estimator_ : estimator
        The fusion, fitted on the held-out scores.
    classes_ : ndarray of shape (2,)
        The two labels.

    See Also
    --------
    sklearn.ensemble.StackingClassifier : The same idea, on folds that do not
        keep speakers apart.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklearn.pipeline import make_pipeline
    >>> from skvoice.decisions import EnrollmentVerifier, ScoreFusionClassifier
    >>> rng = np.random.default_rng(0)
    >>> speakers = np.repeat(np.arange(12), 8)
    >>> y = (speakers < 4).astype(int)
    >>> X = rng.normal(size=(12, 8))[speakers] + rng.normal(size=(96, 8))
    >>> first = make_pipeline(FunctionTransformer(lambda X: X[:, :4]), EnrollmentVerifier())
    >>> second = make_pipeline(FunctionTransformer(lambda X: X[:, 4:]), EnrollmentVerifier())
    >>> fusion = ScoreFusionClassifier([("first", first), ("second", second)])
    >>> fusion = fusion.fit(X, y, groups=speakers)
    >>> fusion.transform(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        "estimators": [list],
        "final_estimator": [HasMethods(["fit"]), None],
        "pos_label": OPERATING_POINT_CONSTRAINTS["pos_label"],
        "cv": ["cv_object"],
        "random_state": ["random_state"],
    }
    __metadata_request__fit = {"groups": True}

    def __init__(
        self, estimators, *, final_estimator=None, pos_label=None, cv=None, random_state=0
    ):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.pos_label = pos_label
        self.cv = cv
        self.random_state = random_state

    def _member(self, estimator):
        return TargetFARClassifierCV(
            estimator,
            target_far=None,
            pos_label=self.pos_label,
            cv=self.cv,
            calibration=None,
            random_state=self.random_state,
        )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, groups=None, **fit_params):
        """Fit the members, their held-out scores, and the fusion on those.

        Parameters
        ----------
        X : array-like or list of length n_recordings
            Input of every member.
        y : array-like of shape (n_recordings,)
            Two labels: allowed (``pos_label``) and refused.
        groups : array-like of shape (n_recordings,), default=None
            Speaker of each recording (see :class:`TargetFARClassifierCV`).
        **fit_params : dict
            ``<name>__<param>`` reaches member ``<name>``. The speakers reach
            every member whose ``fit`` (or last step's) takes ``groups``, with
            or without metadata routing.

        Returns
        -------
        self : object
        """
        names = [name for name, _ in self.estimators]
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"estimators need distinct names; got {names}.")
        member_params = {name: {} for name in names}
        for key, value in fit_params.items():
            name, _, param = key.partition("__")
            if name not in member_params or not param:
                raise ValueError(
                    f"fit parameter {key!r}: name a member, as <member>__<param>; "
                    f"members: {names}."
                )
            member_params[name][param] = value
        self.members_ = []
        with _routing_off():
            # The speakers reach each member's fit where it takes groups (a
            # pipeline: its last step), whether routing is on outside or not.
            for name, estimator in self.estimators:
                self.members_.append(
                    self._member(estimator).fit(X, y, groups=groups, **member_params[name])
                )
        self.classes_ = self.members_[0].classes_
        self.pos_label_ = self.members_[0].pos_label_
        if hasattr(self.members_[0], "n_features_in_"):
            self.n_features_in_ = self.members_[0].n_features_in_
        self.named_members_ = {
            name: m.estimator_ for (name, _), m in zip(self.estimators, self.members_, strict=True)
        }
        held_out = np.column_stack([m.crossfit_scores_ for m in self.members_])
        final = self.final_estimator
        final = LogisticRegression(class_weight="balanced") if final is None else clone(final)
        self.final_estimator_ = final.fit(held_out, y)
        return self

    def transform(self, X):
        """The members' raw scores of the allowed class, one column each.

        Parameters
        ----------
        X : array-like or list of length n_recordings
            Input of every member.

        Returns
        -------
        scores : ndarray of shape (n_recordings, n_members)
        """
        check_is_fitted(self)
        return np.column_stack([m._raw_score(m.estimator_, X) for m in self.members_])

    def decision_function(self, X):
        """The fusion's score of ``classes_[1]``.

        Parameters
        ----------
        X : array-like or list of length n_recordings
            Input of every member.

        Returns
        -------
        scores : ndarray of shape (n_recordings,)
        """
        scores = self.transform(X)
        return self.final_estimator_.decision_function(scores)

    def predict_proba(self, X):
        """The fusion's probabilities of the two labels.

        Parameters
        ----------
        X : array-like or list of length n_recordings
            Input of every member.

        Returns
        -------
        proba : ndarray of shape (n_recordings, 2)
        """
        scores = self.transform(X)
        return self.final_estimator_.predict_proba(scores)

    def predict(self, X):
        """The fusion's label of each recording.

        Parameters
        ----------
        X : array-like or list of length n_recordings
            Input of every member.

        Returns
        -------
        y_pred : ndarray of shape (n_recordings,)
        """
        scores = self.transform(X)
        return self.final_estimator_.predict(scores)

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        if self.estimators:
            inner = [get_tags(estimator).input_tags for _, estimator in self.estimators]
            tags.input_tags = inner[0]
            # Sparse input only where every member takes it.
            tags.input_tags.sparse = all(t.sparse for t in inner)
        tags.classifier_tags.multi_class = False
        return tags


class _routing_off:
    """Metadata routing switched off inside, as it was outside afterwards."""

    def __enter__(self):
        import sklearn

        self._context = sklearn.config_context(enable_metadata_routing=False)
        self._context.__enter__()

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)
