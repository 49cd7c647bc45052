"""Neural networks on spectrograms, as scikit-learn estimators (skorch inside)."""

from ._cnn import CNNClassifier, SpeakersNotPassedWarning
from ._data import check_spectrograms
from ._embedder import SpeakerEmbedder
from ._module import SpectrogramCNN

__all__ = [
    "CNNClassifier",
    "SpeakerEmbedder",
    "SpeakersNotPassedWarning",
    "SpectrogramCNN",
    "check_spectrograms",
]
