"""What the network learns (the training speakers, or the classes directly) and how it scores."""

import warnings

import numpy as np

from .._groups import speaker_columns

__all__ = ["SpeakersNotPassedWarning", "resolve_backend", "resolve_objective"]


class SpeakersNotPassedWarning(UserWarning):
    """A network for access control was trained without the speakers.

    Raised by :class:`CNNClassifier` when ``fit`` gets two classes and no
    ``groups`` with ``objective="auto"``: it then learns allowed/refused directly,
    which on real speech rejected never-heard impostors several times worse than
    learning the speakers (see the real-speech benchmark in the user guide).
    """


def warn_speakers_not_passed(stacklevel):
    """Say that a two-class network without speakers learns the classes directly."""
    warnings.warn(
        "CNNClassifier was fit without speakers, so it learns allowed/refused "
        "directly (the binary objective), which rejects impostors never heard in "
        "training poorly. Pass the speaker of each recording: with "
        "sklearn.set_config(enable_metadata_routing=True), fit(X, y, "
        "groups=speakers) reaches the network through a Pipeline or a search; "
        "without routing, pipeline.fit(X, y, cnnclassifier__groups=speakers). "
        "Set objective='binary' to train this way without the warning.",
        SpeakersNotPassedWarning,
        stacklevel=stacklevel + 1,
    )


def resolve_backend(backend, objective_, n_classes):
    """The scoring rule: cosine needs the speaker objective and two classes.

    ``"auto"`` takes cosine where it applies (speaker verification's rule; the
    CNN user guide measures it against the posterior), else the posterior.
    """
    can_cosine = objective_ == "speakers" and n_classes == 2
    if backend == "auto":
        return "cosine" if can_cosine else "posterior"
    if backend == "cosine" and not can_cosine:
        raise ValueError(
            "backend='cosine' needs the speaker objective (groups=speakers in fit, each "
            "speaker of one class) and two classes."
        )
    return backend


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
