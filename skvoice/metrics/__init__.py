"""Metrics of access control: EER, FAR, FRR and scorers for model selection."""

from ._verification import (
    acceptance_by_speaker,
    eer_scorer,
    equal_error_rate,
    false_acceptance_rate,
    false_rejection_rate,
    far_at_frr,
    far_at_frr_scorer,
    threshold_at_far,
)

__all__ = [
    "acceptance_by_speaker",
    "eer_scorer",
    "equal_error_rate",
    "false_acceptance_rate",
    "false_rejection_rate",
    "far_at_frr",
    "far_at_frr_scorer",
    "threshold_at_far",
]
