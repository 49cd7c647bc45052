"""Metrics of access control: EER, minDCF, Cllr, FAR, FRR and scorers for model selection."""

from ._bootstrap import bootstrap_interval
from ._intervals import rate_interval
from ._verification import (
    acceptance_by_speaker,
    cllr,
    cllr_scorer,
    eer_scorer,
    equal_error_rate,
    false_acceptance_rate,
    false_rejection_rate,
    far_at_frr,
    far_at_frr_scorer,
    min_cllr,
    min_dcf,
    min_dcf_scorer,
    threshold_at_far,
)

__all__ = [
    "acceptance_by_speaker",
    "bootstrap_interval",
    "cllr",
    "cllr_scorer",
    "eer_scorer",
    "equal_error_rate",
    "false_acceptance_rate",
    "false_rejection_rate",
    "far_at_frr",
    "far_at_frr_scorer",
    "min_cllr",
    "min_dcf",
    "min_dcf_scorer",
    "rate_interval",
    "threshold_at_far",
]
