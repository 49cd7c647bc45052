"""Early stopping of a speaker network on speakers it never trains on.

A network that learns the training speakers is validated the way it is used: on
the verification trials of held-out speakers (every pair of their recordings,
same speaker or not, scored by the cosine of the embeddings), by the equal error
rate. Other recordings of the training speakers would only measure how well it
memorised those voices.
"""

import numpy as np
from skorch.callbacks import Callback

from ..decisions import centred_unit
from ..metrics import equal_error_rate

__all__ = [
    "SpeakerVerificationScoring",
    "hold_out_speakers",
    "split_speakers",
    "verification_eer",
]


def hold_out_speakers(speaker_class, fraction, seed):
    """Indices of the speakers held out for validation.

    Drawn from the class with the most speakers (the refused speakers in access
    control), so every class keeps training speakers and an allowed voice is never
    withheld from training; at least 2 speakers (trials need two), and at least one
    of that class left to train on.
    """
    speaker_class = np.asarray(speaker_class)
    classes, counts = np.unique(speaker_class, return_counts=True)
    pool = np.flatnonzero(speaker_class == classes[np.argmax(counts)])
    n = max(2, int(round(fraction * len(speaker_class))))
    if len(pool) - n < 1:
        raise ValueError(
            f"early_stopping with speakers holds out {n} speakers of one class for "
            f"validation, but that class has only {len(pool)}: it needs at least {n + 1}."
        )
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(pool, size=n, replace=False))


def split_speakers(targets, speaker_class, fraction, seed):
    """Hold out whole speakers for validation, and re-index the ones left to train on.

    Parameters
    ----------
    targets : ndarray of int
        Speaker index of each recording.
    speaker_class : ndarray of int
        Class index of each speaker.
    fraction : float
        Share of the speakers held out (see :func:`hold_out_speakers`).
    seed : int
        Seed of the draw.

    Returns
    -------
    keep, held : ndarray of int
        Indices of the training and of the held-out speakers.
    train_idx, valid_idx : ndarray of int
        The recordings of each.
    targets_fit : ndarray of int
        The training recordings' targets, as indices into ``keep``.
    """
    held = hold_out_speakers(speaker_class, fraction, seed)
    keep = np.setdiff1d(np.arange(len(speaker_class)), held)
    is_valid = np.isin(targets, held)
    remap = np.full(len(speaker_class), -1)
    remap[keep] = np.arange(len(keep))
    train_idx, valid_idx = np.flatnonzero(~is_valid), np.flatnonzero(is_valid)
    return keep, held, train_idx, valid_idx, remap[targets[train_idx]]


def verification_eer(embeddings, speakers):
    """EER of all same-speaker against different-speaker pairs, scored by cosine."""

    e = centred_unit(embeddings, embeddings.mean(0))
    sim = (e @ e.T).numpy()
    speakers = np.asarray(speakers)
    i, j = np.triu_indices(len(speakers), k=1)
    return equal_error_rate((speakers[i] == speakers[j]).astype(int), sim[i, j])


class SpeakerVerificationScoring(Callback):
    """Record ``valid_eer``, the verification EER of held-out speakers, every epoch.

    Parameters
    ----------
    embed : callable
        ``embed(specs)`` -> ``(n, d)`` tensor of recording embeddings (the
        estimator's windowed inference; it puts the module in evaluation mode,
        and skorch returns it to training mode at the next batch).
    specs : list of Tensor
        The held-out speakers' spectrograms.
    speakers : array-like
        Their speakers.
    """

    def __init__(self, embed, specs, speakers):
        self.embed = embed
        self.specs = specs
        self.speakers = speakers

    def on_epoch_end(self, net, **kwargs):
        eer = verification_eer(self.embed(self.specs), self.speakers)
        net.history.record("valid_eer", float(eer))
