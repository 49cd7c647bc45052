"""Degradations of recordings: telephone channels, noise, rooms, short commands, speed.

Two uses: stress tests (how a fitted model holds when its users call from a
phone, speak one short command, or stand in a noisy or echoing room:
:func:`stress_test`, ``skvoice evaluate --channel``) and augmentation (a fresh
draw per call of :meth:`Degradation.degrade`). Built on audiomentations (filters,
coloured noise), pyroomacoustics (room impulse responses) and libsndfile's codecs
through soundfile: ``pip install "skvoice[augment]"``.
"""

from ._base import Degradation
from ._channel import CODECS, TelephoneChannel
from ._conditions import CONDITIONS, make_condition, stress_test
from ._crop import Crop
from ._noise import AddNoise
from ._room import Reverberate
from ._speed import SpeedPerturbation

__all__ = [
    "AddNoise",
    "CODECS",
    "CONDITIONS",
    "Crop",
    "Degradation",
    "Reverberate",
    "SpeedPerturbation",
    "TelephoneChannel",
    "make_condition",
    "stress_test",
]
