"""TelephoneChannel: band limits, a narrow-band sample rate and a speech codec."""

import io
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..io import resample
from ._base import Degradation, require_extra

__all__ = ["CODECS", "TelephoneChannel"]

#: Codec name -> (soundfile container, subtype, channel rates it accepts or None).
CODECS = {
    "ulaw": ("WAV", "ULAW", None),
    "alaw": ("WAV", "ALAW", None),
    "gsm": ("WAV", "GSM610", (8000,)),
    "opus": ("OGG", "OPUS", (8000, 12000, 16000, 24000, 48000)),
    "mp3": ("MP3", "MPEG_LAYER_III", (8000, 11025, 12000, 16000, 22050, 24000)),
}


def codec_round_trip(y, sr, codec):
    """Encode ``y`` with ``codec`` through libsndfile (in memory) and decode it."""
    import soundfile as sf

    container, subtype, rates = CODECS[codec]
    if rates is not None and sr not in rates:
        raise ValueError(f"codec={codec!r} needs a channel rate in {rates}, got {sr}")
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format=container, subtype=subtype)
    buffer.seek(0)
    z, _ = sf.read(buffer, dtype="float32")
    # Codecs with frames of their own (GSM, Opus, MP3) pad or delay: keep the length.
    return np.pad(z, (0, max(0, len(y) - len(z))))[: len(y)]


class TelephoneChannel(Degradation):
    """Pass recordings through a telephone or VoIP channel and back to ``sr``.

    The chain of a phone call: the voice band (a high-pass at ``low`` and a
    low-pass at ``high``, Butterworth filters of audiomentations), the channel's
    sample rate (soxr), a speech codec through libsndfile (G.711 μ-law or A-law,
    GSM 6.10, Opus, MP3), and back to ``sr`` so that the rest of a pipeline is
    unchanged. Nothing is random unless ``codec`` is a sequence, of which each
    recording draws one.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the input and the output in Hz.
    low : float, default=300.0
        High-pass cut-off in Hz (the lower edge of the telephone band).
    high : float, default=3400.0
        Low-pass cut-off in Hz (the upper edge).
    channel_sr : int, default=8000
        Sample rate of the channel in Hz (8000: narrow band; 16000: wide-band VoIP).
    codec : {"ulaw", "alaw", "gsm", "opus", "mp3"}, None or sequence, default="ulaw"
        The codec; None for none; a sequence of names to draw one per recording.
        GSM 6.10 needs ``channel_sr=8000``.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw of the codec when ``codec`` is a sequence.

    Attributes
    ----------
    fitted_ : bool
        True once fitted (nothing is learnt from the data).

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.augment import TelephoneChannel
    >>> t = np.arange(16000) / 16000
    >>> speech_band, above = np.sin(2 * np.pi * 1000 * t), np.sin(2 * np.pi * 6000 * t)
    >>> (a, b) = TelephoneChannel(codec="alaw").fit_transform([0.5 * speech_band, 0.5 * above])
    >>> round(float(np.std(a) / np.std(0.5 * speech_band)), 1), float(np.std(b)) < 0.01
    (1.0, True)
    """

    _parameter_constraints = {
        **Degradation._parameter_constraints,
        "low": [Interval(Real, 0, None, closed="left")],
        "high": [Interval(Real, 0, None, closed="neither")],
        "channel_sr": [Interval(Integral, 1, None, closed="left")],
        "codec": [StrOptions(set(CODECS)), None, list, tuple],
    }

    def __init__(
        self, sr=16000, low=300.0, high=3400.0, channel_sr=8000, codec="ulaw", random_state=None
    ):
        self.sr = sr
        self.low = low
        self.high = high
        self.channel_sr = channel_sr
        self.codec = codec
        self.random_state = random_state

    def _check_params(self):
        super()._check_params()
        if not self.low < self.high:
            raise ValueError(f"low={self.low} must be below high={self.high}")
        nyquist = min(self.sr, self.channel_sr) / 2
        if self.high > nyquist:
            raise ValueError(f"high={self.high} exceeds the Nyquist frequency {nyquist}")
        codecs = [self.codec] if isinstance(self.codec, str) or self.codec is None else self.codec
        for c in codecs:
            if c is not None and c not in CODECS:
                raise ValueError(f"codec={c!r} is not one of {sorted(CODECS)}")
            if c is not None and CODECS[c][2] and self.channel_sr not in CODECS[c][2]:
                raise ValueError(
                    f"codec={c!r} needs channel_sr in {CODECS[c][2]}, got {self.channel_sr}"
                )

    def _degrade(self, y, rng):
        am = require_extra("audiomentations")
        codec = self.codec
        if not (isinstance(codec, str) or codec is None):
            codec = codec[int(rng.integers(len(codec)))]
        # Fixed cut-offs: nothing random in the filters (24 dB/octave on each side).
        band = am.Compose(
            [
                am.HighPassFilter(self.low, self.low, 24, 24, zero_phase=True, p=1.0),
                am.LowPassFilter(self.high, self.high, 24, 24, zero_phase=True, p=1.0),
            ]
        )
        # Zero-phase filters need a few hundred samples: short inputs are padded.
        n = len(y)
        z = np.pad(y, (0, max(0, self.sr // 10 - n)))
        z = band(z, sample_rate=self.sr)
        z = resample(z, self.sr, self.channel_sr)
        if codec is not None:
            z = codec_round_trip(np.clip(z, -1, 1), self.channel_sr, codec)
        z = resample(z, self.channel_sr, self.sr)
        return np.pad(z, (0, max(0, n - len(z))))[:n]
