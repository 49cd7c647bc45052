"""Speaker verification by enrolment: no retraining when the allowed users change."""

from ._enrollment import EnrollmentVerifier
from ._operating_point import UnreachableFARWarning
from ._pipeline import make_enrollment_pipeline

__all__ = ["EnrollmentVerifier", "UnreachableFARWarning", "make_enrollment_pipeline"]
