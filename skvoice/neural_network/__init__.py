"""Neural networks on spectrograms, as scikit-learn estimators (skorch inside)."""

from ._cnn import CNNClassifier, SpeakersNotPassedWarning
from ._data import check_spectrograms
from ._embedder import SpeakerEmbedder
from ._module import SpectrogramCNN
from ._pretrained import available_encoders, default_cohort, encoder_card

__all__ = [
    "CNNClassifier",
    "SpeakerEmbedder",
    "SpeakersNotPassedWarning",
    "SpectrogramCNN",
    "available_encoders",
    "default_cohort",
    "encoder_card",
    "check_spectrograms",
]
