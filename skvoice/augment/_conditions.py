"""Named deployment conditions, and how a fitted model holds under each."""

import numpy as np
from sklearn.utils import Bunch

from ..metrics import equal_error_rate
from ._channel import TelephoneChannel
from ._crop import Crop
from ._noise import AddNoise
from ._room import Reverberate

__all__ = ["CONDITIONS", "make_condition", "stress_test"]

#: The conditions of ``stress_test`` and ``skvoice evaluate --channel``: what each does.
CONDITIONS = {
    "wide-band": "unchanged",
    "telephone": "300-3400 Hz, 8 kHz, G.711 mu-law",
    "gsm": "300-3400 Hz, 8 kHz, GSM 6.10",
    "short": "the centre 1 s",
    "2s": "the centre 2 s",
    "noisy": "pink noise at 10 dB SNR",
    "noisy-0db": "pink noise at 0 dB SNR",
    "reverberant": "a room of RT60 0.8 s, 0.5-2 m away",
    "reverberant-0.3": "a room of RT60 0.3 s, 0.5-2 m away",
}


def make_condition(name, *, sr=16000, random_state=0):
    """The degradation of a named condition, unfitted (None for "wide-band").

    Parameters
    ----------
    name : str
        One of :data:`CONDITIONS`.
    sr : int, default=16000
        Sample rate of the recordings.
    random_state : int, default=0
        Seeds the draws (noise, rooms).

    Returns
    -------
    degradation : Degradation or None

    Examples
    --------
    >>> from skvoice.augment import make_condition
    >>> make_condition("telephone")
    TelephoneChannel()
    """
    makers = {
        "wide-band": lambda: None,
        "telephone": lambda: TelephoneChannel(sr=sr, codec="ulaw"),
        "gsm": lambda: TelephoneChannel(sr=sr, codec="gsm"),
        "short": lambda: Crop(sr=sr, duration=1.0),
        "2s": lambda: Crop(sr=sr, duration=2.0),
        "noisy": lambda: AddNoise(sr=sr, snr_db=10.0, random_state=random_state),
        "noisy-0db": lambda: AddNoise(sr=sr, snr_db=0.0, random_state=random_state),
        "reverberant": lambda: Reverberate(sr=sr, rt60=0.8, random_state=random_state),
        "reverberant-0.3": lambda: Reverberate(sr=sr, rt60=0.3, random_state=random_state),
    }
    if name not in makers:
        raise ValueError(f"Unknown condition {name!r}; choose from {sorted(makers)}")
    return makers[name]()


def _allowed_scores(model, X):
    """Scores (higher: allowed) and decisions of a fitted classifier or pipeline."""
    final = model[-1] if hasattr(model, "steps") else model
    # The features once, for both the scores and the decisions.
    Z = model[:-1].transform(X) if hasattr(model, "steps") else X
    pos = getattr(final, "pos_label_", None)
    classes = list(final.classes_)
    if pos is None:
        pos = 1 if 1 in classes else classes[-1]
    scores = final.predict_proba(Z)[:, classes.index(pos)]
    return scores, np.asarray(final.predict(Z)) == pos


def stress_test(
    model,
    X,
    y,
    *,
    conditions=("telephone", "short", "noisy", "reverberant"),
    sr=16000,
    random_state=0,
):
    """How a fitted model holds when its test recordings go through each condition.

    The model is used as it was fitted (enrolment and threshold from clean
    recordings); only ``X``, recordings it has not seen, is degraded: the
    mismatch a deployment meets when users call from a phone, speak a short
    command, or stand in a noisy or echoing room. Each condition reports the EER
    of the model's scores and the false-acceptance and false-rejection rates of
    its own decisions, beside the unchanged recordings.

    Parameters
    ----------
    model : fitted classifier or Pipeline
        Takes waveforms at ``sr``; has ``predict_proba`` and ``predict``.
    X : list of 1-D arrays
        Test recordings at ``sr``.
    y : array-like of shape (n_recordings,)
        1 for an allowed speaker's recording, 0 for another's.
    conditions : sequence of str, default=("telephone", "short", "noisy", "reverberant")
        Names of :data:`CONDITIONS`; "wide-band" (unchanged) is always the first row.
    sr : int, default=16000
        Sample rate of ``X``.
    random_state : int, default=0
        Seeds the degradations.

    Returns
    -------
    table : list of Bunch
        One per condition: ``condition``, ``what``, ``eer``, ``far``, ``frr``
        (fractions) and ``n_recordings``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skvoice.augment import stress_test
    >>> from skvoice.datasets import make_voices
    >>> from skvoice.preprocessing import MFCCStatistics
    >>> v = make_voices(n_speakers=4, n_recordings=6, duration=1.5, random_state=0)
    >>> model = make_pipeline(MFCCStatistics(), StandardScaler(), LogisticRegression())
    >>> model = model.fit(v.data, v.target)
    >>> rows = stress_test(model, v.data, v.target, conditions=["telephone"])
    >>> [r.condition for r in rows]
    ['wide-band', 'telephone']
    """
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} recordings and y {len(y)} labels")
    if len(set(y.tolist())) != 2:
        raise ValueError("stress_test needs recordings of allowed and of other speakers in y")
    names = ["wide-band", *[c for c in conditions if c != "wide-band"]]
    table = []
    for name in names:
        degradation = make_condition(name, sr=sr, random_state=random_state)
        Xc = X if degradation is None else degradation.fit_transform(X)
        scores, accept = _allowed_scores(model, Xc)
        positive = y == 1
        table.append(
            Bunch(
                condition=name,
                what=CONDITIONS[name],
                eer=float(equal_error_rate(positive.astype(int), scores)),
                far=float(accept[~positive].mean()),
                frr=float((~accept[positive]).mean()),
                n_recordings=len(y),
            )
        )
    return table
