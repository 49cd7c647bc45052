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

__all__ = ["NOVELTY_METHODS", "fit_novelty", "embedding_novelty"]

NOVELTY_METHODS = ("mahalanobis", "cosine", "energy")


def _unit(E):
    return E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)


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
        return 1.0 - (_unit(Z) @ _unit(centroids).T).max(axis=1)
    if method == "mahalanobis":
        A, C = Z @ whitening, centroids @ whitening
        d2 = (A**2).sum(1)[:, None] - 2 * A @ C.T + (C**2).sum(1)[None, :]
        return np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    raise ValueError(f"method must be one of {NOVELTY_METHODS}, got {method!r}.")
