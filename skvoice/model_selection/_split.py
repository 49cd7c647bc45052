"""Cross-validation for access control: impostors never heard in training."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state
from sklearn.utils.validation import column_or_1d

from .._groups import speaker_columns
from .._labels import allowed_mask

__all__ = ["OpenSetGroupKFold"]


class OpenSetGroupKFold(BaseCrossValidator):
    """K-fold for access control: allowed speakers spread, refused speakers held out.

    Each allowed speaker's recordings are spread over all folds, so every test
    fold holds recordings of every allowed speaker, whose other recordings are in
    training. Each refused speaker is held out whole in exactly one test fold, so
    every fold measures the rejection of impostors never heard in training — the
    case that matters for access control.

    A second grouping level keeps together recordings of an allowed speaker that
    share content (DAPS: the same script recorded on several devices), which would
    otherwise leak near-duplicates into the test fold: pass ``groups`` as a 2-D
    array with columns (speaker, content).

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=False
        Shuffle speakers and content units before assigning them to folds.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling; only used when ``shuffle=True``.
    pos_label : int, float, bool or str, default=None
        The allowed label of ``y``. None: 1, which labels 0/1, False/True and
        -1/1 need; any other labels (``"allowed"`` / ``"refused"``) must name it,
        since the order of the labels never decides who is allowed.

    See Also
    --------
    sklearn.model_selection.GroupKFold : Every speaker held out whole: measures
        generalisation to unseen voices, which for access control means that the
        allowed speakers of a test fold were never enrolled.

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.model_selection import OpenSetGroupKFold
    >>> speakers = np.repeat(["a", "b", "c", "d"], 4)
    >>> y = np.isin(speakers, ["a", "b"]).astype(int)
    >>> cv = OpenSetGroupKFold(n_splits=2)
    >>> for train, test in cv.split(np.zeros(16), y, speakers):
    ...     print(sorted(set(speakers[test].tolist())), sorted(set(speakers[train].tolist())))
    ['a', 'b', 'c'] ['a', 'b', 'd']
    ['a', 'b', 'd'] ['a', 'b', 'c']
    """

    __metadata_request__split = {"groups": True}

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None, pos_label=None):
        if not isinstance(n_splits, Integral) or n_splits < 2:
            raise ValueError(f"n_splits must be an integer >= 2, got {n_splits!r}.")
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state
        self.pos_label = pos_label

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds.

        Parameters
        ----------
        X, y, groups : object
            Ignored.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def _fold_of_each(self, y, groups):
        if y is None or groups is None:
            raise ValueError("OpenSetGroupKFold needs y (1 allowed, 0 refused) and groups.")
        y = column_or_1d(y)
        speaker, content = speaker_columns(groups, len(y))
        units_are = "content groups"
        if content is None:  # each recording is its own unit
            content, units_are = np.arange(len(speaker)), "recordings"
        rng = check_random_state(self.random_state) if self.shuffle else None
        k = self.n_splits
        fold = np.full(len(y), -1)
        spk_ids, spk_index = np.unique(speaker.astype(str), return_inverse=True)
        labels = [np.unique(y[spk_index == s]) for s in range(len(spk_ids))]
        mixed = [spk_ids[s] for s, lab in enumerate(labels) if len(lab) > 1]
        if mixed:
            raise ValueError(f"Speaker(s) {mixed} have both allowed and refused recordings.")
        is_allowed = allowed_mask(y, self.pos_label, "OpenSetGroupKFold's y")
        allowed = [s for s in range(len(spk_ids)) if is_allowed[spk_index == s][0]]
        refused = [s for s in range(len(spk_ids)) if not is_allowed[spk_index == s][0]]
        if len(refused) < k:
            raise ValueError(
                f"n_splits={k} needs at least {k} refused speakers (one unseen impostor per "
                f"fold); got {len(refused)}."
            )
        # Refused speakers, whole: largest first to the least filled fold.
        sizes = np.bincount(spk_index)
        order = np.array(refused)
        if rng is not None:
            order = rng.permutation(order)
        order = order[np.argsort(-sizes[order], kind="stable")]
        load = np.zeros(k)
        for s in order:
            f = int(np.argmin(load))
            fold[spk_index == s] = f
            load[f] += sizes[s]
        # Allowed speakers: content units spread round robin, rotated per speaker.
        few = []
        for j, s in enumerate(allowed):
            idx = np.flatnonzero(spk_index == s)
            units, unit_of = np.unique(content[idx].astype(str), return_inverse=True)
            perm = rng.permutation(len(units)) if rng is not None else np.arange(len(units))
            unit_fold = np.empty(len(units), dtype=int)
            unit_fold[perm] = (np.arange(len(units)) + j) % k
            fold[idx] = unit_fold[unit_of]
            if len(units) < k:
                few.append(str(spk_ids[s]))
        if few:
            warnings.warn(
                f"Allowed speaker(s) {few} have fewer {units_are} than n_splits={k}: "
                "some test folds hold none of their recordings, so those folds test "
                "them on no trial.",
                UserWarning,
                stacklevel=3,
            )
        return fold

    def _iter_test_masks(self, X=None, y=None, groups=None):
        fold = self._fold_of_each(y, groups)
        for f in range(self.n_splits):
            yield fold == f

    def split(self, X, y, groups):
        """Generate train/test indices.

        Parameters
        ----------
        X : array-like or list of length n_samples
            Recordings (only their number is used).
        y : array-like of shape (n_samples,)
            1 for allowed speakers, 0 for refused ones (or ``pos_label`` for
            allowed, anything else refused).
        groups : array-like of shape (n_samples,) or (n_samples, 2)
            Speaker of each recording, or (speaker, content) columns.

        Yields
        ------
        train, test : ndarray
            Indices of the training and test recordings of each fold.
        """
        n = len(X)
        if y is not None and len(y) != n:
            raise ValueError(f"X has {n} rows but y has {len(y)}.")
        return super().split(X, y, groups)
