"""Neural networks on spectrograms, as scikit-learn estimators (skorch inside)."""

from ._cnn import CNNClassifier
from ._data import CropDataset, check_spectrograms, sliding_windows
from ._embedder import SpeakerEmbedder
from ._module import ConvBlock, SpectrogramCNN

__all__ = [
    "CNNClassifier",
    "ConvBlock",
    "CropDataset",
    "SpeakerEmbedder",
    "SpectrogramCNN",
    "check_spectrograms",
    "sliding_windows",
]
