"""The GE2E speaker encoder, with the weights that the Resemblyzer package ships.

GE2E (Wan, Wang, Papir and Lopez Moreno, "Generalized end-to-end loss for
speaker verification", ICASSP 2018) embeds 1.6 s partial windows of a 40-band
mel power spectrogram (25 ms windows, 10 ms hop) with a 3-layer LSTM: the last
hidden state, projected to 256 values and rectified, is length-normalised; a
recording's embedding is the normalised mean of its partials' embeddings.

The network and the front-end are written here; the weights are the file
``resemblyzer/pretrained.pt`` of the installed ``Resemblyzer`` distribution
(Apache-2.0), located through the package metadata (nothing of resemblyzer is
imported) and read with ``torch.load(weights_only=True)`` after its SHA-256 is
checked. ``pip install "skvoice[ge2e]"`` installs it.
"""

import hashlib
import io
from functools import lru_cache
from importlib import metadata

import numpy as np
import torch
from torch import nn

from ..decisions import unit_rows
from ..io import iter_waveforms
from ..preprocessing import SpectrogramExtractor
from ._base import torch_threads

__all__ = ["GE2E", "GE2EEncoder", "ge2e_card", "ge2e_available", "partial_starts"]

#: The encoder's name in ``pretrained=``.
GE2E = "ge2e"
#: SHA-256 of ``resemblyzer/pretrained.pt`` in Resemblyzer 0.1.4 (the file the
#: equality test was run against); another file is refused.
SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
_INSTALL = 'pip install "skvoice[ge2e]"'

#: The front-end: a mel power spectrogram (not logarithmic), as the network was trained.
FRONTEND = {
    "sr": 16000,
    "kind": "mel",
    "n_fft": 400,  # 25 ms
    "hop_length": 160,  # 10 ms
    "n_mels": 40,
    "to_db": False,
    "normalize": None,
}
#: The level the training recordings were brought to (quieter ones were raised).
LEVEL_DBFS = -30.0
#: Frames of a partial window (1.6 s).
PARTIAL_FRAMES = 160
#: Frames between partial windows: the reference implementation's 1.3 partials
#: a second (77 frames, 52 % overlap; the paper's is 50 %).
PARTIAL_STEP = 77
#: A last partial that the recording fills to less than this share is dropped
#: (kept when it is the only one: the recording is then zero-padded).
MIN_COVERAGE = 0.75

_PROVENANCE = {
    "licence": "Apache-2.0 (the Resemblyzer package and its weights)",
    "attribution": (
        "Resemblyzer, Resemble AI, https://github.com/resemble-ai/Resemblyzer; GE2E: "
        "L. Wan, Q. Wang, A. Papir, I. Lopez Moreno, Generalized End-to-End Loss for "
        "Speaker Verification, ICASSP 2018"
    ),
    "training_data": (
        "as its authors state: LibriSpeech, VoxCeleb1 and VoxCeleb2 (about 8,000 "
        "speakers); skvoice did not train it and has no data on it beyond this"
    ),
}


def _weights_path():
    """The installed ``resemblyzer/pretrained.pt``, or an error naming the install command."""
    try:
        files = metadata.distribution("Resemblyzer").files or []
    except metadata.PackageNotFoundError:
        raise ImportError(
            f"The GE2E encoder needs its weights from the Resemblyzer package: {_INSTALL}"
        ) from None
    for f in files:
        if f.name == "pretrained.pt" and f.parent.name == "resemblyzer":
            path = f.locate()
            if path.is_file():
                return path
    raise ImportError(
        f"The installed Resemblyzer has no resemblyzer/pretrained.pt; reinstall it: {_INSTALL}"
    )


def ge2e_available():
    """Whether the GE2E weights are installed (the ``ge2e`` extra)."""
    try:
        _weights_path()
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _state(path, mtime):
    del mtime  # part of the cache key only
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if sha != SHA256:
        raise ValueError(
            f"The GE2E weights {path} have the SHA-256 {sha[:12]}..., not the "
            f"{SHA256[:12]}... skvoice was tested with: another Resemblyzer release or a "
            f"modified file. Install the tested one: {_INSTALL}"
        )
    checkpoint = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    state = checkpoint.get("model_state") if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f"{path} does not hold a GE2E checkpoint.")
    # The similarity scale and bias of the training loss are not part of the encoder.
    return {k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))}


def _checked_weights():
    """The installed weights' path and encoder state dict, their SHA-256 checked (cached)."""
    path = _weights_path()
    return path, _state(path, path.stat().st_mtime_ns)


def ge2e_card(path=None):
    """The GE2E encoder's card: front-end, architecture, SHA-256, provenance."""
    if path is None:
        path, _ = _checked_weights()
    return {
        "name": GE2E,
        "input": "waveform",
        "sha256": SHA256,
        "weights": str(path),
        "frontend": {**FRONTEND, "level_dbfs": LEVEL_DBFS},
        "partials": {
            "frames": PARTIAL_FRAMES,
            "step": PARTIAL_STEP,
            "min_coverage": MIN_COVERAGE,
        },
        "architecture": {"lstm_layers": 3, "hidden_size": 256, "embedding_dim": 256},
        **_PROVENANCE,
    }


class GE2EModule(nn.Module):
    """3-layer LSTM over mel frames, then a rectified, length-normalised projection."""

    def __init__(self, n_mels=40, hidden_size=256, n_layers=3, embedding_dim=256):
        super().__init__()
        self.lstm = nn.LSTM(n_mels, hidden_size, n_layers, batch_first=True)
        self.linear = nn.Linear(hidden_size, embedding_dim)

    def forward(self, mels):
        """Unit embeddings of partial windows ``(batch, frames, n_mels)``."""
        _, (hidden, _) = self.lstm(mels)
        return unit_rows(torch.relu(self.linear(hidden[-1]))).float()


def partial_starts(n_samples):
    """First frame of each partial window of a recording, and the samples it must have.

    Windows of ``PARTIAL_FRAMES`` frames every ``PARTIAL_STEP`` frames cover the
    recording; the last is dropped when the recording fills less than
    ``MIN_COVERAGE`` of it, unless it is the only one.

    Parameters
    ----------
    n_samples : int
        Length of the recording at 16 kHz.

    Returns
    -------
    starts : ndarray of int
    padded_length : int
        The recording is zero-padded to this many samples when it is shorter.
    """
    hop = FRONTEND["hop_length"]
    n_frames = -(-(n_samples + 1) // hop)  # ceil
    starts = np.arange(0, max(1, n_frames - PARTIAL_FRAMES + PARTIAL_STEP + 1), PARTIAL_STEP)
    coverage = (n_samples - starts[-1] * hop) / (PARTIAL_FRAMES * hop)
    if coverage < MIN_COVERAGE and len(starts) > 1:
        starts = starts[:-1]
    return starts, int((starts[-1] + PARTIAL_FRAMES) * hop)


class GE2EEncoder:
    """The loaded GE2E encoder: 16 kHz waveforms to 256-d unit embeddings.

    What :class:`~skvoice.neural_network.SpeakerEmbedder` holds as ``network_``
    with ``pretrained="ge2e"``. It reads waveforms, not spectrograms: the
    partial windows are cut from the waveform (zero-padded at the end as the
    reference does), so its front-end is part of it. A recording shorter than
    one partial window (1.6 s) is zero-padded to one. The level is left as
    given: :func:`~skvoice.verification.make_enrollment_pipeline` puts a
    :class:`~skvoice.preprocessing.LevelNormalizer` at -30 dBFS before it.

    Parameters
    ----------
    device : str, default="cpu"
        Where the network runs.
    """

    n_features_in_ = None  # waveforms of any length

    def __init__(self, device="cpu"):
        path, state = _checked_weights()
        self.card_ = ge2e_card(path)
        self.module_ = GE2EModule()
        self.module_.load_state_dict(state)
        self.module_.eval().to(device)
        self.device_ = device
        self._frontend = SpectrogramExtractor(**FRONTEND).fit([np.zeros(FRONTEND["n_fft"])])

    def check_input(self, X):
        """Check that ``X`` is a batch of waveforms, with errors naming the recording."""
        for _ in iter_waveforms(X, min_samples=1, allow_paths=False):
            pass

    def _partials(self, wave):
        """The partial windows' mel frames of one recording, ``(n_partials, frames, n_mels)``."""
        starts, length = partial_starts(len(wave))
        if length > len(wave):
            wave = np.pad(wave, (0, length - len(wave)))
        mel = torch.from_numpy(self._frontend.spectrogram_one(wave).T)
        return mel[starts[:, None] + np.arange(PARTIAL_FRAMES)]

    def embed(self, X, batch_size=64):
        """Embedding of each recording: the normalised mean of its partials' embeddings.

        Parameters
        ----------
        X : list of 1-D ndarray or 2-D ndarray
            Waveforms at 16 kHz.
        batch_size : int, default=64
            Partial windows per forward pass.

        Returns
        -------
        E : ndarray of shape (n_recordings, 256)
            Unit length.
        """
        partials = [self._partials(w) for w in iter_waveforms(X, allow_paths=False)]
        owner = np.repeat(np.arange(len(partials)), [len(p) for p in partials])
        stacked = torch.cat(partials)
        with torch_threads(), torch.no_grad():
            out = torch.cat(
                [
                    self.module_(stacked[i : i + batch_size].to(self.device_)).cpu()
                    for i in range(0, len(stacked), batch_size)
                ]
            )
        sums = torch.zeros(len(partials), out.shape[1]).index_add_(0, torch.from_numpy(owner), out)
        return unit_rows(sums).float().numpy()
