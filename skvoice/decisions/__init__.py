"""Decisions: from a network's output to accept or refuse.

The layer between the features and the estimators: scoring rules (the posterior
over speakers, cosine to the allowed voices), calibration to log-odds, the
operating point (a threshold at a target false-acceptance rate, chosen on
speakers held out by cross-fitting) and :class:`EnrollmentVerifier`, the
classifier over embeddings that every enrolment path uses. It imports no
estimator package: ``neural_network``, ``uncertainty``, ``inspection`` and the
enrolment pipelines of :mod:`skvoice.verification` build on it.
"""

from .._warnings import UnreachableFARWarning
from ._docs import CROSSFIT_PARAMS_DOC, fill_doc
from ._enrollment import EnrollmentVerifier
from ._fusion import ScoreFusionClassifier
from ._operating_point import (
    OPERATING_POINT_CONSTRAINTS,
    OperatingPointMixin,
    affine_log_odds,
    crossfit_folds,
)
from ._scoring import CosineScorer, PosteriorScorer, best_cosine, centred_unit, unit_rows
from ._target_far import TargetFARClassifierCV

__all__ = [
    "CROSSFIT_PARAMS_DOC",
    "OPERATING_POINT_CONSTRAINTS",
    "CosineScorer",
    "EnrollmentVerifier",
    "OperatingPointMixin",
    "PosteriorScorer",
    "ScoreFusionClassifier",
    "TargetFARClassifierCV",
    "UnreachableFARWarning",
    "affine_log_odds",
    "best_cosine",
    "centred_unit",
    "crossfit_folds",
    "fill_doc",
    "unit_rows",
]
