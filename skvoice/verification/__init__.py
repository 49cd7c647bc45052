"""Speaker verification by enrolment: no retraining when the allowed users change."""

from ._enrollment import EnrollmentVerifier

__all__ = ["EnrollmentVerifier"]
