"""What the benchmarks measured a decision needs, in one place.

The command line prints these limits and the docs cite them
(docs/user_guide/choosing.rst). Every number in the messages below is a number of
benchmarks/results/choosing.md or, for the refused speakers,
benchmarks/results/promise.md (speechocean762 protocol v2, 20 seeds), which
``tools/check_claims.py`` verifies in CI.
"""

import numpy as np

from ._warnings import OutsideMeasuredWarning, warn_caller

__all__ = [
    "MIN_ENROLMENT_RECORDINGS",
    "MIN_REFUSED_SPEAKERS",
    "MIN_SAMPLE_RATE",
    "MIN_SECONDS",
    "outside_measured",
    "warn_outside_measured",
]

#: Refused speakers from which a 5 % FAR target held (choosing.md, promise.md).
MIN_REFUSED_SPEAKERS = 14
#: Enrolment recordings per allowed speaker below which the EER doubled.
MIN_ENROLMENT_RECORDINGS = 3
#: Mean recording length (seconds) below which every path lost ground.
MIN_SECONDS = 2.0
#: Sample rate (Hz) of the wide-band audio the encoders were measured on.
MIN_SAMPLE_RATE = 16000


def outside_measured(speaker, target, *, lowest_rate=None, durations=None, encoder=None):
    """The ways the data fall below what was measured to hold, one phrase each.

    Parameters
    ----------
    speaker : array-like of shape (n_recordings,)
        The speaker of each recording.
    target : array-like of shape (n_recordings,)
        1 for an allowed speaker's recording, 0 for a refused one's.
    lowest_rate : int, default=None
        The lowest native sample rate among the files, when known.
    durations : array-like of float, default=None
        The recordings' lengths in seconds, when known.
    encoder : str, default=None
        The pretrained encoder of an enrolment, when there is one: on short
        audio without the ``ge2e`` extra, what GE2E would give is said.

    Returns
    -------
    problems : list of str
        Empty when nothing is outside the measured range.

    Examples
    --------
    >>> from skvoice._measured import outside_measured
    >>> outside_measured(["a", "a", "a", "b", "c"], [1, 1, 1, 0, 0])[0][:20]
    '2 refused speakers ('
    """
    speaker, target = np.asarray(speaker), np.asarray(target)
    problems = []
    refused = len(set(speaker[target != 1]))
    if len(speaker) and refused < MIN_REFUSED_SPEAKERS:
        problems.append(
            f"{refused} refused speakers (at a 5 % FAR target GE2E enrolment let in 13.9 % of "
            "never-heard impostors with 3 refused speakers, 6.7 % with 5 and 3.8 % with "
            f"{MIN_REFUSED_SPEAKERS}; the interval printed with the threshold says what to "
            "expect)"
        )
    allowed, counts = np.unique(speaker[target == 1], return_counts=True)
    few = sorted(str(s) for s, n in zip(allowed, counts) if n < MIN_ENROLMENT_RECORDINGS)
    if few:
        problems.append(
            f"allowed speakers with fewer than {MIN_ENROLMENT_RECORDINGS} recordings "
            f"({', '.join(few)}: from one recording GE2E's EER was 6.7 % against 3.2 % "
            "from three)"
        )
    if lowest_rate is not None and lowest_rate < MIN_SAMPLE_RATE:
        problems.append(
            f"files at {lowest_rate} Hz (telephone band: enrolment's EER rose from 2.2 "
            "to 9.5 % with GE2E and from 3.9 to 9.5 % with the distilled encoder; a CNN "
            "trained on the channel's recordings kept 5.3 %)"
        )
    short = durations is not None and len(durations) and float(np.mean(durations)) < MIN_SECONDS
    if short:
        problems.append(
            f"recordings of {np.mean(durations):.1f} s on average (GE2E's EER was 4.4 % "
            "on 2 s and 10.6 % on 1 s)"
        )
    narrow = lowest_rate is not None and lowest_rate < MIN_SAMPLE_RATE
    if encoder is not None and encoder != "ge2e" and (short or narrow) and not _ge2e():
        problems.append(
            f"the encoder {encoder!r} without the ge2e extra (on 2 s the shipped "
            "distilled encoder measured 6.5 % against GE2E's 4.4 %; an outside trial on "
            'telephone-band digits found it far behind GE2E): pip install "skvoice[ge2e]"'
        )
    return problems


def _ge2e():
    from .neural_network._ge2e import ge2e_available

    return ge2e_available()


def warn_outside_measured(speaker, target, *, lowest_rate=None, durations=None, encoder=None):
    """One :class:`OutsideMeasuredWarning` naming every way the data fall outside.

    The one place the command line and the Python path warn from; the
    parameters are :func:`outside_measured`'s. Returns the problems (empty: no
    warning).
    """
    problems = outside_measured(
        speaker, target, lowest_rate=lowest_rate, durations=durations, encoder=encoder
    )
    if problems:
        warn_caller(
            "Outside what was measured to hold: "
            + "; ".join(problems)
            + ". See the choosing guide (docs/user_guide/choosing.rst, Which path to take).",
            OutsideMeasuredWarning,
        )
    return problems
