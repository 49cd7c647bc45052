"""What MC dropout and deep ensembles share: predictions from member probabilities."""

import numpy as np
from sklearn.utils._available_if import available_if
from sklearn.utils.validation import check_is_fitted

from .._labels import knows_allowed_label
from ..decisions import CROSSFIT_PARAMS_DOC, OperatingPointMixin, fill_doc
from ..neural_network import CNNClassifier
from ._metrics import uncertainty_decomposition

__all__ = ["MemberProbaMixin"]


#: The operating-point parameters' documentation, shared by the wrappers'
#: docstrings (which hold the ``%(operating_point)s`` placeholder).
OPERATING_POINT_DOC = (
    """\
    pos_label : int, float, bool, str or None, default=None
        The allowed label (two classes). None: the network's ``pos_label``, or
        1 for labels 0/1, False/True or -1/1; other labels need it when
        ``target_far`` or ``cv`` is set (else ``predict`` returns the most
        probable label and ``pos_label_`` is None). It is set on the wrapped
        network, so that both agree; a network given another ``pos_label`` is
        an error.
    target_far : float in (0, 1) or None, default=None
        False-acceptance rate to operate at: ``fit`` refits the wrapper on
        ``cv`` speaker folds, scores the held-out refused speakers (impostors the
        fold's model never heard) and sets ``threshold_`` so that at most this
        share of them is accepted; ``predict`` uses it. Needs the speakers
        (``groups``) in ``fit``.
"""
    + CROSSFIT_PARAMS_DOC
)


#: Their fitted attributes, for the ``%(operating_point_attributes)s`` placeholder.
OPERATING_POINT_ATTRIBUTES_DOC = """\
    pos_label_ : object or None
        The allowed label, the wrapped network's too (None with more than two
        classes, or with labels that do not say which is allowed).
    threshold_ : float
        ``predict`` accepts when the log-odds of the (calibrated) mean
        probability exceed it: 0 without ``target_far``.
    calibration_ : tuple of (float, float) or None
        Cross-fitted calibration of the mean probability's log-odds to
        log-likelihood ratios (see ``cv``).
    crossfit_scores_ : ndarray of shape (n_samples,)
        With cross-fitting: each training recording's mean-probability log-odds
        by the fold model that did not see it.
    cohort_scores_ : ndarray of shape (n_cohort_recordings,)
        With ``cohort`` and ``target_far``: the cohort recordings' raw scores by
        the fitted model.
    expected_rates_ : dict
        With ``target_far``: the FAR and FRR at ``threshold_`` on the scores it
        was chosen on (the cross-fitted recordings and the cohort), with their
        numbers of recordings and impostor speakers: what to expect, not a
        measurement on new speakers.
"""


#: Class decorator: fill the operating-point placeholders of the docstring.
with_operating_point_doc = fill_doc(
    operating_point=OPERATING_POINT_DOC,
    operating_point_attributes=OPERATING_POINT_ATTRIBUTES_DOC,
)


def _same_label(a, b):
    return bool(np.asarray(a == b).all())


def split_final_step(estimator):
    """``(transform, final)``: a Pipeline's preprocessing and its last step."""
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        head = estimator[:-1]
        return (lambda X: head.transform(X) if len(head) else X), estimator[-1]
    return (lambda X: X), estimator


def speakers_in(fit_params):
    """The speakers among ``fit`` parameters: ``groups`` or a step's ``__groups``."""
    for key, value in fit_params.items():
        if key == "groups" or key.endswith("__groups"):
            return None if value is None else np.asarray(value)
    return None


class MemberProbaMixin(OperatingPointMixin):
    """``predict_proba`` (with uncertainty), ``predict`` and tags from ``predict_member_proba``.

    Subclasses implement ``_predict_members(X, novelty)`` -> ``(member probabilities
    of shape (n_members, n, n_classes), novelty or None)`` and keep the wrapped
    estimator in ``estimator`` (default ``CNNClassifier()``).
    With two classes, the operating point (``pos_label``, ``target_far``, ``cv``)
    works on the log-odds of the mean probability.
    """

    _crossfit_reset = {**OperatingPointMixin._crossfit_reset, "cohort": None}

    def _shared_pos_label(self, estimator):
        """The one ``pos_label`` of the wrapper and its network, set on ``estimator``.

        ``estimator`` is the wrapper's own clone (or a member): the network at
        its end receives the wrapper's ``pos_label``; one it already has must
        be the same. Returns the shared value (None when neither gives one).
        """
        final = split_final_step(estimator)[1]
        params = final.get_params(deep=False)
        mine = self.pos_label
        if "pos_label" not in params:  # not a skvoice network: the wrapper's alone
            return mine
        theirs = params["pos_label"]
        if mine is None:
            return theirs
        if theirs is not None and not _same_label(mine, theirs):
            raise ValueError(
                f"{type(self).__name__}(pos_label={mine!r}) wraps a network with "
                f"pos_label={theirs!r}: the allowed label must be one. Set it on one of "
                "them, or the same on both."
            )
        final.set_params(pos_label=mine)
        return mine

    def _finish_fit(self, X, y, fit_params, pos_label):
        """Labels and operating point, once the members are fitted."""
        # The same value as the network's, resolved by the same rule.
        self._check_binary_labels(needed=False, pos_label=pos_label)
        self._fit_operating_point(
            X,
            y,
            speakers_in(fit_params),
            fit_params,
        )

    def _mean_log_odds(self, proba):
        p = np.clip(proba[:, self._pos_index], 1e-300, 1.0)
        q = np.clip(1.0 - proba[:, self._pos_index], 1e-300, 1.0)
        return np.log(p) - np.log(q)

    def _raw_allowed_score(self, X):
        return self._mean_log_odds(self._predict_members(X)[0].mean(axis=0))

    @available_if(knows_allowed_label)
    def score_samples(self, X):
        """Uncalibrated log-odds of the allowed class: of the members' mean probability.

        What :class:`~skvoice.decisions.TargetFARClassifierCV` calibrates and
        thresholds; higher means more likely allowed.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Input of the inner estimator.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self._raw_allowed_score(X)

    def predict_proba(self, X, return_uncertainty=False):
        """Mean probability of the passes or members, optionally with its uncertainty.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Input of the inner estimator.
        return_uncertainty : bool, default=False
            Also return the uncertainty of each prediction.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        uncertainty : :class:`~sklearn.utils.Bunch`
            Only with ``return_uncertainty``: ``total``, ``aleatoric``,
            ``epistemic`` and ``std`` per sample (see
            :func:`uncertainty_decomposition`), and, when the network provides
            it, ``novelty``: how far the recording lies from every training
            voice (:meth:`~skvoice.neural_network.CNNClassifier.novelty_score`,
            Mahalanobis; averaged over the members of an ensemble). The spread
            of the members says where the training data were ambiguous;
            ``novelty`` says where they never were, and is what flags a voice
            never heard (see the uncertainty user guide).
        """
        members, novelty = self._predict_members(X, novelty=return_uncertainty)
        proba, unc = uncertainty_decomposition(members)
        if novelty is not None:
            unc["novelty"] = novelty
        if getattr(self, "calibration_", None) is not None:
            # Cross-fitted calibration of the mean; the uncertainty is the members'.
            proba = np.exp(self._binary_log_proba(self._calibrated(self._mean_log_odds(proba))))
        return (proba, unc) if return_uncertainty else proba

    def predict(self, X):
        """Allowed when the log-odds exceed ``threshold_`` (two classes), else the most probable.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Input of the inner estimator.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        if getattr(self, "pos_label_", None) is not None:
            return self._decide(self._mean_log_odds(proba))
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        inner = get_tags(CNNClassifier() if self.estimator is None else self.estimator)
        tags.input_tags = inner.input_tags
        return tags
