"""Speaker verification by enrolment: no retraining when the allowed users change."""

from ._enrollment import EnrollmentVerifier
from ._pipeline import make_enrollment_pipeline

__all__ = ["EnrollmentVerifier", "make_enrollment_pipeline"]
