"""Reverberate: convolution with room impulse responses simulated by pyroomacoustics."""

from numbers import Integral, Real

import numpy as np
from scipy.signal import fftconvolve
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._base import Degradation, require_extra

__all__ = ["Reverberate"]


def room_impulse_response(sr, rt60, rng):
    """One room's impulse response at ``sr``, with reverberation time ``rt60`` seconds.

    A shoebox room of random size (3-8 x 3-6 x 2.5-3.5 m), its wall absorption
    from Sabine's formula for the RT60 (pyroomacoustics' ``inverse_sabine``), a
    talker and a microphone 0.5-2 m apart, image sources of the order the RT60
    needs. The direct path is moved to the start, so that reverberation does not
    shift the speech in time.
    """
    pra = require_extra("pyroomacoustics")
    room_dim = rng.uniform([3.0, 3.0, 2.5], [8.0, 6.0, 3.5])
    absorption, max_order = pra.inverse_sabine(rt60, room_dim)
    room = pra.ShoeBox(
        room_dim, fs=sr, materials=pra.Material(absorption), max_order=min(max_order, 40)
    )
    talker = rng.uniform([0.5, 0.5, 1.2], room_dim - [0.5, 0.5, 1.0])
    direction = rng.normal(size=3)
    direction[2] *= 0.2
    mic = talker + rng.uniform(0.5, 2.0) * direction / np.linalg.norm(direction)
    mic = np.clip(mic, 0.2, room_dim - 0.2)
    room.add_source(talker)
    room.add_microphone(mic)
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    rir = rir[int(np.argmax(np.abs(rir))) :]
    return rir / np.sqrt(np.sum(rir**2))


class Reverberate(Degradation):
    """Reverberate recordings as rooms do: convolution with simulated impulse responses.

    ``fit`` simulates ``n_rooms`` rooms (pyroomacoustics' image-source model, RT60
    drawn from ``rt60``); ``transform`` convolves each recording with one of them,
    drawn per recording, keeping its length and RMS level. Simulating rooms is
    the slow part (tenths of a second each); the convolutions are FFTs.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the input and the output in Hz.
    rt60 : float or (float, float), default=0.5
        Reverberation time in seconds (time for the sound to decay by 60 dB), or
        the range each room's is drawn from.
    n_rooms : int, default=8
        Rooms simulated in ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds the rooms and which room each recording gets.

    Attributes
    ----------
    rirs_ : list of 1-D ndarray
        The rooms' impulse responses (unit energy, direct path first).
    rt60s_ : ndarray of shape (n_rooms,)
        The RT60 asked of each room.
    fitted_ : bool
        True once fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.augment import Reverberate
    >>> click = np.zeros(16000)
    >>> click[100] = 0.5
    >>> (z,) = Reverberate(rt60=0.8, n_rooms=1, random_state=0).fit_transform([click])
    >>> float(np.abs(z[4000:]).max()) > 0  # the click still rings a quarter second later
    True
    """

    _parameter_constraints = {
        **Degradation._parameter_constraints,
        "rt60": [Interval(Real, 0, None, closed="neither"), tuple, list],
        "n_rooms": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, sr=16000, rt60=0.5, n_rooms=8, random_state=None):
        self.sr = sr
        self.rt60 = rt60
        self.n_rooms = n_rooms
        self.random_state = random_state

    def _check_params(self):
        super()._check_params()
        rt = np.atleast_1d(np.asarray(self.rt60, dtype=float))
        if rt.size not in (1, 2) or not np.all((rt > 0.05) & (rt < 3.0)) or rt[0] > rt[-1]:
            raise ValueError(
                f"rt60 must be seconds in (0.05, 3) or a (low, high) pair, got {self.rt60!r}"
            )

    def _fit(self):
        rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31 - 1))
        rt = np.atleast_1d(np.asarray(self.rt60, dtype=float))
        self.rt60s_ = rng.uniform(rt[0], rt[-1], self.n_rooms)
        self.rirs_ = [room_impulse_response(self.sr, t, rng) for t in self.rt60s_]

    def _degrade(self, y, rng):
        rir = self.rirs_[int(rng.integers(len(self.rirs_)))]
        z = fftconvolve(y.astype(np.float64), rir)[: len(y)]
        level = np.sqrt(np.mean(np.square(y, dtype=np.float64)))
        out = np.sqrt(np.mean(z**2))
        return (z * (level / out if out > 0 else 0.0)).astype(np.float32)

    def degrade(self, y, rng):
        check_is_fitted(self)
        return super().degrade(y, rng)
