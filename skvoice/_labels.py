"""Which label is the allowed one: decided once, from ``pos_label`` or the labels themselves.

Every place that turns a label into accept / refuse (the estimators, the metrics,
the splitter, the command line) asks these two functions, so none of them guesses
from the order of the labels.
"""

import numpy as np

__all__ = ["knows_allowed_label", "known_allowed_label", "resolve_pos_label", "allowed_mask"]


def _labels_say_it(values):
    """Whether a set of labels names the allowed one by itself: {0, 1}, {False, True}
    or {-1, 1}, where 1 (True) is allowed."""
    return all(isinstance(v, (bool, int, float)) for v in values) and (
        set(values) <= {0, 1} or set(values) <= {-1, 1}
    )


def known_allowed_label(classes):
    """The allowed label of two ``classes`` when the labels say it, else None.

    Only {0, 1}, {False, True} and scikit-learn's {-1, 1} say it: 1 (True) is
    allowed. Any other pair (``"allowed"`` / ``"refused"``, two speaker names)
    needs ``pos_label``: the order of the labels never decides who gets in.
    """
    values = list(np.asarray(classes).tolist())
    if _labels_say_it(values) and 1 in values:
        return classes[values.index(1)]
    return None


def resolve_pos_label(classes, pos_label, owner):
    """The allowed label among two ``classes``; labels other than 0/1 need ``pos_label``.

    Parameters
    ----------
    classes : ndarray of shape (2,)
        Sorted class labels.
    pos_label : object or None
        The allowed label, or None for 1 / True.
    owner : str
        Name of the estimator, for the error message.

    Returns
    -------
    pos_label : object
        The element of ``classes`` that is allowed.
    """
    values = list(np.asarray(classes).tolist())
    if pos_label is None:
        known = known_allowed_label(classes)
        if known is not None:
            return known
        raise ValueError(
            f"{owner} cannot tell which of the labels {values} is the allowed one: pass "
            "pos_label=<allowed label> (only 0/1, False/True or -1/1 labels need none, "
            "and then 1 is allowed). The order of the labels never decides it."
        )
    matches = [i for i, v in enumerate(values) if v == pos_label]
    if not matches:
        raise ValueError(f"pos_label={pos_label!r} is not one of the labels {values}.")
    return classes[matches[0]]


def allowed_mask(y, pos_label, owner):
    """Boolean array: which entries of ``y`` are the allowed label.

    With ``pos_label=None`` the labels must be a subset of {0, 1}, {False, True}
    or {-1, 1} (1 is allowed); otherwise ``y == pos_label``. One class alone
    (only refused recordings, say) is fine: ``pos_label`` need not occur in ``y``.
    """
    y = np.asarray(y)
    labels = np.unique(y)
    if len(labels) > 2:
        raise ValueError(f"{owner} needs two labels (refused, allowed); got {labels.tolist()}.")
    if pos_label is not None:
        return y == pos_label
    if _labels_say_it(labels.tolist()):
        return y == 1
    raise ValueError(
        f"{owner} holds the labels {labels.tolist()}: which one is allowed? Labels 0 "
        "(refused) and 1 (allowed), False/True or -1/1 say it; any others need "
        "pos_label=<allowed label>."
    )


def knows_allowed_label(estimator):
    """Whether a fitted estimator knows which of its labels is allowed (``pos_label_``).

    The condition of ``score_samples`` (the score of the allowed class) on the
    networks and the uncertainty wrappers alike.
    """
    return getattr(estimator, "pos_label_", None) is not None
