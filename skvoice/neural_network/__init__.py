"""Neural networks on spectrograms, as scikit-learn estimators (skorch inside)."""

from ._cnn import CNNClassifier, SpeakersNotPassedWarning
from ._data import CropDataset, check_spectrograms, sliding_windows
from ._embedder import SpeakerEmbedder
from ._module import ConvBlock, SpectrogramCNN

__all__ = [
    "CNNClassifier",
    "ConvBlock",
    "CropDataset",
    "SpeakerEmbedder",
    "SpeakersNotPassedWarning",
    "SpectrogramCNN",
    "check_spectrograms",
    "sliding_windows",
]
