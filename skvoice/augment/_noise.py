"""AddNoise: coloured noise, babble or the user's own noise at a signal-to-noise ratio."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import Degradation, require_extra, seeded_globals

__all__ = ["AddNoise"]

#: Spectral slope of each colour in dB per octave (audiomentations' f_decay).
COLOURS = {"white": 0.0, "pink": -3.01, "brown": -6.02}


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


class AddNoise(Degradation):
    """Add noise at a signal-to-noise ratio: coloured, babble, or recordings of your own.

    No noise corpus ships with skvoice. Coloured noise (white, pink, brown) comes
    from audiomentations' ``AddColorNoise``; babble is a sum of ``n_sources``
    excerpts of other people's speech passed as ``noise`` (for instance the
    training recordings of speakers outside the test); recordings of the user's
    own rooms, cars or machines are passed the same way. The SNR is the ratio of
    the recording's RMS to the noise's, in dB, drawn per recording from
    ``snr_db`` when it is a (low, high) pair.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the input, the output and any noise recordings, in Hz.
    snr_db : float or (float, float), default=10.0
        Signal-to-noise ratio in dB, or the range to draw it from.
    noise : {"white", "pink", "brown"} or sequence of 1-D arrays, default="pink"
        A colour, or noise recordings at ``sr`` to draw excerpts from (looped when
        shorter than the recording).
    n_sources : int, default=1
        Excerpts summed into one noise (4 to 8 of speech make a babble).
    random_state : int, RandomState instance or None, default=None
        Seeds the noise and the SNR drawn for each recording.

    Attributes
    ----------
    fitted_ : bool
        True once fitted (nothing is learnt from the data).

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.augment import AddNoise
    >>> y = 0.1 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)
    >>> (z,) = AddNoise(snr_db=0.0, noise="white", random_state=0).fit_transform([y])
    >>> round(float(np.std(z - y) / np.std(y)), 2)  # noise as loud as the signal
    1.0
    """

    _parameter_constraints = {
        **Degradation._parameter_constraints,
        "snr_db": [Real, tuple, list],
        "noise": [StrOptions(set(COLOURS)), list, tuple],
        "n_sources": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, sr=16000, snr_db=10.0, noise="pink", n_sources=1, random_state=None):
        self.sr = sr
        self.snr_db = snr_db
        self.noise = noise
        self.n_sources = n_sources
        self.random_state = random_state

    def _check_params(self):
        super()._check_params()
        snr = np.atleast_1d(np.asarray(self.snr_db, dtype=float))
        if snr.size not in (1, 2) or not np.all(np.isfinite(snr)) or snr[0] > snr[-1]:
            raise ValueError(f"snr_db must be a number or a (low, high) pair, got {self.snr_db!r}")
        if not isinstance(self.noise, str):
            if len(self.noise) == 0:
                raise ValueError("noise: give a colour or at least one noise recording")
            for i, n in enumerate(self.noise):
                n = np.asarray(n)
                if n.ndim != 1 or n.size == 0 or not np.all(np.isfinite(n)) or _rms(n) == 0:
                    raise ValueError(
                        f"noise recording {i} must be a non-silent, finite 1-D waveform"
                    )

    def _draw_snr(self, rng):
        snr = np.atleast_1d(np.asarray(self.snr_db, dtype=float))
        return float(snr[0]) if snr.size == 1 else float(rng.uniform(snr[0], snr[1]))

    def _noise_like(self, n, rng):
        """``n_sources`` excerpts of the noise recordings, summed, ``n`` samples long."""
        total = np.zeros(n)
        for _ in range(self.n_sources):
            src = np.asarray(self.noise[int(rng.integers(len(self.noise)))], dtype=np.float64)
            start = int(rng.integers(len(src)))
            idx = (start + np.arange(n)) % len(src)  # looped when shorter
            total += src[idx] / _rms(src)
        return total

    def _degrade(self, y, rng):
        snr = self._draw_snr(rng)
        signal = _rms(y)
        if signal == 0.0:
            return y
        if isinstance(self.noise, str):
            am = require_extra("audiomentations")
            decay = COLOURS[self.noise]
            add = am.AddColorNoise(
                min_snr_db=snr, max_snr_db=snr, min_f_decay=decay, max_f_decay=decay, p=1.0
            )
            with seeded_globals(rng):
                return add(y, sample_rate=self.sr)
        noise = self._noise_like(len(y), rng)
        noise *= signal / (_rms(noise) * 10 ** (snr / 20))
        return (y + noise).astype(np.float32)
