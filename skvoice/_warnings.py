"""Warnings that point at the user's line, not at skvoice's or scikit-learn's insides."""

import os
import sys
import warnings

__all__ = [
    "DuplicateRecordingWarning",
    "OutsideMeasuredWarning",
    "UnreachableFARWarning",
    "warn_caller",
]


class UnreachableFARWarning(UserWarning):
    """A ``target_far`` finer than the impostor scores behind the threshold can resolve.

    With ``n`` impostor recordings a threshold can only be placed between their
    scores, so a target below ``1 / n`` puts it at the highest impostor score: the
    realised FAR on voices never heard is then unknown, not ``target_far``.
    """


class OutsideMeasuredWarning(UserWarning):
    """The data fall outside what the benchmarks measured to hold.

    Raised once per fit or per built pipeline by
    ``skvoice._measured.warn_outside_measured``, in Python and on the command line
    alike: few refused speakers, few enrolment recordings, narrow-band or short
    audio, an encoder weaker on such audio than one that could be installed.
    Filter it like any warning (``warnings.simplefilter("ignore",
    OutsideMeasuredWarning)``) once the risk is understood.
    """


class DuplicateRecordingWarning(UserWarning):
    """A corpus loader left out files whose content repeats another file's."""


def _library_dirs():
    """skvoice's folder and scikit-learn's (whose ``_fit_context`` and
    ``validate_params`` wrap every public entry point)."""
    import sklearn

    return tuple(
        os.path.dirname(os.path.abspath(f)) + os.sep for f in (__file__, sklearn.__file__)
    )


def warn_caller(message, category):
    """``warnings.warn`` with the stack level of the first frame outside the libraries.

    A fixed ``stacklevel`` is wrong as soon as a call goes through another layer
    (a Pipeline, a wrapper, scikit-learn's parameter validation); this one names
    the line of the user's code, whatever the path.
    """
    dirs = _library_dirs()
    frame, level = sys._getframe(1), 2  # level 1 is this function
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(dirs):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
