"""Data sets: synthetic voices, the DAPS corpus and a user's own recordings."""

from ._base import get_data_home
from ._daps import DAPS_ALLOWED_SPEAKERS, fetch_daps, load_daps
from ._folder import load_speaker_folder
from ._synthetic import make_voices

__all__ = [
    "DAPS_ALLOWED_SPEAKERS",
    "fetch_daps",
    "get_data_home",
    "load_daps",
    "load_speaker_folder",
    "make_voices",
]
