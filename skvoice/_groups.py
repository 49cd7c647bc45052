"""One reading of ``groups``: the speaker of each recording (and optionally its content)."""

import numpy as np

__all__ = ["speaker_columns"]


def speaker_columns(groups, n):
    """``(speaker, content)`` from ``groups`` of ``n`` recordings.

    ``groups`` is 1-D (the speaker of each recording) or 2-D with two columns
    (speaker, content: e.g. the script read, so that a test fold never shares a
    sentence with training). ``content`` is None for 1-D groups.

    Raises
    ------
    ValueError
        For another shape, or a length other than ``n``.
    """
    groups = np.asarray(groups)
    if groups.ndim == 1:
        speaker, content = groups, None
    elif groups.ndim == 2 and groups.shape[1] == 2:
        speaker, content = groups[:, 0], groups[:, 1]
    else:
        raise ValueError(
            "groups must be 1-D (speaker) or 2-D with columns (speaker, content), got "
            f"shape {groups.shape}."
        )
    if len(speaker) != n:
        raise ValueError(f"groups has {len(speaker)} rows but y has {n}.")
    return speaker, content
