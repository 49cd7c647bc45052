"""How a recording is scored: the one owner of both scoring rules.

A network gives, per recording, either its embedding or the log-probabilities
of its outputs (one per training speaker, or per class). A scorer turns them
into the decision's numbers:

- :class:`PosteriorScorer`: output log-probabilities -> class log-probabilities,
  the speakers' posteriors summed per class;
- :class:`CosineScorer`: embedding -> best cosine similarity to the enrolled
  allowed speakers (centred, unit length, optionally s- or as-normalised against
  the cohort) -> calibrated log-odds.

Both work on torch tensors in float64, so the same code serves prediction
(``CNNClassifier``, ``EnrollmentVerifier``), sampled embeddings or outputs
(MC dropout) and gradients (Grad-CAM, occlusion). Leading axes are kept: a
``(n, n_draws, d)`` input gives ``(n, n_draws)`` scores.
"""

import numpy as np
import torch
from torch.nn import functional as F

__all__ = ["CosineScorer", "PosteriorScorer", "best_cosine", "centred_unit", "unit_rows"]


def _tensor(x, device=None):
    """``x`` as a float64 tensor; on ``device`` (the embeddings' own) when given.

    The fitted statistics (centring mean, centroids, cohort) are NumPy arrays:
    they follow the tensor they are combined with, so a network on CUDA is
    scored on CUDA.
    """
    if torch.is_tensor(x):
        return x.double() if device is None else x.to(device=device, dtype=torch.float64)
    x = np.asarray(x, dtype=np.float64)
    # torch takes neither a shared read-only array (a shipped cohort) nor a view
    # with negative strides (X[:, ::-1]): those are copied.
    if not x.flags.writeable or any(step < 0 for step in x.strides):
        x = x.copy()
    return torch.as_tensor(x, device=device)


def unit_rows(E):
    """Rows scaled to unit length (a zero row stays zero)."""
    return F.normalize(_tensor(E), dim=-1, eps=1e-12)


def centred_unit(E, mean=None, projection=None):
    """Rows minus ``mean`` (none when None), projected (none when None), at unit length."""
    E = _tensor(E)
    if mean is not None:
        E = E - _tensor(mean, E.device)
    if projection is not None:
        E = E @ _tensor(projection, E.device)
    return unit_rows(E)


def _affine(raw, a, b):
    """``a * raw + b`` with ``-inf`` (nobody enrolled) kept as ``-inf``."""
    finite = torch.nan_to_num(raw, neginf=0.0)
    return torch.where(torch.isneginf(raw), -torch.inf, a * finite + b)


def _two_columns(log_odds, pos_index):
    """Log-probabilities of (refused, allowed) in the order of ``classes_``."""
    allowed = -F.softplus(-log_odds)  # log sigmoid, stable at both ends
    refused = -F.softplus(log_odds)
    cols = (refused, allowed) if pos_index == 1 else (allowed, refused)
    return torch.stack(cols, dim=-1)


def _top_stats(S, top_n):
    """Mean and standard deviation along the last axis, over its ``top_n`` largest."""
    if top_n is not None and top_n < S.shape[-1]:
        S = torch.topk(S, top_n, dim=-1).values
    return S.mean(-1), S.std(-1, correction=0)


def best_cosine(U, centroids, cohort=None, score_norm=None, top_n=None):
    """Best cosine similarity of unit embeddings to unit centroids.

    Parameters
    ----------
    U : Tensor of shape (n, d)
        Unit-length (centred) embeddings.
    centroids : Tensor of shape (k, d)
        Unit centroids of the enrolled speakers.
    cohort : Tensor of shape (m, d) or None
        Unit centroids of the cohort (impostors: the refused training speakers,
        and the non-users of an external cohort).
    score_norm : {None, "s-norm", "as-norm"}
        Symmetric score normalisation: the mean of the score z-normalised by the
        enrolled speaker's cohort statistics and t-normalised by the test
        recording's (skipped with fewer than two cohort speakers). "as-norm"
        (adaptive) takes each side's statistics over its ``top_n`` closest
        cohort speakers only, as SpeechBrain and WeSpeaker do.
    top_n : int or None
        Cohort speakers per side of "as-norm" (all when None or larger).

    Returns
    -------
    Tensor of shape (n,)
        ``-inf`` when nobody is enrolled.
    """
    if len(centroids) == 0:
        return torch.full(U.shape[:1], -torch.inf, dtype=U.dtype, device=U.device)
    S = U @ centroids.T
    if score_norm is not None and cohort is not None and len(cohort) >= 2:
        n = top_n if score_norm == "as-norm" else None
        mean_e, sd_e = _top_stats(centroids @ cohort.T, n)
        mean_t, sd_t = _top_stats(U @ cohort.T, n)
        z = (S - mean_e[None]) / (sd_e[None] + 1e-6)
        t = (S - mean_t[:, None]) / (sd_t[:, None] + 1e-6)
        S = 0.5 * (z + t)
    return S.max(dim=1).values


class CosineScorer:
    """Cosine scoring against the enrolment of a fitted ``EnrollmentVerifier``.

    Parameters
    ----------
    verifier : fitted EnrollmentVerifier
        Its centring mean, enrolled centroids, cohort, ``score_norm`` and
        calibrator are read when scoring (so :meth:`~EnrollmentVerifier.enroll`
        takes effect at once).
    pos_index : int
        Column of the allowed class in the owner's ``classes_``.
    calibration : tuple of (float, float) or None
        Slope and intercept of a cross-fitted calibration; None: the
        verifier's own (leave-one-out) calibrator.
    unit_input : bool, default=False
        Scale each embedding to unit length before the verifier's centring,
        as :class:`~skvoice.neural_network.SpeakerEmbedder` does, so that a
        network scored by cosine and its embedder followed by the verifier
        give the same scores.
    """

    reads = "embedding"

    def __init__(self, verifier, pos_index, calibration=None, unit_input=False):
        self.verifier = verifier
        self.pos_index = pos_index
        self.calibration = calibration
        self.unit_input = unit_input

    def score(self, E):
        """Uncalibrated score: the best (normalised) cosine to an enrolled speaker."""
        E = _tensor(E)
        lead = E.shape[:-1]
        E = E.reshape(-1, E.shape[-1])
        if self.unit_input:
            E = unit_rows(E)
        ver = self.verifier
        U = centred_unit(E, ver.mean_ if ver.center else None, getattr(ver, "projection_", None))
        cents = np.array(list(ver.enrolled_.values())).reshape(-1, U.shape[1])
        cents, cohort = _tensor(cents, E.device), _tensor(ver.cohort_, E.device)
        return best_cosine(U, cents, cohort, ver.score_norm, ver.norm_top_n).reshape(lead)

    def _slope_intercept(self):
        if self.calibration is not None:
            return self.calibration
        cal = self.verifier.calibrator_
        return float(cal.coef_[0, 0]), float(cal.intercept_[0])

    def allowed_log_odds(self, E):
        """Calibrated log-odds that the speaker is allowed."""
        return _affine(self.score(E), *self._slope_intercept())

    def class_log_proba(self, E):
        """Log-probabilities of the two classes, in the order of ``classes_``."""
        return _two_columns(self.allowed_log_odds(E), self.pos_index)

    def class_log_odds(self, E, target):
        """Log-odds of class index ``target`` (differentiable)."""
        allowed = self.allowed_log_odds(E)
        return allowed if target == self.pos_index else -allowed


class PosteriorScorer:
    """Posterior scoring: the network's outputs as class probabilities.

    Parameters
    ----------
    n_classes : int
        Classes of the owner.
    speaker_class : ndarray of int or None
        With the speaker objective, the class index of every output (speaker);
        their posteriors are summed per class. None: the outputs are the classes.
    pos_index : int or None
        Column of the allowed class (two classes); None with more classes.
    calibration : tuple of (float, float) or None
        Cross-fitted slope and intercept applied to the allowed log-odds (two
        classes).
    """

    reads = "log_proba"

    def __init__(self, n_classes, speaker_class=None, pos_index=None, calibration=None):
        self.n_classes = n_classes
        self.speaker_class = speaker_class
        self.pos_index = pos_index
        self.calibration = calibration

    def posterior(self, logp):
        """Class log-probabilities from outputs' log-probabilities or logits (renormalised)."""
        logp = _tensor(logp)
        logp = logp - torch.logsumexp(logp, dim=-1, keepdim=True)
        if self.speaker_class is None:
            return logp
        # P(class) = sum of the posteriors of the class's speakers.
        cols = []
        for c in range(self.n_classes):
            members = torch.as_tensor(np.flatnonzero(self.speaker_class == c), device=logp.device)
            if len(members):
                cols.append(torch.logsumexp(logp[..., members], dim=-1))
            else:
                empty = torch.full(
                    logp.shape[:-1], -torch.inf, dtype=logp.dtype, device=logp.device
                )
                cols.append(empty)
        return torch.stack(cols, dim=-1)

    def class_log_odds(self, logp, target):
        """Log-odds of class index ``target``: log p / (1 - p), uncalibrated, differentiable."""
        post = self.posterior(logp)
        others = [k for k in range(post.shape[-1]) if k != target]
        return post[..., target] - torch.logsumexp(post[..., others], dim=-1)

    def score(self, logp):
        """Uncalibrated log-odds of the allowed class (two classes)."""
        return self.class_log_odds(logp, self.pos_index)

    def allowed_log_odds(self, logp):
        """Log-odds of the allowed class, calibrated when cross-fitted."""
        raw = self.score(logp)
        return raw if self.calibration is None else _affine(raw, *self.calibration)

    def class_log_proba(self, logp):
        """Class log-probabilities; with two classes, those of :meth:`allowed_log_odds`."""
        if self.n_classes == 2 and self.pos_index is not None:
            return _two_columns(self.allowed_log_odds(logp), self.pos_index)
        return self.posterior(logp)
