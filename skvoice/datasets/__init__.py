"""Data sets: synthetic voices, the demo's real speech, speechocean762, DSPSpeech-20, DAPS
and a user's own recordings."""

from .._warnings import DuplicateRecordingWarning
from ._base import get_data_home
from ._daps import DAPS_ALLOWED_SPEAKERS, fetch_daps, load_daps
from ._demo_voices import DEMO_ALLOWED_SPEAKERS, load_demo_voices
from ._dspspeech import DSPSPEECH20_WORDS, load_dspspeech20
from ._folder import load_speaker_folder
from ._manifest import load_manifest
from ._speechocean import fetch_speechocean762, load_speechocean762
from ._synthetic import make_voices

__all__ = [
    "DAPS_ALLOWED_SPEAKERS",
    "DEMO_ALLOWED_SPEAKERS",
    "DSPSPEECH20_WORDS",
    "DuplicateRecordingWarning",
    "fetch_daps",
    "fetch_speechocean762",
    "get_data_home",
    "load_daps",
    "load_demo_voices",
    "load_dspspeech20",
    "load_manifest",
    "load_speaker_folder",
    "load_speechocean762",
    "make_voices",
]
