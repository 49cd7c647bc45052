"""The pretrained speaker encoders that ship with skvoice, and how to load one.

An encoder is two files: ``NAME.pt``, the trunk's state dict (read with
``torch.load(weights_only=True)``: tensors only, no code), and ``NAME.json``, its
card (front-end and architecture settings, SHA-256 of the weights, provenance).
The shipped encoders live in ``skvoice/neural_network/pretrained/``, and their
SHA-256 is also recorded below, in code: a weights file that differs from it is
refused. ``tools/pretrain_encoder.py`` trains one.
"""

import hashlib
import io
import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback

from ._base import SpectrogramNetMixin
from ._ge2e import GE2E, ge2e_available, ge2e_card
from ._ge2e import SHA256 as GE2E_SHA256
from ._module import SpectrogramCNN

__all__ = [
    "available_encoders",
    "default_cohort",
    "encoder_card",
    "load_encoder",
    "PretrainedEncoder",
    "FreezeTrunk",
]

#: Shipped encoders: name -> SHA-256 of the weights file. ``speechocean762``
#: learnt the 125 ``test/`` speakers alone; ``speechocean762-distilled`` the same
#: speakers and GE2E's embeddings of the same crops (``--distill ge2e``).
SHIPPED = {
    "speechocean762": "c6989f57b5a9a4f24b7a7f702c84a9005b79da499e366ad2514133d8da4342c9",
    "speechocean762-distilled": (
        "a7f188414e893ea8e7f298da6634f80b1e56d85ba01b5018a41bc0d958b55af9"
    ),
}
#: The shipped encoder that measures best on both protocols (``encoders.md``).
DEFAULT_ENCODER = "speechocean762-distilled"
#: Every encoder a model file may name: the shipped ones and those of an extra
#: (GE2E, whose weights come with ``pip install "skvoice[ge2e]"``).
KNOWN_ENCODERS = {**SHIPPED, GE2E: GE2E_SHA256}
_PACKAGE_DIR = Path(__file__).resolve().parent / "pretrained"
#: Prediction windows of the encoders, in frames (2 s, as CNNClassifier's default).
_WINDOW_FRAMES = 128

# The front-end the shipped encoders were trained on: SpectrogramExtractor's
# defaults at 16 kHz (speech lives below 8 kHz; narrower input is resampled).
FRONTEND = {
    "sr": 16000,
    "kind": "mel",
    "n_fft": 1024,
    "hop_length": 256,
    "n_mels": 64,
    "fmin": 0.0,
    "fmax": 8000.0,
    "top_db": 80.0,
    "normalize": "recording",
}

# CNNClassifier's default trunk, so CNNClassifier(pretrained=...) can start from it.
ARCHITECTURE = {"n_filters": 16, "n_blocks": 4, "kernel_size": 3, "embedding_dim": 128}

PROVENANCE = {
    "licence": "CC BY 4.0 (the training corpus); the weights are distributed under the same terms",
    "attribution": (
        "speechocean762: A Non-Native English Speech Corpus for Pronunciation "
        "Assessment, Junbo Zhang, Zhiwen Zhang, Yongqing Wang, Zhiyong Yan, Qiong "
        "Song, Yukai Huang, Ke Li, Daniel Povey, Yujun Wang (Interspeech 2021), "
        "https://github.com/jimbozhang/speechocean762"
    ),
}


def trunk_state(module):
    """The trunk's weights (everything but the speaker head), as a plain dict."""
    return {
        k: v.detach().clone() for k, v in module.state_dict().items() if not k.startswith("head.")
    }


def available_encoders():
    """Names of the pretrained speaker encoders that can be used here.

    The encoders that ship with skvoice, and ``"ge2e"`` when its extra is
    installed (``pip install "skvoice[ge2e]"``).

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> from skvoice.neural_network import available_encoders
    >>> "speechocean762" in available_encoders()
    True
    """
    return sorted(SHIPPED) + ([GE2E] if ge2e_available() else [])


def best_encoder():
    """The installed encoder that measured best: GE2E with its extra, else the default.

    The order is ``benchmarks/results/encoders.md``'s, on speechocean762 and
    DSPSpeech-20 alike: GE2E, then the distilled shipped encoder, then the
    speechocean762 one.
    """
    return GE2E if ge2e_available() else DEFAULT_ENCODER


def _locate(pretrained):
    """Weights path, card path and the SHA-256 the weights must have (None: the card's)."""
    if not isinstance(pretrained, (str, os.PathLike)):
        kind = type(pretrained).__name__
        raise TypeError(f"pretrained must be a shipped encoder's name or a path, got {kind}.")
    name = os.fspath(pretrained)
    if name in SHIPPED:
        return _PACKAGE_DIR / f"{name}.pt", _PACKAGE_DIR / f"{name}.json", SHIPPED[name]
    path = Path(name)
    if path.suffix != ".pt" or not path.is_file():
        raise ValueError(
            f"Unknown pretrained encoder {name!r}: not one of {available_encoders()} and not "
            "an existing .pt file (written by tools/pretrain_encoder.py)."
        )
    return path, path.with_suffix(".json"), None


def _check_card(card, where):
    keys = ("sha256", "frontend", "architecture")
    if not isinstance(card, dict) or any(k not in card for k in keys):
        raise ValueError(f"{where} is not an encoder card (needs {list(keys)}).")
    arch = card["architecture"]
    if not isinstance(arch, dict) or set(arch) != set(ARCHITECTURE):
        raise ValueError(f"{where}: the architecture must give exactly {sorted(ARCHITECTURE)}.")
    if not isinstance(card["frontend"], dict) or "n_mels" not in card["frontend"]:
        raise ValueError(f"{where}: the front-end settings are missing.")


@lru_cache(maxsize=8)
def _read(weights, card_path, expected, mtime):
    """Card and state dict of one encoder file (cached: a search clones the embedder)."""
    del mtime  # part of the cache key only: a rewritten file is read again
    if not card_path.is_file():
        raise ValueError(f"The encoder {weights} has no card {card_path.name} beside it.")
    card = json.loads(card_path.read_text())
    _check_card(card, str(card_path))
    data = weights.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    for what, want in (("recorded in skvoice", expected), ("in its card", card["sha256"])):
        if want is not None and sha != want:
            raise ValueError(
                f"The encoder weights {weights} do not match the SHA-256 {what} "
                f"({sha[:12]}... instead of {str(want)[:12]}...): the file is corrupted or "
                "was modified."
            )
    state = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ValueError(f"{weights} does not hold a state dict of tensors.")
    return card, state


def encoder_card(pretrained):
    """The card of a pretrained encoder (its weights checked), without building the network.

    Parameters
    ----------
    pretrained : str or path-like
        As for :func:`load_encoder`.

    Returns
    -------
    card : dict
    """
    if isinstance(pretrained, str) and pretrained == GE2E:
        return ge2e_card()
    return _checked_read(pretrained)[0]


def _checked_read(pretrained):
    """Card, state dict and weights path, read once per file and checked."""
    weights, card_path, expected = _locate(pretrained)
    card, state = _read(weights, card_path, expected, weights.stat().st_mtime_ns)
    return card, state, weights


def default_cohort(pretrained):
    """The impostor cohort that ships for an encoder, or None when it has none.

    Embeddings of recordings of people who are not users, made by the encoder
    itself (``tools/make_cohort.py``): 4 utterances of each of the 125 speakers of
    speechocean762's ``test/`` list (CC BY 4.0). Only an encoder that never heard
    those speakers has one: ``"ge2e"``. The shipped encoders were trained on
    them, so their cohort would sit closer to them than any impostor, and they
    have none. Pass it as ``cohort=`` to
    :class:`~skvoice.verification.EnrollmentVerifier`, or
    ``make_enrollment_pipeline(..., cohort="shipped")``, on read speech like it:
    out of its domain it can pull the threshold down (see the decisions guide).

    Parameters
    ----------
    pretrained : str or path-like
        An encoder's name.

    Returns
    -------
    cohort : tuple of (ndarray of shape (n, dim), ndarray of str of shape (n,)) or None
        The embeddings (unit length, float64) and the speaker of each.

    Raises
    ------
    ValueError
        The cohort's file does not match the SHA-256 of its card, or was made
        with other weights of the encoder.

    Examples
    --------
    >>> from skvoice.neural_network import default_cohort
    >>> default_cohort("speechocean762") is None
    True
    """
    name = os.fspath(pretrained) if isinstance(pretrained, (str, os.PathLike)) else None
    path = _PACKAGE_DIR / f"cohort_{name}.npz"
    if name not in KNOWN_ENCODERS or not path.is_file():
        return None
    return _read_cohort(path, path.stat().st_mtime_ns, KNOWN_ENCODERS[name])


@lru_cache(maxsize=4)
def _read_cohort(path, mtime, encoder_sha):
    del mtime  # part of the cache key only
    card = json.loads(path.with_suffix(".json").read_text())
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != card.get("sha256"):
        raise ValueError(f"The cohort {path} does not match the SHA-256 of its card.")
    if card.get("encoder_sha256") != encoder_sha:
        raise ValueError(
            f"The cohort {path} was embedded with other weights of its encoder: the "
            "embeddings would not be comparable."
        )
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        E = npz["embeddings"].astype(np.float64)
        speakers = npz["speakers"].astype(str)
    E /= np.linalg.norm(E, axis=1, keepdims=True)  # unit again after float16
    E.setflags(write=False)
    speakers.setflags(write=False)
    return E, speakers


def load_encoder(pretrained):
    """Card and trunk module of a pretrained speaker encoder.

    Parameters
    ----------
    pretrained : str or path-like
        A name from :func:`available_encoders`, or the ``.pt`` file written by
        ``tools/pretrain_encoder.py`` (its ``.json`` card beside it).

    Returns
    -------
    card : dict
        Front-end and architecture settings, ``sha256``, provenance.
    module : SpectrogramCNN
        The network in evaluation mode; its head is untrained (a placeholder).

    Raises
    ------
    ValueError
        Unknown name, missing card, or weights whose SHA-256 differs from the
        recorded one.
    """
    card, state, weights = _checked_read(pretrained)
    module = build_trunk(card)
    missing, unexpected = module.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith("head.") for k in missing):
        raise ValueError(
            f"{weights} does not fit the architecture of its card "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})."
        )
    return card, module.eval()


def build_trunk(card, n_classes=1):
    """The card's network with a fresh head of ``n_classes`` outputs."""
    return SpectrogramCNN(
        n_bins=int(card["frontend"]["n_mels"]), n_classes=n_classes, **card["architecture"]
    )


class PretrainedEncoder(SpectrogramNetMixin):
    """A loaded encoder with the sliding-window inference of the networks.

    What :class:`~skvoice.neural_network.SpeakerEmbedder` holds as ``network_``
    when it is given ``pretrained``: the same windows (2 s, half overlapping)
    and the same mean embedding as a trained :class:`CNNClassifier`.
    """

    amp = False
    n_channels_in_ = 1

    def __init__(self, pretrained, device="cpu"):
        self.pretrained = pretrained
        self.card_, module = load_encoder(pretrained)
        self.device_ = device
        self.module_ = module.to(device)
        self.n_features_in_ = int(self.card_["frontend"]["n_mels"])
        self.crop_frames = _WINDOW_FRAMES

    def _inference_module(self):
        return self.module_

    def _check_fitted(self):
        pass  # loaded ready to use

    def check_input(self, X):
        """Spectrograms of the encoder's front-end (one channel, its bands), or a clear error."""
        return self._check_X(X, reset=False)


class FreezeTrunk(Callback):
    """skorch callback: only the head trains during the first ``epochs`` epochs.

    Fine-tuning from a pretrained trunk first fits the new head to the trunk's
    embeddings, so that the head's random start does not push large gradients
    into the pretrained layers.
    """

    def __init__(self, epochs):
        self.epochs = epochs

    def on_epoch_begin(self, net, **kwargs):
        frozen = len(net.history) <= self.epochs  # this epoch's history row exists
        for name, p in net.module_.named_parameters():
            if not name.startswith("head."):
                p.requires_grad_(not frozen)

    def on_train_end(self, net, **kwargs):
        # A fit that ends inside the frozen epochs must not leave the trunk without
        # gradients: inspection (Grad-CAM) differentiates through it.
        for p in net.module_.parameters():
            p.requires_grad_(True)


def pretrained_trunk(pretrained, module_params, n_bins, n_channels):
    """The weights of a pretrained trunk, checked to fit the network (None: no encoder).

    Parameters
    ----------
    pretrained : str, path-like or None
        As for :func:`load_encoder`.
    module_params : dict
        The network's architecture arguments; those of the encoder must match.
    n_bins, n_channels : int
        The input's frequency bins and channels: the encoder's front-end's.

    Returns
    -------
    state : dict or None
        The trunk's state dict (all but the head).
    """
    if pretrained is None:
        return None
    card, module = load_encoder(pretrained)
    mine = {k: module_params[k] for k in card["architecture"]}
    if mine != card["architecture"]:
        raise ValueError(
            f"pretrained={pretrained!r} has the architecture {card['architecture']}; "
            f"this CNNClassifier has {mine}. Set those module__ parameters to the "
            "encoder's."
        )
    n_mels = int(card["frontend"]["n_mels"])
    if (n_bins, n_channels) != (n_mels, 1):
        raise ValueError(
            f"pretrained={pretrained!r} reads one-channel spectrograms of {n_mels} "
            f"bins (its front-end: {card['frontend']}); X has {n_channels} "
            f"channel(s) of {n_bins} bins."
        )
    return trunk_state(module)
