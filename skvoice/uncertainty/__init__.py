"""Uncertainty: MC dropout, deep ensembles, calibration and selective prediction."""

from ._ensemble import DeepEnsembleClassifier
from ._mc import MCDropoutClassifier, sample_with_dropout
from ._metrics import (
    area_under_risk_coverage,
    expected_calibration_error,
    misclassification_auroc,
    negative_log_likelihood,
    risk_coverage_curve,
    selective_decision,
    uncertainty_decomposition,
)

__all__ = [
    "DeepEnsembleClassifier",
    "MCDropoutClassifier",
    "area_under_risk_coverage",
    "expected_calibration_error",
    "misclassification_auroc",
    "negative_log_likelihood",
    "risk_coverage_curve",
    "sample_with_dropout",
    "selective_decision",
    "uncertainty_decomposition",
]
