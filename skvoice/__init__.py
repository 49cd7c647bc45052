"""skvoice: voice-based access control with scikit-learn.

Decide from a recording whether the speaker is one of the allowed users of a
system, with scikit-learn pipelines, speaker-grouped cross-validation and
uncertainty-aware convolutional networks on spectrograms.
"""

__version__ = "0.1.0.dev0"

# The package imports lazily (PEP 562): ``import skvoice`` and ``skvoice --help``
# stay fast, and torch is imported only when a network is first used.
_SUBPACKAGES = {
    "datasets",
    "decisions",
    "eda",
    "inspection",
    "io",
    "metrics",
    "model_selection",
    "neural_network",
    "preprocessing",
    "uncertainty",
    "verification",
}
_NAMES = {
    "ModelFormatError": "._persist",
    "UnsignedModelWarning": "._persist",
    "load_model": "._persist",
    "default_threads": "._threads",
    "limit_threads": "._threads",
    "save_model": "._persist",
    "make_voices": ".datasets",
    "check_waveforms": ".io",
    "load_audio": ".io",
    "equal_error_rate": ".metrics",
    "far_at_frr": ".metrics",
    "OpenSetGroupKFold": ".model_selection",
    "CNNClassifier": ".neural_network",
    "SpeakerEmbedder": ".neural_network",
    "ChannelUnion": ".preprocessing",
    "F0Extractor": ".preprocessing",
    "MFCCStatistics": ".preprocessing",
    "SilenceTrimmer": ".preprocessing",
    "SpectrogramExtractor": ".preprocessing",
    "DeepEnsembleClassifier": ".uncertainty",
    "MCDropoutClassifier": ".uncertainty",
    "EnrollmentVerifier": ".verification",
    "ScoreFusionClassifier": ".decisions",
    "TargetFARClassifierCV": ".decisions",
}


def __getattr__(name):
    import importlib

    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name], __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBPACKAGES | set(_NAMES))


__all__ = ["__version__", *sorted(_SUBPACKAGES), *sorted(_NAMES)]
