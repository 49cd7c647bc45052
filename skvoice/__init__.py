"""skvoice: voice-based access control with scikit-learn.

Decide from a recording whether the speaker is one of the allowed users of a
system, with scikit-learn pipelines, speaker-grouped cross-validation and
uncertainty-aware convolutional networks on spectrograms.
"""

__version__ = "0.1.0.dev0"

from . import datasets, io  # noqa: E402
from .datasets import make_voices  # noqa: E402
from .io import check_waveforms, load_audio  # noqa: E402

__all__ = ["__version__", "check_waveforms", "datasets", "io", "load_audio", "make_voices"]
