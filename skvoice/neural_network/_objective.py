"""What the network learns: the training speakers, or the classes directly."""

import numpy as np

from .._groups import speaker_columns

__all__ = ["resolve_objective"]


def resolve_objective(objective, y_enc, groups):
    """The objective, the training targets and the speaker maps.

    ``"speakers"`` (and ``"auto"`` when every speaker is of one class) learns the
    training speakers: the targets are speaker indices. Otherwise the classes.

    Parameters
    ----------
    objective : {"auto", "speakers", "binary"}
        The estimator's parameter.
    y_enc : ndarray of int
        Class index of each recording.
    groups : array-like or None
        Speaker of each recording (or (speaker, content) columns).

    Returns
    -------
    objective_ : {"speakers", "binary"}
    targets : ndarray of int
        Per recording, its speaker's index (speakers) or its class index.
    speakers : tuple of (names, class index of each) or None
        With the speaker objective.
    """
    if objective == "binary" or (groups is None and objective == "auto"):
        return "binary", y_enc, None
    if groups is None:
        raise ValueError("objective='speakers' needs groups (speakers) in fit.")
    speaker, _ = speaker_columns(groups, len(y_enc))
    names, spk_enc = np.unique(speaker.astype(str), return_inverse=True)
    # Each speaker's classes, at once: a speaker is of one class, or mixed.
    n_classes = int(y_enc.max()) + 1
    seen = np.zeros((len(names), n_classes), dtype=bool)
    seen[spk_enc, y_enc] = True
    mixed = names[seen.sum(axis=1) > 1]
    if mixed.size:
        if objective == "speakers":
            raise ValueError(f"Speaker(s) {mixed.tolist()} have recordings of several classes.")
        return "binary", y_enc, None
    return "speakers", spk_enc, (names, seen.argmax(axis=1))
