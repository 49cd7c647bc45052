"""skvoice: voice-based access control with scikit-learn.

Decide from a recording whether the speaker is one of the allowed users of a
system, with scikit-learn pipelines, speaker-grouped cross-validation and
uncertainty-aware convolutional networks on spectrograms.
"""

__version__ = "0.1.0.dev0"

from . import (  # noqa: E402
    datasets,
    io,
    metrics,
    model_selection,
    neural_network,
    preprocessing,
    uncertainty,  # noqa: E402
)
from ._persist import ModelFormatError, UnsignedModelWarning, load_model, save_model  # noqa: E402
from .datasets import make_voices  # noqa: E402
from .io import check_waveforms, load_audio  # noqa: E402
from .metrics import equal_error_rate, far_at_frr  # noqa: E402
from .model_selection import OpenSetGroupKFold  # noqa: E402
from .neural_network import CNNClassifier, SpeakerEmbedder  # noqa: E402
from .preprocessing import (  # noqa: E402
    ChannelUnion,
    F0Extractor,
    MFCCStatistics,
    SilenceTrimmer,
    SpectrogramExtractor,
)
from .uncertainty import DeepEnsembleClassifier, MCDropoutClassifier  # noqa: E402
from .verification import EnrollmentVerifier  # noqa: E402

__all__ = [
    "ModelFormatError",
    "UnsignedModelWarning",
    "load_model",
    "save_model",
    "CNNClassifier",
    "ChannelUnion",
    "DeepEnsembleClassifier",
    "EnrollmentVerifier",
    "F0Extractor",
    "MCDropoutClassifier",
    "MFCCStatistics",
    "OpenSetGroupKFold",
    "SilenceTrimmer",
    "SpeakerEmbedder",
    "SpectrogramExtractor",
    "__version__",
    "check_waveforms",
    "datasets",
    "eda",
    "equal_error_rate",
    "far_at_frr",
    "io",
    "load_audio",
    "make_voices",
    "metrics",
    "model_selection",
    "neural_network",
    "preprocessing",
    "uncertainty",
    "verification",
]
