"""How far a recording lies from every voice the network was trained on.

Dropout and ensembles spread their posteriors where the training data were
ambiguous, not where they never were: an impostor never heard can get a
confident posterior with no spread at all. These scores measure distance in the
embedding space the decision uses instead:

- ``"mahalanobis"``: the smallest Mahalanobis distance to a training speaker's
  centroid, with one covariance shared by all speakers (the within-speaker
  scatter, Ledoit-Wolf shrunk), as Lee et al. (2018) propose for detecting
  out-of-distribution inputs from a classifier's features;
- ``"cosine"``: one minus the best cosine similarity to a training speaker's
  centroid (embeddings centred on the training mean, as the cosine scoring);
- ``"energy"``: the free energy of the speaker logits, ``-logsumexp`` (Liu et
  al., 2020), averaged over the recording's windows.

Higher means more novel, for all three.
"""

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ..decisions import best_cosine, unit_rows

__all__ = ["NOVELTY_METHODS", "NoveltyMixin", "fit_novelty", "embedding_novelty", "free_energy"]

NOVELTY_METHODS = ("mahalanobis", "cosine", "energy")


def free_energy(module, windows):
    """Per window, the free energy of the network's outputs, ``-logsumexp`` of the logits."""
    return -torch.logsumexp(module(windows).float(), dim=-1)


def fit_novelty(E, groups):
    """Training statistics of the novelty scores.

    Parameters
    ----------
    E : ndarray of shape (n, dim)
        Training embeddings.
    groups : ndarray of shape (n,)
        Training speaker (or class) of each embedding.

    Returns
    -------
    mean : ndarray of shape (dim,)
        Mean training embedding.
    centroids : ndarray of shape (n_groups, dim)
        Centred centroid of every group.
    whitening : ndarray of shape (dim, dim)
        ``W`` with ``W @ W.T`` the inverse of the shared within-group covariance.
    """
    from sklearn.covariance import LedoitWolf

    E = np.asarray(E, dtype=np.float64)
    mean = E.mean(axis=0)
    Z = E - mean
    names, idx = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    counts = np.bincount(idx, minlength=len(names)).astype(float)
    centroids = np.zeros((len(names), E.shape[1]))
    np.add.at(centroids, idx, Z)
    centroids /= counts[:, None]
    residuals = Z - centroids[idx]
    cov = LedoitWolf(assume_centered=True).fit(residuals).covariance_
    if not np.trace(cov) > 0:  # one recording per group: no within-group scatter
        cov = np.eye(E.shape[1])
    # Cholesky of the precision: distances become Euclidean after Z @ W.
    precision = np.linalg.inv(cov + 1e-9 * np.trace(cov) / len(cov) * np.eye(len(cov)))
    whitening = np.linalg.cholesky((precision + precision.T) / 2)
    return mean, centroids, whitening


def embedding_novelty(E, mean, centroids, whitening, method):
    """``"mahalanobis"`` or ``"cosine"`` novelty of embeddings ``E`` (higher: more novel)."""
    Z = np.asarray(E, dtype=np.float64) - mean
    if method == "cosine":
        return 1.0 - best_cosine(unit_rows(Z), unit_rows(centroids)).numpy()
    if method == "mahalanobis":
        A, C = Z @ whitening, centroids @ whitening
        d2 = (A**2).sum(1)[:, None] - 2 * A @ C.T + (C**2).sum(1)[None, :]
        return np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    raise ValueError(f"method must be one of {NOVELTY_METHODS}, got {method!r}.")


class NoveltyMixin:
    """``novelty_score`` for a network estimator: where the training voices lie.

    The estimator calls :meth:`_fit_novelty` with its training embeddings in
    ``fit`` and provides ``_check_X``, ``_embeddings`` (recording embeddings,
    float64) and ``_mean_over_windows``.
    """

    #: The share of new recordings of training speakers flagged unfamiliar.
    novelty_quantile = 0.99

    def _fit_novelty(self, embeddings, speakers):
        """Fit ``embedding_mean_``, ``speaker_centroids_`` and ``whitening_``."""
        self.embedding_mean_, self.speaker_centroids_, self.whitening_ = fit_novelty(
            embeddings, speakers
        )
        self.novelty_threshold_ = None
        self._fold_novelty = []  # (test rows, their novelty) per cross-fitting fold

    def _on_crossfit_fold(self, model, specs, test):
        """Keep the novelty of the held-out recordings, by the fold model that never saw them."""
        self._fold_novelty.append((np.asarray(test), model._mahalanobis_novelty(specs)))

    def _fit_novelty_threshold(self, familiar):
        """``novelty_threshold_``: the 99th percentile of held-out familiar recordings' novelty.

        ``familiar`` marks the recordings whose speakers the network trains on
        and that the fold models held out as new recordings of known voices (the
        allowed speakers' recordings spread over the folds).
        """
        familiar = np.asarray(familiar)
        values = np.concatenate(
            [novelty[familiar[test]] for test, novelty in self._fold_novelty] or [[]]
        )
        if np.isfinite(values).sum() >= 2:
            self.novelty_threshold_ = float(np.nanquantile(values, self.novelty_quantile))
        del self._fold_novelty

    def _mahalanobis_novelty(self, specs):
        stats = (self.embedding_mean_, self.speaker_centroids_, self.whitening_)
        return embedding_novelty(self._embeddings(specs), *stats, "mahalanobis")

    def unfamiliar(self, X):
        """Whether each recording's voice is unlike every voice the network was trained on.

        True where :meth:`novelty_score` (Mahalanobis) exceeds ``novelty_threshold_``:
        the 99th percentile of the novelty of new recordings of training speakers,
        measured on the recordings cross-fitting held out (``cv`` or
        ``target_far``), so about 1 % of new recordings of known voices are
        flagged. A flag says "this voice was never heard in training", not
        "impostor": an allowed user on a new microphone can raise it.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Spectrograms as in ``fit``.

        Returns
        -------
        unfamiliar : ndarray of bool of shape (n_recordings,)
        """
        check_is_fitted(self)
        if self.novelty_threshold_ is None:
            raise ValueError(
                "unfamiliar needs novelty_threshold_, set by cross-fitting: fit with "
                "target_far or cv (and the speakers as groups)."
            )
        return self.novelty_score(X) > self.novelty_threshold_

    def novelty_score(self, X, method="mahalanobis"):
        """How far each recording lies from every voice the network was trained on.

        MC dropout and ensembles spread their predictions where the training data
        were ambiguous, not where they never were, so a voice never heard can
        get a confident posterior with no spread; this measures distance in the
        embedding space instead. See the uncertainty user guide for how well each
        method flags never-heard impostors on real speech.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Spectrograms as in ``fit``.
        method : {"mahalanobis", "cosine", "energy"}, default="mahalanobis"
            ``"mahalanobis"``: the smallest Mahalanobis distance of the embedding
            to a training speaker's centroid, with the within-speaker covariance
            shared by all speakers (Ledoit-Wolf shrunk). ``"cosine"``: one minus
            the best cosine similarity to a training speaker's centroid (centred
            embeddings). ``"energy"``: the free energy of the network's outputs,
            ``-logsumexp`` of the logits, averaged over the windows. Training
            speakers are the ``groups`` of ``fit`` (the classes without them).

        Returns
        -------
        novelty : ndarray of shape (n_recordings,)
            Higher means further from the training voices.

        Examples
        --------
        >>> import numpy as np
        >>> from skvoice.neural_network import CNNClassifier
        >>> rng = np.random.default_rng(0)
        >>> X = [rng.standard_normal((16, 40)).astype(np.float32) + k for k in (0, 1) * 10]
        >>> clf = CNNClassifier(module__n_filters=4, module__n_blocks=2, crop_frames=16,
        ...                     max_epochs=5, random_state=0).fit(X, [0, 1] * 10)
        >>> far_away = [rng.standard_normal((16, 40)).astype(np.float32) + 8]
        >>> bool(clf.novelty_score(far_away)[0] > clf.novelty_score(X).max())
        True
        """
        check_is_fitted(self)
        if method not in NOVELTY_METHODS:
            raise ValueError(f"method must be one of {NOVELTY_METHODS}, got {method!r}.")
        specs = self._check_X(X, reset=False)
        if method == "energy":
            return self._mean_over_windows(specs, free_energy).double().numpy()
        if method == "mahalanobis":
            return self._mahalanobis_novelty(specs)
        stats = (self.embedding_mean_, self.speaker_centroids_, self.whitening_)
        return embedding_novelty(self._embeddings(specs), *stats, method)
