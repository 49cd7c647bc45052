"""SpeakerEmbedder: recordings to fixed-length, L2-normalised speaker embeddings."""

import os

from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .._random import seed_everything, seed_from
from .._state import StateError, require
from ..decisions import unit_rows
from ._base import resolve_device
from ._cnn import CNNClassifier
from ._ge2e import GE2E, GE2EEncoder
from ._pretrained import KNOWN_ENCODERS, PretrainedEncoder

__all__ = ["SpeakerEmbedder"]


def _open_encoder(pretrained, device):
    """The loaded encoder of ``pretrained``: GE2E reads waveforms, the others spectrograms."""
    if isinstance(pretrained, str) and pretrained == GE2E:
        return GE2EEncoder(device)
    return PretrainedEncoder(pretrained, device)


class SpeakerEmbedder(TransformerMixin, BaseEstimator):
    """Embed recordings with a speaker network: pretrained, or trained on your speakers.

    With ``pretrained``, the encoder that ships with skvoice (trained on real
    speech of speakers you will not meet) embeds the recordings as it is: ``fit``
    only checks the input, and no training data are needed. Without it, the
    network (a :class:`CNNClassifier`) is trained as a classifier over all
    training speakers. Either way, a recording's embedding is the mean of its
    sliding windows' embeddings (the layer before the head), L2-normalised. New
    users are then enrolled from their embeddings, without retraining (see
    :class:`~skvoice.verification.EnrollmentVerifier`).

    Parameters
    ----------
    network : CNNClassifier, default=None
        Network settings (cloned and trained on the speakers), or, with
        ``reuse_fitted=True``, a fitted network whose body is used as it is (for
        example the one inside a fitted access-control pipeline). Default
        ``CNNClassifier()``.
    reuse_fitted : bool, default=False
        Use ``network`` as fitted instead of training it.
    random_state : int, RandomState instance or None, default=None
        When not None, seeds the network's training: every ``random_state`` of
        the network is set from it, so one seed fixes the embedder. With None,
        the network keeps its own seed. Ignored with ``reuse_fitted=True``.
    pretrained : str, path-like or None, default=None
        A pretrained encoder: a name from :func:`available_encoders`
        (``"speechocean762-distilled"``, ``"speechocean762"``), or a ``.pt`` file written by
        ``tools/pretrain_encoder.py``. Its weights are checked against their
        SHA-256 before use. The input must be the spectrograms of the encoder's
        front-end (16 kHz log-mel, 64 bands, SpectrogramExtractor's defaults);
        ``"ge2e"`` (the GE2E encoder, ``pip install "skvoice[ge2e]"``) reads
        16 kHz waveforms instead, as it computes its own front-end.
        :func:`~skvoice.verification.make_enrollment_pipeline` builds the whole
        chain, resampling other rates with soxr. Excludes ``network`` and
        ``reuse_fitted``.
    device : str or None, default=None
        Where the network runs: ``"cpu"`` or ``"cuda[:n]"``. None: the CPU for
        a pretrained encoder, the network's own ``device`` for one trained
        here. A given device also trains the network there (not a reused
        fitted one, which stays where it is). Embeddings are returned as
        NumPy arrays whatever the device. A saved model never carries a
        device: it loads on the CPU.

    Attributes
    ----------
    network_ : CNNClassifier, PretrainedEncoder or GE2EEncoder
        The trained, reused or pretrained network.
    n_features_in_ : int
        Frequency bins of the input (not set for ``"ge2e"``, which reads
        waveforms).

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.neural_network import CNNClassifier, SpeakerEmbedder
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.standard_normal((8, 30)).astype(np.float32) + k for k in range(3)] * 4
    >>> spk = ["a", "b", "c"] * 4
    >>> net = CNNClassifier(module__n_filters=4, module__n_blocks=1, module__embedding_dim=6,
    ...                     crop_frames=8, max_epochs=2, random_state=0)
    >>> emb = SpeakerEmbedder(net)
    >>> E = emb.fit_transform(X, groups=spk)
    >>> E.shape, bool(np.allclose(np.linalg.norm(E, axis=1), 1))
    ((12, 6), True)
    """

    __metadata_request__fit = {"groups": True}

    _parameter_constraints = {
        "pretrained": [str, os.PathLike, None],
        "network": [HasMethods(["fit", "predict_proba"]), None],
        "reuse_fitted": ["boolean"],
        "random_state": ["random_state"],
        "device": [str, None],
    }

    def __init__(
        self, network=None, reuse_fitted=False, random_state=None, pretrained=None, device=None
    ):
        self.network = network
        self.reuse_fitted = reuse_fitted
        self.random_state = random_state
        self.pretrained = pretrained
        self.device = device

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, groups=None):
        """Train the network over the speakers (or take the fitted one).

        Parameters
        ----------
        X : list of ndarray or ndarray
            Spectrograms, as for :class:`CNNClassifier`.
        y : array-like, default=None
            Ignored when ``groups`` is given; else used as the speaker labels.
            Not needed with ``pretrained``.
        groups : array-like of shape (n_recordings,), default=None
            Speaker of each recording (the classes the network learns), as
            scikit-learn names the grouping of samples. Not needed with
            ``pretrained``.

        Returns
        -------
        self : object
        """
        if self.pretrained is not None:
            if self.network is not None or self.reuse_fitted:
                raise ValueError(
                    "pretrained excludes network and reuse_fitted: the encoder is the network."
                )
            self.network_ = _open_encoder(self.pretrained, resolve_device(self.device))
            self.network_.check_input(X)  # the encoder's front-end, or an error
        elif self.reuse_fitted:
            if self.network is None or not hasattr(self.network, "trunk"):
                raise ValueError("reuse_fitted=True needs a fitted CNNClassifier as network.")
            self.network_ = self.network
        else:
            labels = groups if groups is not None else y
            if labels is None:
                raise ValueError("SpeakerEmbedder needs groups (the speakers) or y to train on.")
            base = CNNClassifier() if self.network is None else self.network
            net = clone(base).set_params(objective="binary")  # the classes are speakers
            if self.device is not None:
                net.set_params(device=resolve_device(self.device))
            if self.random_state is not None:
                seed_everything(net, seed_from(self.random_state))
            self.network_ = net.fit(X, column_or_1d(labels, warn=True))
        if self.network_.n_features_in_ is not None:  # not for waveforms of any length
            self.n_features_in_ = self.network_.n_features_in_
        return self

    def transform(self, X):
        """Mean window embedding of each recording, L2-normalised.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Spectrograms.

        Returns
        -------
        E : ndarray of shape (n_recordings, embedding_dim)
        """
        check_is_fitted(self)
        return unit_rows(self.network_.embed(X)).numpy()

    def _get_fitted_state(self):
        """The shipped encoder's name and SHA-256 (see ``skvoice._state``).

        Its weights ship with skvoice, so a model file names them. A trained
        embedder is saved as the CNNClassifier pipeline it came from.
        """

        check_is_fitted(self)
        name = self.pretrained
        if name is None:
            raise TypeError(
                "Only SpeakerEmbedder(pretrained=...) can be saved; a trained embedder's "
                "network is saved as a CNNClassifier pipeline."
            )
        if not isinstance(name, str) or name not in KNOWN_ENCODERS:
            raise TypeError(
                f"Only the encoders skvoice knows by name ({sorted(KNOWN_ENCODERS)}) can be "
                f"saved, not {name!r}: a model file must not point to a file on this machine."
            )
        return {"encoder": {"name": name, "sha256": KNOWN_ENCODERS[name]}}, {}

    def _set_fitted_state(self, record, tensors):

        encoder = record.get("encoder") if isinstance(record, dict) else None
        require(isinstance(encoder, dict) and not tensors, "no encoder record")
        name, sha = encoder.get("name"), encoder.get("sha256")
        require(name == self.pretrained, "the encoder record names another encoder")
        require(name in KNOWN_ENCODERS, f"{name!r} is not an encoder skvoice knows")
        if KNOWN_ENCODERS[name] != sha:
            raise StateError(
                f"the users were enrolled with the encoder {name!r} of SHA-256 "
                f"{str(sha)[:12]}...; this skvoice uses {KNOWN_ENCODERS[name][:12]}...: the "
                "embeddings would not be comparable. Enrol the users again."
            )
        self.network_ = _open_encoder(name, "cpu")
        if self.network_.n_features_in_ is not None:
            self.n_features_in_ = self.network_.n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.transformer_tags.preserves_dtype = []
        return tags
