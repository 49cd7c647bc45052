"""What MC dropout and deep ensembles share: predictions from member probabilities."""

import numpy as np

from ._metrics import uncertainty_decomposition

__all__ = ["MemberProbaMixin"]


class MemberProbaMixin:
    """``predict_proba`` (with uncertainty), ``predict`` and tags from ``predict_member_proba``.

    Subclasses implement ``predict_member_proba(X)`` -> ``(n_members, n, n_classes)``
    and keep the wrapped estimator in ``estimator`` (default ``CNNClassifier()``).
    """

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
            :func:`uncertainty_decomposition`).
        """
        proba, unc = uncertainty_decomposition(self.predict_member_proba(X))
        return (proba, unc) if return_uncertainty else proba

    def predict(self, X):
        """Class of highest mean probability.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Input of the inner estimator.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        from ..neural_network import CNNClassifier

        tags = super().__sklearn_tags__()
        inner = get_tags(CNNClassifier() if self.estimator is None else self.estimator)
        tags.input_tags = inner.input_tags
        return tags
