"""Speaker verification by enrolment: no retraining when the allowed users change.

:func:`make_enrollment_pipeline` joins the front-end, a pretrained encoder of
:mod:`skvoice.neural_network` and :class:`EnrollmentVerifier` (from the decisions
layer, :mod:`skvoice.decisions`) into one pipeline.
"""

from .._warnings import OutsideMeasuredWarning
from ..decisions import EnrollmentVerifier, UnreachableFARWarning
from ._pipeline import make_enrollment_pipeline

__all__ = [
    "EnrollmentVerifier",
    "OutsideMeasuredWarning",
    "UnreachableFARWarning",
    "make_enrollment_pipeline",
]
