"""Metrics of access control: EER, FAR, FRR and scorers for model selection."""

from ._verification import (
    eer_scorer,
    equal_error_rate,
    false_acceptance_rate,
    false_rejection_rate,
    far_at_frr,
    far_at_frr_scorer,
    threshold_at_far,
)

__all__ = [
    "eer_scorer",
    "equal_error_rate",
    "false_acceptance_rate",
    "false_rejection_rate",
    "far_at_frr",
    "far_at_frr_scorer",
    "threshold_at_far",
]
