"""TargetFARClassifierCV: a threshold at a chosen false-acceptance rate over any scorer.

The decision layer as a meta-estimator, shaped like scikit-learn's
:class:`~sklearn.model_selection.TunedThresholdClassifierCV`: it fits the wrapped
classifier on all the data, refits clones on speaker-disjoint folds so that every
refused speaker is scored by a model that never heard them, calibrates those
held-out scores to log-likelihood ratios and places the threshold where a chosen
share of the impostors gets in. What it wraps needs only ``fit`` and a score:
``score_samples`` (skvoice's verifiers), ``decision_function`` or
``predict_proba``.
"""

from numbers import Integral

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    _num_samples,
    check_is_fitted,
    column_or_1d,
    has_fit_parameter,
)
from tqdm.auto import tqdm

from .._labels import resolve_pos_label
from .._measured import warn_outside_measured
from .._random import seed_from
from ._operating_point import (
    OPERATING_POINT_CONSTRAINTS,
    affine_log_odds,
    checked_cohort,
    place_threshold,
    speaker_folds,
    subset_fit_params,
)

__all__ = ["TargetFARClassifierCV"]

_METHODS = ("score_samples", "decision_function", "predict_proba")


def _final_step(estimator):
    return estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator


class TargetFARClassifierCV(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Accept above a threshold chosen for a target false-acceptance rate, over any scorer.

    ``fit`` fits ``estimator`` on all the recordings, then refits clones of it
    on speaker-disjoint folds: every refused speaker is held out of one fold
    whole, and each allowed speaker's recordings are spread over the folds. The
    held-out scores are what deployment meets (impostors never heard, new
    recordings of enrolled users); a logistic regression with the two classes
    weighted equally maps them to log-likelihood ratios, and ``threshold_`` is
    placed where ``target_far`` of the held-out impostors (and of the
    ``cohort``) are accepted.

    It wraps any binary classifier or pipeline: skvoice's networks, the
    enrolment pipeline, the MC dropout and ensemble wrappers, a
    :class:`~sklearn.ensemble.StackingClassifier` fusing several of them, or a
    pipeline skvoice never saw (MFCC statistics and an SVM).

    Read more in the :ref:`decisions guide <operating_point>`.

    Parameters
    ----------
    estimator : estimator object
        A classifier with ``fit`` and one of ``score_samples``,
        ``decision_function`` or ``predict_proba``. It is cloned: the fitted
        one is ``estimator_``.
    target_far : float in (0, 1) or None, default=0.05
        Share of impostors never heard that may be accepted. None: calibrate
        only, and accept above log-likelihood ratio 0 (even odds).
    pos_label : int, float, bool, str or None, default=None
        The allowed label. None: 1 (True) with 0/1, -1/1 or False/True labels;
        other labels need it (the order of the labels never decides who gets
        in). Also set on the wrapped skvoice estimator when it has a
        ``pos_label`` left at None.
    cv : int, cross-validation generator, iterable or None, default=None
        Folds of the cross-fitting. None: ``min(5, n_refused_speakers)`` folds;
        an integer: that many folds of speaker cross-fitting (refused speakers
        held out whole, allowed speakers' recordings spread); a splitter (e.g.
        :class:`~skvoice.model_selection.OpenSetGroupKFold`) or an iterable of
        (train, test) indices is used as given, with ``y`` as 1 (allowed) / 0
        (refused) and the speakers as ``groups``. Each recording must be in one
        test fold. Without ``groups``, only a splitter that needs none can be
        used, and every recording then counts as its own speaker.
    cohort : tuple (X_cohort, speakers) or None, default=None
        Recordings of people who are not users, as ``estimator`` takes them,
        and the speaker of each. The fitted ``estimator_`` scores them (it never
        heard them), and they join the held-out refused speakers in the
        calibration and the threshold. Not stored in a saved model.
    far_confidence : float in (0, 1) or None, default=None
        Place the threshold so that an upper bound of the FAR at this
        confidence (a bootstrap over the impostor speakers) stays at
        ``target_far``. Costs false rejections; None: the FAR observed on the
        held-out impostors is the target.
    impostor_augmentation : list of transformers or None, default=None
        Pseudo-impostors from the user's own channel: each transformer (for
        example :class:`~skvoice.augment.SpeedPerturbation` at 0.9 and at 1.1,
        on waveforms) makes, from each held-out refused recording, a recording
        of a new voice, scored by the fold model that never heard its source
        speaker. Each transformer's versions of a speaker count as one more
        impostor speaker, for the calibration, the threshold and the intervals.
        The transformers take ``X`` as the estimator does.
    ensemble : bool, default=False
        How new recordings are scored. False: by ``estimator_``, fitted on all
        the recordings, while the threshold and the calibration were set on
        the fold models' held-out scores: where a model fitted on more data
        scores on another scale (a network's log-odds grow with its training
        set), the rates it realises differ from ``expected_rates_``. True: by
        the mean raw score of the fold models themselves (as
        :class:`~sklearn.calibration.CalibratedClassifierCV` with
        ``ensemble=True``), the scale the threshold was set on: a new
        recording is held out of every fold model, as the held-out scores
        were. Costs ``cv`` models at prediction and one fit fewer.
    calibration : {"llr"} or None, default="llr"
        "llr": ``predict_proba`` and ``decision_function`` give calibrated
        log-likelihood ratios (probabilities at even prior odds). None: the
        threshold is placed on the raw scores and ``predict_proba`` is the
        wrapped estimator's own.
    response_method : {"auto", "score_samples", "decision_function", \
            "predict_proba"}, default="auto"
        The score read from the estimator. "auto": ``score_samples`` for a
        classifier that has it (skvoice's verifiers and networks: the
        uncalibrated score of the allowed class), else ``decision_function``,
        else the log-odds of ``predict_proba``.
    random_state : int, RandomState instance or None, default=0
        Seeds the assignment of speakers to folds and the bootstrap of
        ``far_confidence``.
    verbose : bool, default=False
        Show a progress bar over the folds (on a terminal).

    Attributes
    ----------
    estimator_ : estimator object
        ``estimator`` fitted on all the recordings: it scores every new one
        (only with ``ensemble=False``).
    estimators_ : list of estimator objects
        The fold models (only with ``ensemble=True``): their mean raw score
        decides.
    classes_ : ndarray of shape (2,)
        The two labels.
    pos_label_ : object
        The allowed label.
    crossfit_scores_ : ndarray of shape (n_recordings,)
        Raw score of each training recording from the fold model that did not
        see it.
    pseudo_impostor_scores_ : ndarray of shape (n_pseudo,)
        Raw scores of the ``impostor_augmentation`` recordings (empty without).
    cohort_scores_ : ndarray of shape (n_cohort,)
        Raw scores of the cohort, with ``cohort``.
    calibration_ : tuple (slope, intercept) or None
        From raw scores to log-likelihood ratios (None with ``calibration=None``).
    threshold_ : float
        Accept above it (log-likelihood ratio; the raw score with
        ``calibration=None``).
    expected_rates_ : dict
        With ``target_far``: ``far`` and ``frr`` on the held-out scores the
        threshold was placed on, and how many impostor recordings, impostor
        speakers, cohort speakers and allowed recordings they rest on. The FAR
        equals the target by construction: it is not a prediction.
    response_method_ : str
        The method the scores were read with.
    n_features_in_ : int
        Number of features of ``X``, when the estimator has it.

    See Also
    --------
    sklearn.model_selection.TunedThresholdClassifierCV : A threshold chosen for
        a classification score rather than a false-acceptance rate.
    skvoice.metrics.far_cut : The cut behind ``threshold_``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skvoice.decisions import TargetFARClassifierCV
    >>> rng = np.random.default_rng(0)
    >>> speakers = np.repeat(np.arange(12), 10)
    >>> y = (speakers < 4).astype(int)
    >>> X = rng.normal(size=(120, 3)) + y[:, None]
    >>> clf = TargetFARClassifierCV(LogisticRegression(), target_far=0.1)
    >>> clf = clf.fit(X, y, groups=speakers)
    >>> clf.expected_rates_["impostor_speakers"]
    8
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"])],
        **OPERATING_POINT_CONSTRAINTS,
        "impostor_augmentation": [list, None],
        "ensemble": ["boolean"],
        "calibration": [StrOptions({"llr"}), None],
        "response_method": [StrOptions({"auto", *_METHODS})],
        "random_state": ["random_state"],
        "verbose": ["boolean"],
    }
    # The speakers are the cross-fitting's own: requested by default.
    __metadata_request__fit = {"groups": True}

    def __init__(
        self,
        estimator,
        *,
        target_far=0.05,
        pos_label=None,
        cv=None,
        cohort=None,
        far_confidence=None,
        impostor_augmentation=None,
        ensemble=False,
        calibration="llr",
        response_method="auto",
        random_state=0,
        verbose=False,
    ):
        self.estimator = estimator
        self.target_far = target_far
        self.pos_label = pos_label
        self.cv = cv
        self.cohort = cohort
        self.far_confidence = far_confidence
        self.impostor_augmentation = impostor_augmentation
        self.ensemble = ensemble
        self.calibration = calibration
        self.response_method = response_method
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, groups=None, **fit_params):
        """Fit the estimator, cross-fit its held-out scores and place the threshold.

        Parameters
        ----------
        X : array-like or list of length n_recordings
            Input of ``estimator``.
        y : array-like of shape (n_recordings,)
            Two labels: allowed (``pos_label``) and refused.
        groups : array-like of shape (n_recordings,), default=None
            Speaker of each recording: the folds keep speakers apart. Also
            given to the estimator's ``fit`` when it takes ``groups`` (or to the
            last step of a pipeline whose ``fit`` takes it).
        **fit_params : dict
            Passed to the estimator's ``fit`` (with metadata routing on: those
            it requested); arrays of one value per recording are cut to each
            fold's rows.

        Returns
        -------
        self : object
        """
        if "sample_weight" in fit_params:
            raise ValueError(
                f"{type(self).__name__} does not take sample_weight: the false-acceptance "
                "rate it sets is a share of impostor recordings, each counted once."
            )
        X, y = self._checked_input(X, y)
        n = len(y)
        self.classes_ = np.unique(y)
        self.pos_label_ = resolve_pos_label(self.classes_, self.pos_label, type(self).__name__)
        allowed = y == self.pos_label_
        speakers = self._speakers(groups, n)
        params = self._estimator_fit_params(groups, fit_params)
        if self.target_far is not None and speakers is not None:
            # Too few refused speakers or enrolment recordings: said as the command
            # line says it (one place).
            warn_outside_measured(speakers, allowed.astype(int))
        estimator = self._with_pos_label(clone(self.estimator))
        # Read on the first fitted model: an estimator may offer a score only once
        # fitted (skvoice's networks: score_samples once they know the allowed label).
        self.response_method_ = None
        if not self.ensemble:
            self.estimator_ = clone(estimator).fit(X, y, **params)
            self._n_features_from(self.estimator_)
        folds = speaker_folds(self.cv, allowed, speakers, self.random_state)
        names = speakers if speakers is not None else np.arange(n).astype(str)
        pseudo, pseudo_who = self._crossfit(estimator, X, y, allowed, names, folds, params)
        raw = self.crossfit_scores_
        impostors = np.r_[raw[~allowed], pseudo]
        who = np.r_[names[~allowed], pseudo_who]
        if self.cohort is not None:
            X_cohort, cohort_speakers = self._checked_cohort()
            self.cohort_scores_ = self._deciding_raw_score(X_cohort)
            impostors = np.r_[impostors, self.cohort_scores_]
            who = np.r_[who, np.char.add("cohort:", cohort_speakers)]
        seed = 0 if self.far_confidence is None else seed_from(self.random_state)
        calibration, cut, threshold, rates = place_threshold(
            raw[allowed],
            impostors,
            who,
            self.target_far,
            self.far_confidence,
            seed,
            target_speakers=names[allowed],
        )
        if self.calibration == "llr":
            self.calibration_, self.threshold_ = calibration, float(threshold)
        else:
            self.calibration_, self.threshold_ = None, float(cut)
        self.expected_rates_ = rates
        return self

    def _crossfit(self, estimator, X, y, allowed, names, folds, params):
        """Held-out scores (``crossfit_scores_``) and the pseudo-impostors' with their voices.

        Each fold's model scores its test rows and, with ``impostor_augmentation``,
        the new voices made from its held-out refused recordings; with
        ``ensemble`` the fold models are kept in ``estimators_``.
        """
        n = len(y)
        raw = np.full(n, np.nan)
        pseudo, pseudo_who = [np.empty(0)], [np.empty(0, dtype=str)]
        if self.ensemble:
            self.estimators_ = []
        for train, test in tqdm(
            folds, desc="Cross-fitting", disable=None if self.verbose else True
        ):
            model = clone(estimator).fit(
                _safe_indexing(X, train), y[train], **subset_fit_params(params, train, n)
            )
            raw[test] = self._raw_score(model, _safe_indexing(X, test))
            refused_test = test[~allowed[test]]
            for i, augment in enumerate(self.impostor_augmentation or ()):
                if len(refused_test):
                    X_new = clone(augment).fit_transform(_safe_indexing(X, refused_test))
                    pseudo.append(self._raw_score(model, X_new))
                    pseudo_who.append(np.char.add(names[refused_test], f"~{i}"))
            if self.ensemble:
                self.estimators_.append(model)
        if self.ensemble:
            self._n_features_from(self.estimators_[0])
        if np.isnan(raw).any():
            raise ValueError(
                f"cv={self.cv!r} left {int(np.isnan(raw).sum())} recording(s) out of every "
                "test fold; the threshold needs a held-out score for each: use a K-fold "
                "splitter (e.g. OpenSetGroupKFold)."
            )
        self.crossfit_scores_ = raw
        self.pseudo_impostor_scores_ = np.concatenate(pseudo)
        return self.pseudo_impostor_scores_, np.concatenate(pseudo_who)

    def _checked_input(self, X, y):
        """``X`` in a form whose rows the folds can index, and ``y`` of two labels."""
        # A list (waveforms of any length), a sparse matrix in a format that can be
        # indexed, a data frame, or an array.
        if issparse(X):
            X = X.tocsr()
        elif not isinstance(X, (list, tuple)) and not hasattr(X, "iloc"):
            X = np.asarray(X)
        n = _num_samples(X)
        y = column_or_1d(np.asarray(y), warn=True)
        if len(y) != n:
            raise ValueError(f"X has {n} recordings but y has {len(y)} labels.")
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is "
                f"{y_type}: {type(self).__name__} decides between two labels (refused, "
                f"allowed), and y has {len(np.unique(y))} (one class cannot be decided on)."
            )
        return X, y

    # -- what fit reads ---------------------------------------------------------

    def _speakers(self, groups, n):
        """Speaker of each recording, as strings; each recording its own without groups."""
        if groups is None:
            if self.cv is None or isinstance(self.cv, Integral):
                raise ValueError(
                    "TargetFARClassifierCV holds refused speakers out whole, so fit needs "
                    "the speaker of each recording: fit(X, y, groups=speakers). (A splitter "
                    "passed as cv that needs no groups works without them.)"
                )
            return None
        speakers = column_or_1d(np.asarray(groups)).astype(str)
        if len(speakers) != n:
            raise ValueError(f"X has {n} recordings but groups has {len(speakers)} speakers.")
        return speakers

    def _estimator_fit_params(self, groups, fit_params):
        """``fit`` parameters of the estimator: routed, or passed through with ``groups``."""
        if _routing_enabled():
            return dict(process_routing(self, "fit", groups=groups, **fit_params).estimator.fit)
        params = dict(fit_params)
        if groups is None:
            return params
        if isinstance(self.estimator, Pipeline):
            name, last = self.estimator.steps[-1]
            key = f"{name}__groups"
            if last not in (None, "passthrough") and has_fit_parameter(last, "groups"):
                params.setdefault(key, groups)
        elif has_fit_parameter(self.estimator, "groups"):
            params.setdefault("groups", groups)
        return params

    def _with_pos_label(self, estimator):
        """The estimator with the allowed label set where it asks for one and has none."""
        final = _final_step(estimator)
        if self.pos_label is not None and final.get_params(deep=False).get("pos_label", 0) is None:
            final.set_params(pos_label=self.pos_label)
        return estimator

    def _resolve_response_method(self, estimator):
        if self.response_method != "auto":
            if not hasattr(estimator, self.response_method):
                raise ValueError(
                    f"response_method={self.response_method!r}, but "
                    f"{type(estimator).__name__} has no {self.response_method}."
                )
            return self.response_method
        for method in _METHODS:
            if method == "score_samples" and not _is_verifier(estimator):
                continue
            if hasattr(estimator, method):
                return method
        raise ValueError(
            f"{type(estimator).__name__} gives no score: it needs score_samples, "
            "decision_function or predict_proba."
        )

    def _raw_score(self, model, X):
        """Score of the allowed class (higher: more likely allowed) from a fitted model."""
        if self.response_method_ is None:
            self.response_method_ = self._resolve_response_method(model)
        method = self.response_method_
        score = np.asarray(getattr(model, method)(X), dtype=np.float64)
        if method == "score_samples":
            return score
        classes = list(model.classes_)
        if len(classes) != 2 or self.pos_label_ not in classes:
            raise ValueError(
                f"The wrapped estimator learnt the labels {classes}; "
                f"{type(self).__name__} needs the two of y."
            )
        pos = classes.index(self.pos_label_)
        if method == "decision_function":
            if score.ndim != 1:
                raise ValueError("decision_function must give one score per recording.")
            return score if pos == 1 else -score
        p = np.clip(score[:, pos], 1e-300, 1.0)
        q = np.clip(1.0 - score[:, pos], 1e-300, 1.0)
        return np.log(p) - np.log(q)

    def _checked_cohort(self):
        """``cohort`` as (inputs, speakers of each), their lengths checked."""
        return checked_cohort(self.cohort, "recordings, as the estimator takes them,")

    # -- deciding ---------------------------------------------------------------

    @property
    def _pos_index(self):
        return int(np.flatnonzero(self.classes_ == self.pos_label_)[0])

    def _n_features_from(self, model):
        if hasattr(model, "n_features_in_"):
            self.n_features_in_ = model.n_features_in_

    def _deciding_raw_score(self, X):
        """Raw score of the model that decides: ``estimator_``, or the fold models' mean."""
        if self.ensemble:
            return np.mean([self._raw_score(m, X) for m in self.estimators_], axis=0)
        return self._raw_score(self.estimator_, X)

    def _allowed_score(self, X):
        """Calibrated log-likelihood ratio of the allowed class (raw without calibration)."""
        check_is_fitted(self, "threshold_")
        raw = self._deciding_raw_score(X)
        return raw if self.calibration_ is None else affine_log_odds(raw, *self.calibration_)

    def decision_function(self, X):
        """Log-likelihood ratio of ``classes_[1]`` (raw score with ``calibration=None``).

        As for every scikit-learn classifier, positive means ``classes_[1]``;
        negate it when ``pos_label`` is ``classes_[0]``.

        Parameters
        ----------
        X : array-like or list of length n_recordings
            Input of ``estimator``.

        Returns
        -------
        scores : ndarray of shape (n_recordings,)
        """
        score = self._allowed_score(X)
        return score if self._pos_index == 1 else -score

    def predict_proba(self, X, return_uncertainty=False):
        """Probabilities of the two labels at even prior odds.

        Parameters
        ----------
        X : array-like or list of length n_recordings
            Input of ``estimator``.
        return_uncertainty : bool, default=False
            Also return the wrapped estimator's uncertainty (MC dropout, deep
            ensembles, or any estimator whose ``predict_proba`` takes
            ``return_uncertainty``).

        Returns
        -------
        proba : ndarray of shape (n_recordings, 2)
            Columns follow ``classes_``; the wrapped estimator's own with
            ``calibration=None``.
        uncertainty : :class:`~sklearn.utils.Bunch`
            Only with ``return_uncertainty``.
        """
        check_is_fitted(self, "threshold_")
        uncertainty = None
        if return_uncertainty:
            if self.ensemble:
                raise ValueError(
                    "return_uncertainty reads the uncertainty of estimator_; with "
                    "ensemble=True there is none: set ensemble=False."
                )
            if not _takes_uncertainty(self.estimator_):
                raise TypeError(
                    f"{type(_final_step(self.estimator_)).__name__} gives no uncertainty: "
                    "wrap an MCDropoutClassifier or a DeepEnsembleClassifier, whose "
                    "predict_proba takes return_uncertainty."
                )
            own, uncertainty = self.estimator_.predict_proba(X, return_uncertainty=True)
        if self.calibration_ is None:
            if return_uncertainty:
                proba = own
            elif self.ensemble:
                proba = np.mean([m.predict_proba(X) for m in self.estimators_], axis=0)
            else:
                proba = self.estimator_.predict_proba(X)
        else:
            log_odds = self._allowed_score(X)
            proba = np.empty((len(log_odds), 2))
            pos = self._pos_index
            proba[:, pos] = np.exp(-np.logaddexp(0.0, -log_odds))
            proba[:, 1 - pos] = np.exp(-np.logaddexp(0.0, log_odds))
        return (proba, uncertainty) if return_uncertainty else proba

    def predict(self, X):
        """Allowed where the score exceeds ``threshold_``, refused elsewhere.

        Parameters
        ----------
        X : array-like or list of length n_recordings
            Input of ``estimator``.

        Returns
        -------
        y_pred : ndarray of shape (n_recordings,)
        """
        accept = self._allowed_score(X) > self.threshold_
        pos = self._pos_index
        return self.classes_[np.where(accept, pos, 1 - pos)]

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            ``groups`` is consumed (the speakers of the folds); ``fit``
            parameters reach the estimator's ``fit`` when it requested them.
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                estimator=self.estimator,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        )

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = inner.input_tags
        tags.classifier_tags.multi_class = False
        return tags


def _is_verifier(estimator):
    """Whether ``score_samples`` is a score of the allowed class: a classifier that has it."""
    from sklearn.base import is_classifier

    return is_classifier(estimator) and hasattr(estimator, "score_samples")


def _takes_uncertainty(estimator):
    import inspect

    try:
        return "return_uncertainty" in inspect.signature(estimator.predict_proba).parameters
    except (AttributeError, TypeError, ValueError):
        return False
