"""How a fitted network scores a recording, as a differentiable torch function.

The estimators score with numpy (``decision_function``); inspection needs the
gradient of the very score the model decides with. Under cosine scoring that is
the calibrated best cosine similarity of the embedding to the enrolled
centroids, not the posterior of the speaker head.
"""

import numpy as np
import torch
from torch.nn import functional as F

__all__ = ["class_log_odds"]


def _posterior_log_odds(net, logits, target):
    """Log-odds of class ``target`` from the network's outputs (speakers summed per class)."""
    logp = torch.log_softmax(logits, dim=-1)
    if getattr(net, "objective_", "binary") == "speakers":
        members = torch.as_tensor(np.flatnonzero(net.speaker_class_ == target))
        others = torch.as_tensor(np.flatnonzero(net.speaker_class_ != target))
        return torch.logsumexp(logp[:, members], 1) - torch.logsumexp(logp[:, others], 1)
    others = [k for k in range(logp.shape[1]) if k != target]
    return logp[:, target] - torch.logsumexp(logp[:, others], 1)


def _cosine_allowed_log_odds(net, embeddings):
    """The verifier's calibrated best cosine, in torch (``verifier_`` as fitted)."""
    ver = net.verifier_
    E = embeddings.double()
    if ver.center:
        E = E - torch.as_tensor(ver.mean_, dtype=E.dtype)
    U = F.normalize(E, dim=1)
    C = torch.as_tensor(np.array(list(ver.enrolled_.values())), dtype=E.dtype)
    S = U @ C.T
    if ver.score_norm is not None and len(ver.cohort_) >= 2:
        cohort = torch.as_tensor(ver.cohort_, dtype=E.dtype)
        ec, tc = C @ cohort.T, U @ cohort.T
        z = (S - ec.mean(1)[None]) / (ec.std(1, correction=0)[None] + 1e-6)
        t = (S - tc.mean(1)[:, None]) / (tc.std(1, correction=0)[:, None] + 1e-6)
        S = 0.5 * (z + t)
    best = S.max(dim=1).values
    if getattr(net, "calibration_", None) is not None:
        a, b = net.calibration_
    else:
        a, b = ver.calibrator_.coef_[0, 0], ver.calibrator_.intercept_[0]
    return a * best + b


def class_log_odds(net, module, x, target):
    """Differentiable log-odds of class index ``target`` for a batch, as ``net`` decides.

    Parameters
    ----------
    net : fitted CNNClassifier
        Its ``backend_`` chooses the scoring: posterior (speaker posteriors summed
        per class) or cosine (the calibrated best cosine to the enrolled allowed
        speakers, negated for the refused class).
    module : torch.nn.Module
        The network's module (possibly with hooks, or some layers reset).
    x : Tensor of shape (B, C, n_bins, T)
        Spectrograms, scored whole (no windows).
    target : int
        Index into ``net.classes_``.

    Returns
    -------
    Tensor of shape (B,)
    """
    if getattr(net, "backend_", "posterior") == "cosine":
        allowed = _cosine_allowed_log_odds(net, module.embed(x))
        return allowed if target == net._pos_index else -allowed
    return _posterior_log_odds(net, module(x), target)
